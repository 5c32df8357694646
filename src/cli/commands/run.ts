import { runContainer } from '../../lifecycle/run.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `run <id>`: create + start; in the foreground, wait and return the container's exit status. */
const run: CommandRunner<CommandOf<'run'>> = async (command, ctx) =>
  runContainer({ ...command, rootless: ctx.global.rootless === 'true' }, await ctx.store(), ctx.logger);
export default run;
