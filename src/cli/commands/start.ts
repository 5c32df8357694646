import { startContainer } from '../../lifecycle/start.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `start <id>`: run the user process of a created container, then the poststart hooks. */
const start: CommandRunner<CommandOf<'start'>> = async (command, ctx) => {
  startContainer(command.id, await ctx.store());
  return 0;
};
export default start;
