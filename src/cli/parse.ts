// runc's command line, parsed into typed commands. Pure: no I/O, no process
// exit; help and usage errors come back as values so that tests can assert on
// them and main.ts decides what to print.
//
// One table (COMMANDS, GLOBAL_OPTIONS) drives the parser, the help text and
// the exec/ps split. The parser is our own, with the semantics of runc's
// (Go's flag package under urfave/cli): it is on the path of every command,
// and a general-purpose parser cost more start-up time than a whole `state`
// (see README, "Performance").
import { UsageError } from '../errors.js';
import type { LogFormat } from '../log.js';

export const DEFAULT_ROOT = '/run/tsrun';

export type RootlessMode = 'auto' | 'true' | 'false';

export interface GlobalOptions {
  readonly root: string;
  readonly log?: string | undefined;
  readonly logFormat: LogFormat;
  readonly debug: boolean;
  readonly systemdCgroup: boolean;
  readonly rootless: RootlessMode;
}

export interface CreateOptions {
  readonly id: string;
  readonly bundle: string;
  readonly pidFile?: string | undefined;
  readonly consoleSocket?: string | undefined;
  readonly preserveFds: number;
  readonly noPivot: boolean;
  readonly noNewKeyring: boolean;
}

export type Command =
  | ({ readonly name: 'create' } & CreateOptions)
  | ({ readonly name: 'run'; readonly detach: boolean; readonly keep: boolean; readonly noSubreaper: boolean } & CreateOptions)
  | { readonly name: 'start'; readonly id: string }
  | { readonly name: 'state'; readonly id: string }
  | { readonly name: 'kill'; readonly id: string; readonly signal: string; readonly all: boolean }
  | { readonly name: 'delete'; readonly id: string; readonly force: boolean }
  | { readonly name: 'list'; readonly format: 'table' | 'json'; readonly quiet: boolean }
  | { readonly name: 'ps'; readonly id: string; readonly format: 'table' | 'json'; readonly psArgs: readonly string[] }
  | ExecCommand
  | { readonly name: 'pause'; readonly id: string }
  | { readonly name: 'resume'; readonly id: string }
  | { readonly name: 'events'; readonly id: string; readonly interval: string; readonly stats: boolean }
  | { readonly name: 'update'; readonly id: string; readonly resources?: string | undefined; readonly flags: Readonly<Record<string, string>> }
  | { readonly name: 'spec'; readonly bundle: string; readonly rootless: boolean }
  | { readonly name: 'features' };

export interface ExecCommand {
  readonly name: 'exec';
  readonly id: string;
  readonly args: readonly string[];
  readonly process?: string | undefined;
  readonly consoleSocket?: string | undefined;
  readonly pidFile?: string | undefined;
  readonly cwd?: string | undefined;
  readonly env: readonly string[];
  readonly tty: boolean;
  readonly user?: string | undefined;
  readonly additionalGids: readonly string[];
  readonly detach: boolean;
  readonly processLabel?: string | undefined;
  readonly apparmor?: string | undefined;
  readonly noNewPrivs: boolean;
  readonly cap: readonly string[];
  readonly preserveFds: number;
  readonly cgroup: readonly string[];
  readonly ignorePaused: boolean;
}

export type CommandName = Command['name'];

export type ParseResult =
  | { readonly kind: 'command'; readonly global: GlobalOptions; readonly command: Command }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' };

// ---------------------------------------------------------------------------
// The command table: runc's commands, their positionals and flags.

/**
 * How a flag takes its value, as in Go's flag package: a boolean takes none
 * (`--flag`, or `--flag=true|false`); the others take exactly one, inline
 * (`--flag=v`) or the next argument, whatever it looks like (`--flag -1`).
 * `strings` is repeatable (urfave/cli's StringSlice): one value per occurrence.
 * For the others a repeated flag keeps its last value.
 */
export type FlagType = 'boolean' | 'string' | 'number' | 'strings';

