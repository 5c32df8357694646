#!/usr/bin/env node
// Where tsrun's time goes, per command: wall time against the Node floor, and
// a breakdown by phase from V8 CPU profiles (node --cpu-prof) of the same
// command, every sample attributed to the phase of the innermost tsrun frame
// on its stack (module loading, parse, schema validation, koffi load,
// planning, lifecycle, waiting for the stub, ...). See bench/README.md, "Phases".
//
//   npm run bench:phases -- [--runs N] [--commands state-missing,state,run] [--tsrun 'CMD']
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBundles } from './lib/bundle.mjs';
import { failure, Runner, waitExit } from './lib/proc.mjs';
import { inPureV2View } from './lib/runtimes.mjs';
import { SourceMap } from './lib/sourcemap.mjs';
import { median } from './lib/stats.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SELF), '..');
const UNSHARE_FAILED = 97;
const ALL_COMMANDS = ['state-missing', 'state', 'list', 'spec', 'run', 'create', 'start', 'delete'];

const USAGE = `usage: node bench/phases.mjs [options]

Per command: tsrun's wall time beside \`node -e 0\` (interleaved rounds), then
where the time goes, from CPU profiles of the same command (see bench/README.md).

  --runs N            rounds per command, timed and profiled (default 10)
  --commands a,b,...  ${ALL_COMMANDS.join(', ')} (default: all)
  --interval US       profiler sampling interval in microseconds (default 500)
  --tsrun 'CMD ...'   how to run tsrun (default: node bin/tsrun.js; also TSRUN_BENCH_TSRUN)
  --drop PATH         remove a dotted path from the config (repeatable)
  --no-devices        same as --drop linux.resources.devices
  --out FILE          JSON results (default: $TMPDIR/tsrun-bench/phases-<time>.json)
  --help`;

/** @param {string} msg @returns {never} */
function fail(msg) {
  console.error(`phases: ${msg}`);
  process.exit(2);
}

const opts = { runs: 10, commands: ALL_COMMANDS, interval: 500, tsrun: [process.execPath, join(ROOT, 'bin/tsrun.js')], out: '', drop: /** @type {string[]} */ ([]) };
if ((process.env.TSRUN_BENCH_TSRUN ?? '').trim()) opts.tsrun = (process.env.TSRUN_BENCH_TSRUN ?? '').trim().split(/\s+/);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = /** @type {string} */ (argv[i]);
  const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
  const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
  const int = () => {
    const n = Number(value());
    if (!Number.isInteger(n) || n <= 0) fail(`${flag} needs a positive whole number`);
    return n;
  };
  if (flag === '--runs') opts.runs = int();
  else if (flag === '--interval') opts.interval = int();
  else if (flag === '--commands') {
    opts.commands = value().split(',').filter(Boolean);
    for (const c of opts.commands) if (!ALL_COMMANDS.includes(c)) fail(`unknown command ${c} (known: ${ALL_COMMANDS.join(', ')})`);
  } else if (flag === '--tsrun') opts.tsrun = value().trim().split(/\s+/);
  else if (flag === '--out') opts.out = resolve(value());
  else if (flag === '--drop') opts.drop.push(value());
  else if (flag === '--no-devices') opts.drop.push('linux.resources.devices');
  else if (flag === '--help' || flag === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else fail(`unknown argument ${a}\n${USAGE}`);
}

// Node parses the file NODE_EXTRA_CA_CERTS names at every start-up (~40 ms of CPU on the
// development machine, which sets it): the same cost for tsrun and the node floor, but it doubles
// their noise. No participant needs it (tsrun makes no TLS connection): removed for all of them.
delete process.env.NODE_EXTRA_CA_CERTS;

// The same pure cgroup v2 view as bench/run.mjs (a private mount namespace).
if (!inPureV2View() && process.env.TSRUN_BENCH_V2_VIEW !== '1' && process.getuid?.() === 0) {
  const script = `umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit ${UNSHARE_FAILED}; exec "$@"`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, SELF, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, TSRUN_BENCH_V2_VIEW: '1' },
  });
  if (r.status !== UNSHARE_FAILED && !r.error) process.exit(r.status ?? 1);
  console.error('phases: could not enter the pure cgroup v2 view; measuring in the host view');
}

// ---------------------------------------------------------------------------
// Attribution of profile samples to phases.

