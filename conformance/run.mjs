#!/usr/bin/env node
// @ts-check
// Runs the conformance suite with tap (TAP reporter) against RUNTIME, then
// prints a summary:
//
//   conformance (<runtime name> <version>): N passed, N failed, N skipped
//     failed: N new, N listed in deviations.mjs (N refused, N bug, N deviation)
//
// with per-area counts and every listed failure with its reason. "failed"
// counts every case that did not pass. Exit status: 1 when a case failed that
// deviations.mjs does not list for this runtime (a regression, or a wrong
// case), when something was left behind, or when nothing passed; 0 otherwise;
// always 0 with --report-only. CONFORMANCE_SUMMARY=file appends the summary
// to that file too (CI prints both runtimes' summaries at the end).
//
// usage: [RUNTIME=runc|/path] node conformance/run.mjs [--report-only] [--jobs N] [file.test.mjs ...]
//
// Cases that create containers need the pure cgroup v2 view (TESTING.md):
// on a hybrid machine this script re-executes itself in a private mount
// namespace with cgroup2 mounted at /sys/fs/cgroup, and sets
// CONFORMANCE_CGROUP_V2=1 for the test files.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CONFORMANCE_DIR, inCgroupV2View, resolveRuntime, runtimeCommand, runtimeIdentity } from './lib/env.mjs';
import { deviationFor, keyMatches, listedKeys } from './deviations.mjs';
import { rootfsDescription } from './lib/bundle.mjs';

const SELF = fileURLToPath(import.meta.url);
const UNSHARE_FAILED = 97;

const argv = process.argv.slice(2);
const reportOnly = argv.includes('--report-only');
let jobs = Math.max(2, os.cpus().length * 2);
/** @type {string[]} */
const files = [];
for (let i = 0; i < argv.length; i++) {
  const a = /** @type {string} */ (argv[i]);
  if (a === '--report-only') continue;
  if (a === '--jobs' || a === '-j') jobs = Number(argv[++i]);
  else if (a.startsWith('--jobs=')) jobs = Number(a.slice(7));
  else if (a === '--help' || a === '-h') {
    console.log('usage: [RUNTIME=runc|/path/to/runtime] node conformance/run.mjs [--report-only] [--jobs N] [area.test.mjs ...]');
    process.exit(0);
  } else files.push(a);
}

// 1. the pure cgroup v2 view
if (process.env.CONFORMANCE_CGROUP_V2 !== '1' && process.env.CONFORMANCE_NO_UNSHARE !== '1') {
  if (inCgroupV2View()) {
    process.env.CONFORMANCE_CGROUP_V2 = '1';
  } else if (process.getuid && process.getuid() === 0) {
    const script =
      'umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit ' + UNSHARE_FAILED + '; exec "$@"';
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, SELF, ...argv], {
      stdio: 'inherit',
      env: { ...process.env, CONFORMANCE_CGROUP_V2: '1' },
    });
    if (r.status !== UNSHARE_FAILED && !r.error) process.exit(r.status ?? 1);
    console.error('# could not enter a private mount namespace with cgroup2 at /sys/fs/cgroup: container cases will be skipped');
  }
}

// 2. the runtime
/** @type {string} */
let runtimeBin = '';
try {
  runtimeBin = resolveRuntime();
} catch (e) {
  console.error(String(e instanceof Error ? e.message : e));
  process.exit(reportOnly ? 0 : 1);
}
const identity = runtimeIdentity(runtimeBin);