export interface FlagSpec {
  readonly type: FlagType;
  readonly describe: string;
  /** A second name: one letter (`-b`) or a word. Go accepts one or two dashes before either. */
  readonly alias?: string;
  readonly default?: string | number;
  /** The only values accepted (checked while parsing). */
  readonly choices?: readonly string[];
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

interface CommandSpec {
  readonly usage: string;
  readonly describe: string;
  readonly options: FlagTable;
  /**
   * Go's flag package stops at the first positional argument: what follows the
   * container id belongs to the container (`exec ID sh -c ...`, `ps ID -ef`).
   * Other commands take their flags anywhere, as urfave/cli reorders them.
   */
  readonly restAfterId?: boolean;
}

const str = (describe: string, alias?: string): FlagSpec => ({ type: 'string', describe, ...(alias ? { alias } : {}) });
const bool = (describe: string, alias?: string): FlagSpec => ({ type: 'boolean', describe, ...(alias ? { alias } : {}) });
/** A repeatable flag (Go's StringSlice): one value per occurrence, never the positionals after it. */
const list = (describe: string, alias?: string): FlagSpec => ({ type: 'strings', describe, ...(alias ? { alias } : {}) });
const preserveFds: FlagSpec = { type: 'number', default: 0, describe: 'pass N additional file descriptors to the container (stdio + 3..3+N-1)' };
const format: FlagSpec = { type: 'string', alias: 'f', choices: ['table', 'json'], default: 'table', describe: 'output format' };

const CREATE_OPTIONS: FlagTable = {
  bundle: str('path to the root of the bundle directory (default: current directory)', 'b'),
  'console-socket': str('path to an AF_UNIX socket which will receive the pty master of a terminal container'),
  'pid-file': str('file to write the container process id to'),
  'no-pivot': bool('do not use pivot_root to jail the process inside the rootfs (for a ramdisk root)'),
  'no-new-keyring': bool('do not create a new session keyring for the container'),
  'preserve-fds': preserveFds,
};

const UPDATE_FLAGS = [
  'blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-burst', 'cpu-share', 'cpu-rt-period', 'cpu-rt-runtime', 'cpuset-cpus',
  'cpuset-mems', 'cpu-idle', 'kernel-memory', 'kernel-memory-tcp', 'memory', 'memory-reservation', 'memory-swap',
  'pids-limit', 'l3-cache-schema', 'mem-bw-schema',
] as const;

export const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = {
  create: { usage: 'create <id>', describe: 'create a container from a bundle', options: CREATE_OPTIONS },
  run: {
    usage: 'run <id>',
    describe: 'create and start a container, wait for it and delete it',
    options: {
      ...CREATE_OPTIONS,
      detach: bool('detach from the container process', 'd'),
      keep: bool('do not delete the container after it exits'),
      'no-subreaper': bool('disable the use of the subreaper used to reap reparented processes'),
    },
  },
  start: { usage: 'start <id>', describe: 'start the user process of a created container', options: {} },
  state: { usage: 'state <id>', describe: 'print the state of a container as JSON', options: {} },
  kill: {
    usage: 'kill <id> [signal]',
    describe: 'send a signal (name or number, default SIGTERM) to the container process',
    options: { all: bool('send the signal to every process of the container', 'a') },
  },
  delete: {
    usage: 'delete <id>',
    describe: 'delete a container and the resources it holds',
    options: { force: bool('kill the container first if it is still running', 'f') },
  },
  list: {
    usage: 'list',
    describe: 'list the containers under --root',
    options: { format, quiet: bool('print only container ids', 'q') },
  },
  ps: {
    usage: 'ps <id> [ps options...]',
    describe: 'list the processes running inside a container',
    options: { format },
    restAfterId: true,
  },
  exec: {
    usage: 'exec <id> [command args...]',
    describe: 'run a new process inside a running container',
    restAfterId: true,
    options: {
      process: str('path to a process.json (runtime-spec process)', 'p'),
      'console-socket': str('path to an AF_UNIX socket which will receive the pty master'),
      'pid-file': str('file to write the process id to'),
      cwd: str('current working directory in the container'),
      env: list('set an environment variable (KEY=VALUE)', 'e'),
      tty: bool('allocate a pseudo-TTY', 't'),
      user: str('UID[:GID] to run the process as', 'u'),
      'additional-gids': list('additional gid', 'g'),
      detach: bool('detach from the process', 'd'),
      'process-label': str('SELinux label of the process'),
      apparmor: str('AppArmor profile of the process'),
      'no-new-privs': bool('set no_new_privs for the process'),
      cap: list('add a capability to the bounding set', 'c'),
      'preserve-fds': preserveFds,
      cgroup: list('run in a sub-cgroup ([controller:]path)'),
      'ignore-paused': bool('allow exec into a paused container'),
    },
  },
  pause: { usage: 'pause <id>', describe: 'freeze every process of a container', options: {} },
  resume: { usage: 'resume <id>', describe: 'thaw a paused container', options: {} },
  events: {
    usage: 'events <id>',
    describe: 'print container events and statistics as JSON',
    options: {
      interval: { type: 'string', default: '5s', describe: 'interval between stats collections' },
      stats: bool('print the statistics once and exit'),
    },
  },
  update: {
    usage: 'update <id>',
    describe: 'update the resource limits of a container',
    options: {
      resources: str('path to a file with the runtime-spec linux.resources, or - for stdin', 'r'),
      ...Object.fromEntries(UPDATE_FLAGS.map((f) => [f, str(`runc-compatible ${f}`)])),
    },
  },
  spec: {
    usage: 'spec',
    describe: 'write a default config.json for a new bundle',
    options: {
      bundle: str('path to the bundle directory in which to write config.json', 'b'),
      // A flag of spec's own: after the command word it shadows the global --rootless=auto|true|false.
      rootless: bool('write a config for a rootless container'),
    },
  },
  features: { usage: 'features', describe: 'print the runtime-spec features tsrun supports as JSON', options: {} },
};

export const GLOBAL_OPTIONS: FlagTable = {
  root: { type: 'string', default: DEFAULT_ROOT, describe: 'directory for the state of containers' },
  log: { type: 'string', describe: 'append log lines to this file instead of stderr' },
  'log-format': { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'format of log lines' },
  debug: bool('log debug messages'),
  'systemd-cgroup': bool('use the systemd cgroup driver (not supported yet: refused)'),
  rootless: { type: 'string', choices: ['auto', 'true', 'false'], default: 'auto', describe: 'rootless mode' },
};

/** Commands whose first positional argument is the container id. */
const ID_COMMANDS: ReadonlySet<CommandName> = new Set<CommandName>([
  'create', 'run', 'start', 'state', 'kill', 'delete', 'ps', 'exec', 'pause', 'resume', 'events', 'update',
]);

// ---------------------------------------------------------------------------
// The parser: Go's flag package semantics (runc's urfave/cli v1 is built on it).

type FlagValue = string | number | boolean | readonly string[];

/** One flag argument split into its name and its inline value (`--name=value`). */
interface FlagArg {
  readonly arg: string;
  readonly name: string;
  readonly inline: string | undefined;
}

/**
 * `-name`, `--name`, `-name=v`, `--name=v` (one or two dashes alike, as Go);
 * undefined for a positional argument (`x`, `-`). `--` is handled by the caller.
 */
function flagArg(arg: string): FlagArg | undefined {
  if (arg.length < 2 || arg[0] !== '-') return undefined;
  const body = arg.slice(arg[1] === '-' ? 2 : 1);
  if (body === '' || body[0] === '-' || body[0] === '=') throw new UsageError(`bad flag syntax: ${arg}`);
  const eq = body.indexOf('=');
  return eq === -1 ? { arg, name: body, inline: undefined } : { arg, name: body.slice(0, eq), inline: body.slice(eq + 1) };
}

function isHelp(flag: FlagArg): boolean {
  return flag.name === 'help' || flag.name === 'h';
}

/** The canonical name of `name` (itself or an alias) in a table, if it is there. */
function lookup(table: FlagTable, name: string): string | undefined {
  if (Object.hasOwn(table, name)) return name;
  for (const [canonical, spec] of Object.entries(table)) if (spec.alias === name) return canonical;
  return undefined;
}

/** Go's strconv.ParseBool. */
function parseBool(text: string, flag: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new UsageError(`invalid boolean value ${JSON.stringify(text)} for -${flag}: parse error`);
}

/** The flag values of one table, given and defaulted. */
class FlagValues {
  private readonly values = new Map<string, FlagValue>();

