import { streamEvents } from '../../lifecycle/events.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `events <id> [--stats] [--interval D]`: runc's JSON events (stats, oom), one a line. */
const events: CommandRunner<CommandOf<'events'>> = async (command, ctx) => {
  await streamEvents(command, await ctx.store());
  return 0;
};
export default events;
