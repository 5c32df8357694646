import { pauseContainer } from '../../lifecycle/freeze.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `pause <id>`: freeze every process of the container (cgroup.freeze), as runc. */
const pause: CommandRunner<CommandOf<'pause'>> = async (command, ctx) => {
  pauseContainer(command.id, await ctx.store());
  return 0;
};
export default pause;
