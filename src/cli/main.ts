// tsrun's entry point: every command (bin/tsrun.js loads main-light.ts's
// smaller bundle for the commands that only read or signal a container).
// Each command module is loaded lazily: a command pays only for what it imports.
import { dispatch, type CommandModules } from './dispatch.js';

const COMMAND_MODULES: CommandModules = {
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

export function main(argv: readonly string[]): Promise<number> {
  return dispatch(argv, COMMAND_MODULES);
}
