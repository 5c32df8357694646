import { ContainerNotExistError } from '../../errors.js';
import { deleteContainer } from '../../lifecycle/delete.js';
import type { CommandOf, CommandRunner } from '../context.js';

/**
 * `delete [--force] <id>`: remove a stopped container (--force: kill it first).
 * As runc, `--force` of a container that does not exist succeeds (callers
 * clean up blindly); a leftover directory of a crashed create is reclaimed by
 * the next create of that id, never removed under a live create's lock.
 */
const del: CommandRunner<CommandOf<'delete'>> = async (command, ctx) => {
  try {
    deleteContainer(command.id, command.force, await ctx.store(), ctx.logger);
  } catch (err) {
    if (command.force && err instanceof ContainerNotExistError) return 0;
    throw err;
  }
  return 0;
};
export default del;
