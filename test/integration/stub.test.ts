// tsrun-stub end to end: real programs, real namespaces. Needs root (namespaces, mount,
// sethostname) and the stub binary (`node scripts/build-stub.mjs`).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AT, CLONE, F, MS, O, PR, SIG, WAIT } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { fdPath, flags, imm, nul, ProgramBuilder, str } from '../../native/program.js';
import { startStub, stubPath, type StubExit, type StubMessage, type StubSession } from '../../native/stub.js';
import { EXIT, FORMAT } from '../../native/stub-protocol.js';

const isRoot = process.getuid?.() === 0;
const haveStub = existsSync(stubPath());
const reason = !isRoot ? 'needs root (namespaces, mount, sethostname)' : 'native/stub/tsrun-stub is not built (node scripts/build-stub.mjs)';
const T = 10_000;

interface Run {
  messages: StubMessage[];
  stdout: string;
  stderr: string;
  exit: StubExit | null;
}

type OnSync = (m: Extract<StubMessage, { kind: 'sync' }>, s: StubSession) => void;

/** Run a program to its end (eof), answering syncs with `onSync` (default: reply OK). */
function run(program: Uint8Array, opts: { preservedFds?: number[]; onSync?: OnSync } = {}): Run {
  const [outR, outW] = libc.pipe();
  const [errR, errW] = libc.pipe();
  let s: StubSession;
  try {
    s = startStub({ stdio: ['ignore', outW, errW], preservedFds: opts.preservedFds ?? [], program });
  } finally {
    libc.close(outW);
    libc.close(errW);
  }
  const messages: StubMessage[] = [];
  try {
    for (;;) {
      const m = s.next(T);
      messages.push(m);
      if (m.kind === 'eof') break;
      if (m.kind === 'child-pid') reapLater(m.pid);
      if (m.kind === 'sync') (opts.onSync ?? ((_, ss) => ss.reply()))(m, s);
    }
    const exit = s.wait(T);
    // Every writer of the pipes is gone once the stub and its children exited or exec'd and exited.
    reapAll();
    const stdout = libc.readAll(outR).toString();
    const stderr = libc.readAll(errR).toString();
    return { messages, stdout, stderr, exit };
  } finally {
    s.kill(SIG.SIGKILL);
    s.close();
    libc.close(outR);
    libc.close(errR);
  }
}

// Processes forked by the stub outlive it; the test process is their subreaper and reaps them
// (PID 1 of this machine does not reap orphans).
const forked: number[] = [];
function reapLater(pid: number): void {
  forked.push(pid);
}
function reapAll(): void {
  while (forked.length) {
    const pid = forked.pop() as number;
    let fd: number;
    try {
      fd = libc.pidfdOpen(pid);
    } catch {
      continue; // already reaped
    }
    try {
      if (libc.poll([{ fd, events: 1 }], T) === null) libc.pidfdSendSignal(fd, SIG.SIGKILL);
      libc.waitPidfd(fd, WAIT.WEXITED);
    } catch {
      // not our child (it was reaped elsewhere)
    } finally {
      libc.close(fd);
    }
  }
}

function kinds(r: Run): string[] {
  return r.messages.map((m) => m.kind);
}

