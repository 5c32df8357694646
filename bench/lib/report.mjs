// The table on stdout and the comparison with an earlier JSON result.
import { FLOOR } from './measure.mjs';
import { pairedMedian } from './stats.mjs';

/** @param {number} x */
export function fmt(x) {
  if (!Number.isFinite(x)) return '-';
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** @param {any} cell */
function cellText(cell) {
  if (!cell) return '';
  if (!cell.available) return 'n/a';
  if (cell.n === 1) return fmt(cell.median);
  return `${fmt(cell.median)} (${fmt(cell.min)}–${fmt(cell.max)})`;
}

/**
 * The derived figures of one series: ratios of paired rounds, and tsrun above
 * `procs` times the node floor.
 * @param {any} s  a series of a row result
 */
export function derive(s) {
  const t = s.cells.tsrun;
  const ratio = (/** @type {string} */ other) => {
    const o = s.cells[other];
    if (!t?.available || !o?.available || s.unit === 'count') return NaN;
    const r = pairedMedian(t.rounds, o.rounds, (x, y) => x / y);
    return Number.isFinite(r) ? r : t.median / o.median;
  };
  const f = s.cells[FLOOR];
  let overFloor = NaN;
  let floor = NaN;
  if (f?.available && s.procs) {
    floor = f.median * s.procs;
    if (t?.available) {
      const paired = pairedMedian(t.rounds, f.rounds, (x, y) => x - y * s.procs);
      overFloor = Number.isFinite(paired) ? paired : t.median - floor;
    }
  }
  const b = s.cells[BEFORE];
  let beforeOverFloor = NaN;
  if (f?.available && s.procs && b?.available) {
    const paired = pairedMedian(b.rounds, f.rounds, (x, y) => x - y * s.procs);
    beforeOverFloor = Number.isFinite(paired) ? paired : b.median - floor;
  }
  return {
    tsrunOverRunc: ratio('runc'),
    tsrunOverCrun: ratio('crun'),
    floor,
    tsrunMinusFloor: overFloor,
    ...(b ? { tsrunOverBefore: ratio(BEFORE), beforeMinusFloor: beforeOverFloor } : {}),
  };
}

/** The optional second tsrun (bench/run.mjs --tsrun-before). */
const BEFORE = 'tsrun-before';

/**
 * @param {any[]} results  row results of measureRow
 * @param {string[]} names  runtime names, in column order
 */
export function table(results, names) {
  const withBefore = names.includes(BEFORE);
  const header = ['measurement', 'unit', ...names, FLOOR, 'tsrun/runc', 'tsrun/crun', 'tsrun−floor', ...(withBefore ? ['tsrun/before', 'before−floor'] : [])];
  const signed = (/** @type {number | undefined} */ x) => (x !== undefined && Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${fmt(x)}` : '');
  const times = (/** @type {number | undefined} */ x) => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(2)}×` : '');
  /** @type {string[][]} */
  const lines = [];
  for (const r of results) {
    for (const s of r.series) {
      const d = derive(s);
      const floorCell = s.cells[FLOOR];
      let floorText = '';
      if (floorCell) {
        if (!floorCell.available) floorText = floorCell.reason === 'no sample' ? '' : 'n/a';
        else if (s.procs && s.procs > 1) floorText = `${fmt(d.floor)} (${s.procs}×)`;
        else floorText = cellText(floorCell);
      }
      lines.push([
        s.label,
        s.unit,
        ...names.map((n) => cellText(s.cells[n])),
        floorText,
        Number.isFinite(d.tsrunOverRunc) ? `${d.tsrunOverRunc.toFixed(2)}×` : '',
        Number.isFinite(d.tsrunOverCrun) ? `${d.tsrunOverCrun.toFixed(2)}×` : '',
        signed(d.tsrunMinusFloor),
        ...(withBefore ? [times(d.tsrunOverBefore), signed(d.beforeMinusFloor)] : []),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const pad = (/** @type {string[]} */ cols) =>
    cols.map((c, i) => (i <= 1 ? c.padEnd(/** @type {number} */ (widths[i])) : c.padStart(/** @type {number} */ (widths[i])))).join('  ').trimEnd();
  return [pad(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(pad)].join('\n');
}

/**
 * Why each n/a is n/a: one line per participant and reason, naming its rows.
 * @param {any[]} results
 */
export function reasons(results) {
  /** @type {Map<string, string[]>} */
  const groups = new Map();
  /** @type {string[]} */
  const errors = [];
  for (const r of results) {
    for (const s of r.series) {
      for (const [name, c] of Object.entries(s.cells)) {
        if (name === FLOOR && c.reason === 'no sample') continue; // not sampled: tsrun was out of the row
        if (c.available) {
          if (c.errors > 0) errors.push(`${name} · ${s.label.trim()}: ${c.errors} failed sample(s) ignored (last: ${c.lastError})`);
          continue;
        }
        const key = `${name}: ${c.notImplemented ? 'not implemented yet: ' : ''}${c.reason}`;
        const rows = groups.get(key) ?? [];
        if (!rows.includes(r.label)) rows.push(r.label);
        groups.set(key, rows);
      }
    }
  }
  return [...[...groups].map(([key, rows]) => `${key.slice(0, key.indexOf(':'))} · ${rows.join(', ')}:${key.slice(key.indexOf(':') + 1)}`), ...errors];
}

/**
 * Lines comparing this run's medians with an earlier result file.
 * @param {any} now @param {any} before
 */
export function compare(now, before) {
  const out = [];
  /** @type {Map<string, any>} */
  const old = new Map();
  for (const r of before.rows ?? []) for (const s of r.series ?? []) old.set(`${r.id}/${s.key}`, s);
  for (const r of now.rows) {
    for (const s of r.series) {
      const o = old.get(`${r.id}/${s.key}`);
      if (!o) continue;
      const parts = [];
      for (const [name, c] of Object.entries(s.cells)) {
        const oc = o.cells?.[name];
        if (!c.available || !oc?.available) continue;
        const change = (c.median / oc.median - 1) * 100;
        parts.push(`${name} ${fmt(oc.median)} → ${fmt(c.median)} (${change >= 0 ? '+' : ''}${change.toFixed(0)}%)`);
      }
      if (parts.length > 0) out.push(`${s.label.trim()} [${s.unit}]: ${parts.join(', ')}`);
    }
  }
  return out;
}
