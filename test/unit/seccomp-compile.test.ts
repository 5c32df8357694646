// linux.seccomp compiled by libseccomp: the BPF it exports is run by a small
// classic-BPF interpreter on (arch, syscall, args) tuples, and the verdicts are
// checked, never the bytes (libseccomp may lay a program out differently from
// one version to the next). Any user; needs libseccomp.so.2 (skipped without).
import { describe, expect, it } from 'vitest';
import { AUDIT_ARCH, SECCOMP } from '../../native/constants.js';
import { kernelAcceptsFilterFlags, libseccompAvailable, resolveSyscall } from '../../native/seccomp.js';
import { UnsupportedError } from '../../src/errors.js';
import { compileSeccomp, containerProcessState } from '../../src/lifecycle/seccomp.js';
import type { LinuxSeccomp } from '../../src/spec/types.js';
import { runSeccompBpf } from '../helpers/cbpf.js';

const have = libseccompAvailable();
const x64 = process.arch === 'x64';
const NATIVE = x64 ? AUDIT_ARCH.AUDIT_ARCH_X86_64 : AUDIT_ARCH.AUDIT_ARCH_AARCH64;

const ALLOW = SECCOMP.SECCOMP_RET_ALLOW;
const ERRNO = (e: number): number => (SECCOMP.SECCOMP_RET_ERRNO | e) >>> 0;
const KILL_THREAD = SECCOMP.SECCOMP_RET_KILL_THREAD;

function nr(name: string): number {
  const n = resolveSyscall(name);
  if (n === undefined) throw new Error(`libseccomp does not know ${name}`);
  return n;
}

function verdicts(s: LinuxSeccomp): (name: string, args?: (number | bigint)[], arch?: number) => number {
  const { compiled } = compileSeccomp(s);
  return (name, args = [], arch = NATIVE) => runSeccompBpf(compiled.bpf, { nr: nr(name), arch, args });
}

