import { deleteContainer } from '../../lifecycle/delete.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `delete [--force] <id>`: remove a stopped container (--force: kill it first). */
const del: CommandRunner<CommandOf<'delete'>> = async (command, ctx) => {
  deleteContainer(command.id, command.force, await ctx.store(), ctx.logger);
  return 0;
};
export default del;
