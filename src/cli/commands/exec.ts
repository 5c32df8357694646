import { execInContainer } from '../../lifecycle/exec.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `exec <id> [--process FILE | args...]`: the exit status of the process, or 0 with --detach. */
const exec: CommandRunner<CommandOf<'exec'>> = async (command, ctx) => execInContainer(command, await ctx.store(), ctx.logger);
export default exec;
