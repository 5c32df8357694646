// runc's command line, parsed into typed commands. Pure: no I/O, no process
// exit; help and usage errors come back as values so that tests can assert on
// them and main.ts decides what to print.
//
// yargs is imported here and nowhere else.
import yargs from 'yargs';
import type { Argv, Options } from 'yargs';
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

interface CommandSpec {
  readonly usage: string;
  readonly describe: string;
  readonly options: Readonly<Record<string, Options>>;
  /**
   * Go's flag package stops at the first positional argument: what follows the
   * container id belongs to the container (`exec ID sh -c ...`, `ps ID -ef`).
   */
  readonly restAfterId?: boolean;
}

const str = (describe: string, alias?: string): Options => ({ type: 'string', describe, ...(alias ? { alias } : {}) });
const bool = (describe: string, alias?: string): Options => ({ type: 'boolean', default: false, describe, ...(alias ? { alias } : {}) });
/** A repeatable flag (Go's StringSlice): one value per occurrence, never the positionals after it. */
const list = (describe: string, alias?: string): Options => ({ type: 'string', describe, ...(alias ? { alias } : {}) });
const preserveFds: Options = { type: 'number', default: 0, describe: 'pass N additional file descriptors to the container (stdio + 3..3+N-1)' };

const CREATE_OPTIONS: Record<string, Options> = {
  bundle: { ...str('path to the root of the bundle directory (default: current directory)', 'b') },
  'console-socket': str('path to an AF_UNIX socket which will receive the pty master of a terminal container'),
  'pid-file': str('file to write the container process id to'),
  'no-pivot': bool('do not use pivot_root to jail the process inside the rootfs (for a ramdisk root)'),
  'no-new-keyring': bool('do not create a new session keyring for the container'),
  'preserve-fds': preserveFds,
};

const UPDATE_FLAGS = [
  'blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-share', 'cpu-rt-period', 'cpu-rt-runtime', 'cpuset-cpus',
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
    options: {
      format: { type: 'string', alias: 'f', choices: ['table', 'json'], default: 'table', describe: 'output format' },
      quiet: bool('print only container ids', 'q'),
    },
  },
  ps: {
    usage: 'ps <id> [ps options...]',
    describe: 'list the processes running inside a container',
    options: { format: { type: 'string', alias: 'f', choices: ['table', 'json'], default: 'table', describe: 'output format' } },
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
      rootless: bool('write a config for a rootless container (parsed before yargs: see parseCommandLine)'),
    },
  },
  features: { usage: 'features', describe: 'print the runtime-spec features tsrun supports as JSON', options: {} },
};

const GLOBAL_OPTIONS: Record<string, Options> = {
  root: { type: 'string', default: DEFAULT_ROOT, describe: 'directory for the state of containers' },
  log: { type: 'string', describe: 'append log lines to this file instead of stderr' },
  'log-format': { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'format of log lines' },
  debug: bool('log debug messages'),
  'systemd-cgroup': bool('use the systemd cgroup driver (not supported yet: refused)'),
  rootless: { type: 'string', choices: ['auto', 'true', 'false'], default: 'auto', describe: 'rootless mode' },
};

// ---------------------------------------------------------------------------

/** Splits `exec [flags] ID rest...` so that flags meant for the container are not parsed as ours. */
function splitAfterId(args: readonly string[], spec: CommandSpec, globals: Record<string, Options>): [string[], string[]] {
  const valueFlags = new Set<string>();
  for (const [name, opt] of Object.entries({ ...globals, ...spec.options })) {
    if (opt.type === 'boolean') continue;
    valueFlags.add(`--${name}`);
    if (typeof opt.alias === 'string') valueFlags.add(opt.alias.length === 1 ? `-${opt.alias}` : `--${opt.alias}`);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return [args.slice(0, i), args.slice(i + 1)];
    if (arg.startsWith('-') && arg !== '-') {
      if (!arg.includes('=') && valueFlags.has(arg)) i++;
      continue;
    }
    // arg is the id: flags before it are ours, everything after it is the container's.
    const rest = args.slice(i + 1);
    return [args.slice(0, i + 1), rest[0] === '--' ? rest.slice(1) : rest];
  }
  return [[...args], []];
}

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

