// linux.seccomp (config-linux.md "Seccomp"): names the schema lists, and the
// rules between fields the schema cannot express.

import type { SeccompAction, SeccompArch, SeccompFlag, SeccompOperator } from '../types.js';
import { entries, pointer, q, type Check } from './context.js';

export const SECCOMP_ACTIONS: readonly SeccompAction[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];

export const SECCOMP_OPERATORS: readonly SeccompOperator[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

export const SECCOMP_ARCHS: readonly SeccompArch[] = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
];

export const SECCOMP_FLAGS: readonly SeccompFlag[] = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

const ACTIONS: ReadonlySet<string> = new Set(SECCOMP_ACTIONS);
const OPERATORS: ReadonlySet<string> = new Set(SECCOMP_OPERATORS);
const ARCHS: ReadonlySet<string> = new Set(SECCOMP_ARCHS);
const FLAGS: ReadonlySet<string> = new Set(SECCOMP_FLAGS);

/** Actions that carry an errno: the only ones errnoRet/defaultErrnoRet may go with. */
const ERRNO_ACTIONS: ReadonlySet<string> = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

/** A syscall has at most six arguments. */
const MAX_SYSCALL_ARGS = 6;

/** Every action, operator, architecture and flag is one the spec defines. */
export const seccompNames: Check = {
  name: 'seccompNames',
  run(spec, _host, report) {
    const s = spec.linux?.seccomp;
    if (s === undefined) return;
    if (!ACTIONS.has(s.defaultAction)) {
      report.error('/linux/seccomp/defaultAction', `unknown seccomp action ${q(s.defaultAction)}; allowed: ${SECCOMP_ACTIONS.join(', ')}`);
    }
    for (const [i, arch] of entries(s.architectures)) {
      if (!ARCHS.has(arch)) report.error(pointer('linux', 'seccomp', 'architectures', i), `unknown seccomp architecture ${q(arch)}; allowed: ${SECCOMP_ARCHS.join(', ')}`);
    }
    for (const [i, flag] of entries(s.flags)) {
      if (!FLAGS.has(flag)) report.error(pointer('linux', 'seccomp', 'flags', i), `unknown seccomp flag ${q(flag)}; allowed: ${SECCOMP_FLAGS.join(', ')}`);
    }
    for (const [i, rule] of entries(s.syscalls)) {
      if (!ACTIONS.has(rule.action)) {
        report.error(pointer('linux', 'seccomp', 'syscalls', i, 'action'), `unknown seccomp action ${q(rule.action)}; allowed: ${SECCOMP_ACTIONS.join(', ')}`);
      }
      if (rule.names.length === 0) report.error(pointer('linux', 'seccomp', 'syscalls', i, 'names'), 'a syscall rule needs at least one name');
      // Indexed, not entries(): a profile names ~350 syscalls, and each [index, name] pair allocates.
      for (let j = 0; j < rule.names.length; j++) {
        if (rule.names[j] === '') report.error(pointer('linux', 'seccomp', 'syscalls', i, 'names', j), 'syscall name must not be empty');
      }
      for (const [j, arg] of entries(rule.args)) {
        if (!OPERATORS.has(arg.op)) {
          report.error(pointer('linux', 'seccomp', 'syscalls', i, 'args', j, 'op'), `unknown seccomp operator ${q(arg.op)}; allowed: ${SECCOMP_OPERATORS.join(', ')}`);
        }
        if (arg.index >= MAX_SYSCALL_ARGS) {
          report.error(pointer('linux', 'seccomp', 'syscalls', i, 'args', j, 'index'), `argument index ${arg.index} is out of range: a syscall has arguments 0..${MAX_SYSCALL_ARGS - 1}`);
        }
      }
    }
  },
};

/**
 * errnoRet and defaultErrnoRet only go with actions that return an errno
 * (config-linux.md: "When the action doesn't support an errno, the runtime
 * MUST print and error and fail").
 */
export const seccompErrnoRet: Check = {
  name: 'seccompErrnoRet',
  run(spec, _host, report) {
    const s = spec.linux?.seccomp;
    if (s === undefined) return;
    if (s.defaultErrnoRet !== undefined && !ERRNO_ACTIONS.has(s.defaultAction)) {
      report.error('/linux/seccomp/defaultErrnoRet', `defaultErrnoRet only goes with a defaultAction of SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${s.defaultAction}`);
    }
    for (const [i, rule] of entries(s.syscalls)) {
      if (rule.errnoRet !== undefined && !ERRNO_ACTIONS.has(rule.action)) {
        report.error(pointer('linux', 'seccomp', 'syscalls', i, 'errnoRet'), `errnoRet only goes with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${rule.action}`);
      }
    }
  },
};

/**
 * SCMP_ACT_NOTIFY: the notify fd goes to listenerPath, so it is required; not
 * as the default action and not for write(2), since the container's init
 * still has to write to hand the fd over (runc, youki refuse both). A
 * listenerPath without any SCMP_ACT_NOTIFY is ignored (config-linux.md).
 */
export const seccompNotify: Check = {
  name: 'seccompNotify',
  run(spec, _host, report) {
    const s = spec.linux?.seccomp;
    if (s === undefined) return;
    let notify = false;
    if (s.defaultAction === 'SCMP_ACT_NOTIFY') {
      notify = true;
      report.error('/linux/seccomp/defaultAction', 'SCMP_ACT_NOTIFY cannot be the default action');
    }
    for (const [i, rule] of entries(s.syscalls)) {
      if (rule.action !== 'SCMP_ACT_NOTIFY') continue;
      notify = true;
      for (const [j, name] of entries(rule.names)) {
        if (name === 'write') report.error(pointer('linux', 'seccomp', 'syscalls', i, 'names', j), 'SCMP_ACT_NOTIFY cannot be used for write');
      }
    }
    const listener = s.listenerPath ?? '';
    if (notify && listener === '') {
      report.error('/linux/seccomp/listenerPath', 'SCMP_ACT_NOTIFY needs a listenerPath to send the notify fd to');
    } else if (!notify && listener !== '') {
      report.warn('/linux/seccomp/listenerPath', 'listenerPath is ignored: no rule uses SCMP_ACT_NOTIFY');
    }
  },
};
