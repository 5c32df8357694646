#!/usr/bin/env node
// tsrun beside runc and crun, in one run: lifecycle latency, state/list/kill/
// exec latency, parallel creates, memory, and the Node floor. Prints a table
// of medians (min–max) with ratios, and writes every sample as JSON.
//
//   npm run bench -- [--repeats N] [--warmup N] [--quick] [--out FILE] ...
//   node bench/run.mjs --help
//
// See bench/README.md for what each row means and how the numbers are taken.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBundles } from './lib/bundle.mjs';
import { measureRow, FLOOR } from './lib/measure.mjs';
import { Runner } from './lib/proc.mjs';
import { compare, derive, reasons, table } from './lib/report.mjs';
import { buildRows, Lab } from './lib/rows.mjs';
import { DEFAULT_TSRUN, defaultSpec, describeView, discoverRuntimes, inPureV2View } from './lib/runtimes.mjs';

const SELF = fileURLToPath(import.meta.url);
const UNSHARE_FAILED = 97;
const ALL_RUNTIMES = ['tsrun', 'runc', 'crun'];

const USAGE = `usage: node bench/run.mjs [options]

Measures tsrun, runc and crun side by side (see bench/README.md).

  --repeats N         counted rounds per row (default 15)
  --warmup N          uncounted rounds first (default 2)
  --quick             --repeats 5 --warmup 1, fewer parallel and memory rounds
  --drop PATH         remove a dotted path from the config for every runtime
                      (repeatable), e.g. --drop process.capabilities.ambient
  --no-devices        same as --drop linux.resources.devices
  --parallel N        containers per parallel-create sample (default 8)
  --rows a,b,...      only these rows (ids: see --list-rows)
  --runtimes a,b,...  only these runtimes (default tsrun,runc,crun)
  --tsrun 'CMD ...'   how to run tsrun (default: node bin/tsrun.js of this tree;
                      also the TSRUN_BENCH_TSRUN environment variable)
  --tsrun-before 'CMD ...'
                      a second tsrun (e.g. a copy of an earlier build) measured in
                      the same rounds: column tsrun-before, and tsrun/before and
                      before−floor beside tsrun's figures
  --out FILE          where to write the JSON (default: $TMPDIR/tsrun-bench/<time>.json)
  --baseline FILE     compare the medians with an earlier JSON result
  --list-rows         print the row ids and what they measure
  --help`;

/** @param {string[]} argv */
function parseArgs(argv) {
  const o = {
    repeats: 15,
    warmup: 2,
    parallel: 8,
    parallelRepeats: 5,
    memRepeats: 5,
    rows: /** @type {string[] | undefined} */ (undefined),
    runtimes: ALL_RUNTIMES,
    tsrun: (process.env.TSRUN_BENCH_TSRUN ?? '').trim() ? (process.env.TSRUN_BENCH_TSRUN ?? '').trim().split(/\s+/) : [process.execPath, DEFAULT_TSRUN],
    tsrunBefore: /** @type {string[] | undefined} */ (undefined),
    out: '',
    baseline: '',
    listRows: false,
    drop: /** @type {string[]} */ ([]),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = /** @type {string} */ (argv[i]);
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return /** @type {string} */ (v);
    };
    const int = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) fail(`${flag} needs a whole number`);
      return n;
    };
    switch (flag) {
      case '--repeats':
        o.repeats = Math.max(1, int());
        break;
      case '--warmup':
        o.warmup = int();
        break;
      case '--quick':
        o.repeats = 5;
        o.warmup = 1;
        o.parallelRepeats = 2;
        o.memRepeats = 2;
        break;
      case '--no-devices':
        o.drop.push('linux.resources.devices');
        break;
      case '--drop':
        o.drop.push(value());
        break;
      case '--parallel':
        o.parallel = Math.max(1, int());
        break;
      case '--rows':
        o.rows = value().split(',').filter(Boolean);
        break;
      case '--runtimes':
        o.runtimes = value().split(',').filter(Boolean);
        for (const r of o.runtimes) if (!ALL_RUNTIMES.includes(r)) fail(`unknown runtime ${r} (known: ${ALL_RUNTIMES.join(', ')})`);
        break;
      case '--tsrun':
        o.tsrun = value().trim().split(/\s+/);
        break;
      case '--tsrun-before':
        o.tsrunBefore = value().trim().split(/\s+/);
        break;
      case '--out':
        o.out = resolve(value());
        break;
      case '--baseline':
        o.baseline = resolve(value());
        break;
      case '--list-rows':
        o.listRows = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
      default:
        fail(`unknown argument ${a}\n${USAGE}`);
    }
  }
  return o;
}

