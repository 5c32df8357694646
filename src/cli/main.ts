// tsrun's entry point: parse, pick the command module (loaded lazily: each
// command pays only for what it imports), run it, report errors once.
import { UnsupportedError } from '../errors.js';
import { Logger, writeStdout } from '../log.js';
import type { StateStore } from '../state/store.js';
import type { CommandRunner, Context } from './context.js';
import type { Command, CommandName } from './parse.js';
import { parseCommandLine } from './parse.js';
import { report } from './report.js';
import { VERSION_TEXT } from './version.js';

type Loader = () => Promise<{ default: CommandRunner<never> }>;

const COMMAND_MODULES: Readonly<Record<CommandName, Loader>> = {
  create: () => import('./commands/create.js'),
  run: () => import('./commands/run.js'),
  start: () => import('./commands/start.js'),
  state: () => import('./commands/state.js'),
  kill: () => import('./commands/kill.js'),
  delete: () => import('./commands/delete.js'),
  list: () => import('./commands/list.js'),
  ps: () => import('./commands/ps.js'),
  exec: () => import('./commands/exec.js'),
  pause: () => import('./commands/pause.js'),
  resume: () => import('./commands/resume.js'),
  events: () => import('./commands/events.js'),
  update: () => import('./commands/update.js'),
  spec: () => import('./commands/spec.js'),
  features: () => import('./commands/features.js'),
};

/** Commands that would create or change cgroups: refused under --systemd-cgroup until a systemd driver exists. */
const CGROUP_COMMANDS = new Set<CommandName>(['create', 'run', 'exec', 'update']);

export async function main(argv: readonly string[]): Promise<number> {
  let logger = new Logger({ format: 'text', debug: false });
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      writeStdout(parsed.text);
      return 0;
    }
    if (parsed.kind === 'version') {
      writeStdout(VERSION_TEXT);
      return 0;
    }
    const { global, command } = parsed;
    logger = new Logger({ file: global.log, format: global.logFormat, debug: global.debug });
    if (global.systemdCgroup && CGROUP_COMMANDS.has(command.name)) {
      throw new UnsupportedError('--systemd-cgroup', 'the systemd cgroup driver is not supported yet; configure the caller to use cgroupfs (e.g. containerd SystemdCgroup = false, podman --cgroup-manager=cgroupfs)');
    }
    let store: Promise<StateStore> | undefined;
    const ctx: Context = {
      global,
      logger,
      store: () => (store ??= import('../state/open.js').then((m) => m.openStore(global.root))),
    };
    const runner = (await COMMAND_MODULES[command.name]()).default as CommandRunner<Command>;
    return await runner(command, ctx);
  } catch (err) {
    return report(err, logger);
  }
}
