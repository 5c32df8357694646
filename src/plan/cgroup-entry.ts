// How the container's process gets into its cgroup, first thing in the program (before any
// namespace: a cgroup namespace is rooted where its creator is, and exec must not have joined the
// container's cgroup namespace yet, or the host cgroup it comes from is out of its view).
//
// It is born there: the stub opens the cgroup directory and forks with clone3(CLONE_INTO_CGROUP)
// (Linux 5.7; tsrun needs 5.12), as crun does. runc writes the pid to cgroup.procs instead; that
// write waits for an RCU grace period (cgroup_threadgroup_rwsem), which here costs 4-15 ms, more
// than all the rest of the stub's work. Pure: the result is data.
import { AT } from '../../native/constants.js';
import { flags, str, type ProgramBuilder, type Reg } from '../../native/program.js';

/** `dir`: the cgroup v2 directory; `scratch` is free for its fd (closed again in the child). Nothing is planned without a cgroup. */
export function planCgroupEntry(b: ProgramBuilder, dir: string | undefined, scratch: Reg): void {
  if (dir === undefined) return;
  b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(dir), b.O.O_RDONLY | b.O.O_DIRECTORY | b.O.O_CLOEXEC, 0], {
    label: `open the container cgroup ${dir}`,
    result: scratch,
  });
  b.fork({ cgroupFd: scratch, label: 'fork into the container cgroup (CLONE_INTO_CGROUP)' });
  b.syscall('close', [scratch], { label: 'close the cgroup fd' });
}
