// How the container's process gets into its cgroup, first thing in the program (before any
// namespace: a cgroup namespace is rooted where its creator is, and exec must not have joined the
// container's cgroup namespace yet, or the host cgroup it comes from is out of its view).
//
// Born there: the stub opens the cgroup directory and forks with clone3(CLONE_INTO_CGROUP)
// (Linux 5.7), as crun does. Moved there: tsrun writes the stub's pid to cgroup.procs at
// SYNC.CGROUP, as runc does; that write waits for an RCU grace period (cgroup_threadgroup_rwsem),
// which here costs 4-15 ms, more than all the rest of the stub's work. Pure: the result is data.
import { AT } from '../../native/constants.js';
import { flags, str, type ProgramBuilder, type Reg } from '../../native/program.js';
import { SYNC } from './sync.js';

export interface CgroupEntry {
  /** The cgroup v2 directory the process must run in. */
  readonly dir: string;
  /** The kernel has clone3's CLONE_INTO_CGROUP (Linux >= 5.7). */
  readonly cloneInto: boolean;
}

/** `scratch` is free for the cgroup fd (closed again in the child). Nothing is planned without an entry. */
export function planCgroupEntry(b: ProgramBuilder, entry: CgroupEntry | undefined, scratch: Reg): void {
  if (entry === undefined) return;
  if (!entry.cloneInto) {
    b.sync(SYNC.CGROUP, 0, { label: 'wait to be moved into the container cgroup' });
    return;
  }
  b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(entry.dir), b.O.O_RDONLY | b.O.O_DIRECTORY | b.O.O_CLOEXEC, 0], {
    label: `open the container cgroup ${entry.dir}`,
    result: scratch,
  });
  b.fork({ cgroupFd: scratch, label: 'fork into the container cgroup (CLONE_INTO_CGROUP)' });
  b.syscall('close', [scratch], { label: 'close the cgroup fd' });
}

/** The release of `uname -r` ("6.1.0-18-amd64") is at least major.minor. */
export function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}
