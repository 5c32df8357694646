// @ts-check
// Observing from outside: /proc/<pid>/..., namespaces, mounts, cgroups.
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { ALL_CAPS } from './config.mjs';

/**
 * The namespace link of a process ("net:[4026531840]"), or null.
 * @param {number | 'self'} pid
 * @param {string} type  the /proc/<pid>/ns file name (net, pid, mnt, ...)
 */
export function nsLink(pid, type) {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${type}`);
  } catch {
    return null;
  }
}

/** runtime-spec namespace type -> /proc/<pid>/ns file name */
export const NS_FILE = /** @type {Record<string, string>} */ ({
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
});

/**
 * Fields of /proc/<pid>/status as a map, or null if the process is gone.
 * @param {number | 'self'} pid
 * @returns {Record<string, string> | null}
 */
export function procStatus(pid) {
  try {
    /** @type {Record<string, string>} */
    const out = {};
    for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * Start time (field 22 of /proc/<pid>/stat) and state letter, or null.
 * @param {number} pid
 */
export function procStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: /** @type {string} */ (rest[0]), ppid: Number(rest[1]), starttime: /** @type {string} */ (rest[19]) };
  } catch {
    return null;
  }
}

/**
 * Is this exact process (pid + start time) still alive (not a zombie)?
 * @param {number} pid
 * @param {string} [starttime]
 */
export function alive(pid, starttime) {
  const st = procStat(pid);
  if (!st) return false;
  if (starttime && st.starttime !== starttime) return false;
  return st.state !== 'Z' && st.state !== 'X';
}

/**
 * The cgroup v2 path ("0::/x") of a process, as seen from here, or null.
 * @param {number} pid
 */
export function cgroupPath(pid) {
  try {
    const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
    return line ? line.slice(3) : null;
  } catch {
    return null;
  }
}

/**
 * Parsed /proc/<pid>/mountinfo.
 * @param {number | 'self'} [pid]
 */
export function mountinfo(pid = 'self') {
  return parseMountinfo(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}

/**
 * @param {string} text
 * @returns {{ id: string, parent: string, dev: string, root: string, mountPoint: string, options: string[], optional: string[], fsType: string, source: string, superOptions: string[] }[]}
 */
export function parseMountinfo(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 6) continue;
    out.push({
      id: /** @type {string} */ (f[0]),
      parent: /** @type {string} */ (f[1]),
      dev: /** @type {string} */ (f[2]),
      root: unescapeMount(/** @type {string} */ (f[3])),
      mountPoint: unescapeMount(/** @type {string} */ (f[4])),
      options: (f[5] || '').split(','),
      optional: f.slice(6, dash),
      fsType: /** @type {string} */ (f[dash + 1]),
      source: unescapeMount(f[dash + 2] || ''),
      superOptions: (f[dash + 3] || '').split(','),
    });
  }
  return out;
}

/** @param {string} s */
function unescapeMount(s) {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Mount points in this mount namespace at or under `dir`.
 * @param {string} dir
 */
export function mountsUnder(dir) {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo().filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(prefix)).map((m) => m.mountPoint);
}

/** Capability names in this process's bounding set (what a container can get). */
export function hostBoundingCaps() {
  const st = procStatus('self');
  const mask = BigInt(`0x${st?.CapBnd || '0'}`);
  return ALL_CAPS.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/**
 * Parse a capability mask as printed in /proc/<pid>/status.
 * @param {string | undefined} hex
 */
export function parseCapHex(hex) {
  return BigInt(`0x${(hex || '').trim() || '0'}`);
}

/**
 * A helper process on the host holding fresh namespaces, for "join by path"
 * cases: `unshare <flags> sleep` (with --fork for a pid namespace, where the
 * namespace is that of the sleeping child).
 * @param {string[]} flags  unshare(1) flags, e.g. ['--net', '--uts']
 * @returns {Promise<{ pid: number, nsPid: number, kill: () => void }>}
 */
export async function namespaceHolder(flags) {
  const fork = flags.includes('--pid');
  const args = [...flags, ...(fork ? ['--fork', '--kill-child'] : []), '--', '/bin/sleep', '600'];
  const child = spawn('unshare', args, { stdio: 'ignore', detached: true });
  const pid = /** @type {number} */ (child.pid);
  const kill = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  };
  // wait until the namespaces are in place (the sleep has exec'd)
  const deadline = Date.now() + 5000;
  let nsPid = pid;
  while (Date.now() < deadline) {
    if (fork) {
      const kids = childrenOf(pid);
      if (kids.length > 0 && readComm(/** @type {number} */ (kids[0])) === 'sleep') {
        nsPid = /** @type {number} */ (kids[0]);
        break;
      }
    } else if (readComm(pid) === 'sleep') {
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { pid, nsPid, kill };
}

/** @param {number} pid */
function readComm(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** @param {number} pid @returns {number[]} */
export function childrenOf(pid) {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * @param {number} ms
 */
export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Where `dir` lives: the device of the mount that holds it and its path
 * relative to that filesystem's root (what another mount namespace's
 * mountinfo shows as "root" for a bind mount of it).
 * @param {string} dir
 */
export function fsLocation(dir) {
  let best = null;
  for (const m of mountinfo()) {
    const mp = m.mountPoint;
    if (dir === mp || dir.startsWith(mp === '/' ? '/' : `${mp}/`)) {
      if (!best || mp.length >= best.mountPoint.length) best = m;
    }
  }
  if (!best) return { dev: '', rel: dir };
  const tail = best.mountPoint === '/' ? dir : dir.slice(best.mountPoint.length);
  const rel = `${best.root === '/' ? '' : best.root}${tail}` || '/';
  return { dev: best.dev, rel };
}