/** Phases of tsrun's own modules, first match wins (paths relative to the package root, .ts). */
const MODULE_PHASES = /** @type {const} */ ([
  ['parse', (/** @type {string} */ m) => m === 'src/cli/parse.ts'],
  ['schema validation', (/** @type {string} */ m) => m.startsWith('src/spec/schema') || m.startsWith('node_modules/ajv/')],
  ['config load + semantic checks', (/** @type {string} */ m) => m === 'src/spec/load.ts' || m.startsWith('src/spec/')],
  [
    'planning',
    (/** @type {string} */ m) =>
      m.startsWith('src/plan/') || ['native/program.ts', 'native/bpf.ts', 'src/capabilities.ts', 'src/cgroups/resources.ts', 'src/cgroups/device-filter.ts', 'src/cgroups/devices.ts'].includes(m),
  ],
  ['state store', (/** @type {string} */ m) => m.startsWith('src/state/')],
  ['lifecycle (stub, cgroups, BPF, clean-up)', (/** @type {string} */ m) => m.startsWith('src/lifecycle/') || m.startsWith('native/') || m.startsWith('src/cgroups/')],
  ['cli (main, commands, log)', (/** @type {string} */ m) => m.startsWith('src/')],
]);
const PHASES = [
  'node start-up (before the profiler)',
  'module loading (resolve, compile, top-level code)',
  ...MODULE_PHASES.map(([p]) => p),
  'koffi load',
  'waiting for the stub and the container',
  'garbage collection',
  'idle (event loop)',
  'other (V8, Node internals)',
];

/**
 * Maps a profile frame to a module path of this package (`src/x.ts`), or undefined when it is
 * not tsrun's, and to its function's original name. Knows the tsc layout (dist/src/x.js) and
 * the esbuild bundles (dist/bundle/*.cjs): minified, with a source map beside each; an older
 * unminified bundle without one is read by its `// src/x.ts` comments, which start each module.
 */
class ModuleMap {
  constructor() {
    /** @type {Map<string, { map: SourceMap } | { marks: [number, string][] }>} */
    this.bundles = new Map();
  }

  /**
   * @param {{ url: string, lineNumber: number, columnNumber: number, functionName: string }} f  0-based
   * @returns {{ mod: string | undefined, name: string }}
   */
  frame(f) {
    const { url, lineNumber: line, columnNumber: column, functionName } = f;
    const own = { mod: undefined, name: functionName };
    if (!url) return own;
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    if (!path.startsWith('/')) return own;
    // any tsrun tree (--tsrun may name a copy elsewhere): .../bin/tsrun.js, .../dist/...
    const nm = /\/node_modules\/(.*)$/.exec(path);
    if (nm) return { mod: `node_modules/${nm[1]}`, name: functionName };
    if (path.endsWith('/bin/tsrun.js')) return { mod: 'bin/tsrun.js', name: functionName };
    const m = /\/dist\/((?:src|native)\/.*)\.js$/.exec(path);
    if (m) return { mod: `${m[1]}.ts`, name: functionName };
    if (/\/dist\/bundle\/[^/]+\.c?js$/.test(path)) return this.inBundle(path, line, column, functionName);
    return own;
  }

