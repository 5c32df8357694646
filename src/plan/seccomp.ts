// linux.seccomp (config-linux.md "Seccomp"), the pure half: how the spec's
// actions, operators and flags translate to what libseccomp and seccomp(2)
// take, which rules become which libseccomp rules, and where in the program
// the filter is loaded. The compile itself (libseccomp, in the parent) is
// src/lifecycle/seccomp.ts; the stub only loads the exported bytes.
//
// Where the filter is loaded (seccompLoadPoint), thought through:
//
// - Loading a filter needs no_new_privs or CAP_SYS_ADMIN (seccomp(2)). With
//   noNewPrivileges false, the only moment the process still has
//   CAP_SYS_ADMIN for sure is before the user change and the final capset:
//   the filter is loaded there ("privileged"), as runc does before
//   finalizeNamespace. Every later op of the program then runs under the
//   filter (prctl, setgroups, setresgid, setresuid, capset, umask, chdir, the
//   executable lookup, the sync socket, the exec fifo, close_range, execve):
//   profiles written for runc allow these, since runc makes the same calls.
// - With noNewPrivileges and SCMP_ACT_NOTIFY, the listener fd must reach
//   tsrun over the sync channel, which closes at the "created" sync: the
//   filter is loaded at the end of the process attributes, right before the
//   last sync ("before-last-sync"), like runc, which loads it before closing
//   its init pipe.
// - With noNewPrivileges and no listener, it is loaded as late as possible:
//   after the exec fifo wait and close_range, right before execve
//   ("before-execve"), so that a profile only has to allow execve itself.
//   The price: a load failure is printed by the stub on the container's
//   stderr after `start` (the channel is closed by then), so everything the
//   kernel could refuse is checked in the parent first (flags, size).
//
// In the first two cases the listener fd is handed over on its own sync
// point right after the load, before any other op can trigger a
// notification nobody could answer yet; the only syscall that must not
// notify is the sendmsg(2) carrying the fd (compile refuses it).
import { SECCOMP } from '../../native/constants.js';
import { flags, flagsValue, sockFprog } from '../../native/program.js';
import { SCMP_CMP, type ArgCompare } from '../../native/seccomp.js';
import { UnsupportedError } from '../errors.js';
import type { LinuxSeccomp, LinuxSeccompArg, LinuxSyscall, SeccompAction, SeccompArch, SeccompFlag, Spec } from '../spec/types.js';
import type { PlanContext } from './context.js';
import { SYNC } from './sync.js';

/** A filter compiled in the parent, ready for the stub. */
export interface CompiledSeccomp {
  /** The classic BPF program (struct sock_filter[]), as libseccomp exported it. */
  readonly bpf: Uint8Array;
  /** seccomp(2) SECCOMP_FILTER_FLAG_* the stub loads it with (NEW_LISTENER included when `listener`). */
  readonly flags: number;
  /** A rule uses SCMP_ACT_NOTIFY: the load returns a listener fd that goes to tsrun, then to listenerPath. */
  readonly listener: boolean;
}

export type SeccompLoadPoint = 'privileged' | 'before-last-sync' | 'before-execve';

/** SECCOMP_RET_ERRNO's default errno (runtime-spec: "The default is EPERM"). */
const EPERM = 1;
/** The errno/data field of a seccomp return value is 16 bits wide. */
const RET_DATA_MAX = 0xffff;
/** BPF_MAXINSNS: the kernel refuses a classic BPF program longer than this. */
export const BPF_MAXINSNS = 4096;

/**
 * The SECCOMP_RET_* value (libseccomp's action encoding is the kernel's) of a spec action.
 * SCMP_ACT_KILL is KILL_THREAD, as in libseccomp and runc.
 */
export function seccompActionValue(action: SeccompAction, errnoRet: number | undefined, field: string): number {
  const data = (): number => {
    const e = errnoRet ?? EPERM;
    if (!Number.isInteger(e) || e < 0 || e > RET_DATA_MAX) throw new UnsupportedError(field, `errno ${e} does not fit the 16 bits of a seccomp return value`);
    return e;
  };
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP.SECCOMP_RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP.SECCOMP_RET_KILL_PROCESS >>> 0;
    case 'SCMP_ACT_TRAP':
      return SECCOMP.SECCOMP_RET_TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP.SECCOMP_RET_ERRNO | data()) >>> 0;
    case 'SCMP_ACT_TRACE':
      // runc: the tracer sees EPERM as the data when no errnoRet is given.
      return (SECCOMP.SECCOMP_RET_TRACE | data()) >>> 0;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP.SECCOMP_RET_ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP.SECCOMP_RET_LOG;
    case 'SCMP_ACT_NOTIFY':
      return SECCOMP.SECCOMP_RET_USER_NOTIF;
  }
  throw new UnsupportedError(field, `unknown seccomp action ${JSON.stringify(action)}`);
}

