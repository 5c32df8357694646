import { writeStdout } from '../../log.js';
import { currentStatus, stateOutput } from '../../state/status.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `state <id>`: runtime.md's state JSON, with the status derived from facts. */
const state: CommandRunner<CommandOf<'state'>> = async (command, ctx) => {
  const store = await ctx.store();
  const record = store.read(command.id);
  const status = currentStatus(record, store.containerDir(command.id));
  writeStdout(`${JSON.stringify(stateOutput(record, status), null, 2)}\n`);
  return 0;
};
export default state;