  /** @param {string} path @param {number} line @param {number} column @param {string} functionName */
  inBundle(path, line, column, functionName) {
    let known = this.bundles.get(path);
    if (!known) {
      known = existsSync(`${path}.map`) ? { map: new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8'))) } : { marks: commentMarks(path) };
      this.bundles.set(path, known);
    }
    // esbuild names a module's top-level function after the module (`src/x.ts`), minified or not
    const isModuleInit = /^(src|native|node_modules)\/\S+$/.test(functionName);
    if (isModuleInit) return { mod: functionName, name: functionName };
    if ('map' in known) {
      const hit = known.map.lookup(line, column);
      // the bundle's own head (esbuild's helpers) maps to no source
      const mod = hit === undefined ? 'bin/tsrun.js' : hit.source.replace(/^(\.\.\/)+/, '');
      return { mod, name: hit?.name ?? functionName };
    }
    let found = 'bin/tsrun.js'; // the bundle's own head (esbuild's helpers)
    for (const [i, m] of known.marks) {
      if (i > line) break;
      found = m;
    }
    return { mod: found, name: functionName };
  }
}

/** @param {string} path  [line, module] of each `// src/x.ts` comment of an unminified bundle */
function commentMarks(path) {
  /** @type {[number, string][]} */
  const marks = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((l, i) => {
      const m = /^\/\/ ((?:src|native|node_modules)\/\S+)$/.exec(l);
      if (m) marks.push([i, /** @type {string} */ (m[1])]);
    });
  return marks;
}

/**
 * Milliseconds per phase of one profile.
 * @param {any} profile  a .cpuprofile
 * @param {ModuleMap} modules
 */
function phasesOf(profile, modules) {
  /** @type {Map<number, any>} */
  const nodes = new Map();
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) {
    nodes.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  /** @type {Map<number, string>} */
  const memo = new Map();
  const classify = (/** @type {number} */ id) => {
    const known = memo.get(id);
    if (known) return known;
    const leaf = nodes.get(id);
    const name = leaf.callFrame.functionName;
    let phase = 'other (V8, Node internals)';
    if (name === '(garbage collector)') phase = 'garbage collection';
    else if (name === '(idle)') phase = 'idle (event loop)';
    else {
      // a loader frame inside the innermost tsrun frame: a module (or a built-in such as
      // node:child_process, required lazily) is being loaded on its behalf
      let loading = false;
      let waiting = false;
      for (let cur = /** @type {number | undefined} */ (id); cur !== undefined; cur = parent.get(cur)) {
        const f = nodes.get(cur).callFrame;
        const { mod, name: fn } = modules.frame(f);
        if (/^node:internal\/(modules|bootstrap\/realm)/.test(f.url) || f.url === 'node:vm') loading = true;
        if (mod === undefined) continue;
        // native/koffi.ts loads the addon; each native/ module's lib() binds its functions
        if (mod.startsWith('node_modules/koffi/') || mod === 'native/koffi.ts' || (mod.startsWith('native/') && /^(lib|libc)\d*$/.test(fn))) {
          phase = 'koffi load';
          break;
        }
        // the launcher, a module's top-level code (esbuild names it after the module), or a
        // require() made by tsrun code
        if (mod === 'bin/tsrun.js' || loading || fn === mod) {
          phase = 'module loading (resolve, compile, top-level code)';
          break;
        }
        // the blocking calls through which tsrun waits for the stub's messages and exits
        if (mod === 'native/libc.ts' && /^(poll|waitReadable|recvWithFd|waitPidfd)$/.test(fn)) waiting = true;
        if (mod.startsWith('node_modules/')) continue;
        if (waiting) {
          phase = 'waiting for the stub and the container';
          break;
        }
        phase = MODULE_PHASES.find(([, test]) => test(mod))?.[0] ?? 'cli (main, commands, log)';
        break;
      }
      if (phase === 'other (V8, Node internals)' && loading) phase = 'module loading (resolve, compile, top-level code)';
    }
    memo.set(id, phase);
    return phase;
  };
  /** @type {Record<string, number>} */
  const out = Object.fromEntries(PHASES.map((p) => [p, 0]));
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (deltas[i + 1] ?? 0) / 1000;
    const p = classify(profile.samples[i]);
    out[p] = (out[p] ?? 0) + ms;
  }
  return { phases: out, profiled: (profile.endTime - profile.startTime) / 1000 };
}

// ---------------------------------------------------------------------------
// The run.

const base = mkdtempSync(join(os.tmpdir(), 'tsrun-phases-'));
const runner = new Runner(join(base, 'stderr.txt'));
const root = join(base, 'root');
mkdirSync(root, { recursive: true });
const [argv0 = process.execPath, ...baseArgs] = opts.tsrun;
if (!/^node/.test(argv0.split('/').at(-1) ?? '')) fail(`--tsrun must start with node (the profiler is a node flag, not allowed in NODE_OPTIONS): ${argv0}`);
/** @param {string[]} args @param {string[]} [nodeFlags] */
const tsrun = (args, nodeFlags = []) => ({ argv0, args: [...nodeFlags, ...baseArgs, '--root', root, ...args] });

const specDir = join(base, 'spec');
mkdirSync(specDir);
const spec = runner.time(tsrun(['spec', '--bundle', specDir]));
if (spec.status !== 0) fail(`tsrun spec failed: ${spec.stderr.trim()}`);
const bundles = makeBundles(base, JSON.parse(readFileSync(join(specDir, 'config.json'), 'utf8')), { drop: opts.drop });
let counter = 0;
const newId = () => `ph-${process.pid}-${++counter}`;
const live = new Set();
/** @param {string} id */
const remove = (id) => {
  runner.time(tsrun(['delete', '--force', id]));
  live.delete(id);
};
/** @param {string} id */
const create = (id) => {
  live.add(id);
  const pidFile = join(base, `${id}.pid`);
  const r = runner.time(tsrun(['create', '--bundle', bundles.trueBundle, '--pid-file', pidFile, id]));
  if (r.status !== 0) throw failure('create', r);
  return Number(readFileSync(pidFile, 'utf8'));
};