// 3. a temp base for this run, swept at the end
const runTag = Math.random().toString(36).slice(2, 6);
const base = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-conformance-${runTag}-`));
fs.chmodSync(base, 0o755);
const resultsFile = path.join(os.tmpdir(), `tsrun-conformance-${runTag}-results.jsonl`);
fs.writeFileSync(resultsFile, '');

const testFiles = (files.length > 0 ? files : fs.readdirSync(CONFORMANCE_DIR).filter((f) => f.endsWith('.test.mjs')).sort()).map(
  (f) => {
    // a file named relative to the cwd, or to conformance/ ("hooks.test.mjs")
    const fromCwd = path.resolve(f);
    const abs = fs.existsSync(fromCwd) ? fromCwd : path.resolve(CONFORMANCE_DIR, f);
    return path.relative(CONFORMANCE_DIR, abs);
  },
);

const require = createRequire(import.meta.url);
const tapPkgPath = require.resolve('tap/package.json');
const tapPkg = JSON.parse(fs.readFileSync(tapPkgPath, 'utf8'));
const tapBin = path.resolve(path.dirname(tapPkgPath), typeof tapPkg.bin === 'string' ? tapPkg.bin : tapPkg.bin.tap);

const started = Date.now();
const tap = spawn(
  process.execPath,
  [tapBin, '--reporter=tap', `--jobs=${jobs}`, '--timeout=600', '--disable-coverage', '--allow-empty-coverage', ...testFiles],
  {
    cwd: CONFORMANCE_DIR, // conformance/.taprc makes this tap's project root (its .tap/ stays here)
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      RUNTIME: runtimeBin,
      CONFORMANCE_RUNTIME_NAME: identity.name,
      CONFORMANCE_RUNTIME_VERSION: identity.version,
      CONFORMANCE_TMP: base,
      CONFORMANCE_RESULTS: resultsFile,
      CONFORMANCE_RUN_TAG: runTag,
    },
  },
);
/** @type {number} */
const tapStatus = await new Promise((resolve) => {
  const forward = (/** @type {NodeJS.Signals} */ sig) => tap.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  tap.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
});
const seconds = ((Date.now() - started) / 1000).toFixed(1);

// 4. results: the last record of each case wins; a started case that never
// recorded an outcome timed out or crashed.
/** @type {Map<string, { id: string, area: string, title: string, status: string, reason?: string, kind?: string, detail?: string, file?: string }>} */
const cases = new Map();
for (const line of fs.readFileSync(resultsFile, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  try {
    const rec = JSON.parse(line);
    cases.set(rec.id, rec);
  } catch {
    // torn line: ignore
  }
}
fs.rmSync(resultsFile, { force: true });
for (const rec of cases.values()) {
  if (rec.status === 'started') {
    const dev = deviationFor(rec.id, identity.name);
    rec.detail = 'the case never finished (tap timeout or crash of the test file): see the TAP output';
    if (dev) {
      rec.status = 'known';
      rec.kind = dev.kind;
      rec.reason = dev.reason;
    } else {
      rec.status = 'fail';
      rec.reason = rec.detail;
    }
  }
}

// 5. sweep what crashed files may have left
const leftovers = sweep(base, runTag);

// 6. summary. "failed" counts every case that did not pass; of those, the
// ones listed in deviations.mjs are known and do not fail the run.
const KINDS = ['refused', 'bug', 'deviation'];
const zero = () => ({ pass: 0, fail: 0, skip: 0, known: 0 });
const counts = zero();
/** @type {Record<string, number>} */
const byKind = { refused: 0, bug: 0, deviation: 0 };
/** @type {Map<string, ReturnType<typeof zero>>} */
const perArea = new Map();
for (const rec of cases.values()) {
  const kind = rec.status === 'pass-listed' ? 'pass' : /** @type {'pass' | 'fail' | 'skip' | 'known'} */ (rec.status);
  counts[kind]++;
  if (kind === 'known') byKind[rec.kind || 'deviation'] = (byKind[rec.kind || 'deviation'] || 0) + 1;
  if (!perArea.has(rec.area)) perArea.set(rec.area, zero());
  /** @type {ReturnType<typeof zero>} */ (perArea.get(rec.area))[kind]++;
}
const fileLevel = [];
if (tapStatus !== 0 && counts.fail === 0 && counts.known === 0) {
  fileLevel.push(`tap exited ${tapStatus} with no failing case recorded: a test file failed outside its cases (see the TAP output above)`);
}
if (cases.size === 0) fileLevel.push('no case ran at all');
else if (counts.pass === 0) fileLevel.push('no case passed: the runtime, the machine or the suite is broken (see the skip reasons)');
const newFailures = counts.fail + fileLevel.length + leftovers.length;
const failedTotal = counts.fail + counts.known;

const out = [];
const pct = cases.size - counts.skip > 0 ? ((100 * counts.pass) / (cases.size - counts.skip)).toFixed(1) : '0.0';
out.push('');
out.push(`# ${'-'.repeat(70)}`);
out.push(`conformance (${identity.name} ${identity.version}): ${counts.pass} passed, ${failedTotal} failed, ${counts.skip} skipped (${pct}% of the cases that ran passed)`);
out.push(
  `  failed: ${counts.fail} new, ${counts.known} listed in deviations.mjs (${KINDS.map((k) => `${byKind[k] || 0} ${k}`).join(', ')})` +
    (fileLevel.length + leftovers.length > 0 ? `; plus ${fileLevel.length + leftovers.length} problem(s) outside the cases` : ''),
);
out.push(`  runtime: ${runtimeBin}`);
out.push(`  time: ${seconds}s with ${jobs} jobs, cgroup v2 view: ${process.env.CONFORMANCE_CGROUP_V2 === '1' ? 'yes' : 'no'}, rootfs: ${rootfsDescription()}`);
out.push('per area:');
for (const [name, c] of [...perArea].sort(([a], [b]) => a.localeCompare(b))) {
  const failed = c.fail + c.known;
  out.push(`  ${name.padEnd(12)} ${String(c.pass).padStart(3)} passed, ${String(failed).padStart(3)} failed${c.known ? ` (${c.known} listed)` : ''}, ${c.skip} skipped`);
}
const known = [...cases.values()].filter((r) => r.status === 'known');
if (known.length > 0) {
  out.push(`failed, listed in deviations.mjs for ${identity.name}:`);
  for (const k of KINDS) {
    for (const r of known.filter((x) => (x.kind || 'deviation') === k)) {
      out.push(`  [${k}] ${r.id}: ${oneLine(r.reason, 220)}`);
      if (r.detail) out.push(`      got: ${oneLine(r.detail, 220)}`);
    }
  }
}
const stale = [...cases.values()].filter((r) => r.status === 'pass-listed');
if (stale.length > 0) {
  out.push(`listed in deviations.mjs but passed: the entries are stale, remove them (${stale.length}):`);
  for (const r of stale) out.push(`  ${r.id}`);
}
if (files.length === 0) {
  const unmatched = listedKeys(identity.name).filter((key) => ![...cases.keys()].some((id) => keyMatches(key, id)));
  if (unmatched.length > 0) {
    out.push('deviations.mjs lists ids that match no case (renamed?):');
    for (const id of unmatched) out.push(`  ${id}`);
  }
}
const fails = [...cases.values()].filter((r) => r.status === 'fail');
if (newFailures > 0) {
  out.push(`NEW FAILURES (not listed in deviations.mjs: a ${identity.name} regression, or a wrong case):`);
  for (const r of fails) {
    out.push(`  ${r.id}: ${oneLine(r.reason, 300)}`);
    if (r.detail && r.detail !== r.reason) out.push(`      last error: ${oneLine(r.detail, 300)}`);
  }
  for (const m of fileLevel) out.push(`  ${m}`);
  for (const m of leftovers) out.push(`  leftover after the run: ${m}`);
}
const skips = [...cases.values()].filter((r) => r.status === 'skip');
if (skips.length > 0) {
  /** @type {Map<string, string[]>} */
  const byReason = new Map();
  for (const r of skips) byReason.set(r.reason || '', [...(byReason.get(r.reason || '') || []), r.id]);
  out.push('skipped:');
  for (const [reason, ids] of byReason) out.push(`  ${ids.length} case(s): ${reason}${ids.length <= 4 ? ` (${ids.join(', ')})` : ''}`);
}
console.log(out.join('\n'));
if (process.env.CONFORMANCE_SUMMARY) fs.appendFileSync(process.env.CONFORMANCE_SUMMARY, `${out.join('\n')}\n`);
process.exit(reportOnly ? 0 : newFailures > 0 ? 1 : 0);

