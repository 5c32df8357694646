import { createContainer } from '../../lifecycle/create.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `create <id>`: the container waits in its init on the exec fifo until `start`. */
const create: CommandRunner<CommandOf<'create'>> = async (command, ctx) => {
  createContainer({ ...command, rootless: ctx.global.rootless === 'true' }, await ctx.store(), ctx.logger);
  return 0;
};
export default create;
