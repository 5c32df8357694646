// The whole program of a container's init, in order (ARCHITECTURE.md
// "Process model"): into the cgroup, namespaces (+ id maps sync), fork for PID
// and time namespaces, the root filesystem, the exec fifo, the create hooks
// sync, pivot_root, container settings, process attributes, the "created"
// sync, the wait on the exec fifo, execve. Pure: the result is data.
import { AT } from '../../native/constants.js';
import { flags, fdPath, ProgramBuilder, ProgramError, str } from '../../native/program.js';
import type { Spec } from '../spec/types.js';
import type { PlanContext } from './context.js';
import { allocateRegisters } from './context.js';
import type { NamespaceDecision } from './namespaces.js';
import { decideNamespaces, planNamespaces } from './namespaces.js';
import { planExec, planProcessAttributes, planSysctls, planUtsNames } from './process.js';
import type { HostProbe } from './process.js';
import type { CompiledSeccomp } from './seccomp.js';
import { planFinalizeRootfs, planIdmappedTrees, planPivotRoot, planRootfsMounts } from './rootfs.js';
import type { IdmappedMount, SourceProbe } from './rootfs.js';
import { planSessionKeyring } from './keyring.js';
import { planCgroupEntry } from './cgroup-entry.js';
import { SYNC } from './sync.js';
import { planTerminal } from './terminal.js';

export interface ContainerProgramInput {
  readonly spec: Spec;
  readonly bundle: string;
  readonly rootfs: string;
  /** Host path of the exec fifo, opened before pivot_root. */
  readonly execFifo: string;
  /** The process's environment as execve gets it (HOME added, LISTEN_FDS when passed on). */
  readonly env: readonly string[];
  readonly noPivot: boolean;
  readonly preserveFds: number;
  /** The stub's fd of the connected console socket, when process.terminal is true. */
  readonly consoleSocketFd?: number | undefined;
  /** Name of the session keyring the container joins ("_ses.<id>"); undefined with --no-new-keyring. */
  readonly keyringName?: string | undefined;
  /** Idmapped mounts with the stub's fd of a user namespace holding each one's mappings. */
  readonly idmapped?: readonly IdmappedMount[] | undefined;
  /** The host's cgroup v2 mount point: bound for a `cgroup` mount when the container keeps tsrun's cgroup namespace. */
  readonly hostCgroupMount?: string | undefined;
  /** The container's cgroup v2 directory: the init is born there (cgroup-entry.ts). */
  readonly cgroupDir?: string | undefined;
  /** Facts the planners need about the host (capabilities the kernel has, sources of bind mounts). */
  readonly host: HostProbe & SourceProbe;
  /** linux.seccomp compiled in the parent, when the config has one. */
  readonly seccomp?: CompiledSeccomp | undefined;
}

export interface ContainerProgram {
  readonly builder: ProgramBuilder;
  readonly namespaces: NamespaceDecision;
}

export function buildContainerProgram(input: ContainerProgramInput, b = new ProgramBuilder()): ContainerProgram {
  const { spec } = input;
  const namespaces = decideNamespaces(spec);
  const regs = allocateRegisters(b);
  const ctx: PlanContext = {
    b,
    regs,
    spec,
    bundle: input.bundle,
    rootfs: input.rootfs,
    noPivot: input.noPivot,
    userNamespace: namespaces.hasUser,
    newMountNamespace: namespaces.create.includes('mount'),
    hostCgroupMount: (spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup') ? undefined : input.hostCgroupMount,
  };

  // Into its cgroup before anything else, so that everything the init does is accounted there.
  planCgroupEntry(b, input.cgroupDir, regs.scratch[0]);
  const idmappedTrees = planIdmappedTrees(ctx, input.idmapped ?? []);
  planNamespaces(b, spec, namespaces, regs.scratch[0]);
  if (input.keyringName !== undefined) planSessionKeyring(ctx, input.keyringName);
  planUtsNames(ctx);
  planRootfsMounts(ctx, input.host, idmappedTrees);
  // The fifo is reached through this fd after pivot_root, when its host path no longer resolves.
  b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(input.execFifo), b.O.O_PATH | b.O.O_CLOEXEC, 0], {
    label: `open the exec fifo ${input.execFifo}`,
    result: regs.execFifo,
  });
  // A round trip to tsrun only when there is a hook to run there.
  const hooks = spec.hooks;
  if (hooks?.prestart?.length || hooks?.createRuntime?.length || hooks?.createContainer?.length) {
    b.sync(SYNC.CREATE_HOOKS, 0, { label: 'wait for the prestart, createRuntime and createContainer hooks' });
  }
  planPivotRoot(ctx);
  if (spec.process?.terminal) {
    if (input.consoleSocketFd === undefined) throw new ProgramError('process.terminal needs a console socket fd');
    planTerminal(ctx, { socketFd: input.consoleSocketFd, console: true, size: spec.process.consoleSize });
  }
  // sysctls are written before readonlyPaths make /proc/sys read-only.
  planSysctls(ctx);
  planFinalizeRootfs(ctx);
  const security = input.seccomp ? { seccomp: input.seccomp } : {};
  planProcessAttributes(ctx, input.host, security);
  b.sync(SYNC.CREATED, 0, { last: true, label: 'report created' });
  // Blocks until `tsrun start` opens the other end.
  const fifo = regs.scratch[0];
  b.syscall('openat', [flags(AT, 'AT_FDCWD'), fdPath(regs.execFifo), b.O.O_WRONLY | b.O.O_CLOEXEC, 0], {
    label: 'wait for start on the exec fifo',
    result: fifo,
  });
  b.syscall('write', [fifo, str('0'), 1], { label: 'signal start on the exec fifo' });
  b.syscall('close', [fifo], { label: 'close the exec fifo' });
  planExec(ctx, input.env, input.preserveFds, security);
  return { builder: b, namespaces };
}