/**
 * Each command: untimed set-up, the timed/profiled command, untimed tear-down.
 * @type {Record<string, { expect: number, prepare?: () => string, args: (id: string) => string[], after?: (id: string) => void }>}
 */
const COMMANDS = {
  'state-missing': { expect: 1, args: () => ['state', 'no-such-container'] },
  state: { expect: 0, prepare: () => createdId(), args: (id) => ['state', id] },
  list: { expect: 0, prepare: () => createdId(), args: () => ['list'] },
  spec: { expect: 0, prepare: () => (rmSync(join(specDir, 'config.json'), { force: true }), ''), args: () => ['spec', '--bundle', specDir] },
  run: { expect: 0, prepare: () => newId(), args: (id) => ['run', '--bundle', bundles.trueBundle, id], after: (id) => live.has(id) && remove(id) },
  create: { expect: 0, prepare: () => (live.add(`ph-${process.pid}-${++counter}`), `ph-${process.pid}-${counter}`), args: (id) => ['create', '--bundle', bundles.trueBundle, id], after: (id) => remove(id) },
  start: {
    expect: 0,
    prepare: () => {
      const id = newId();
      createdPid = create(id);
      return id;
    },
    args: (id) => ['start', id],
    after: (id) => {
      waitExit(createdPid);
      remove(id);
    },
  },
  delete: {
    expect: 0,
    prepare: () => {
      const id = newId();
      const pid = create(id);
      runner.time(tsrun(['start', id]));
      waitExit(pid);
      return id;
    },
    args: (id) => ['delete', id],
    after: (id) => live.delete(id),
  },
};
let createdPid = 0;
/** @type {string | undefined} */
let created;
const createdId = () => {
  if (!created) {
    created = newId();
    create(created);
  }
  return created;
};

