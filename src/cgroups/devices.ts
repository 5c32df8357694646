// Installing a container's device program on its cgroup, with runc's
// BPF_F_ALLOW_MULTI semantics: the new program is attached next to what is
// there, then the programs tsrun attached before (recognised by their load
// name) are detached; programs attached by anyone else stay. Between the two
// steps both of ours apply, and the kernel allows an access only when every
// attached program does, so there is no moment without a filter.
import * as bpf from '../../native/bpf.js';
import { O } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { SyscallError } from '../errors.js';
import type { DeviceFilter } from './device-filter.js';

/** The prog_name tsrun loads device programs with: how a later update finds its own. */
export const DEVICE_PROGRAM_NAME = 'tsrun_devices';

/** The kernel calls devices.ts makes, behind an interface so the replacement logic is unit-tested. */
export interface BpfOps {
  openDir(path: string): number;
  close(fd: number): void;
  load(filter: DeviceFilter, name: string): number;
  attach(progFd: number, cgroupFd: number, what: string): void;
  detach(progFd: number, cgroupFd: number, what: string): void;
  query(cgroupFd: number, what: string): number[];
  /** undefined when the program cannot be opened (gone since the query, or an LSM forbids it). */
  fdById(id: number): number | undefined;
  nameOf(progFd: number): string;
}

export const nativeBpf: BpfOps = {
  openDir: (path) => libc.open(path, O.O_RDONLY | O.O_DIRECTORY | O.O_CLOEXEC),
  close: (fd) => libc.close(fd),
  load: (filter, name) => bpf.loadCgroupDeviceProgram(filter.bytes, filter.license, name),
  attach: (progFd, cgroupFd, what) => bpf.attachCgroupDevice(progFd, cgroupFd, what),
  detach: (progFd, cgroupFd, what) => bpf.detachCgroupDevice(progFd, cgroupFd, what),
  query: (cgroupFd, what) => bpf.queryCgroupDevicePrograms(cgroupFd, what),
  fdById: (id) => {
    try {
      return bpf.programFdById(id);
    } catch (err) {
      // runc skips programs it may not open (EPERM/EACCES under an LSM); a program detached meanwhile is ENOENT.
      if (err instanceof SyscallError && ['ENOENT', 'EPERM', 'EACCES'].includes(err.errnoName)) return undefined;
      throw err;
    }
  },
  nameOf: (progFd) => bpf.programInfo(progFd).name,
};

/** fds of the device programs on the cgroup that tsrun attached (the caller closes them). */
function ourPrograms(ops: BpfOps, cgroupFd: number, what: string): number[] {
  const fds: number[] = [];
  try {
    for (const id of ops.query(cgroupFd, what)) {
      const fd = ops.fdById(id);
      if (fd === undefined) continue;
      if (ops.nameOf(fd) === DEVICE_PROGRAM_NAME) fds.push(fd);
      else ops.close(fd);
    }
  } catch (err) {
    fds.forEach((fd) => ops.close(fd));
    throw err;
  }
  return fds;
}

/** Loads `filter` and makes it the container's device program on the cgroup at `dir`. */
export function installDeviceFilter(dir: string, filter: DeviceFilter, ops: BpfOps = nativeBpf): void {
  const cgroupFd = ops.openDir(dir);
  try {
    const previous = ourPrograms(ops, cgroupFd, dir);
    try {
      const prog = ops.load(filter, DEVICE_PROGRAM_NAME);
      try {
        ops.attach(prog, cgroupFd, dir);
      } finally {
        // The attachment holds its own reference to the program.
        ops.close(prog);
      }
      for (const old of previous) ops.detach(old, cgroupFd, dir);
    } finally {
      previous.forEach((fd) => ops.close(fd));
    }
  } finally {
    ops.close(cgroupFd);
  }
}
