// linux.seccomp, the effectful half: compile the spec's filter with
// libseccomp in the parent (before anything of the container exists, so a bad
// profile or a missing libseccomp fails `create` cleanly), and hand a
// notify listener fd to the seccomp agent at listenerPath
// (config-linux.md "Seccomp", "The Container Process State").
import * as libc from '../../native/libc.js';
import {
  kernelAcceptsFilterFlags,
  libseccompApiLevel,
  libseccompVersion,
  resolveArch,
  resolveSyscall,
  SCMP_FLTATR,
  SeccompFilter,
} from '../../native/seccomp.js';
import { SECCOMP } from '../../native/constants.js';
import { SPEC_VERSION } from '../cli/version.js';
import { SyscallError, TsrunError, UnsupportedError } from '../errors.js';
import {
  BPF_MAXINSNS,
  libseccompArchName,
  ruleConditionSets,
  seccompActionValue,
  seccompLoadFlags,
  usesNotify,
  type CompiledSeccomp,
} from '../plan/seccomp.js';
import type { LinuxSeccomp } from '../spec/types.js';
import type { StateOutput } from '../state/status.js';

/** libseccomp's API level with SCMP_ACT_NOTIFY support (libseccomp >= 2.5, Linux >= 5.7). */
const NOTIFY_API_LEVEL = 6;
/** runc turns on libseccomp's binary tree of syscalls above this many rules. */
const OPTIMIZE_ABOVE_RULES = 32;
/**
 * The stub hands the listener fd over with sendmsg(2): a notification of that call could never
 * be answered (the agent has no fd yet) and create would hang. (write is refused by validation,
 * as runc refuses it.)
 */
const NEVER_NOTIFY = new Set(['sendmsg']);

export interface SeccompCompileResult {
  readonly compiled: CompiledSeccomp;
  /**
   * What was left out (syscalls libseccomp does not know, flags with nothing to do), for the
   * debug log: runc logs the same at debug level, since create's stderr is the container's.
   */
  readonly notes: readonly string[];
}

/**
 * Compile linux.seccomp with libseccomp. Throws LibseccompUnavailableError without
 * libseccomp, UnsupportedError (naming the field) for what this host cannot do, and
 * LibseccompError for a rule libseccomp refuses.
 */
export function compileSeccomp(s: LinuxSeccomp): SeccompCompileResult {
  const notes: string[] = [];
  const listener = usesNotify(s);
  const rules = s.syscalls ?? [];
  if (listener && libseccompApiLevel() < NOTIFY_API_LEVEL) {
    const v = libseccompVersion();
    const at = rules.findIndex((r) => r.action === 'SCMP_ACT_NOTIFY');
    throw new UnsupportedError(
      `/linux/seccomp/syscalls/${at}/action`,
      `SCMP_ACT_NOTIFY needs libseccomp >= 2.5 and Linux >= 5.7 (API level ${NOTIFY_API_LEVEL}); libseccomp ${v.major}.${v.minor}.${v.micro} reports ${libseccompApiLevel()}`,
    );
  }
  rules.forEach((r, i) => {
    if (r.action !== 'SCMP_ACT_NOTIFY') return;
    r.names.forEach((name, j) => {
      if (NEVER_NOTIFY.has(name)) {
        throw new UnsupportedError(`/linux/seccomp/syscalls/${i}/names/${j}`, `SCMP_ACT_NOTIFY cannot be used for ${name}: the container's init needs it to hand the notify fd over`);
      }
    });
  });

  const load = seccompLoadFlags(s, listener);
  for (const { flag, why } of load.ignored) notes.push(`seccomp: ${flag} is ignored: ${why}`);
  if (!kernelAcceptsFilterFlags(load.flags)) {
    if (listener && !kernelAcceptsFilterFlags(SECCOMP.SECCOMP_FILTER_FLAG_NEW_LISTENER)) {
      throw new UnsupportedError('/linux/seccomp', 'the running kernel has no seccomp user notification (SCMP_ACT_NOTIFY needs Linux >= 5.0)');
    }
    // Probe each flag alone (with a listener: WAIT_KILLABLE_RECV is only valid with one).
    const bad = (s.flags ?? []).findIndex((f) => !kernelAcceptsFilterFlags(seccompLoadFlags({ ...s, flags: [f] }, true).flags));
    throw new UnsupportedError(bad >= 0 ? `/linux/seccomp/flags/${bad}` : '/linux/seccomp/flags', `the running kernel does not support ${bad >= 0 ? s.flags?.[bad] : 'these seccomp flags together'}`);
  }

  const defaultAction = seccompActionValue(s.defaultAction, s.defaultErrnoRet, '/linux/seccomp/defaultAction');
  const filter = new SeccompFilter(defaultAction);
  try {
    (s.architectures ?? []).forEach((arch, i) => {
      const token = resolveArch(libseccompArchName(arch));
      const field = `/linux/seccomp/architectures/${i}`;
      if (token === undefined) {
        const v = libseccompVersion();
        throw new UnsupportedError(field, `${arch} is not an architecture libseccomp ${v.major}.${v.minor}.${v.micro} knows`);
      }
      filter.addArch(token, `${arch} (${field})`);
    });
    if (rules.length > OPTIMIZE_ABOVE_RULES) {
      try {
        filter.setAttr(SCMP_FLTATR.SCMP_FLTATR_CTL_OPTIMIZE, 2);
      } catch {
        // libseccomp < 2.5 has no binary tree: a longer linear filter, same verdicts.
      }
    }
    const unknown: string[] = [];
    rules.forEach((rule, i) => {
      const field = `/linux/seccomp/syscalls/${i}`;
      const action = seccompActionValue(rule.action, rule.errnoRet, `${field}/action`);
      // libseccomp refuses a rule whose action is the default one; it would change nothing (runc skips it too).
      if (action === defaultAction) return;
      const condSets = ruleConditionSets(rule, field);
      // Indexed: a profile names ~350 syscalls, and an interpreted for-of allocates per element.
      for (let k = 0; k < rule.names.length; k++) {
        const name = rule.names[k] as string;
        const nr = resolveSyscall(name);
        if (nr === undefined) {
          // A syscall newer than libseccomp (or from another architecture): runc skips it the same way.
          if (!unknown.includes(name)) unknown.push(name);
          continue;
        }
        for (let c = 0; c < condSets.length; c++) filter.addRule(action, nr, condSets[c] as (typeof condSets)[number], () => `${name} (${field})`);
      }
    });
    if (unknown.length > 0) {
      const v = libseccompVersion();
      notes.push(`seccomp: skipped ${unknown.length} syscall${unknown.length === 1 ? '' : 's'} libseccomp ${v.major}.${v.minor}.${v.micro} does not know: ${unknown.join(', ')}`);
    }
    const bpf = filter.exportBpf();
    const insns = bpf.length / 8;
    if (insns > BPF_MAXINSNS) {
      throw new UnsupportedError('/linux/seccomp', `the filter compiles to ${insns} BPF instructions; the kernel loads at most ${BPF_MAXINSNS}`);
    }
    return { compiled: { bpf, flags: load.flags, listener }, notes };
  } finally {
    filter.release();
  }
}

