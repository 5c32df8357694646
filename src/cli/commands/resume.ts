import { resumeContainer } from '../../lifecycle/freeze.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `resume <id>`: thaw a paused container. */
const resume: CommandRunner<CommandOf<'resume'>> = async (command, ctx) => {
  resumeContainer(command.id, await ctx.store());
  return 0;
};
export default resume;