describe.skipIf(!isRoot || !haveStub)(`tsrun-stub (${isRoot && haveStub ? 'root' : reason})`, () => {
  let dir: string;
  beforeAll(() => {
    libc.prctl(PR.PR_SET_CHILD_SUBREAPER, 1);
    dir = mkdtempSync(join(tmpdir(), 'tsrun-stub-test-'));
  });
  afterAll(() => {
    reapAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('(a) unshares uts + mount namespaces, sets the hostname and execs a shell', () => {
    const before = hostname();
    const name = `tsrun-${process.pid}`;
    const b = new ProgramBuilder();
    b.syscall('unshare', [flags(CLONE, 'CLONE_NEWUTS', 'CLONE_NEWNS')]);
    b.syscall('sethostname', [str(name), name.length], { label: `set hostname ${name}` });
    b.execve('/bin/sh', ['sh', '-c', 'hostname'], ['PATH=/usr/bin:/bin']);
    const r = run(b.encode());
    expect(r.stderr).toBe('');
    expect(kinds(r)).toEqual(['eof']);
    expect(r.stdout).toBe(`${name}\n`);
    expect(r.exit).toEqual({ exitCode: 0, signal: null });
    expect(hostname()).toBe(before);
  });

  it('(b) reports a failing op by index and errno; a tolerated errno goes on with -errno', () => {
    const b = new ProgramBuilder();
    const r0 = b.reg();
    b.syscall('unshare', [flags(CLONE, 'CLONE_NEWNS')]);
    b.syscall('mkdirat', [flags(AT, 'AT_FDCWD'), str('/tmp'), 0o755], { result: r0, okErrnos: ['EEXIST'], label: 'mkdir /tmp' });
    b.sync(5, r0);
    const failing = b.syscall('mount', [str('/nonexistent/tsrun-src'), str('/tmp'), nul(), flags(MS, 'MS_BIND'), nul()], {
      label: 'bind /nonexistent/tsrun-src on /tmp',
    });
    b.execve('/bin/true', ['true'], []);
    const r = run(b.encode());
    expect(r.messages).toEqual([
      { kind: 'sync', opIndex: 2, code: 5, value: -17, fd: null },
      { kind: 'error', opIndex: failing, errno: 2, errnoName: 'ENOENT' },
      { kind: 'eof' },
    ]);
    expect(r.exit).toEqual({ exitCode: EXIT.OP_FAILED, signal: null });
    expect(r.stderr).toBe(''); // tsrun words the error, not the stub
    expect(b.errorFor(failing, 2).message).toBe('bind /nonexistent/tsrun-src on /tmp: ENOENT (No such file or directory)');
  });

  it('(b) prints the failure on stderr once the channel is closed', () => {
    const b = new ProgramBuilder();
    b.sync(1, 0, { last: true });
    b.syscall('mkdirat', [flags(AT, 'AT_FDCWD'), str('/nonexistent/a/b'), 0o755], { label: 'mkdir /nonexistent/a/b' });
    const r = run(b.encode());
    expect(kinds(r)).toEqual(['sync', 'eof']);
    expect(r.stderr).toBe('tsrun-stub: mkdir /nonexistent/a/b: ENOENT (No such file or directory)\n');
    expect(r.exit).toEqual({ exitCode: EXIT.OP_FAILED, signal: null });
  });

  it('(c) forks into a new PID namespace: CHILD_PID first, and the child is PID 1', () => {
    const b = new ProgramBuilder();
    b.syscall('unshare', [flags(CLONE, 'CLONE_NEWPID')]);
    b.fork();
    b.sync(3, 0);
    b.execve('/bin/sh', ['sh', '-c', 'echo $$'], []);
    const r = run(b.encode());
    expect(kinds(r)).toEqual(['child-pid', 'sync', 'eof']);
    const child = r.messages[0] as Extract<StubMessage, { kind: 'child-pid' }>;
    expect(child.opIndex).toBe(1);
    expect(child.pid).toBeGreaterThan(1);
    expect(r.stdout).toBe('1\n');
    expect(r.exit).toEqual({ exitCode: 0, signal: null }); // the parent side exits 0 after reporting
  });

  it('(c) forks straight into a cgroup (clone3 CLONE_INTO_CGROUP)', () => {
    // The cgroup2 hierarchy is mounted in the stub's own mount namespace: nothing of the host's
    // mounts changes; the test cgroup is removed at the end the same way.
    const mnt = join(dir, 'cgroup2');
    mkdirSync(mnt);
    const name = `tsrun-stub-test-${process.pid}`;
    const inCgroup2 = (b: ProgramBuilder) => {
      b.syscall('unshare', [flags(CLONE, 'CLONE_NEWNS')]);
      b.syscall('mount', [nul(), str('/'), nul(), flags(MS, 'MS_REC', 'MS_PRIVATE'), nul()]);
      b.syscall('mount', [str('none'), str(mnt), str('cgroup2'), 0, nul()], { label: 'mount cgroup2' });
    };
    const b = new ProgramBuilder();
    const cg = b.reg();
    inCgroup2(b);
    b.syscall('mkdirat', [flags(AT, 'AT_FDCWD'), str(`${mnt}/${name}`), 0o755], { okErrnos: ['EEXIST'] });
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(`${mnt}/${name}`), flags(O, 'O_RDONLY', 'O_DIRECTORY', 'O_CLOEXEC'), 0], {
      result: cg,
    });
    b.fork({ cgroupFd: cg });
    b.execve('/bin/cat', ['cat', '/proc/self/cgroup'], []);
    try {
      const r = run(b.encode());
      expect(r.stderr).toBe('');
      expect(kinds(r)).toEqual(['child-pid', 'eof']);
      expect(r.stdout.split('\n')).toContain(`0::/${name}`);
    } finally {
      const c = new ProgramBuilder();
      inCgroup2(c);
      c.syscall('unlinkat', [flags(AT, 'AT_FDCWD'), str(`${mnt}/${name}`), flags(AT, 'AT_REMOVEDIR')], { okErrnos: ['ENOENT'] });
      expect(kinds(run(c.encode()))).toEqual(['done', 'eof']);
    }
  });

  it('(d) sync round-trips values, and fds both ways', () => {
    const [pr, pw] = libc.pipe();
    const [sockA, sockB] = libc.socketpair();
    try {
      const b = new ProgramBuilder();
      const v = b.reg();
      const wfd = b.reg();
      const hostFd = b.reg();
      b.sync(7, imm(42), { result: v, label: 'first' });
      b.sync(8, v);
      b.sync(9, 0, { result: wfd });
      b.syscall('write', [wfd, str('hello'), 5]);
      b.syscall('close', [wfd]);
      b.syscall('openat', [flags(AT, 'AT_FDCWD'), str('/etc/hostname'), flags(O, 'O_RDONLY', 'O_CLOEXEC'), 0], { result: hostFd });
      b.sync(10, hostFd, { sendFd: true });
      b.sendFd(3, hostFd, { payload: '/etc/hostname' }); // over the preserved socket, to tsrun
      const seen: { code: number; value: number; fd: number | null }[] = [];
      let received = '';
      const r = run(b.encode(), {
        preservedFds: [sockB],
        onSync: (m, s) => {
          seen.push({ code: m.code, value: m.value, fd: m.fd === null ? null : -1 });
          if (m.code === 7) s.reply(0, 99);
          else if (m.code === 9) s.reply(0, 0, pw);
          else if (m.code === 10 && m.fd !== null) {
            received = libc.readAll(m.fd).toString();
            libc.close(m.fd);
            s.reply();
          } else s.reply();
        },
      });
      expect(seen).toEqual([
        { code: 7, value: 42, fd: null },
        { code: 8, value: 99, fd: null },
        { code: 9, value: 0, fd: null },
        { code: 10, value: expect.any(Number), fd: -1 },
      ]);
      expect(kinds(r).slice(-2)).toEqual(['done', 'eof']);
      expect(r.exit).toEqual({ exitCode: 0, signal: null });
      libc.close(pw);
      expect(libc.readAll(pr).toString()).toBe('hello');
      expect(received).toBe(readFileSync('/etc/hostname', 'utf8'));
      const got = libc.recvWithFd(sockA, 64);
      expect(got.data.toString()).toBe('/etc/hostname');
      expect(got.fd).not.toBeNull();
      // The same open file as above (whose offset is at its end by now): reopen it through /proc.
      expect(readFileSync(`/proc/self/fd/${got.fd}`, 'utf8')).toBe(readFileSync('/etc/hostname', 'utf8'));
      libc.close(got.fd as number);
    } finally {
      libc.close(pr);
      libc.close(sockA);
      libc.close(sockB);
    }
  });

  it('(d) a non-zero reply status makes the stub exit quietly', () => {
    const b = new ProgramBuilder();
    b.sync(1);
    b.execve('/bin/echo', ['echo', 'should not run'], []);
    const r = run(b.encode(), { onSync: (_, s) => s.reply(1) });
    expect(kinds(r)).toEqual(['sync', 'eof']);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(r.exit).toEqual({ exitCode: EXIT.ABORTED, signal: null });
  });

  it('(e) mounts and opens through /proc/self/fd/<register>', () => {
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    mkdirSync(src);
    mkdirSync(dst);
    writeFileSync(join(src, 'file'), 'from-src\n');
    const b = new ProgramBuilder();
    const rs = b.reg();
    const rd = b.reg();
    const rf = b.reg();
    const oPath = flags(O, 'O_PATH', 'O_DIRECTORY', 'O_CLOEXEC');
    b.syscall('unshare', [flags(CLONE, 'CLONE_NEWNS')]);
    b.syscall('mount', [nul(), str('/'), nul(), flags(MS, 'MS_REC', 'MS_PRIVATE'), nul()]);
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(src), oPath, 0], { result: rs });
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(dst), oPath, 0], { result: rd });
    b.syscall('mount', [fdPath(rs), fdPath(rd), nul(), flags(MS, 'MS_BIND'), nul()], { label: 'bind src on dst' });
    b.syscall('chdir', [fdPath(rs)]);
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str('written'), flags(O, 'O_WRONLY', 'O_CREAT', 'O_CLOEXEC'), 0o644], { result: rf });
    b.syscall('write', [rf, str('via-fdpath'), 10]);
    b.syscall('chdir', [str(dst)]);
    b.execve('/bin/cat', ['cat', 'file'], []);
    const r = run(b.encode());
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from-src\n');
    expect(readFileSync(join(src, 'written'), 'utf8')).toBe('via-fdpath');
    expect(readdirSync(dst)).toEqual([]); // the bind mount stayed in the stub's namespace
  });

  describe('(f) malformed programs are rejected before anything runs', () => {
    function valid(): Uint8Array {
      const b = new ProgramBuilder();
      const r = b.reg();
      b.syscall('write', [1, str('ran\n'), 4], { result: r });
      b.execve('/bin/echo', ['echo', 'ran too'], ['A=b']);
      return b.encode();
    }
    const ops = FORMAT.HEADER_SIZE;
    const cases: [string, (p: Uint8Array, dv: DataView) => Uint8Array, RegExp][] = [
      ['garbage', () => new TextEncoder().encode('this is not a program at all!'), /bad magic/],
      ['bad version', (p, dv) => (dv.setUint16(4, 99, true), p), /version 99/],
      ['truncated', (p) => p.subarray(0, p.length - 3), /size/],
      ['register out of range', (p, dv) => (dv.setUint8(ops + 2, 16), p), /op 0: result register 16/],
      ['unknown op code', (p, dv) => (dv.setUint16(ops + FORMAT.OP_SIZE, 77, true), p), /op 1: unknown op code 77/],
      ['unknown argument kind', (p, dv) => (dv.setUint8(ops + 22 + 1, 9), p), /op 0: argument 1: unknown kind 9/],
      ['data argument out of bounds', (p, dv) => (dv.setBigInt64(ops + 32 + 8, 1n << 40n, true), p), /op 0: argument 1 points outside/],
      [
        'relocation out of bounds',
        (p, dv) => (dv.setUint32(p.length - 4, dv.getUint32(16, true), true), p),
        /relocation \d+ outside the data/,
      ],
    ];
    for (const [name, mutate, message] of cases) {
      it(name, () => {
        const p = new Uint8Array(valid());
        const bad = mutate(p, new DataView(p.buffer, p.byteOffset, p.byteLength));
        const r = run(bad);
        expect(kinds(r)).toEqual(['eof']);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^tsrun-stub: malformed program: /);
        expect(r.stderr).toMatch(message);
        expect(r.exit).toEqual({ exitCode: EXIT.BAD_PROGRAM, signal: null });
      });
    }

    it('a bad command line exits with the usage status', () => {
      const r = spawnSync(stubPath(), ['not-a-number'], { stdio: ['ignore', 'ignore', 'pipe'], env: {} });
      expect(r.status).toBe(EXIT.USAGE);
      expect(r.stderr.toString()).toMatch(/usage: tsrun-stub <syncfd>/);
    });
  });

  it('(g) exits at once when tsrun closes its end during a sync (no orphan)', () => {
    const b = new ProgramBuilder();
    b.sync(1);
    b.execve('/bin/sleep', ['sleep', '100'], []);
    const s = startStub({ stdio: ['ignore', 'ignore', 'ignore'], program: b.encode() });
    try {
      expect(s.next(T)).toMatchObject({ kind: 'sync', code: 1 });
      s.close();
      // close() released the pidfd too; the stub must still be gone: poll /proc until it is.
      const deadline = Date.now() + T;
      let state = '';
      while (Date.now() < deadline) {
        state = existsSync(`/proc/${s.pid}/stat`) ? readFileSync(`/proc/${s.pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '' : 'gone';
        if (state === 'Z' || state === 'gone') break;
      }
      expect(['Z', 'gone']).toContain(state);
    } finally {
      s.kill();
      s.close();
    }
  });

  it('(g) reports the lost channel with its own exit status', () => {
    const b = new ProgramBuilder();
    b.sync(1);
    const s = startStub({ stdio: ['ignore', 'ignore', 'ignore'], program: b.encode() });
    expect(s.next(T)).toMatchObject({ kind: 'sync' });
    s.closeChannel();
    expect(s.wait(T)).toEqual({ exitCode: EXIT.SYNC_LOST, signal: null });
    s.close();
  });

  it('(h) only stdio, preserved fds and nothing else reach the exec; signals are clean', () => {
    // An inheritable fd of the test process (no O_CLOEXEC): Node's spawn does not close it, the stub must.
    const leak = libc.open('/etc/hostname', O.O_RDONLY);
    const [pr, pw] = libc.pipe();
    try {
      expect(libc.fcntl(leak, F.F_GETFD) & F.FD_CLOEXEC).toBe(0);
      const b = new ProgramBuilder();
      b.execve('/bin/ls', ['ls', '-l', '/proc/self/fd/'], []);
      const r = run(b.encode(), { preservedFds: [pw] });
      const fds = r.stdout
        .split('\n')
        .map((l) => /(\d+) -> (.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .filter((m) => !/^\/proc\/\d+\/fd$/.test(m[2] as string)) // ls's own directory fd
        .map((m) => Number(m[1]));
      expect(fds.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);

      const c = new ProgramBuilder();
      c.execve('/bin/cat', ['cat', '/proc/self/status'], []);
      const status = run(c.encode()).stdout;
      const field = (k: string) => new RegExp(`^${k}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
      expect(field('SigBlk')).toMatch(/^0+$/);
      expect(field('SigIgn')).toMatch(/^0+$/);
      expect(field('SigCgt')).toMatch(/^0+$/);
    } finally {
      libc.close(leak);
      libc.close(pr);
      libc.close(pw);
    }
  });

  it('(i) preserved fds arrive at 3..3+N-1, in order', () => {
    const pipes = [libc.pipe(), libc.pipe(), libc.pipe()];
    const reads = pipes.map((p) => p[0]);
    try {
      const b = new ProgramBuilder();
      pipes.forEach((_, i) => b.syscall('write', [3 + i, str(`fd${3 + i}`), 3]));
      try {
        const r = run(b.encode(), { preservedFds: pipes.map((p) => p[1]) });
        expect(kinds(r)).toEqual(['done', 'eof']);
      } finally {
        for (const p of pipes) libc.close(p[1]);
      }
      reads.forEach((rd, i) => expect(libc.readAll(rd).toString()).toBe(`fd${3 + i}`));
    } finally {
      for (const rd of reads) libc.close(rd);
    }
  });
});