  constructor(private readonly table: FlagTable) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  /**
   * Records the flag `canonical` of this table given as `flag`; its value is
   * inline or `next` (the following argument). Returns how many of the
   * following arguments it consumed (0 or 1).
   */
  set(canonical: string, flag: FlagArg, next: string | undefined): number {
    const spec = this.table[canonical] as FlagSpec;
    if (spec.type === 'boolean') {
      this.values.set(canonical, flag.inline === undefined ? true : parseBool(flag.inline, flag.name));
      return 0;
    }
    const text = flag.inline ?? next;
    if (text === undefined) throw new UsageError(`flag needs an argument: -${flag.name}`);
    const invalid = (why: string): UsageError => new UsageError(`invalid value ${JSON.stringify(text)} for flag -${flag.name}: ${why}`);
    if (spec.choices !== undefined && !spec.choices.includes(text)) throw invalid(`must be one of ${spec.choices.join(', ')}`);
    if (spec.type === 'number') {
      if (!/^[+-]?\d+$/.test(text)) throw invalid('parse error');
      this.values.set(canonical, Number(text));
    } else if (spec.type === 'strings') {
      const before = this.values.get(canonical);
      this.values.set(canonical, [...(Array.isArray(before) ? before : []), text]);
    } else {
      this.values.set(canonical, text);
    }
    return flag.inline === undefined ? 1 : 0;
  }