/** @param {string} msg @returns {never} */
function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
// Node parses the file NODE_EXTRA_CA_CERTS names at every start-up (~40 ms of CPU on the
// development machine, which sets it): the same cost for tsrun and the node floor, but it doubles
// their noise. No participant needs it (tsrun makes no TLS connection): removed for all of them.
delete process.env.NODE_EXTRA_CA_CERTS;
const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);

// 1. The pure cgroup v2 view (TESTING.md): a private mount namespace with
//    cgroup2 mounted on /sys/fs/cgroup. All three runtimes run inside it.
if (!opts.listRows && !inPureV2View() && process.env.TSRUN_BENCH_V2_VIEW !== '1' && process.getuid?.() === 0) {
  const script = `umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit ${UNSHARE_FAILED}; exec "$@"`;
  process.on('SIGINT', () => {}); // the child gets it too, cleans up and exits
  process.on('SIGTERM', () => {});
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, SELF, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TSRUN_BENCH_V2_VIEW: '1' },
  });
  if (r.status !== UNSHARE_FAILED && !r.error) process.exit(r.status ?? 1);
  log('bench: could not enter a private mount namespace with cgroup2 at /sys/fs/cgroup: runc and crun will be skipped');
}

let aborted = false;
process.on('SIGINT', () => {
  aborted = true;
});
process.on('SIGTERM', () => {
  aborted = true;
});

const started = new Date();
const runTag = Math.random().toString(36).slice(2, 7);
const base = mkdtempSync(join(os.tmpdir(), `tsrun-bench-${runTag}-`));
const runner = new Runner(join(base, 'stderr.txt'));
const runtimes = discoverRuntimes({
  base,
  names: opts.tsrunBefore ? [...opts.runtimes, 'tsrun-before'] : opts.runtimes,
  tsrun: opts.tsrun,
  tsrunBefore: opts.tsrunBefore,
});
const timeBin = ['/usr/bin/time'].find((p) => existsSync(p));
const nodeEmpty = join(base, 'empty.mjs');
writeFileSync(nodeEmpty, '');

