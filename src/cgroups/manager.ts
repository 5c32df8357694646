// The container's cgroup v2 directory: created before any container process
// exists, joined by the stub at its first sync point, removed on delete after
// every process in it is gone. Resource limits are refused here until the
// cgroup resources milestone translates them (never silently ignored).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError, UnsupportedError } from '../errors.js';
import type { Spec } from '../spec/types.js';
import { containerCgroupDir, findUnifiedMount, unifiedCgroupOf } from './location.js';

const RMDIR_ATTEMPTS = 50;
const RMDIR_PAUSE_MS = 10;

/** Resources other than device rules are not translated yet: refuse them, naming the field. */
export function refuseUnsupportedResources(spec: Spec): void {
  const resources = spec.linux?.resources;
  if (!resources) return;
  for (const [key, value] of Object.entries(resources)) {
    if (key === 'devices' || value === undefined || value === null) continue;
    if (typeof value === 'object' && Object.keys(value as object).length === 0) continue;
    throw new UnsupportedError(`/linux/resources/${key}`, 'cgroup resource limits are not supported yet');
  }
}

export interface CgroupLocation {
  readonly mount: string;
  readonly dir: string;
}

export function locateCgroup(spec: Spec, id: string): CgroupLocation {
  const mount = findUnifiedMount(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (mount === undefined) throw new TsrunError('no cgroup v2 hierarchy is mounted (tsrun needs the unified hierarchy)');
  const own = unifiedCgroupOf(readFileSync('/proc/self/cgroup', 'utf8'));
  return { mount, dir: containerCgroupDir(mount, own, id, spec.linux?.cgroupsPath) };
}

/** Creates the directory (and missing parents); returns the parents it created, deepest last, for clean-up. */
export function createCgroup(loc: CgroupLocation): string[] {
  const created: string[] = [];
  const rel = loc.dir.slice(loc.mount.length).split('/').filter(Boolean);
  let path = loc.mount;
  for (const part of rel) {
    path = join(path, part);
    try {
      mkdirSync(path);
      created.push(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new TsrunError(`create cgroup ${path}: ${(err as Error).message}`);
    }
  }
  return created;
}

export function joinCgroup(dir: string, pid: number): void {
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
}

export function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Kills every process of the cgroup (cgroup.kill, Linux 5.14+; else SIGKILL
 * to each pid listed) and removes it, retrying while the kernel releases it.
 */
export function destroyCgroup(dir: string, killProcesses: (pids: number[]) => void): void {
  if (!existsSync(dir)) return;
  for (const child of readdirSync(dir)) {
    const sub = join(dir, child);
    if (statSync(sub).isDirectory()) destroyCgroup(sub, killProcesses);
  }
  const killFile = join(dir, 'cgroup.kill');
  for (let attempt = 0; attempt < RMDIR_ATTEMPTS; attempt++) {
    const pids = cgroupPids(dir);
    if (pids.length > 0) {
      if (existsSync(killFile)) writeFileSync(killFile, '1');
      else killProcesses(pids);
    }
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw new TsrunError(`remove cgroup ${dir}: ${(err as Error).message}`);
    }
    sleep(RMDIR_PAUSE_MS);
  }
  throw new TsrunError(`remove cgroup ${dir}: still busy after ${RMDIR_ATTEMPTS} attempts`);
}

/** Removes parents tsrun created, deepest first, when they are empty. */
export function removeEmptyParents(created: readonly string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
  }
}