  string(name: string): string | undefined {
    const v = this.values.get(name) ?? this.table[name]?.default;
    return typeof v === 'string' ? v : undefined;
  }

  boolean(name: string): boolean {
    return this.values.get(name) === true;
  }

  strings(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? [...(v as readonly string[])] : [];
  }

  number(name: string): number {
    const v = this.values.get(name) ?? this.table[name]?.default;
    return typeof v === 'number' ? v : 0;
  }
}

function unknownFlag(flag: FlagArg): UsageError {
  return new UsageError(`flag provided but not defined: -${flag.name}`);
}

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** Parses argv (without `node` and the script) into a typed command, help text or version request. */
export function parseCommandLine(argv: readonly string[]): ParseResult {
  const global = new FlagValues(GLOBAL_OPTIONS);
  let help = false;
  let version = false;

  // 1. Global flags, up to the command word (a global flag's value is never the command).
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    const flag = flagArg(arg);
    if (flag === undefined) break;
    if (isHelp(flag)) help = true;
    else if (flag.name === 'version' || flag.name === 'v') version = true;
    else {
      const canonical = lookup(GLOBAL_OPTIONS, flag.name);
      if (canonical === undefined) throw unknownFlag(flag);
      i += global.set(canonical, flag, argv[i + 1]);
    }
  }
  if (version) return { kind: 'version' };
  const word = argv[i];
  if (word === undefined) return { kind: 'help', text: helpText() };
  if (!isCommandName(word)) throw new UsageError(`unknown command: ${word} (see tsrun --help)`);
  if (help) return { kind: 'help', text: helpText(word) };

  // 2. The command's flags and positionals. A global flag after the command word is
  //    accepted too (yargs did), unless the command has a flag of that name.
  const spec = COMMANDS[word];
  const own = new FlagValues(spec.options);
  const positionals: string[] = [];
  for (i++; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const flag = flagArg(arg);
    if (flag === undefined) {
      positionals.push(arg);
      if (spec.restAfterId) {
        positionals.push(...argv.slice(i + 1));
        break;
      }
      continue;
    }
    if (isHelp(flag)) return { kind: 'help', text: helpText(word) };
    const mine = lookup(spec.options, flag.name);
    const canonical = mine ?? lookup(GLOBAL_OPTIONS, flag.name);
    if (canonical === undefined) throw unknownFlag(flag);
    i += (mine !== undefined ? own : global).set(canonical, flag, argv[i + 1]);
  }

  const globalOptions: GlobalOptions = {
    root: global.string('root') ?? DEFAULT_ROOT,
    log: global.string('log'),
    logFormat: global.string('log-format') === 'json' ? 'json' : 'text',
    debug: global.boolean('debug'),
    systemdCgroup: global.boolean('systemd-cgroup'),
    rootless: (global.string('rootless') ?? 'auto') as RootlessMode,
  };
  let id = '';
  let rest: string[] = [];
  if (ID_COMMANDS.has(word)) {
    id = positionals.shift() ?? '';
    if (id === '') throw new UsageError(`${word}: container id is required`);
    if (spec.restAfterId) {
      rest = positionals.splice(0);
      // `exec ID -- cmd ...`: the `--` only separates.
      if (rest[0] === '--') rest.shift();
    }
  }
  return { kind: 'command', global: globalOptions, command: toCommand(word, id, own, positionals, rest) };
}

function nonNegativeInt(value: number, flag: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new UsageError(`--${flag}: must be a non-negative integer, got ${String(value)}`);
  return value;
}