const modules = new ModuleMap();
let eagain = 0;
/** @type {any[]} */
const results = [];
try {
  // The floor, under the same profiler and classifier: Node loading an empty CommonJS file
  // (bin/tsrun.js is CommonJS). Its phases are what no tsrun change can remove.
  {
    const empty = join(base, 'empty.cjs');
    writeFileSync(empty, '');
    /** @type {number[]} */
    const wall = [];
    /** @type {Record<string, number>[]} */
    const profiles = [];
    /** @type {number[]} */
    const profiled = [];
    process.stderr.write('- node empty.cjs (floor): ');
    for (let round = 0; round < opts.runs + 1; round++) {
      const t = runner.time({ argv0: process.execPath, args: [empty] }).ms;
      const dir = join(base, `prof-floor-${round}`);
      runner.time({ argv0: process.execPath, args: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${opts.interval}`, empty] });
      const file = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
      if (round > 0 && file) {
        wall.push(t);
        const p = phasesOf(JSON.parse(readFileSync(join(dir, file), 'utf8')), modules);
        profiles.push(p.phases);
        profiled.push(p.profiled);
        process.stderr.write('.');
      }
      rmSync(dir, { recursive: true, force: true });
    }
    process.stderr.write('\n');
    const wallMs = median(wall);
    /** @type {Record<string, number>} */
    const phases = {};
    for (const p of PHASES) phases[p] = median(profiles.map((x) => x[p] ?? 0));
    phases['node start-up (before the profiler)'] = Math.max(0, wallMs - median(profiled));
    results.push({ command: 'floor', runs: wall.length, wallMs, floorMs: wallMs, overFloorMs: 0, profiledMs: median(profiled), phases });
  }
  for (const name of opts.commands) {
    const c = /** @type {(typeof COMMANDS)[string]} */ (COMMANDS[name]);
    /** @type {number[]} */
    const wall = [];
    /** @type {number[]} */
    const floor = [];
    /** @type {Record<string, number>[]} */
    const profiles = [];
    /** @type {number[]} */
    const profiled = [];
    process.stderr.write(`- ${name}: `);
    for (let round = 0; round < opts.runs + 1; round++) {
      // timed, beside the floor (order alternates), then profiled
      const f = () => runner.time({ argv0: process.execPath, args: ['-e', '0'] }).ms;
      const t = () => {
        const id = c.prepare?.() ?? '';
        const r = runner.time(tsrun(c.args(id)));
        c.after?.(id);
        if (r.status !== c.expect) throw failure(name, r);
        return r.ms;
      };
      const [a, b] = round % 2 === 0 ? [t(), f()] : [f(), t()];
      const [tm, fm] = round % 2 === 0 ? [a, b] : [b, a];
      const dir = join(base, `prof-${name}-${round}`);
      for (let attempt = 1; ; attempt++) {
        const id = c.prepare?.() ?? '';
        const r = runner.time(tsrun(c.args(id), ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${opts.interval}`]));
        c.after?.(id);
        if (r.status === c.expect) break;
        // The profiler's SIGPROF interrupts the BPF verifier (EAGAIN): try again, it is chance.
        if (!/BPF_PROG_LOAD.*EAGAIN/.test(r.stderr) || attempt === 30) throw failure(`${name} (profiled)`, r);
        rmSync(dir, { recursive: true, force: true });
        eagain++;
      }
      if (round === 0) continue; // warm-up
      wall.push(tm);
      floor.push(fm);
      const file = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no profile written in ${dir}`);
      const p = phasesOf(JSON.parse(readFileSync(join(dir, file), 'utf8')), modules);
      profiles.push(p.phases);
      profiled.push(p.profiled);
      rmSync(dir, { recursive: true, force: true });
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    const wallMs = median(wall);
    const floorMs = median(floor);
    const profiledMs = median(profiled);
    /** @type {Record<string, number>} */
    const phases = {};
    for (const p of PHASES) phases[p] = median(profiles.map((x) => x[p] ?? 0));
    // what the profile cannot see: Node's start-up before the profiler, estimated from the unprofiled wall time
    phases['node start-up (before the profiler)'] = Math.max(0, wallMs - profiledMs);
    results.push({ command: name, runs: wall.length, wallMs, floorMs, overFloorMs: median(wall.map((w, i) => w - (floor[i] ?? 0))), profiledMs, phases });
  }
} finally {
  for (const id of [...live]) remove(id);
  if (created) remove(created);
  runner.close();
  rmSync(base, { recursive: true, force: true });
}

const f1 = (/** @type {number} */ x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));
console.log('');
console.log(`tsrun phases · ${new Date().toISOString()} · node ${process.version} · ${os.cpus().length} cpus · ${opts.runs} runs per command · tsrun: ${opts.tsrun.join(' ')}`);
if (eagain > 0) console.log(`${eagain} profiled run(s) repeated: the profiler's SIGPROF interrupted the BPF verifier (EAGAIN)`);
if (opts.drop.length > 0) console.log(`config: tsrun spec with ${opts.drop.join(', ')} removed`);
console.log('wall: median of unprofiled runs; node -e 0: in the same rounds; column floor: `node empty.cjs` timed and profiled alike;');
console.log('phases: median ms per profiled run (sampling: approximate; the profiler itself adds a little)');
console.log('');
const cols = results.map((r) => r.command);
const rows = [
  ['wall (ms)', ...results.map((r) => f1(r.wallMs))],
  ['node -e 0 (ms)', ...results.map((r) => f1(r.floorMs))],
  ['tsrun − floor (ms)', ...results.map((r) => `+${f1(r.overFloorMs)}`)],
  ['profiled run (ms)', ...results.map((r) => f1(r.profiledMs))],
  ...PHASES.map((p) => [`  ${p}`, ...results.map((r) => f1(r.phases[p]))]),
];
const widths = [Math.max(...rows.map((r) => (r[0] ?? '').length)), ...cols.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i + 1] ?? '').length)))];
console.log([''.padEnd(widths[0] ?? 0), ...cols.map((c, i) => c.padStart(widths[i + 1] ?? 0))].join('  '));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[0] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '));
const out = opts.out || join(os.tmpdir(), 'tsrun-bench', `phases-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ schema: 'tsrun-phases/1', date: new Date().toISOString(), node: process.version, tsrun: opts.tsrun.join(' '), runs: opts.runs, interval: opts.interval, drop: opts.drop, results }, null, 2)}\n`);
console.log('');
console.log(`results: ${out}`);