describe.skipIf(!have)('seccomp compile (libseccomp) and verdicts (classic BPF interpreter)', () => {
  it('an ERRNO rule without errnoRet returns EPERM; other syscalls get the default action', () => {
    const v = verdicts({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'getpid'], action: 'SCMP_ACT_ERRNO' }] });
    expect(v('mkdirat')).toBe(ERRNO(1));
    expect(v('getpid')).toBe(ERRNO(1));
    expect(v('read')).toBe(ALLOW);
  });

  it('errnoRet and defaultErrnoRet', () => {
    const v = verdicts({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      ],
    });
    expect(v('read')).toBe(ALLOW);
    expect(v('getpid')).toBe(ERRNO(13));
    expect(v('mkdirat')).toBe(ERRNO(38));
  });

  it('maps every action to its SECCOMP_RET_* value (KILL is KILL_THREAD, TRACE without errnoRet carries EPERM)', () => {
    const actions = [
      ['SCMP_ACT_KILL', 'getpid', KILL_THREAD],
      ['SCMP_ACT_KILL_THREAD', 'getppid', KILL_THREAD],
      ['SCMP_ACT_KILL_PROCESS', 'getuid', SECCOMP.SECCOMP_RET_KILL_PROCESS >>> 0],
      ['SCMP_ACT_TRAP', 'geteuid', SECCOMP.SECCOMP_RET_TRAP],
      ['SCMP_ACT_TRACE', 'getgid', (SECCOMP.SECCOMP_RET_TRACE | 1) >>> 0],
      ['SCMP_ACT_LOG', 'getegid', SECCOMP.SECCOMP_RET_LOG],
      ['SCMP_ACT_NOTIFY', 'gettid', SECCOMP.SECCOMP_RET_USER_NOTIF],
    ] as const;
    const s: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/run/agent.sock',
      syscalls: actions.map(([action, name]) => ({ names: [name], action })),
    };
    const v = verdicts(s);
    for (const [action, name, want] of actions) expect(v(name), action).toBe(want);
    expect(v('read')).toBe(ALLOW);
  });

  it('argument conditions: every operator, 64-bit values, and MASKED_EQ (value is the mask, valueTwo the result)', () => {
    const v = verdicts({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 0o777, op: 'SCMP_CMP_EQ' }] },
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_NE' }] },
        { names: ['dup3'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 100, op: 'SCMP_CMP_GT' }] },
        { names: ['dup'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 100, op: 'SCMP_CMP_GE' }] },
        { names: ['close'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 3, op: 'SCMP_CMP_LT' }] },
        { names: ['lseek'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 2 ** 40, op: 'SCMP_CMP_LE' }] },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xff, valueTwo: 0x08, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    });
    expect(v('fchmodat', [0, 0, 0o777])).toBe(ERRNO(1));
    expect(v('fchmodat', [0, 0, 0o700])).toBe(ALLOW);
    expect(v('kill', [1, 15])).toBe(ERRNO(1));
    expect(v('kill', [1, 9])).toBe(ALLOW);
    expect(v('dup3', [101])).toBe(ERRNO(1));
    expect(v('dup3', [100])).toBe(ALLOW);
    expect(v('dup', [100])).toBe(ERRNO(1));
    expect(v('dup', [99])).toBe(ALLOW);
    expect(v('close', [2])).toBe(ERRNO(1));
    expect(v('close', [3])).toBe(ALLOW);
    expect(v('lseek', [0, 2n ** 40n])).toBe(ERRNO(1));
    expect(v('lseek', [0, 2n ** 40n + 1n])).toBe(ALLOW);
    // the high word matters: 2^32 + 5 is not <= 5
    expect(v('lseek', [0, 2n ** 32n])).toBe(ERRNO(1));
    expect(v('personality', [0x0008])).toBe(ERRNO(1));
    expect(v('personality', [0x2008])).toBe(ERRNO(1));
    expect(v('personality', [0x0009])).toBe(ALLOW);
  });

  it('two conditions on different arguments must both hold; on the same argument either may (runc)', () => {
    const v = verdicts({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['socket'],
          action: 'SCMP_ACT_ERRNO',
          args: [
            { index: 0, value: 16, op: 'SCMP_CMP_EQ' },
            { index: 2, value: 9, op: 'SCMP_CMP_EQ' },
          ],
        },
        {
          names: ['kill'],
          action: 'SCMP_ACT_ERRNO',
          args: [
            { index: 1, value: 9, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 19, op: 'SCMP_CMP_EQ' },
          ],
        },
      ],
    });
    expect(v('socket', [16, 3, 9])).toBe(ERRNO(1));
    expect(v('socket', [16, 3, 0])).toBe(ALLOW);
    expect(v('socket', [2, 3, 9])).toBe(ALLOW);
    expect(v('kill', [1, 9])).toBe(ERRNO(1));
    expect(v('kill', [1, 19])).toBe(ERRNO(1));
    expect(v('kill', [1, 15])).toBe(ALLOW);
  });

  it('architectures: listed ones get the same rules in their own numbering; others hit the bad-arch action', () => {
    if (!x64) return;
    const s: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }] };
    const { compiled } = compileSeccomp(s);
    const i386 = AUDIT_ARCH.AUDIT_ARCH_I386;
    expect(runSeccompBpf(compiled.bpf, { nr: 39, arch: NATIVE })).toBe(ERRNO(1)); // x86_64 getpid
    expect(runSeccompBpf(compiled.bpf, { nr: 20, arch: i386 })).toBe(ERRNO(1)); // i386 getpid
    expect(runSeccompBpf(compiled.bpf, { nr: 39, arch: i386 })).toBe(ALLOW); // i386 39 is mkdir
    const nativeOnly = compileSeccomp({ ...s, architectures: [] }).compiled;
    expect(runSeccompBpf(nativeOnly.bpf, { nr: 20, arch: i386 })).toBe(KILL_THREAD);
  });

  it('skips syscalls libseccomp does not know with one note, and rules equal to the default action', () => {
    const r = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['getpid', 'no_such_syscall', 'another_one'], action: 'SCMP_ACT_ERRNO' },
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      ],
    });
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(/skipped 2 syscalls libseccomp \d+\.\d+\.\d+ does not know: no_such_syscall, another_one/);
    expect(runSeccompBpf(r.compiled.bpf, { nr: nr('getpid'), arch: NATIVE })).toBe(ERRNO(1));
  });

  it('a long profile (optimised into a tree by libseccomp) keeps its verdicts', () => {
    const names = ['read', 'write', 'openat', 'close', 'fstat', 'lseek', 'mmap', 'mprotect', 'munmap', 'brk', 'rt_sigaction', 'rt_sigprocmask', 'ioctl', 'pread64', 'pwrite64', 'readv', 'writev', 'pipe2', 'dup', 'dup3', 'nanosleep', 'getpid', 'socket', 'connect', 'accept4', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'shutdown', 'bind', 'listen', 'getsockname', 'getpeername', 'clone', 'execve', 'exit', 'wait4', 'kill', 'uname', 'fcntl', 'flock', 'fsync', 'getcwd', 'chdir', 'fchdir', 'exit_group'];
    const v = verdicts({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: names.map((n) => ({ names: [n], action: 'SCMP_ACT_ALLOW' as const })) });
    for (const n of names) expect(v(n), n).toBe(ALLOW);
    expect(v('mkdirat')).toBe(ERRNO(1));
    expect(v('unshare')).toBe(ERRNO(1));
  });

  it('load flags: LOG and SPEC_ALLOW pass through; NEW_LISTENER with NOTIFY; TSYNC and a listener-less WAIT_KILLABLE_RECV are dropped with a note', () => {
    const plain = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] });
    expect(plain.compiled.flags).toBe(SECCOMP.SECCOMP_FILTER_FLAG_LOG | SECCOMP.SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    expect(plain.compiled.listener).toBe(false);
    expect(plain.notes.join('\n')).toMatch(/SECCOMP_FILTER_FLAG_TSYNC is ignored/);
    const noListener = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] });
    expect(noListener.compiled.flags).toBe(0);
    expect(noListener.notes.join('\n')).toMatch(/WAIT_KILLABLE_RECV is ignored: no rule uses SCMP_ACT_NOTIFY/);
    const notify: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/x',
      flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    };
    if (kernelAcceptsFilterFlags(SECCOMP.SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
      const n = compileSeccomp(notify);
      expect(n.compiled.listener).toBe(true);
      expect(n.compiled.flags).toBe(SECCOMP.SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    } else {
      expect(() => compileSeccomp(notify)).toThrow(/\/linux\/seccomp\/flags\/0: the running kernel does not support SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV/);
    }
  });

  it('refuses what cannot work, naming the field', () => {
    const bad = (s: LinuxSeccomp, re: RegExp): void => {
      expect(() => compileSeccomp(s)).toThrow(UnsupportedError);
      expect(() => compileSeccomp(s)).toThrow(re);
    };
    bad({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x', syscalls: [{ names: ['read', 'sendmsg'], action: 'SCMP_ACT_NOTIFY' }] }, /\/linux\/seccomp\/syscalls\/0\/names\/1: SCMP_ACT_NOTIFY cannot be used for sendmsg/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] }, /\/linux\/seccomp\/syscalls\/0\/action: errno 70000 does not fit/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] as unknown as LinuxSeccomp['architectures'] }, /\/linux\/seccomp\/architectures\/0: SCMP_ARCH_VAX is not an architecture libseccomp/);
  });

  it('the state sent to a seccomp agent follows "The Container Process State"', () => {
    const state = { ociVersion: '1.3.0', id: 'c', status: 'creating', pid: 42, bundle: '/b' } as const;
    expect(containerProcessState({ defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'hello' }, state as never)).toEqual({
      ociVersion: '1.3.0',
      fds: ['seccompFd'],
      pid: 42,
      metadata: 'hello',
      state,
    });
    expect(containerProcessState({ defaultAction: 'SCMP_ACT_ALLOW' }, state as never)).not.toHaveProperty('metadata');
  });
});
