// The effectful half of resources.ts: enable the controllers a container
// needs in its ancestors' cgroup.subtree_control, then carry out the
// CgroupWrites in its directory. Plain file operations on paths, so the unit
// tests run them on a scratch directory that imitates a cgroup tree.
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { constants } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { TsrunError } from '../errors.js';
import type { CgroupWrite } from './resources.js';

/** A write into a cgroup file that the kernel refused, with the config field it carries out. */
export class CgroupWriteError extends TsrunError {
  override readonly name = 'CgroupWriteError';
  constructor(
    readonly field: string | undefined,
    readonly path: string,
    readonly value: string,
    readonly code: string,
    detail: string,
  ) {
    super(`${field !== undefined ? `${field}: ` : ''}writing ${JSON.stringify(value)} to ${path}: ${code} (${detail})`);
  }
}

/** The kernel's explanation of the errnos cgroup files return, where Node's message is only the errno's name. */
const WRITE_ERRORS: Readonly<Record<string, string>> = {
  EINVAL: 'the kernel does not accept this value here',
  ERANGE: 'the value is out of range',
  EBUSY: 'the cgroup is busy (processes or children in the way)',
  EOPNOTSUPP: 'not supported by this cgroup (threaded or not a domain?)',
  ENOENT: 'no such file: the controller is not enabled for this cgroup, or the kernel lacks the feature',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space: the parent\'s limit does not allow it',
};

function errnoCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : 'EIO';
}

/**
 * One write(2) of `value` to an existing cgroup file: without
 * O_CREAT (kernfs cannot create files, and O_CREAT would turn a missing file
 * into EACCES), no truncation, one write per call as the kernel parses each
 * write on its own (io.max takes one device per write).
 */
export function writeCgroupFile(dir: string, file: string, value: string, field?: string): void {
  const path = join(dir, file);
  let fd: number;
  try {
    // O_TRUNC is a no-op on kernfs (runc opens the same way) and keeps a scratch-directory test exact; libuv adds O_CLOEXEC.
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
  } catch (err) {
    const code = errnoCode(err);
    throw new CgroupWriteError(field, path, value, code, WRITE_ERRORS[code] ?? (err as Error).message);
  }
  try {
    writeSync(fd, value);
  } catch (err) {
    const code = errnoCode(err);
    throw new CgroupWriteError(field, path, value, code, WRITE_ERRORS[code] ?? (err as Error).message);
  } finally {
    closeSync(fd);
  }
}

/** Carries out planResourceWrites' list in order, honouring each write's ifMissing. */
export function applyWrites(dir: string, writes: readonly CgroupWrite[]): void {
  for (const w of writes) {
    try {
      writeCgroupFile(dir, w.file, w.value, w.field);
    } catch (err) {
      if (!(err instanceof CgroupWriteError) || err.code !== 'ENOENT' || w.ifMissing === undefined) throw err;
      if (w.ifMissing === 'skip') continue;
      writeCgroupFile(dir, w.ifMissing.file, w.ifMissing.value, w.field);
    }
  }
}

function words(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

function hasProcesses(dir: string): boolean {
  return words(join(dir, 'cgroup.procs')).length > 0;
}

/** The ancestors of `dir` from the mount (the hierarchy's root, as this process sees it) down to its parent. */
export function ancestors(mount: string, dir: string): string[] {
  const rel = relative(mount, dir);
  if (rel === '' || rel.startsWith('..')) throw new TsrunError(`cgroup ${dir} is not below the cgroup v2 mount ${mount}`);
  const parts = rel.split(sep);
  const out = [mount];
  for (let i = 1; i < parts.length; i++) out.push(join(mount, ...parts.slice(0, i)));
  return out;
}

/**
 * Enables `controllers` in cgroup.subtree_control of every ancestor of `dir`,
 * top-down, writing only what is missing (runc enables everything the host
 * has; a controller that nothing asks for is overhead and can make a cgroup
 * refuse processes). cgroup v2's no-internal-process rule: a cgroup that
 * holds processes cannot distribute domain controllers to children, except
 * the root (it has no cgroup.type file). Such an ancestor is refused with an
 * explanation instead of the kernel's bare EBUSY.
 */
export function enableControllers(mount: string, dir: string, controllers: readonly string[]): void {
  if (controllers.length === 0) return;
  for (const cg of ancestors(mount, dir)) {
    const enabled = new Set(words(join(cg, 'cgroup.subtree_control')));
    const missing = controllers.filter((c) => !enabled.has(c));
    if (missing.length === 0) continue;
    const isRoot = !existsSync(join(cg, 'cgroup.type'));
    if (!isRoot && hasProcesses(cg)) {
      throw new TsrunError(
        `cannot enable the cgroup v2 controller${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} for the container: ` +
          `its ancestor cgroup ${cg} has processes of its own, and cgroup v2's no-internal-process rule forbids distributing controllers from it; ` +
          'set linux.cgroupsPath to a cgroup whose ancestors hold no processes',
      );
    }
    writeCgroupFile(cg, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
  }
}