/** libseccomp's name of a spec architecture: SCMP_ARCH_X86_64 -> "x86_64". */
export function libseccompArchName(arch: SeccompArch): string {
  return arch.slice('SCMP_ARCH_'.length).toLowerCase();
}

function compareOp(op: LinuxSeccompArg['op'], field: string): number {
  const v = (SCMP_CMP as Record<string, number>)[op];
  if (v === undefined) throw new UnsupportedError(field, `unknown seccomp operator ${JSON.stringify(op)}`);
  return v;
}

/** A JSON number as the u64 a syscall argument is compared with (negative values as two's complement). */
function datum(n: number | undefined): bigint {
  if (n === undefined) return 0n;
  // Numbers above 2^53 have lost precision in JSON.parse already; keep what is there.
  return BigInt.asUintN(64, BigInt(Math.trunc(n)));
}

/**
 * The condition lists one spec rule becomes, as runc builds them: all the
 * conditions in one libseccomp rule (all must hold) unless two of them test the
 * same argument, then one rule per condition (any may hold). libseccomp cannot
 * AND two comparisons of one argument, and profiles (Docker's) rely on this.
 */
export function ruleConditionSets(rule: LinuxSyscall, field: string): ArgCompare[][] {
  const conds = (rule.args ?? []).map((a, j): ArgCompare => ({
    arg: a.index,
    op: compareOp(a.op, `${field}/args/${j}/op`),
    datumA: datum(a.value),
    datumB: datum(a.valueTwo),
  }));
  if (conds.length === 0) return [[]];
  const perArg = new Set(conds.map((c) => c.arg));
  return perArg.size === conds.length ? [conds] : conds.map((c) => [c]);
}

/** seccomp(2) flags of the spec's flags list, and what was left out and why. */
export function seccompLoadFlags(s: LinuxSeccomp, listener: boolean): { flags: number; ignored: { flag: SeccompFlag; why: string }[] } {
  let f = listener ? SECCOMP.SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  const ignored: { flag: SeccompFlag; why: string }[] = [];
  for (const flag of s.flags ?? []) {
    switch (flag) {
      case 'SECCOMP_FILTER_FLAG_TSYNC':
        // The stub is single-threaded, and the kernel refuses TSYNC together with NEW_LISTENER; runc ignores it too.
        ignored.push({ flag, why: 'the container process has one thread when the filter is loaded' });
        break;
      case 'SECCOMP_FILTER_FLAG_LOG':
        f |= SECCOMP.SECCOMP_FILTER_FLAG_LOG;
        break;
      case 'SECCOMP_FILTER_FLAG_SPEC_ALLOW':
        f |= SECCOMP.SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        break;
      case 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV':
        // It changes how a notifying process waits for its listener; the kernel refuses it without one.
        if (listener) f |= SECCOMP.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        else ignored.push({ flag, why: 'no rule uses SCMP_ACT_NOTIFY' });
        break;
    }
  }
  return { flags: f >>> 0, ignored };
}

/** Whether any rule notifies a listener. */
export function usesNotify(s: LinuxSeccomp): boolean {
  return (s.syscalls ?? []).some((r) => r.action === 'SCMP_ACT_NOTIFY');
}

/** Where the filter is loaded (see the top of this file). */
export function seccompLoadPoint(spec: Spec, compiled: CompiledSeccomp): SeccompLoadPoint {
  if (!spec.process?.noNewPrivileges) return 'privileged';
  return compiled.listener ? 'before-last-sync' : 'before-execve';
}

/**
 * Load the filter; with a listener, hand its fd to tsrun on its own sync point (tsrun passes it
 * on to listenerPath) and close the process's copy. Uses scratch register 0.
 */
export function planSeccompLoad(ctx: PlanContext, compiled: CompiledSeccomp): void {
  const { b } = ctx;
  const listener = ctx.regs.scratch[0];
  const n = compiled.bpf.length / 8;
  b.syscall('seccomp', [flags(SECCOMP, 'SECCOMP_SET_MODE_FILTER'), flagsValue(SECCOMP, compiled.flags, 'SECCOMP_FILTER_FLAG_'), sockFprog(compiled.bpf)], {
    label: `load the seccomp filter (${n} instructions)`,
    ...(compiled.listener ? { result: listener } : {}),
  });
  if (!compiled.listener) return;
  b.sync(SYNC.SECCOMP_LISTENER, listener, { sendFd: true, label: 'hand the seccomp notify fd to tsrun' });
  b.syscall('close', [listener], { label: 'close the seccomp notify fd' });
}
