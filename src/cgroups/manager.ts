// The container's cgroup v2 directory: located and its resources translated
// before anything exists (so that a config the host cannot honour is refused
// with nothing to undo), created, configured (controllers, limits, device
// program) before any container process exists, entered by the stub first
// thing (born there with CLONE_INTO_CGROUP: cgroup-entry.ts), removed on
// delete after every process in it is gone.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIG } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { TsrunError, UnsupportedError } from '../errors.js';
import type { LinuxResources, Spec } from '../spec/types.js';
import { applyWrites, enableControllers } from './apply.js';
import type { DeviceFilter } from './device-filter.js';
import { buildDeviceFilter } from './device-filter.js';
import { installDeviceFilter } from './devices.js';
import { containerCgroupDir, findUnifiedMount, unifiedCgroupOf } from './location.js';
import type { CgroupWrite } from './resources.js';
import { missingControllers, neededControllers, planResourceWrites } from './resources.js';
import { sleepSync } from '../sleep.js';

const RMDIR_ATTEMPTS = 50;
const RMDIR_PAUSE_MS = 10;

export interface CgroupLocation {
  readonly mount: string;
  readonly dir: string;
}

export function unifiedMount(): string {
  const mount = findUnifiedMount(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (mount === undefined) throw new TsrunError('no cgroup v2 hierarchy is mounted (tsrun needs the unified hierarchy)');
  return mount;
}

export function locateCgroup(spec: Spec, id: string): CgroupLocation {
  const mount = unifiedMount();
  const own = unifiedCgroupOf(readFileSync('/proc/self/cgroup', 'utf8'));
  return { mount, dir: containerCgroupDir(mount, own, id, spec.linux?.cgroupsPath) };
}

/** The controllers of the hierarchy: the root's cgroup.controllers (on a hybrid host, only what v1 left to v2). */
export function hostControllers(mount: string): Set<string> {
  try {
    return new Set(readFileSync(join(mount, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean));
  } catch (err) {
    throw new TsrunError(`read ${join(mount, 'cgroup.controllers')}: ${(err as Error).message}`);
  }
}

/** Refuses writes whose controller the host lacks, naming every such field and controller. */
export function refuseMissingControllers(writes: readonly CgroupWrite[], available: ReadonlySet<string>, mount: string): void {
  const missing = missingControllers(writes, available);
  const [first, ...rest] = missing;
  if (first === undefined) return;
  const has = available.size > 0 ? `it has only ${[...available].sort().join(', ')}` : 'it has no controllers';
  const others = rest.map((m) => `; ${m.field} needs "${m.controller}"`).join('');
  throw new UnsupportedError(
    first.field,
    `needs the cgroup v2 "${first.controller}" controller, which this host's unified hierarchy at ${mount} does not have (${has})${others}`,
  );
}

/** What a container's cgroup will get: decided, validated and checked against the host before anything is created. */
export interface CgroupPlan {
  readonly location: CgroupLocation;
  readonly writes: readonly CgroupWrite[];
  /** Controllers to enable in every ancestor's cgroup.subtree_control. */
  readonly controllers: readonly string[];
  readonly devices: DeviceFilter;
}

/** The resource part of a plan: for `create` and `update` alike. Throws UnsupportedError naming the field. */
export function planResources(resources: LinuxResources | undefined, mount: string): Omit<CgroupPlan, 'location'> {
  const available = hostControllers(mount);
  const writes = planResourceWrites(resources, { controllers: available });
  refuseMissingControllers(writes, available, mount);
  // runc attaches a device program to every cgroup it owns: default deny plus its default devices.
  return { writes, controllers: neededControllers(writes), devices: buildDeviceFilter(resources?.devices) };
}

export function planCgroup(spec: Spec, id: string): CgroupPlan {
  const location = locateCgroup(spec, id);
  return { location, ...planResources(spec.linux?.resources, location.mount) };
}

/** Configures a created (still empty) cgroup: controllers in the ancestors, the limits, the device program. */
export function applyCgroup(plan: CgroupPlan): void {
  const { mount, dir } = plan.location;
  enableControllers(mount, dir, plan.controllers);
  applyWrites(dir, plan.writes);
  installDeviceFilter(dir, plan.devices);
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

export function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Kills every process of the cgroup (cgroup.kill, Linux 5.14+; else SIGKILL
 * to each pid listed) and removes it, retrying while the kernel releases it.
 */
export function destroyCgroup(dir: string, killProcesses: (pids: number[]) => void): void {
  // The common case, a container that has exited and made no cgroups of its own: the rmdir
  // alone (EBUSY while processes or child cgroups are left), without reading the directory
  // and cgroup.procs first (~0.6 ms of every delete).
  if (removedOrGone(dir)) return;
  let entries;
  try {
    // The entry types come with the names (kernfs fills d_type): no stat of each of the ~50 files.
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const child of entries) {
    if (child.isDirectory()) destroyCgroup(join(dir, child.name), killProcesses);
  }
  const killFile = join(dir, 'cgroup.kill');
  for (let attempt = 0; attempt < RMDIR_ATTEMPTS; attempt++) {
    const pids = cgroupPids(dir);
    if (pids.length > 0) {
      if (existsSync(killFile)) writeFileSync(killFile, '1');
      else killProcesses(pids);
    }
    if (removedOrGone(dir)) return;
    sleepSync(RMDIR_PAUSE_MS);
  }
  throw new TsrunError(`remove cgroup ${dir}: still busy after ${RMDIR_ATTEMPTS} attempts`);
}

/** rmdir of a cgroup: true when it is gone, false while busy (processes or child cgroups in it). */
function removedOrGone(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code !== 'EBUSY') throw new TsrunError(`remove cgroup ${dir}: ${(err as Error).message}`);
    return false;
  }
}

/** Removes a container's cgroup (killing what is left in it) and the parents tsrun created for it, when empty. */
export function removeCgroup(dir: string, created: readonly string[]): void {
  destroyCgroup(dir, (pids) => pids.forEach((p) => libc.kill(p, SIG.SIGKILL)));
  removeEmptyParents(created.filter((d) => d !== dir));
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
