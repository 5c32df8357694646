// tsrun's entry point: every command (bin/tsrun.js loads main-light.ts's
// smaller bundle for the commands that only read or signal a container).
// Each command module is loaded lazily: a command pays only for what it imports.
import { dispatch, type CommandModules } from './dispatch.js';
import { LIGHT_COMMAND_MODULES } from './main-light.js';

/** How bin/tsrun.js ends the process once main's promise settles (native/exit.ts). */
export { exitProcess as exit } from '../../native/exit.js';

const COMMAND_MODULES: CommandModules = {
  ...LIGHT_COMMAND_MODULES,
  create: () => import('./commands/create.js'),
  run: () => import('./commands/run.js'),
  exec: () => import('./commands/exec.js'),
  update: () => import('./commands/update.js'),
  spec: () => import('./commands/spec.js'),
  features: () => import('./commands/features.js'),
};

export function main(argv: readonly string[]): Promise<number> {
  return dispatch(argv, COMMAND_MODULES);
}
