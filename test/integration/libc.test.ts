// native/libc.ts against the real C library: fds, unix sockets with SCM_RIGHTS, flock, pidfds,
// waitid. Runs as any user on Linux (nothing here needs root).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyscallError } from '../../src/errors.js';
import { LOCK, O, PR, SIG, WAIT } from '../../native/constants.js';
import * as libc from '../../native/libc.js';

/** Whether koffi's addon is mapped into this process (native/koffi.ts dlopens it, no require()). */
const koffiMapped = (): boolean => readFileSync('/proc/self/maps', 'utf8').includes('/koffi.node');
const loadedKoffiAtImport = koffiMapped();

function thrown(f: () => unknown): SyscallError {
  try {
    f();
  } catch (e) {
    if (e instanceof SyscallError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe.skipIf(process.platform !== 'linux')('libc bindings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsrun-libc-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('does not load koffi on import', () => {
    expect(loadedKoffiAtImport).toBe(false);
  });

  it('pipes, writes, reads, polls', () => {
    const [r, w] = libc.pipe();
    try {
      expect(libc.waitReadable(r, 0)).toBe(false);
      expect(libc.poll([{ fd: r, events: 1 }], 20)).toBeNull();
      libc.write(w, 'hello ');
      libc.write(w, new TextEncoder().encode('world'));
      expect(libc.waitReadable(r, 1000)).toBe(true);
      expect(libc.readFull(r, 6).toString()).toBe('hello ');
      libc.close(w);
      expect(libc.readAll(r).toString()).toBe('world');
      expect(libc.read(r, 10).length).toBe(0);
    } finally {
      libc.close(r);
    }
  });

  it('writes more than a pipe buffer in full', () => {
    const [a, b] = libc.socketpair();
    try {
      const big = Buffer.alloc(1 << 20, 7);
      // The reader runs in another process; the writer loops over short writes.
      const reader = spawn('sh', ['-c', 'wc -c <&3'], { stdio: ['ignore', 'pipe', 'inherit', b] });
      libc.close(b);
      let out = '';
      reader.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      libc.sendAll(a, big);
      libc.close(a);
      return new Promise<void>((resolve) =>
        reader.on('close', () => {
          expect(out.trim()).toBe(String(1 << 20));
          resolve();
        }),
      );
    } catch (e) {
      libc.close(a);
      throw e;
    }
  });

  it('passes an fd with data over a unix socket, and sees EOF', () => {
    const [a, b] = libc.socketpair();
    const [r, w] = libc.pipe();
    try {
      libc.sendWithFd(a, Buffer.from('take this'), w);
      const got = libc.recvWithFd(b, 64);
      expect(got.data.toString()).toBe('take this');
      expect(got.fd).not.toBeNull();
      libc.write(got.fd as number, 'through the copy');
      libc.close(got.fd as number);
      libc.close(w);
      expect(libc.readAll(r).toString()).toBe('through the copy');
      libc.sendWithFd(a, Buffer.from('no fd'));
      expect(libc.recvWithFd(b, 64)).toEqual({ data: Buffer.from('no fd'), fd: null });
      libc.close(a);
      expect(libc.recvWithFd(b, 64).data.length).toBe(0);
    } finally {
      libc.close(b);
      libc.close(r);
    }
  });

  it('reports EPIPE on a socket whose peer is gone, without SIGPIPE', () => {
    const [a, b] = libc.socketpair();
    libc.close(b);
    try {
      const e = thrown(() => libc.sendAll(a, Buffer.from('x'), 'the test socket'));
      expect(e.errnoName).toBe('EPIPE');
      expect(e.message).toBe('send the test socket: EPIPE (Broken pipe)');
      expect(thrown(() => libc.sendWithFd(a, Buffer.from('x'), 0)).errnoName).toBe('EPIPE');
    } finally {
      libc.close(a);
    }
  });

  it('throws SyscallError with the call, errno name and path', () => {
    const e = thrown(() => libc.open('/nonexistent/tsrun', O.O_RDONLY));
    expect(e.syscall).toBe('open');
    expect(e.errno).toBe(2);
    expect(e.errnoName).toBe('ENOENT');
    expect(e.path).toBe('/nonexistent/tsrun');
    expect(e.message).toBe('open /nonexistent/tsrun: ENOENT (No such file or directory)');
    expect(thrown(() => libc.close(1 << 20)).errnoName).toBe('EBADF');
    expect(thrown(() => libc.prctl(99999)).errnoName).toBe('EINVAL');
  });

  it('flock: exclusive, shared, non-blocking', () => {
    const path = join(dir, 'lock');
    writeFileSync(path, '');
    const a = libc.open(path);
    const b = libc.open(path);
    try {
      expect(libc.flock(a, LOCK.LOCK_EX | LOCK.LOCK_NB, path)).toBe(true);
      expect(libc.flock(b, LOCK.LOCK_EX | LOCK.LOCK_NB, path)).toBe(false);
      expect(libc.flock(b, LOCK.LOCK_SH | LOCK.LOCK_NB, path)).toBe(false);
      expect(libc.flock(a, LOCK.LOCK_UN, path)).toBe(true);
      expect(libc.flock(b, LOCK.LOCK_SH | LOCK.LOCK_NB, path)).toBe(true);
      expect(libc.flock(a, LOCK.LOCK_SH | LOCK.LOCK_NB, path)).toBe(true);
      expect(libc.flock(a, LOCK.LOCK_EX | LOCK.LOCK_NB, path)).toBe(false);
      expect(thrown(() => libc.flock(1 << 20, LOCK.LOCK_EX, path)).message).toBe(`flock ${path}: EBADF (Bad file descriptor)`);
    } finally {
      libc.close(a);
      libc.close(b);
    }
  });

  it('pidfd: signals and waits (exit code and signal), without reaping when asked', async () => {
    const sleeper = spawn('sleep', ['100'], { stdio: 'ignore' });
    const exiter = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    const sleeperExit = new Promise((resolve) => sleeper.on('exit', (code, signal) => resolve({ code, signal })));
    const pidfd = libc.pidfdOpen(sleeper.pid as number);
    const pidfd2 = libc.pidfdOpen(exiter.pid as number);
    try {
      libc.kill(sleeper.pid as number, 0);
      expect(libc.waitPidfd(pidfd, WAIT.WEXITED | WAIT.WNOHANG | WAIT.WNOWAIT)).toBeNull();
      libc.pidfdSendSignal(pidfd, SIG.SIGTERM);
      expect(libc.poll([{ fd: pidfd, events: 1 }], 5000)).not.toBeNull();
      expect(libc.waitPidfd(pidfd, WAIT.WEXITED | WAIT.WNOWAIT)).toEqual({
        pid: sleeper.pid,
        code: WAIT.CLD_KILLED,
        exitCode: null,
        signal: SIG.SIGTERM,
      });
      expect(libc.poll([{ fd: pidfd2, events: 1 }], 5000)).not.toBeNull();
      expect(libc.waitPidfd(pidfd2, WAIT.WEXITED | WAIT.WNOWAIT)).toEqual({
        pid: exiter.pid,
        code: WAIT.CLD_EXITED,
        exitCode: 3,
        signal: null,
      });
      // WNOWAIT left them to Node, which still sees the real statuses.
      expect(await sleeperExit).toEqual({ code: null, signal: 'SIGTERM' });
      expect(thrown(() => libc.pidfdSendSignal(pidfd, SIG.SIGTERM)).errnoName).toBe('ESRCH');
    } finally {
      libc.close(pidfd);
      libc.close(pidfd2);
    }
    expect(thrown(() => libc.kill(0x3fffffff, 0)).errnoName).toBe('ESRCH');
  });

  it('waitid reaps a child of ours that Node does not know', () => {
    // The process the shell forks is orphaned when the shell exits; as subreaper we collect it.
    libc.prctl(PR.PR_SET_CHILD_SUBREAPER, 1);
    try {
      const [r, w] = libc.pipe();
      const sh = spawn('sh', ['-c', '(sleep 0.05; exit 7) & echo $! >&3'], { stdio: ['ignore', 'ignore', 'inherit', w] });
      libc.close(w);
      const pid = Number(libc.readAll(r).toString().trim());
      libc.close(r);
      const fd = libc.pidfdOpen(pid);
      try {
        expect(libc.waitPidfd(fd, WAIT.WEXITED)).toMatchObject({ pid, exitCode: 7 });
      } finally {
        libc.close(fd);
      }
      sh.unref();
    } finally {
      libc.prctl(PR.PR_SET_CHILD_SUBREAPER, 0);
    }
  });

  it('has loaded koffi by now (the check above is not vacuous)', () => {
    expect(koffiMapped()).toBe(true);
  });

  it('fcntl and dup', () => {
    const fd = libc.open('/dev/null', O.O_RDONLY);
    const copy = libc.dup(fd);
    try {
      libc.setCloexec(fd, true);
      expect(libc.fcntl(fd, 1) & 1).toBe(1);
      libc.setCloexec(fd, false);
      expect(libc.fcntl(fd, 1) & 1).toBe(0);
      expect(libc.fcntl(copy, 1) & 1).toBe(0);
    } finally {
      libc.close(fd);
      libc.close(copy);
    }
  });
  it('spawn: maps fds even when targets and sources cross, resets signals, passes argv and env, reports exec errors', () => {
    const [ar, aw] = libc.pipe();
    const [br, bw] = libc.pipe();
    // Node ignores SIGPIPE: the child must start with it at its default, and nothing blocked.
    const script = 'echo "$0 $FOO"; grep -E "^Sig(Blk|Ign)" /proc/self/status >&2';
    const pid = libc.spawn({ path: '/bin/sh', argv: ['sh', '-c', script], env: ['FOO=bar'], fds: [0, bw, aw] });
    const pidfd = libc.pidfdOpen(pid);
    libc.close(aw);
    libc.close(bw);
    const status = libc.waitPidfd(pidfd, WAIT.WEXITED);
    libc.close(pidfd);
    expect(status?.exitCode).toBe(0);
    expect(libc.readAll(br).toString()).toBe('sh bar\n');
    const masks = Object.fromEntries(
      libc
        .readAll(ar)
        .toString()
        .trim()
        .split('\n')
        .map((l) => l.split(/:\s+/) as [string, string]),
    );
    expect(BigInt(`0x${masks.SigBlk}`)).toBe(0n);
    expect(BigInt(`0x${masks.SigIgn}`) & (1n << BigInt(SIG.SIGPIPE - 1))).toBe(0n);
    libc.close(ar);
    libc.close(br);
    const e = thrown(() => libc.spawn({ path: join(dir, 'no-such-program'), argv: ['x'], env: [], fds: [0, 1, 2] }));
    expect(e.errnoName).toBe('ENOENT');
  });
});