const ID_COMMANDS = new Set<CommandName>(['create', 'run', 'start', 'state', 'kill', 'delete', 'ps', 'exec', 'pause', 'resume', 'events', 'update']);

function buildParser(args: readonly string[]): Argv {
  let y = yargs([...args])
    .scriptName('tsrun')
    .usage('tsrun [global options] <command> [command options] <container-id> [args...]')
    // --no-pivot is a flag of its own, not the negation of --pivot.
    .parserConfiguration({ 'populate--': false, 'strip-aliased': true, 'camel-case-expansion': true, 'boolean-negation': false, 'duplicate-arguments-array': true })
    .options(GLOBAL_OPTIONS)
    .version(false)
    .help(false)
    .exitProcess(false)
    .strict()
    .wrap(100);
  for (const [name, spec] of Object.entries(COMMANDS)) {
    // The id is checked by toCommand, with a clearer message than yargs'.
    // Command flags that share a global flag's name (spec --rootless) are handled before yargs.
    const own = Object.fromEntries(Object.entries(spec.options).filter(([flag]) => !Object.hasOwn(GLOBAL_OPTIONS, flag)));
    y = y.command(spec.usage.replace('<id>', '[id]'), spec.describe, (b) => b.options(own).strict());
    void name;
  }
  return y;
}

function required(value: unknown, what: string, command: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${command}: ${what} is required`);
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function stringList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function nonNegativeInt(value: unknown, flag: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag}: must be a non-negative integer, got ${String(value)}`);
  return n;
}

/** Index of the command word: the first token that is neither a global flag nor a global flag's value. */
function findCommand(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) return i;
    const opt = GLOBAL_OPTIONS[arg.replace(/^--?/, '')];
    if (opt !== undefined && opt.type !== 'boolean' && !arg.includes('=')) i++;
  }
  return -1;
}

/** Parses argv (without `node` and the script) into a typed command, help text or version request. */
export function parseCommandLine(argv: readonly string[]): ParseResult {
  const cmdIndex = findCommand(argv);
  const globalArgs = cmdIndex === -1 ? argv : argv.slice(0, cmdIndex);
  if (globalArgs.includes('--version') || globalArgs.includes('-v')) return { kind: 'version' };
  if (cmdIndex === -1) return { kind: 'help', text: helpText() };
  const word = argv[cmdIndex] as string;
  if (!isCommandName(word)) throw new UsageError(`unknown command: ${word} (see tsrun --help)`);

  let parseArgs = [...argv];
  let rest: string[] = [];
  const spec = COMMANDS[word];
  if (spec.restAfterId) {
    const [ours, theirs] = splitAfterId(argv.slice(cmdIndex + 1), spec, GLOBAL_OPTIONS);
    parseArgs = [...argv.slice(0, cmdIndex + 1), ...ours];
    rest = theirs;
  }
  if (parseArgs.includes('--help') || parseArgs.includes('-h')) return { kind: 'help', text: helpText(word) };
  // `spec --rootless` is a boolean of its own that shares its name with the global --rootless=auto|true|false.
  let specRootless = false;
  if (word === 'spec') {
    const own = parseArgs.slice(cmdIndex + 1);
    specRootless = own.includes('--rootless');
    parseArgs = [...parseArgs.slice(0, cmdIndex + 1), ...own.filter((a) => a !== '--rootless')];
  }

  let parsed: Record<string, unknown>;
  try {
    parsed = buildParser(parseArgs)
      .fail((msg: string | null, err: Error | null) => {
        throw new UsageError(msg ?? err?.message ?? 'invalid command line');
      })
      .parseSync() as Record<string, unknown>;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }

  const name = word;
  const positionals = (parsed['_'] as unknown[]).map(String).slice(1);
  const global: GlobalOptions = {
    root: String(parsed['root']),
    log: optionalString(parsed['log']),
    logFormat: parsed['logFormat'] === 'json' ? 'json' : 'text',
    debug: parsed['debug'] === true,
    systemdCgroup: parsed['systemdCgroup'] === true,
    rootless: (parsed['rootless'] as RootlessMode | undefined) ?? 'auto',
  };
  const id = ID_COMMANDS.has(name) ? required(parsed['id'], 'container id', name) : '';
  if (word === 'spec') parsed['rootless'] = specRootless;
  return { kind: 'command', global, command: toCommand(name, id, parsed, positionals, rest) };
}

