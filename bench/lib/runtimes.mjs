// The three runtimes under test, the cgroup view they run in, and the
// commands the benchmark sends them (runc's command line, shared by all).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const BENCH_DIR = join(import.meta.dirname, '..');
export const DEFAULT_TSRUN = join(BENCH_DIR, '..', 'bin', 'tsrun.js');

/**
 * @typedef {object} Runtime
 * @property {string} name         tsrun | runc | crun
 * @property {string} argv0
 * @property {string[]} baseArgs   before the global flags (tsrun: the script)
 * @property {NodeJS.ProcessEnv} env
 * @property {string} root         its private --root
 * @property {boolean} available
 * @property {string} reason       why not, when not available
 * @property {string} version
 * @property {string} view         the cgroup view it ran in
 * @property {string[]} notes
 */

/** Whether /sys/fs/cgroup is a cgroup2 mount in this mount namespace (a pure v2 view). */
export function inPureV2View() {
  let mountinfo;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  let last = '';
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep === -1) continue;
    const mountPoint = line.slice(0, sep).split(' ')[4];
    const fstype = line.slice(sep + 3).split(' ')[0];
    // the last mount on /sys/fs/cgroup wins; a hybrid host has tmpfs there
    if (mountPoint === '/sys/fs/cgroup') last = fstype ?? '';
  }
  return last === 'cgroup2';
}

/** A short description of the view this process is in, for the report. */
export function describeView() {
  if (inPureV2View()) {
    const controllers = safeRead('/sys/fs/cgroup/cgroup.controllers').trim() || '(none)';
    return process.env.TSRUN_BENCH_V2_VIEW === '1'
      ? `pure cgroup v2 (private mount namespace, cgroup2 at /sys/fs/cgroup; controllers: ${controllers})`
      : `pure cgroup v2 (host; controllers: ${controllers})`;
  }
  return existsSync('/sys/fs/cgroup/unified') ? 'hybrid host view (v1 controllers, v2 at /sys/fs/cgroup/unified)' : 'host view (no cgroup2 at /sys/fs/cgroup)';
}

/** @param {string} p */
function safeRead(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** @param {string} name */
function which(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * @param {string} argv0
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 */
function firstLine(argv0, args, env) {
  const r = spawnSync(argv0, args, { encoding: 'utf8', env, timeout: 30_000 });
  if (r.error) return { ok: false, text: r.error.message };
  const text = `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim() !== '') ?? '';
  return { ok: r.status === 0, text: text.trim() };
}

/**
 * crun 1.8 aborts on setrlimit(RLIMIT_MEMLOCK) without CAP_SYS_RESOURCE
 * (this machine): build the LD_PRELOAD shim of crun-memlock-shim.c.
 * @param {string} base  scratch dir
 * @returns {{ path?: string, reason?: string }}
 */
function buildCrunShim(base) {
  const cc = which('cc') ?? which('gcc');
  if (!cc) return { reason: 'no C compiler to build bench/crun-memlock-shim.c' };
  const out = join(base, 'crun-memlock-shim.so');
  const r = spawnSync(cc, ['-O2', '-shared', '-fPIC', '-o', out, join(BENCH_DIR, 'crun-memlock-shim.c'), '-ldl'], { encoding: 'utf8' });
  if (r.status !== 0) return { reason: `cannot build the crun shim: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}` };
  return { path: out };
}

/**
 * Finds the runtimes; a missing one is reported, never fatal. `tsrun-before`
 * is a second tsrun command (an earlier build) measured like tsrun.
 * @param {{ base: string, names: string[], tsrun: string[], tsrunBefore?: string[] }} opts
 * @returns {Runtime[]}
 */
export function discoverRuntimes({ base, names, tsrun, tsrunBefore }) {
  const view = describeView();
  const pureV2 = inPureV2View();
  /** @type {Runtime[]} */
  const out = [];
  for (const name of names) {
    const root = join(base, `root-${name}`);
    mkdirSync(root, { recursive: true });
    /** @type {Runtime} */
    const rt = { name, argv0: '', baseArgs: [], env: withoutPreload(process.env), root, available: true, reason: '', version: '', view, notes: [] };
    if (name === 'tsrun' || name === 'tsrun-before') {
      const [argv0 = process.execPath, ...rest] = name === 'tsrun' ? tsrun : (tsrunBefore ?? []);
      rt.argv0 = argv0;
      rt.baseArgs = rest;
      const script = rest.find((a) => a.endsWith('.js') || a.endsWith('.mjs'));
      if (script && !existsSync(script)) {
        rt.available = false;
        rt.reason = `${script} not found`;
      } else if (script && script === DEFAULT_TSRUN && !existsSync(join(BENCH_DIR, '..', 'dist', 'src', 'cli', 'main.js'))) {
        rt.available = false;
        rt.reason = 'dist/ is not built: run `npm run build` first';
      }
    } else {
      const path = which(name);
      if (!path) {
        rt.available = false;
        rt.reason = `${name} is not installed (apt-get install -y ${name})`;
      } else {
        rt.argv0 = path;
      }
      if (!pureV2) {
        rt.available = false;
        rt.reason = `not in a pure cgroup v2 view (${view}): ${name} would write to the host's v1 hierarchies; run as root so the bench can enter the view`;
      }
    }
    if (rt.available) {
      const v = firstLine(rt.argv0, [...rt.baseArgs, '--version'], rt.env);
      if (!v.ok) {
        rt.available = false;
        rt.reason = `\`${[rt.argv0, ...rt.baseArgs].join(' ')} --version\` failed: ${v.text}`;
      } else rt.version = v.text;
    }
    if (rt.available && name === 'crun') {
      const shim = buildCrunShim(base);
      if (shim.path) {
        rt.env = { ...rt.env, LD_PRELOAD: shim.path };
        rt.notes.push('LD_PRELOAD shim: setrlimit(RLIMIT_MEMLOCK) EPERM reported as success (no CAP_SYS_RESOURCE here; crun >= 1.14 ignores it itself)');
      } else {
        rt.baseArgs = ['--cgroup-manager=disabled'];
        rt.notes.push(`${shim.reason}: crun runs with --cgroup-manager=disabled (no cgroup at all: less work than the others)`);
      }
    }
    out.push(rt);
  }
  return out;
}

/** @param {NodeJS.ProcessEnv} env */
function withoutPreload(env) {
  const { LD_PRELOAD: _, ...rest } = env;
  return rest;
}

/**
 * The command for `<runtime> --root R <args...>`.
 * @param {Runtime} rt
 * @param {string[]} args
 */
export function rtCmd(rt, args) {
  return { argv0: rt.argv0, args: [...rt.baseArgs, '--root', rt.root, ...args], env: rt.env };
}

/**
 * Which runtime's `spec` gives the config: the first of runc, crun, tsrun that
 * works (the three print the same default config but for ociVersion and hostname).
 * @param {Runtime[]} runtimes
 * @param {string} dir  where config.json is written
 */
export function defaultSpec(runtimes, dir) {
  const order = ['runc', 'crun', 'tsrun'];
  const candidates = [...runtimes].filter((r) => r.available && order.includes(r.name)).sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  for (const rt of candidates) {
    mkdirSync(dir, { recursive: true });
    const args = rt.name === 'tsrun' ? [...rt.baseArgs, 'spec', '--bundle', dir] : [...rt.baseArgs, 'spec'];
    const r = spawnSync(rt.argv0, args, { cwd: dir, env: rt.env, encoding: 'utf8' });
    if (r.status === 0 && existsSync(join(dir, 'config.json'))) {
      return { from: `${rt.name} spec`, config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) };
    }
  }
  return undefined;
}
