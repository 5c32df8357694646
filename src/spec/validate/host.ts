// The real HostFacts: read from /proc and the filesystem (node:fs only).

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { LAST_KNOWN_CAPABILITY } from '../../capabilities.js';
import type { NamespaceType } from '../types.js';
import type { HostFacts } from './context.js';

/** The /proc/<pid>/ns entry of each namespace type. */
const NS_FILES: Readonly<Record<NamespaceType, string>> = {
  mount: 'mnt',
  pid: 'pid',
  network: 'net',
  uts: 'uts',
  ipc: 'ipc',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

function stat(path: string): ReturnType<typeof statSync> | undefined {
  try {
    // A missing path answers undefined without building an Error.
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

const CAP_LAST_CAP = '/proc/sys/kernel/cap_last_cap';
/** The kernel's cap_last_cap cannot change while tsrun runs: validation and planning share one read. */
let lastCapOfKernel: number | undefined;

/** /proc/sys/kernel/cap_last_cap, or the last capability tsrun knows when it cannot be read (kernels before 3.2). */
export function readLastCap(file = CAP_LAST_CAP): number {
  if (file === CAP_LAST_CAP && lastCapOfKernel !== undefined) return lastCapOfKernel;
  let n: number;
  try {
    n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  } catch {
    return LAST_KNOWN_CAPABILITY;
  }
  const last = Number.isInteger(n) && n >= 0 ? n : LAST_KNOWN_CAPABILITY;
  if (file === CAP_LAST_CAP) lastCapOfKernel = last;
  return last;
}

/** The namespace types with an entry in /proc/self/ns. */
export function readNamespaceKinds(dir = '/proc/self/ns'): Set<NamespaceType> {
  let names: Set<string>;
  try {
    names = new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
  const kinds = new Set<NamespaceType>();
  for (const [type, file] of Object.entries(NS_FILES) as [NamespaceType, string][]) {
    if (names.has(file)) kinds.add(type);
  }
  return kinds;
}

export interface HostOptions {
  /** Absolute path of the bundle directory. */
  readonly bundle: string;
  readonly rootless: boolean;
}

export function readHostFacts(opts: HostOptions): HostFacts {
  return {
    bundle: opts.bundle,
    rootless: opts.rootless,
    lastCap: readLastCap(),
    namespaces: readNamespaceKinds(),
    exists: (path) => stat(path) !== undefined,
    isDirectory: (path) => stat(path)?.isDirectory() ?? false,
    isRuntimeNamespace(type, path) {
      const own = stat(`/proc/self/ns/${NS_FILES[type]}`);
      const other = stat(path);
      return own !== undefined && other !== undefined && own.dev === other.dev && own.ino === other.ino;
    },
  };
}