function toCommand(name: CommandName, id: string, p: Record<string, unknown>, positionals: string[], rest: string[]): Command {
  const noExtra = (): void => {
    if (positionals.length > 0) throw new UsageError(`${name}: unexpected argument${positionals.length > 1 ? 's' : ''}: ${positionals.join(' ')}`);
  };
  const createOptions = (): CreateOptions => ({
    id,
    bundle: optionalString(p['bundle']) ?? '.',
    pidFile: optionalString(p['pidFile']),
    consoleSocket: optionalString(p['consoleSocket']),
    preserveFds: nonNegativeInt(p['preserveFds'], 'preserve-fds'),
    noPivot: p['noPivot'] === true,
    noNewKeyring: p['noNewKeyring'] === true,
  });
  switch (name) {
    case 'create':
      noExtra();
      return { name, ...createOptions() };
    case 'run':
      noExtra();
      return { name, ...createOptions(), detach: p['detach'] === true, keep: p['keep'] === true, noSubreaper: p['noSubreaper'] === true };
    case 'start':
    case 'state':
    case 'pause':
    case 'resume':
      noExtra();
      return { name, id };
    case 'kill': {
      const signal = p['signal'] === undefined ? 'SIGTERM' : String(p['signal']);
      noExtra();
      return { name, id, signal, all: p['all'] === true };
    }
    case 'delete':
      noExtra();
      return { name, id, force: p['force'] === true };
    case 'list':
      noExtra();
      return { name, format: p['format'] === 'json' ? 'json' : 'table', quiet: p['quiet'] === true };
    case 'ps':
      return { name, id, format: p['format'] === 'json' ? 'json' : 'table', psArgs: rest };
    case 'exec': {
      const command: ExecCommand = {
        name,
        id,
        args: rest,
        process: optionalString(p['process']),
        consoleSocket: optionalString(p['consoleSocket']),
        pidFile: optionalString(p['pidFile']),
        cwd: optionalString(p['cwd']),
        env: stringList(p['env']),
        tty: p['tty'] === true,
        user: optionalString(p['user']),
        additionalGids: stringList(p['additionalGids']),
        detach: p['detach'] === true,
        processLabel: optionalString(p['processLabel']),
        apparmor: optionalString(p['apparmor']),
        noNewPrivs: p['noNewPrivs'] === true,
        cap: stringList(p['cap']),
        preserveFds: nonNegativeInt(p['preserveFds'], 'preserve-fds'),
        cgroup: stringList(p['cgroup']),
        ignorePaused: p['ignorePaused'] === true,
      };
      if (command.process === undefined && command.args.length === 0) {
        throw new UsageError('exec: either --process or a command to run is required');
      }
      return command;
    }
    case 'events':
      noExtra();
      return { name, id, interval: String(p['interval']), stats: p['stats'] === true };
    case 'update': {
      noExtra();
      const flags: Record<string, string> = {};
      for (const flag of UPDATE_FLAGS) {
        const value = p[camel(flag)];
        if (value !== undefined) flags[flag] = String(value);
      }
      return { name, id, resources: optionalString(p['resources']), flags };
    }
    case 'spec':
      noExtra();
      return { name, bundle: optionalString(p['bundle']) ?? '.', rootless: p['rootless'] === true };
    case 'features':
      noExtra();
      return { name };
  }
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Help text for tsrun or one command, generated from the same table the parser uses. */
export function helpText(command?: CommandName): string {
  const lines: string[] = [];
  const flagLine = (name: string, opt: Options): string => {
    const alias = typeof opt.alias === 'string' ? (opt.alias.length === 1 ? `-${opt.alias}, ` : `--${opt.alias}, `) : '';
    const value = opt.type === 'boolean' ? '' : opt.type === 'number' ? ' N' : ' VALUE';
    const def = opt.default !== undefined && opt.type !== 'boolean' && !(Array.isArray(opt.default) && opt.default.length === 0) ? ` (default: ${String(opt.default)})` : '';
    return `  ${`${alias}--${name}${value}`.padEnd(28)} ${opt.describe ?? ''}${def}`;
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