/** @type {any[]} */
const results = [];
let specFrom = '';
let lab;
let exitCode = 0;
try {
  const spec = opts.listRows ? undefined : defaultSpec(runtimes, join(base, 'spec'));
  specFrom = spec?.from ?? '';
  let bundles = { rootfs: '', trueBundle: '', sleepBundle: '' };
  if (!opts.listRows) {
    if (!spec) {
      for (const rt of runtimes) if (rt.available) Object.assign(rt, { available: false, reason: 'no runtime could write a default config (`spec`)' });
    } else {
      try {
        bundles = makeBundles(base, spec.config, { drop: opts.drop });
      } catch (e) {
        for (const rt of runtimes) if (rt.available) Object.assign(rt, { available: false, reason: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  lab = new Lab({ runner, base, trueBundle: bundles.trueBundle, sleepBundle: bundles.sleepBundle, runTag });
  const rows = buildRows(lab, {
    parallel: opts.parallel,
    parallelRepeats: Math.min(opts.parallelRepeats, opts.repeats),
    memRepeats: Math.min(opts.memRepeats, opts.repeats),
    timeBin,
    nodeEmpty,
    emptyRoot: (rt) => {
      const d = join(base, `empty-root-${rt.name}`);
      mkdirSync(d, { recursive: true });
      return d;
    },
  });
  if (opts.listRows) {
    for (const r of rows) console.log(`${r.id.padEnd(14)} ${r.what}`);
    runner.close();
    rmSync(base, { recursive: true, force: true });
    process.exit(0);
  }
  const known = new Set(rows.map((r) => r.id));
  for (const id of opts.rows ?? []) if (!known.has(id)) fail(`unknown row ${id} (see --list-rows)`);
  const selected = opts.rows ? rows.filter((r) => opts.rows?.includes(r.id)) : rows;

  log(`bench: ${runtimes.map((r) => `${r.name}: ${r.available ? r.version : `missing (${r.reason})`}`).join('; ')}`);
  log(`bench: cgroup view: ${describeView()}`);
  log(`bench: ${opts.repeats} rounds after ${opts.warmup} warm-up per row; scratch ${base}`);
  for (const row of selected) {
    log(`- ${row.label}`);
    results.push(await measureRow(row, runtimes, { repeats: opts.repeats, warmup: opts.warmup, aborted: () => aborted, progress: log }));
  }
} catch (e) {
  log(`bench: ${aborted ? 'interrupted' : `failed: ${e instanceof Error ? e.stack : e}`}`);
  exitCode = aborted ? 130 : 1;
} finally {
  lab?.cleanup(runtimes);
  runner.close();
  rmSync(base, { recursive: true, force: true });
}

// 2. The report
const names = runtimes.map((r) => r.name);
const json = {
  schema: 'tsrun-bench/1',
  date: started.toISOString(),
  seconds: Math.round((Date.now() - started.getTime()) / 100) / 10,
  complete: exitCode === 0,
  machine: { hostname: os.hostname(), kernel: os.release(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
  node: process.version,
  method: 'wall clock (process.hrtime) around child_process.spawnSync, stdout to /dev/null, stderr to a file; participants interleaved and rotated each round; median of counted rounds; ratios = median of per-round ratios',
  options: { repeats: opts.repeats, warmup: opts.warmup, parallel: opts.parallel, rows: opts.rows ?? null, drop: opts.drop, tsrunBefore: opts.tsrunBefore?.join(' ') ?? null },
  config: {
    from: specFrom,
    changes: ['process.args ["/bin/true"] (kill, exec: ["/bin/sleep", "86400"])', 'process.terminal false', 'root.path: the shared rootfs', ...opts.drop.map((p) => `${p} removed`)],
    rootfs: 'busybox-static: /bin/busybox with links true, sleep, sh',
  },
  runtimes: Object.fromEntries(
    runtimes.map((r) => [r.name, { command: [r.argv0, ...r.baseArgs].join(' '), version: r.version, available: r.available, reason: r.reason, view: r.view, notes: r.notes }]),
  ),
  floor: { command: `${process.execPath} -e 0`, view: describeView() },
  rows: results.map((r) => ({
    ...r,
    series: r.series.map((/** @type {any} */ s) => {
      const d = derive(s);
      return { ...s, derived: d };
    }),
  })),
};

if (results.length > 0) {
  console.log('');
  console.log(`tsrun benchmark · ${json.date} · ${json.machine.cpus} cpus · node ${json.node} · kernel ${json.machine.kernel}${json.complete ? '' : ' · INCOMPLETE (interrupted or failed): partial results'}`);
  for (const r of runtimes) console.log(`  ${r.name.padEnd(5)}: ${r.available ? `${r.version} — ${r.view}` : `MISSING: ${r.reason}`}${r.notes.map((n) => `\n         note: ${n}`).join('')}`);
  console.log(`  ${FLOOR}: ${process.execPath} -e 0 — same view; NODE_EXTRA_CA_CERTS unset for every participant`);
  console.log(`  config: ${specFrom || '(none)'}, args ["/bin/true"], terminal false${opts.drop.map((p) => `, ${p} removed`).join('')}`);
  console.log(`  median (min–max) of ${opts.repeats} rounds after ${opts.warmup} warm-up (parallel: ${Math.min(opts.parallelRepeats, opts.repeats)}, memory: ${Math.min(opts.memRepeats, opts.repeats)})`);
  console.log('');
  console.log(table(json.rows, names));
  console.log('');
  console.log('tsrun/runc, tsrun/crun: median of per-round ratios (>1: tsrun slower or bigger). node floor: `node -e 0` (× the tsrun processes per sample). tsrun−floor: per-round tsrun minus that floor.');
  if (opts.tsrunBefore) console.log('tsrun-before: the --tsrun-before command in the same rounds; tsrun/before and before−floor as above.');
  console.log('Every time includes the harness spawn cost (row "spawn /bin/true").');
  const why = reasons(json.rows);
  if (why.length > 0) {
    console.log('');
    console.log('not measured:');
    for (const w of why) console.log(`  ${w}`);
    if (why.some((w) => /: \/(linux|process)\//.test(w))) console.log('  (a config field that tsrun refuses can be removed for every runtime with --drop PATH, e.g. --no-devices)');
  }
  if (opts.baseline) {
    console.log('');
    try {
      const before = JSON.parse(readFileSync(opts.baseline, 'utf8'));
      console.log(`compared with ${opts.baseline} (${before.date}):`);
      for (const l of compare(json, before)) console.log(`  ${l}`);
    } catch (e) {
      console.log(`cannot compare with ${opts.baseline}: ${e instanceof Error ? e.message : e}`);
    }
  }
}

const out = opts.out || join(os.tmpdir(), 'tsrun-bench', `${started.toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
console.log('');
console.log(`results: ${out}`);
process.exit(exitCode);
