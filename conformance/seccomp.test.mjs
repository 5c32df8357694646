// @ts-check
// config-linux.md#seccomp: rules with SCMP_ACT_ERRNO (default and explicit
// errnoRet), argument conditions and SCMP_ACT_KILL.
import { area } from './lib/kit.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('seccomp');

const MKDIR = 'mkdir /tmp/d 2>&1 && echo mkdir-ok; echo after';

req(
  {
    id: 'errno-default-eperm',
    section: 'config-linux.md#seccomp',
    title: 'an SCMP_ACT_ERRNO rule without errnoRet fails the syscall with EPERM',
    quote: '"errnoRet (uint, OPTIONAL) - the errno return code to use. ... The default is EPERM."',
  },
  async (t, k) => {
    const cfg = k.config({ script: MKDIR });
    cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    const out = await k.mustRun(cfg);
    t.match(out, /Operation not permitted/, 'mkdir fails with EPERM');
    t.notMatch(out, /mkdir-ok/, 'the directory was not created');
    t.match(out, /after/, 'other syscalls still work');
  },
);

req(
  {
    id: 'errno-ret',
    section: 'config-linux.md#seccomp',
    title: 'errnoRet is the errno the syscall fails with',
    quote: '"errnoRet (uint, OPTIONAL) - the errno return code to use. Some actions like SCMP_ACT_ERRNO and SCMP_ACT_TRACE allow to specify the errno code to return."',
  },
  async (t, k) => {
    const cfg = k.config({ script: MKDIR });
    cfg.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
    };
    const out = await k.mustRun(cfg);
    t.match(out, /Function not implemented/, 'mkdir fails with ENOSYS (38)');
  },
);

req(
  {
    id: 'args-condition',
    section: 'config-linux.md#seccomp',
    title: 'a rule with an argument condition matches only those calls',
    quote: '"args (array of objects, OPTIONAL) - the specific syscall in seccomp. ... index ... value ... op (string, REQUIRED) - the operator for syscall arguments in seccomp."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'touch /tmp/f; chmod 700 /tmp/f && echo 700-ok; chmod 777 /tmp/f 2>&1 || echo 777-denied' });
    cfg.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0o777, op: 'SCMP_CMP_EQ' }] },
        { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 0o777, op: 'SCMP_CMP_EQ' }] },
      ],
    };
    const out = await k.mustRun(cfg);
    t.match(out, /700-ok/, 'chmod 700 is allowed');
    t.match(out, /777-denied/, 'chmod 777 is denied');
  },
);

req(
  {
    id: 'kill-action',
    section: 'config-linux.md#seccomp',
    title: 'SCMP_ACT_KILL kills the process on the syscall',
    quote: '"action (string, REQUIRED) - the action for seccomp rules. ... SCMP_ACT_KILL"',
  },
  async (t, k) => {
    // sh forks mkdir: the child dies of SIGSYS (128 + 31), the shell reports it
    const cfg = k.config({ script: 'echo before; mkdir /tmp/d; echo "status=$?"; [ -d /tmp/d ] && echo created; exit 0' });
    cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL' }] };
    const out = await k.mustRun(cfg);
    t.match(out, /status=159/, 'mkdir was killed by SIGSYS');
    t.notMatch(out, /created/, 'the directory was not created');
  },
);

/**
 * What busybox sh and echo need (not mkdir), plus what a runtime may still call
 * between loading the filter and execve (x86_64 names).
 */
const BUSYBOX_SYSCALLS = [
  'execve', 'execveat', 'brk', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'mprotect',
  'mmap', 'munmap', 'mremap', 'readlink', 'readlinkat', 'getpid', 'getppid', 'gettid', 'getuid', 'geteuid', 'getgid',
  'getegid', 'getpgrp', 'getpgid', 'setpgid', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigsuspend',
  'sigaltstack', 'write', 'writev', 'read', 'readv', 'pread64', 'exit_group', 'exit', 'fcntl', 'dup', 'dup2', 'dup3',
  'close', 'close_range', 'ioctl', 'open', 'openat', 'stat', 'fstat', 'lstat', 'newfstatat', 'statx', 'getcwd',
  'chdir', 'wait4', 'waitid', 'clone', 'clone3', 'fork', 'vfork', 'pipe', 'pipe2', 'lseek', 'access', 'faccessat',
  'faccessat2', 'getrandom', 'futex', 'kill', 'tgkill', 'getdents64', 'sysinfo', 'times', 'getrusage', 'clock_gettime',
  'gettimeofday', 'nanosleep', 'clock_nanosleep', 'umask', 'poll', 'ppoll', 'select', 'pselect6', 'madvise',
  'statfs', 'fstatfs', 'fchdir', 'prctl', 'sched_yield', 'sched_getaffinity', 'epoll_create1', 'epoll_ctl',
  'epoll_pwait', 'epoll_wait', 'eventfd2', 'getsockopt', 'capget', 'capset', 'setgroups', 'setresuid', 'setresgid',
  'sendmsg', 'recvmsg', 'socketpair',
];

req(
  {
    id: 'default-action',
    section: 'config-linux.md#seccomp',
    title: 'defaultAction (with defaultErrnoRet) applies to syscalls no rule matches',
    quote: '"defaultAction (string, REQUIRED) - the default action for seccomp." "defaultErrnoRet (uint, OPTIONAL) - the errno return code to use."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'echo start; mkdir /tmp/d 2>&1; echo done' });
    cfg.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [{ names: BUSYBOX_SYSCALLS, action: 'SCMP_ACT_ALLOW' }],
    };
    const out = await k.mustRun(cfg);
    t.match(out, /^start\n/, 'allowed syscalls work');
    t.match(out, /Function not implemented/, 'mkdir (not allowed) failed with defaultErrnoRet ENOSYS (38)');
    t.match(out, /done\n$/, 'the process went on');
  },
);

req(
  {
    id: 'invalid-action',
    section: 'config.md#valid-values',
    title: 'an unknown seccomp action is an error',
    quote: '"Runtimes MUST generate an error when invalid or unsupported values are encountered."',
  },
  async (t, k) => {
    // control: the same filter with a valid action
    const control = k.config({ script: 'true' });
    control.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NO_SUCH_ACTION' }] };
    await k.expectCreateFails(control, cfg, 'seccomp action SCMP_ACT_NO_SUCH_ACTION');
  },
);