function toCommand(name: CommandName, id: string, f: FlagValues, positionals: string[], rest: string[]): Command {
  const noExtra = (): void => {
    if (positionals.length > 0) throw new UsageError(`${name}: unexpected argument${positionals.length > 1 ? 's' : ''}: ${positionals.join(' ')}`);
  };
  const createOptions = (): CreateOptions => ({
    id,
    bundle: f.string('bundle') ?? '.',
    pidFile: f.string('pid-file'),
    consoleSocket: f.string('console-socket'),
    preserveFds: nonNegativeInt(f.number('preserve-fds'), 'preserve-fds'),
    noPivot: f.boolean('no-pivot'),
    noNewKeyring: f.boolean('no-new-keyring'),
  });
  const outputFormat = (): 'table' | 'json' => (f.string('format') === 'json' ? 'json' : 'table');
  switch (name) {
    case 'create':
      noExtra();
      return { name, ...createOptions() };
    case 'run':
      noExtra();
      return { name, ...createOptions(), detach: f.boolean('detach'), keep: f.boolean('keep'), noSubreaper: f.boolean('no-subreaper') };
    case 'start':
    case 'state':
    case 'pause':
    case 'resume':
      noExtra();
      return { name, id };
    case 'kill': {
      const signal = positionals.shift() ?? 'SIGTERM';
      noExtra();
      return { name, id, signal, all: f.boolean('all') };
    }
    case 'delete':
      noExtra();
      return { name, id, force: f.boolean('force') };
    case 'list':
      noExtra();
      return { name, format: outputFormat(), quiet: f.boolean('quiet') };
    case 'ps':
      return { name, id, format: outputFormat(), psArgs: rest };
    case 'exec': {
      const command: ExecCommand = {
        name,
        id,
        args: rest,
        process: f.string('process'),
        consoleSocket: f.string('console-socket'),
        pidFile: f.string('pid-file'),
        cwd: f.string('cwd'),
        env: f.strings('env'),
        tty: f.boolean('tty'),
        user: f.string('user'),
        additionalGids: f.strings('additional-gids'),
        detach: f.boolean('detach'),
        processLabel: f.string('process-label'),
        apparmor: f.string('apparmor'),
        noNewPrivs: f.boolean('no-new-privs'),
        cap: f.strings('cap'),
        preserveFds: nonNegativeInt(f.number('preserve-fds'), 'preserve-fds'),
        cgroup: f.strings('cgroup'),
        ignorePaused: f.boolean('ignore-paused'),
      };
      if (command.process === undefined && command.args.length === 0) {
        throw new UsageError('exec: either --process or a command to run is required');
      }
      return command;
    }
    case 'events':
      noExtra();
      return { name, id, interval: f.string('interval') ?? '5s', stats: f.boolean('stats') };
    case 'update': {
      noExtra();
      const flags: Record<string, string> = {};
      for (const flag of UPDATE_FLAGS) {
        const value = f.string(flag);
        if (value !== undefined) flags[flag] = value;
      }
      return { name, id, resources: f.string('resources'), flags };
    }
    case 'spec':
      noExtra();
      return { name, bundle: f.string('bundle') ?? '.', rootless: f.boolean('rootless') };
    case 'features':
      noExtra();
      return { name };
  }
}

/** Help text for tsrun or one command, generated from the same table the parser uses. */
export function helpText(command?: CommandName): string {
  const lines: string[] = [];
  const flagLine = (name: string, opt: FlagSpec): string => {
    const alias = opt.alias === undefined ? '' : opt.alias.length === 1 ? `-${opt.alias}, ` : `--${opt.alias}, `;
    const value = opt.type === 'boolean' ? '' : opt.type === 'number' ? ' N' : ' VALUE';
    const def = opt.default !== undefined ? ` (default: ${String(opt.default)})` : '';
    const repeat = opt.type === 'strings' ? ' (repeatable)' : '';
    return `  ${`${alias}--${name}${value}`.padEnd(28)} ${opt.describe}${def}${repeat}`;
  };
  if (command === undefined) {
    lines.push('tsrun: an OCI runtime-spec container runtime (runc-compatible command line)', '');
    lines.push('Usage: tsrun [global options] <command> [command options] <container-id> [args...]', '', 'Commands:');
    for (const [name, spec] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${spec.describe}`);
    lines.push('', 'Global options:');
    for (const [name, opt] of Object.entries(GLOBAL_OPTIONS)) lines.push(flagLine(name, opt));
    lines.push(`  ${'-h, --help'.padEnd(28)} show help (tsrun <command> --help for a command)`);
    lines.push(`  ${'-v, --version'.padEnd(28)} print the version`);
  } else {
    const spec = COMMANDS[command];
    lines.push(`Usage: tsrun [global options] ${spec.usage}`, '', spec.describe);
    if (Object.keys(spec.options).length > 0) {
      lines.push('', 'Options:');
      for (const [name, opt] of Object.entries(spec.options)) lines.push(flagLine(name, opt));
    }
  }
  return `${lines.join('\n')}\n`;
}
