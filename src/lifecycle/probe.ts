// Host facts the planners need, read with node:fs at create time. Nothing
// here decides where a mount or a write lands (the stub resolves those with
// openat2 RESOLVE_IN_ROOT): these reads only choose between a file and a
// directory, find a mount point, and read the image's /etc/passwd.
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { splitDev } from '../../native/constants.js';
import { unescapeMountPath } from '../cgroups/location.js';
import { spaceField } from '../fields.js';
import type { ExistingNode } from '../plan/devices.js';
import type { SourceProbe } from '../plan/rootfs.js';

const MAX_SYMLINKS = 40;

// Paths that do not exist are the common case here (an image without /proc, /dev, /sys or
// /etc): `throwIfNoEntry: false` answers undefined for ENOENT instead of building an Error.
const NO_THROW = { throwIfNoEntry: false } as const;

/** What is at a bind mount's source (symlinks followed). */
function kindOf(hostPath: string): 'dir' | 'file' | 'missing' {
  try {
    const st = statSync(hostPath, NO_THROW);
    return st === undefined ? 'missing' : st.isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

/** The longest mount point of /proc/self/mountinfo that contains `hostPath`. */
export function mountPointOf(hostPath: string, mountinfo = '/proc/self/mountinfo'): string {
  const text = readFileSync(mountinfo, 'utf8');
  let best = '/';
  // Field 5 (the mount point) of each line, without a per-line split, and the octal unescape only
  // for the rare field that has a backslash.
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const field = spaceField(text, 4, start, end);
    if (field !== undefined) {
      const mp = field.includes('\\') ? unescapeMountPath(field) : field;
      if (mp.length > best.length && (hostPath === mp || (hostPath.startsWith(mp) && (mp.endsWith('/') || hostPath.charCodeAt(mp.length) === 0x2f)))) best = mp;
    }
    start = end + 1;
  }
  return best;
}

/** What the image has at `path`, symlinks resolved inside the rootfs (a dangling one counts as missing). */
export function existingNode(rootfs: string, path: string): ExistingNode {
  const at = resolveInRootfs(rootfs, path);
  if (!at.exists) return { kind: 'missing' };
  const st = lstatSync(posix.join(rootfs, at.path));
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : undefined;
  if (type === undefined) return { kind: 'other' };
  return { kind: 'device', type, ...splitDev(st.rdev) };
}

export const sourceProbe: SourceProbe = {
  existingNode,
  sourceKind: kindOf,
  mountPointOf,
  resolveInRootfs: (rootfs, path) => resolveInRootfs(rootfs, path).path,
  get selinuxEnabled(): boolean {
    return existsSync('/sys/fs/selinux/enforce');
  },
  get hostHasKcore(): boolean {
    return existsSync('/proc/kcore');
  },
};

/**
 * `path` inside `rootfs` with its symlinks resolved as if rootfs were "/"
 * (absolute targets and ".." stay inside), as a container path. From the first
 * component that does not exist on, the rest is kept as written. `exists`
 * tells whether the whole path exists.
 */
export function resolveInRootfs(rootfs: string, path: string): { path: string; exists: boolean } {
  const todo = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    let st;
    try {
      st = lstatSync(posix.join(rootfs, ...done, part), NO_THROW);
    } catch {
      // ENOTDIR, EACCES, ...: as missing
    }
    if (st === undefined) {
      done.push(part);
      for (const rest of todo) if (rest === '..') done.pop(); else done.push(rest);
      return { path: `/${done.join('/')}`, exists: false };
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return { path: `/${[...done, part, ...todo].join('/')}`, exists: false };
      const target = readlinkSync(posix.join(rootfs, ...done, part));
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    done.push(part);
  }
  return { path: `/${done.join('/')}`, exists: true };
}

/** HOME of `uid` from the image's /etc/passwd, as runc sets it when the env has none. */
export function homeOf(rootfs: string, uid: number): string | undefined {
  const passwd = resolveInRootfs(rootfs, '/etc/passwd');
  if (!passwd.exists) return undefined;
  let text: string;
  try {
    text = readFileSync(posix.join(rootfs, passwd.path), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && Number(f[2]) === uid && f[2] !== '') return f[5] || undefined;
  }
  return undefined;
}
