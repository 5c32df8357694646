// @ts-check
// Where the suite runs: the runtime under test, busybox, the cgroup view, the
// temp base. Shared by the test files and by run.mjs (plain Node, no tap).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONFORMANCE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(CONFORMANCE_DIR, '..');
export const DEFAULT_RUNTIME = path.join(REPO_ROOT, 'bin', 'tsrun.js');
export const BUSYBOX = process.env.CONFORMANCE_BUSYBOX || '/bin/busybox';

const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * Resolve RUNTIME (a path, or a bare name looked up in PATH) to an absolute
 * file. Throws with a clear message when it cannot be found.
 * @param {string | undefined} spec
 * @returns {string}
 */
export function resolveRuntime(spec = process.env.RUNTIME) {
  if (!spec) return DEFAULT_RUNTIME;
  if (spec.includes('/')) return path.resolve(spec);
  for (const dir of (process.env.PATH || '').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, spec);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // next
    }
  }
  throw new Error(`RUNTIME=${spec}: not found in PATH (${process.env.PATH})`);
}

/**
 * The argv prefix that runs the runtime: the file itself when it is
 * executable, `node file` for a non-executable .js/.mjs file.
 * @param {string} bin
 * @returns {string[]}
 */
export function runtimeCommand(bin) {
  let executable = false;
  try {
    fs.accessSync(bin, fs.constants.X_OK);
    executable = true;
  } catch {
    executable = false;
  }
  if (!executable && /\.(c|m)?js$/.test(bin)) return [process.execPath, bin];
  return [bin];
}

/**
 * Name and version of the runtime, from `--version` ("runc version 1.1.5"),
 * falling back to the file name and "unknown" when it does not answer.
 * run.mjs computes this once and passes it to the test files in the
 * environment (CONFORMANCE_RUNTIME_NAME / _VERSION).
 * @param {string} bin
 * @returns {{ name: string, version: string }}
 */
export function runtimeIdentity(bin) {
  if (process.env.CONFORMANCE_RUNTIME_NAME) {
    return { name: process.env.CONFORMANCE_RUNTIME_NAME, version: process.env.CONFORMANCE_RUNTIME_VERSION || 'unknown' };
  }
  const fallbackName = path.basename(bin).replace(/\.(c|m)?js$/, '');
  const [cmd, ...pre] = runtimeCommand(bin);
  const r = spawnSync(/** @type {string} */ (cmd), [...pre, '--version'], { encoding: 'utf8', timeout: 10_000 });
  const first = (r.stdout || '').split('\n')[0] || '';
  const m = /^(\S+)\s+version\s+(\S+)/i.exec(first);
  if (r.status === 0 && m) return { name: /** @type {string} */ (m[1]), version: /** @type {string} */ (m[2]) };
  return { name: fallbackName, version: 'unknown' };
}

/** True when /sys/fs/cgroup is a cgroup2 mount (the pure v2 view). */
export function inCgroupV2View() {
  try {
    return fs.statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Why container cases cannot run here, or null when they can. On a hybrid
 * machine a runtime would create its cgroups in the machine's v1
 * hierarchies, which tests must never touch (TESTING.md): every case that
 * creates a container needs the pure v2 view that run.mjs enters.
 * @returns {string | null}
 */
export function containerSkipReason() {
  if (process.getuid && process.getuid() !== 0) return 'needs root';
  if (!inCgroupV2View()) {
    return 'needs the pure cgroup v2 view (/sys/fs/cgroup is not cgroup2 here, and a runtime would write to the v1 hierarchies): run through `node conformance/run.mjs`, which enters a private mount namespace with cgroup2 at /sys/fs/cgroup and sets CONFORMANCE_CGROUP_V2=1';
  }
  return null;
}

/** @returns {string | null} why cgroup v2 cases cannot run, or null */
export function cgroupV2SkipReason() {
  const base = containerSkipReason();
  if (base) return base;
  if (process.env.CONFORMANCE_CGROUP_V2 !== '1' && !inCgroupV2View()) return 'needs CONFORMANCE_CGROUP_V2=1 (pure cgroup v2 view)';
  return null;
}

/** @returns {string[]} controllers available at the cgroup2 root */
export function rootControllers() {
  try {
    return fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

let base = /** @type {string | null} */ (null);
/**
 * The directory under which every case makes its own temp dir. run.mjs
 * gives one per run (CONFORMANCE_TMP) and sweeps it at the end; a test file
 * run on its own gets one per process.
 * @returns {string}
 */
export function tmpBase() {
  if (base) return base;
  if (process.env.CONFORMANCE_TMP) {
    base = process.env.CONFORMANCE_TMP;
    fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  } else {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-conformance-'));
    const own = base;
    process.on('exit', () => {
      try {
        fs.rmdirSync(own);
      } catch {
        // not empty: leftovers stay visible for inspection
      }
    });
  }
  // containers with a user namespace must be able to traverse to their rootfs
  fs.chmodSync(base, 0o755);
  return base;
}

/** @returns {string | null} the python3 interpreter for the console receiver */
export function python3() {
  for (const p of ['/usr/bin/python3', ...(process.env.PATH || '').split(':').map((d) => path.join(d, 'python3'))]) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}
