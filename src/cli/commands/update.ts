import { updateContainer } from '../../lifecycle/update.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `update <id> [--resources FILE|-] [runc's resource flags]`: new limits for a live container. */
const update: CommandRunner<CommandOf<'update'>> = async (command, ctx) => {
  updateContainer(command, await ctx.store(), ctx.logger);
  return 0;
};
export default update;
