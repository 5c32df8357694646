import { writeStdout } from '../../log.js';
import type { StateOutput } from '../../state/status.js';
import { currentStatus, stateOutput } from '../../state/status.js';
import type { CommandOf, CommandRunner } from '../context.js';

const COLUMNS = ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'] as const;
// runc aligns with Go's tabwriter: minimum width 12, padding 3.
const MIN_WIDTH = 12;
const PADDING = 3;

/** Formats rows the way runc's tabwriter does: every column but the last padded to its widest cell. */
export function formatTable(states: readonly StateOutput[]): string {
  const rows: string[][] = [
    [...COLUMNS],
    ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]),
  ];
  const widths = COLUMNS.map((_, col) => Math.max(MIN_WIDTH, ...rows.map((r) => (r[col] ?? '').length + PADDING)));
  return rows
    .map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? MIN_WIDTH))).join(''))
    .map((line) => `${line}\n`)
    .join('');
}

/** `list`: every container under --root, as a table, JSON, or ids only. */
const list: CommandRunner<CommandOf<'list'>> = async (command, ctx) => {
  const store = await ctx.store();
  const states: StateOutput[] = [];
  for (const record of store.list()) {
    states.push(stateOutput(record, currentStatus(record, store.containerDir(record.id))));
  }
  if (command.quiet) writeStdout(states.map((s) => `${s.id}\n`).join(''));
  else if (command.format === 'json') writeStdout(`${JSON.stringify(states)}\n`);
  else writeStdout(formatTable(states));
  return 0;
};
export default list;
