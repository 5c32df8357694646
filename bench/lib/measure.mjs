// The measuring loop: one row at a time, every participant (tsrun, runc,
// crun and the node floor) sampled in turn within each round, the order
// rotated from round to round, so that a slow minute of the machine falls on
// all of them alike and ratios can pair samples of the same round.
import { CommandFailed, tick } from './proc.mjs';
import { summary } from './stats.mjs';

/**
 * @typedef {import('./runtimes.mjs').Runtime} Runtime
 *
 * @typedef {object} Series  one figure of a row (a row may give several: a lifecycle gives create, start, delete)
 * @property {string} key
 * @property {string} label
 * @property {string} unit         ms | MB | containers/s
 * @property {number} [procs]      runtime processes per sample: the node floor is counted that many times
 * @property {boolean} [higherIsBetter]
 *
 * @typedef {object} Row
 * @property {string} id
 * @property {string} label
 * @property {string} unit
 * @property {string} what         one sentence for the README and the JSON
 * @property {number} [procs]
 * @property {Series[]} [series]   default: one series `value` with the row's label, unit and procs
 * @property {boolean} [floorOnly] a floor row: only the floor participant is sampled
 * @property {() => (number | Record<string, number>)} [floorSample]  the node floor's sample, when the row has a floor
 * @property {(rt: Runtime) => (void | Promise<void>)} [setup]   throws CommandFailed: unavailable
 * @property {(rt: Runtime, round: number) => (number | Record<string, number> | Promise<number | Record<string, number>>)} [sample]
 * @property {(rt: Runtime) => void} [teardown]
 * @property {number} [repeats]
 * @property {number} [warmup]
 *
 * @typedef {object} Cell  one participant's figures for a row
 * @property {boolean} available
 * @property {string} reason
 * @property {boolean} notImplemented
 * @property {string[]} notes
 * @property {number} errors     failed samples after a first success
 * @property {boolean} [ok]       has given a sample
 * @property {string} [lastError]
 * @property {Record<string, (number | undefined)[]>} rounds  per series key, indexed by counted round
 */

export const FLOOR = 'node floor';

/** @param {Row} row */
export function seriesOf(row) {
  return row.series ?? [{ key: 'value', label: row.label, unit: row.unit, procs: row.procs }];
}

/**
 * @param {Row} row
 * @param {Runtime[]} runtimes
 * @param {{ repeats: number, warmup: number, aborted: () => boolean, progress: (s: string) => void }} opts
 */
export async function measureRow(row, runtimes, opts) {
  const repeats = row.repeats ?? opts.repeats;
  const warmup = row.warmup ?? opts.warmup;
  const series = seriesOf(row);
  /** @type {Map<string, Cell>} */
  const cells = new Map();
  /** @type {{ name: string, cell: Cell, sample: (round: number) => any }[]} */
  const parts = [];

  const newCell = (available = true, reason = '') =>
    /** @type {Cell} */ ({ available, reason, notImplemented: false, notes: [], errors: 0, rounds: Object.fromEntries(series.map((s) => [s.key, []])) });

  if (!row.floorOnly) {
    for (const rt of runtimes) {
      const cell = newCell(rt.available, rt.reason);
      cells.set(rt.name, cell);
      if (!cell.available) continue;
      if (!row.sample) continue;
      if (row.setup) {
        try {
          await row.setup(rt);
        } catch (e) {
          markUnavailable(cell, e);
          continue;
        }
      }
      const sample = row.sample;
      parts.push({ name: rt.name, cell, sample: (round) => sample(rt, round) });
    }
  }
  if (row.floorSample) {
    const cell = newCell();
    cells.set(FLOOR, cell);
    parts.push({ name: FLOOR, cell, sample: row.floorSample });
  }

  try {
    const total = warmup + repeats;
    for (let round = 0; round < total; round++) {
      const shift = parts.length > 0 ? round % parts.length : 0;
      const order = [...parts.slice(shift), ...parts.slice(0, shift)];
      // the floor is there to be subtracted from tsrun: not sampled once tsrun is out of the row
      const tsrunOut = !row.floorOnly && !cells.get('tsrun')?.available;
      for (const p of order) {
        if (!p.cell.available) continue;
        if (p.name === FLOOR && tsrunOut) continue;
        if (opts.aborted()) throw new Error('interrupted');
        try {
          const v = await p.sample(round);
          const values = typeof v === 'number' ? { value: v } : v;
          if (round >= warmup) for (const s of series) p.cell.rounds[s.key][round - warmup] = values[s.key];
          p.cell.ok = true;
        } catch (e) {
          if (!(e instanceof CommandFailed)) throw e;
          if (!p.cell.ok) markUnavailable(p.cell, e);
          else {
            p.cell.errors++;
            p.cell.lastError = e.message;
            if (p.cell.errors > Math.max(1, repeats / 2)) markUnavailable(p.cell, new CommandFailed(`${p.cell.errors} failed samples, last: ${e.message}`));
          }
        }
        await tick();
      }
    }
  } finally {
    if (!row.floorOnly && row.teardown) for (const rt of runtimes) if (rt.available) row.teardown(rt);
  }

  const result = {
    id: row.id,
    label: row.label,
    what: row.what,
    repeats,
    warmup,
    series: series.map((s) => ({
      key: s.key,
      label: s.label,
      unit: s.unit,
      procs: s.procs ?? null,
      higherIsBetter: s.higherIsBetter ?? false,
      cells: Object.fromEntries(
        [...cells].map(([name, c]) => {
          const rounds = c.rounds[s.key] ?? [];
          const values = /** @type {number[]} */ (rounds.filter((x) => x !== undefined && Number.isFinite(x)));
          return [
            name,
            {
              available: c.available && values.length > 0,
              reason: c.available ? (values.length > 0 ? '' : row.sample || name === FLOOR ? 'no sample' : 'not measured yet') : c.reason,
              notImplemented: c.notImplemented,
              notes: c.notes,
              errors: c.errors,
              ...(c.lastError ? { lastError: c.lastError } : {}),
              ...summary(values),
              rounds,
            },
          ];
        }),
      ),
    })),
  };
  opts.progress(progressLine(result));
  return result;
}

/** @param {Cell} cell @param {unknown} e */
function markUnavailable(cell, e) {
  cell.available = false;
  cell.reason = e instanceof Error ? e.message : String(e);
  cell.notImplemented = e instanceof CommandFailed && e.notImplemented;
}

/** @param {any} result */
function progressLine(result) {
  const s = result.series[0];
  const parts = Object.entries(s.cells).map(([name, c]) => `${name} ${c.available ? `${c.median.toFixed(1)} ${s.unit}` : 'n/a'}`);
  return `  ${result.label}: ${parts.join(', ')}`;
}
