// Parse, pick the command module, run it, report errors once: the body of both
// entry points (main.ts, main-light.ts), which differ in the modules they hold.
import { UnsupportedError } from '../errors.js';
import { Logger, writeStdout } from '../log.js';
import type { StateStore } from '../state/store.js';
import type { CommandRunner, Context } from './context.js';
import type { Command, CommandName } from './parse.js';
import { parseCommandLine } from './parse.js';
import { report } from './report.js';
import { VERSION_TEXT } from './version.js';

type Loader = () => Promise<{ default: CommandRunner<never> }>;

/** The command modules an entry point holds (a bundle holds exactly what its loaders import). */
export type CommandModules = Partial<Readonly<Record<CommandName, Loader>>>;

/** Commands that would create or change cgroups: refused under --systemd-cgroup until a systemd driver exists. */
const CGROUP_COMMANDS = new Set<CommandName>(['create', 'run', 'exec', 'update']);

export async function dispatch(argv: readonly string[], modules: CommandModules, others?: (argv: readonly string[]) => Promise<number>): Promise<number> {
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
    const load = modules[command.name];
    // A command this bundle leaves out: the whole of tsrun runs it (main-light.ts).
    if (load === undefined) {
      if (others === undefined) throw new Error(`no module for the command ${command.name}`);
      return await others(argv);
    }
    const runner = (await load()).default as CommandRunner<Command>;
    return await runner(command, ctx);
  } catch (err) {
    return report(err, logger);
  }
}
