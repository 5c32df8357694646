// The entry point of the light bundle (bin/tsrun.js, scripts/build.mjs): the
// commands that read, signal or remove a container, without the schema
// validators, the planners and seccomp (~80 KB of minified bundle against ~420 KB: less
// to read and deserialize at every `state`). Any other command, which only a
// wrong guess of the command word brings here, goes to `others`: the whole of
// tsrun, loaded by bin/tsrun.js.
import { dispatch, type CommandModules } from './dispatch.js';

/** How bin/tsrun.js ends the process once main's promise settles (native/exit.ts). */
export { exitProcess as exit } from '../../native/exit.js';

export const LIGHT_COMMAND_MODULES: CommandModules = {
  start: () => import('./commands/start.js'),
  state: () => import('./commands/state.js'),
  kill: () => import('./commands/kill.js'),
  delete: () => import('./commands/delete.js'),
  list: () => import('./commands/list.js'),
  ps: () => import('./commands/ps.js'),
  pause: () => import('./commands/pause.js'),
  resume: () => import('./commands/resume.js'),
  events: () => import('./commands/events.js'),
};

/** The commands of this entry point: bin/tsrun.js loads it for these words. */
export const LIGHT_COMMANDS: readonly string[] = Object.keys(LIGHT_COMMAND_MODULES);

export function main(argv: readonly string[], others: (argv: readonly string[]) => Promise<number>): Promise<number> {
  return dispatch(argv, LIGHT_COMMAND_MODULES, others);
}