/** @param {string | undefined} s @param {number} n */
function oneLine(s, n) {
  const t = (s || '').replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n - 3)}...` : t;
}

/**
 * Force-delete containers, kill processes, unmount and remove what is left
 * under the run's base dir (a test file killed by a timeout cannot clean up
 * after itself), and report each thing found.
 * @param {string} dir
 * @param {string} tag
 * @returns {string[]}
 */
function sweep(dir, tag) {
  /** @type {string[]} */
  const found = [];
  const [cmd, ...pre] = runtimeCommand(runtimeBin);
  for (const entry of safeReaddir(dir)) {
    const root = path.join(dir, entry, 'root');
    if (!fs.existsSync(root)) continue;
    const list = spawnSync(/** @type {string} */ (cmd), [...pre, '--root', root, 'list', '-q'], { encoding: 'utf8', timeout: 10_000 });
    for (const id of (list.stdout || '').split('\n').map((s) => s.trim()).filter(Boolean)) {
      found.push(`container ${id} (${entry})`);
      spawnSync(/** @type {string} */ (cmd), [...pre, '--root', root, 'delete', '--force', id], { timeout: 10_000 });
    }
  }
  // processes rooted under the base dir
  const mi = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  for (const pidDir of safeReaddir('/proc')) {
    if (!/^\d+$/.test(pidDir) || Number(pidDir) === process.pid) continue;
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pidDir}/mountinfo`, 'utf8');
    } catch {
      continue;
    }
    if (text === mi || !text.includes(path.basename(dir))) continue;
    const rootLine = text.split('\n').find((l) => l.split(' ')[4] === '/');
    if (rootLine && rootLine.split(' ')[3]?.includes(path.basename(dir))) {
      found.push(`process ${pidDir}`);
      try {
        process.kill(Number(pidDir), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  // cgroups named after this run's container ids
  for (const cg of safeReaddir('/sys/fs/cgroup')) {
    if (cg.startsWith(`c${tag}-`)) {
      found.push(`cgroup /${cg}`);
      rmCgroupTree(path.join('/sys/fs/cgroup', cg));
    }
  }
  // mounts
  const mounts = mi
    .split('\n')
    .map((l) => l.split(' ')[4] || '')
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    found.push(`mount ${m}`);
    spawnSync('umount', ['-l', m]);
  }
  const stillMounted = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => (l.split(' ')[4] || '').startsWith(`${dir}/`));
  const entries = safeReaddir(dir);
  if (entries.length > 0) found.push(`temp dirs of cases that did not clean up: ${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', ...' : ''}`);
  if (!stillMounted) fs.rmSync(dir, { recursive: true, force: true });
  return found;
}

/** @param {string} p */
function safeReaddir(p) {
  try {
    return fs.readdirSync(p);
  } catch {
    return [];
  }
}

/** @param {string} p */
function rmCgroupTree(p) {
  for (const e of safeReaddir(p)) {
    const sub = path.join(p, e);
    try {
      if (fs.statSync(sub).isDirectory()) rmCgroupTree(sub);
    } catch {
      // gone
    }
  }
  try {
    fs.rmdirSync(p);
  } catch {
    // busy: reported already
  }
}
