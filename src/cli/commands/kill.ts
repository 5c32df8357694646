import { signalAll, signalInit } from '../../lifecycle/signal.js';
import { parseSignal } from '../../signals.js';
import { withContainer } from '../../state/locked.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `kill [--all] <id> [signal]`: through a pidfd checked against the recorded start time. */
const kill: CommandRunner<CommandOf<'kill'>> = async (command, ctx) => {
  const signal = parseSignal(command.signal);
  const store = await ctx.store();
  withContainer(store, command.id, command.all ? 'killAll' : 'kill', (record, status) => {
    // A stopped container's init is gone (its pid may be reused): only the cgroup's processes are signalled.
    if (command.all) signalAll(record, signal, status === 'stopped');
    else signalInit(record, signal);
  });
  return 0;
};
export default kill;