/** The container process state sent to a seccomp agent (config-linux.md "The Container Process State"). */
export interface ContainerProcessState {
  readonly ociVersion: string;
  readonly fds: readonly string[];
  readonly pid: number;
  readonly metadata?: string;
  readonly state: StateOutput;
}

export function containerProcessState(s: LinuxSeccomp, state: StateOutput): ContainerProcessState {
  return {
    ociVersion: SPEC_VERSION,
    fds: ['seccompFd'],
    pid: state.pid,
    ...(s.listenerMetadata !== undefined && s.listenerMetadata !== '' ? { metadata: s.listenerMetadata } : {}),
    state,
  };
}

/**
 * Send the container process state and the notify fd (SCM_RIGHTS, with the first bytes) to
 * the agent at listenerPath, on a connection of its own that is closed right after: the spec
 * allows one state per connection. A failure is an error of `create` (the spec: "If sending to
 * this socket fails, the runtime MUST generate an error").
 */
export function sendToSeccompAgent(s: LinuxSeccomp, notifyFd: number, state: StateOutput): void {
  const path = s.listenerPath ?? '';
  if (path === '') throw new TsrunError('seccomp: a notify fd arrived but linux.seccomp.listenerPath is empty');
  const payload = Buffer.from(JSON.stringify(containerProcessState(s, state)));
  let sock: number;
  try {
    sock = libc.connectUnix(path);
  } catch (e) {
    if (e instanceof SyscallError) throw new TsrunError(`seccomp: cannot connect to the listener ${path}: ${e.errnoName}${e.detail ? ` (${e.detail})` : ''}`);
    throw e;
  }
  try {
    libc.sendWithFd(sock, payload, notifyFd, `the seccomp listener ${path}`);
  } finally {
    libc.close(sock);
  }
}

/**
 * The SECCOMP_LISTENER sync point of create and exec: the listener fd the stub sent goes to
 * the agent at listenerPath, then tsrun's copy is closed.
 */
export function handOverListener(s: LinuxSeccomp | undefined, fd: number | null, state: StateOutput): void {
  if (fd === null || s === undefined) throw new TsrunError('the container process reported a seccomp listener without its fd');
  try {
    sendToSeccompAgent(s, fd, state);
  } finally {
    libc.close(fd);
  }
}
