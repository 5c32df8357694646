// The program of `tsrun exec`: join every namespace in which the container's
// init differs from tsrun (user first, mount last), take the init's root (a
// chroot with --no-pivot), fork so the PID and time namespaces apply, then the
// same process attributes as the container's own process and execve. The
// process enters the container's cgroup first (cgroup-entry.ts), so the forked
// process is born there. Pure: the result is data.
import { AT, CLONE } from '../../native/constants.js';
import { flags, ProgramBuilder, ProgramError, str } from '../../native/program.js';
import type { NamespaceType, Spec } from '../spec/types.js';
import { allocateRegisters, type PlanContext } from './context.js';
import { JOIN_ORDER, NAMESPACES } from './namespaces.js';
import { planExec, planProcessAttributes, type HostProbe, type ProcessSecurity } from './process.js';
import { planCpuAffinity } from './scheduling.js';
import { planCgroupEntry } from './cgroup-entry.js';
import { SYNC } from './sync.js';
import { planTerminal } from './terminal.js';

export interface ExecProgramInput {
  /** The container's config with `process` replaced by the exec'd process. */
  readonly spec: Spec;
  /** Host pid of the container's init. */
  readonly pid: number;
  /** Namespace kinds in which the init differs from tsrun. */
  readonly kinds: readonly NamespaceType[];
  readonly env: readonly string[];
  readonly preserveFds: number;
  /** The stub's fd of the connected console socket, when the process has a terminal. */
  readonly consoleSocketFd?: number | undefined;
  readonly host: HostProbe;
  /** The cgroup the process runs in (the container's, or --cgroup's sub-cgroup); none when the container has none. */
  readonly cgroupDir?: string | undefined;
  /** The container's seccomp filter, compiled in the parent. */
  readonly security?: ProcessSecurity | undefined;
}

export function buildExecProgram(input: ExecProgramInput, b = new ProgramBuilder()): ProgramBuilder {
  const regs = allocateRegisters(b);
  const ctx: PlanContext = {
    b,
    regs,
    spec: input.spec,
    bundle: '',
    rootfs: '',
    noPivot: false,
    userNamespace: input.kinds.includes('user'),
    newMountNamespace: false,
  };
  const affinity = input.spec.process?.execCPUAffinity;
  // runtime-spec: `initial` before the move into the container's cgroup, `final` after it.
  planCpuAffinity(ctx, affinity, 'initial');
  planCgroupEntry(b, input.cgroupDir, regs.scratch[0]);
  planCpuAffinity(ctx, affinity, 'final');
  const procDir = `/proc/${input.pid}`;
  b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(`${procDir}/root`), b.O.O_PATH | b.O.O_DIRECTORY | b.O.O_CLOEXEC, 0], {
    label: `open the container's root ${procDir}/root`,
    result: regs.rootfs,
  });
  // The executable check needs an fd that is never executable (create uses the exec fifo).
  b.syscall('openat', [flags(AT, 'AT_FDCWD'), str('/dev/null'), b.O.O_PATH | b.O.O_CLOEXEC, 0], { label: 'open /dev/null', result: regs.execFifo });
  const joins = JOIN_ORDER.filter((k) => input.kinds.includes(k)).map((kind) => {
    const reg = b.reg();
    const path = `${procDir}/ns/${NAMESPACES[kind].proc}`;
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(path), b.O.O_RDONLY | b.O.O_CLOEXEC, 0], { label: `open ${path}`, result: reg });
    return { kind, reg };
  });
  for (const { kind, reg } of joins) {
    b.syscall('setns', [reg, flags(CLONE, NAMESPACES[kind].clone)], { label: `join the container's ${kind} namespace` });
    b.syscall('close', [reg]);
  }
  b.syscall('fchdir', [regs.rootfs], { label: "enter the container's root" });
  b.syscall('chroot', [str('.')], { label: "chroot to the container's root" });
  b.syscall('close', [regs.rootfs]);
  b.fork({ label: "fork into the container's PID and time namespaces" });
  const proc = input.spec.process;
  if (proc?.terminal) {
    if (input.consoleSocketFd === undefined) throw new ProgramError('process.terminal needs a console socket fd');
    planTerminal(ctx, { socketFd: input.consoleSocketFd, console: false, size: proc.consoleSize });
  }
  const security = input.security ?? {};
  planProcessAttributes(ctx, input.host, security);
  b.sync(SYNC.EXEC_READY, 0, { last: true, label: 'report ready to exec' });
  planExec(ctx, input.env, input.preserveFds, security);
  return b;
}
