// Running tsrun-stub: spawn it (posix_spawn: no fork of Node's big process, no node:child_process
// to load) with the container's stdio and preserved fds, hand it a program
// (native/program.ts) and talk to it over a socketpair, synchronously (tsrun is a command line:
// blocking reads with poll timeouts, no event loop needed).
//
//   const s = startStub({ stdio: [0, 1, 2], preservedFds: [], program: b.encode() });
//   for (let m = s.next(5000); m.kind !== 'eof'; m = s.next(5000)) {
//     if (m.kind === 'sync') { ...act...; s.reply(); }
//     if (m.kind === 'error') throw b.errorFor(m.opIndex, m.errno);
//   }
//   s.close();
//
// In the stub, fds 0-2 are `stdio`, 3..3+N-1 the preserved fds in order, 3+N the sync socket;
// nothing else (the stub closes anything above the sync fd). Its environment is empty: the
// program's execve passes the container's.
//
// Never touches process.stdout/process.stderr: libuv would make the caller's pipes O_NONBLOCK,
// and the container would inherit that.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SyscallError, TsrunError } from '../src/errors.js';
import { O, POLL, SIG, WAIT } from './constants.js';
import { errnoName } from './errno.js';
import * as libc from './libc.js';
import { FORMAT, MSG } from './stub-protocol.js';

/** The stub failed to start, died unexpectedly, or broke the protocol. */
export class StubError extends TsrunError {
  override readonly name: string = 'StubError';
}

/** No message from the stub in time. */
export class StubTimeoutError extends StubError {
  override readonly name = 'StubTimeoutError';
}

/** An fd of tsrun's to share, or 'ignore' (/dev/null), or 'inherit' (tsrun's own 0/1/2). */
export type StdioFd = number | 'ignore' | 'inherit';

export interface StubOptions {
  /** fds 0, 1, 2 of the stub (and of the container it becomes). */
  stdio: readonly [StdioFd, StdioFd, StdioFd];
  /** fds that become 3, 4, ... in the stub, in order (`--preserve-fds`, LISTEN_FDS, ...). */
  preservedFds?: readonly number[];
  /** The program (ProgramBuilder.encode()). */
  program: Uint8Array;
  /** The stub's own environment (default: empty; the program's execve sets the container's). */
  env?: Readonly<Record<string, string>>;
  /** Another stub binary (tests). */
  stubPath?: string;
}

export type StubMessage =
  /** A SYNC op: act, then reply(). `fd` is set when the op sent one (yours to close). */
  | { kind: 'sync'; opIndex: number; code: number; value: number; fd: number | null }
  /** A FORK op: the child's pid (in tsrun's PID namespace); the stub's parent side exits. */
  | { kind: 'child-pid'; opIndex: number; pid: number }
  /** Op `opIndex` failed with `errno`; the stub exits (ProgramBuilder.errorFor() words it). */
  | { kind: 'error'; opIndex: number; errno: number; errnoName: string }
  /** The program ended without execve. */
  | { kind: 'done'; opCount: number }
  /** The channel closed: the stub execve'd (the sync fd is close-on-exec), exited or was killed. */
  | { kind: 'eof' };

export interface StubExit {
  /** Exit status, or null when killed. */
  exitCode: number | null;
  /** Signal that killed it, or null. */
  signal: number | null;
}

export interface StubSession {
  /** pid of the stub (the parent side of a FORK exits; the child's pid comes as 'child-pid'). */
  readonly pid: number;
  /** Wait for the next message; throws StubTimeoutError after `timeoutMs` (default: no limit). */
  next(timeoutMs?: number): StubMessage;
  /** Answer a 'sync': status 0 goes on, anything else makes the stub exit quietly. */
  reply(status?: number, value?: number | bigint, fd?: number): void;
  /** The stub process's exit (left waitable unless reaped already), or null on timeout. */
  wait(timeoutMs?: number): StubExit | null;
  /** Reap the stub once it has exited. next() does so itself when a FORK's parent side is the stub. */
  reap(timeoutMs?: number): StubExit | null;
  /** The pidfd of the last FORK's child, from then on the caller's to close; throws when that child is gone. */
  takeChildPidfd(): number;
  /** Signal the stub process (through its pidfd: no PID reuse race). No-op once it has exited or after close(). */
  kill(signal?: number): void;
  /** Close tsrun's end of the channel only: a stub waiting for a reply exits (TSRP_EXIT_SYNC_LOST). */
  closeChannel(): void;
  /** closeChannel(), and release the pidfd (wait() and kill() do nothing after). */
  close(): void;
}

let cachedStubPath: string | undefined;

/** native/stub/tsrun-stub of this package, from the TS sources (vitest) or from dist/native/. */
export function stubPath(): string {
  if (cachedStubPath) return cachedStubPath;
  const here = import.meta.dirname ?? dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'stub', 'tsrun-stub'), join(here, '..', '..', 'native', 'stub', 'tsrun-stub')];
  cachedStubPath = candidates.find((c) => existsSync(c)) ?? (candidates[0] as string);
  return cachedStubPath;
}

/** Spawn the stub and hand it the program. */
export function startStub(opts: StubOptions): StubSession {
  const path = opts.stubPath ?? stubPath();
  if (!existsSync(path)) {
    throw new StubError(`${path} is missing: build it with \`node scripts/build-stub.mjs\` (or \`npm install\`)`);
  }
  if (opts.program.length > FORMAT.MAX_PROGRAM) throw new StubError(`program of ${opts.program.length} bytes is too large`);
  const preserved = opts.preservedFds ?? [];
  const [mine, theirs] = libc.socketpair();
  let devNull = -1;
  let pid: number;
  try {
    const stdio = opts.stdio.map((s, i) => {
      if (s === 'inherit') return i;
      if (s === 'ignore') return devNull >= 0 ? devNull : (devNull = libc.open('/dev/null', O.O_RDWR | O.O_CLOEXEC));
      return s;
    });
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    pid = libc.spawn({ path, argv: [path, String(3 + preserved.length)], env, fds: [...stdio, ...preserved, theirs] });
  } catch (e) {
    libc.close(mine);
    throw new StubError(`cannot start ${path}: ${(e as Error).message}`);
  } finally {
    libc.close(theirs);
    if (devNull >= 0) libc.close(devNull);
  }
  let session: Session;
  try {
    session = new Session(pid, mine);
  } catch (e) {
    try {
      libc.kill(pid, SIG.SIGKILL);
    } catch {
      // gone already
    }
    libc.close(mine);
    throw new StubError(`cannot watch ${path} (pid ${pid}): ${(e as Error).message}`);
  }
  const header = Buffer.alloc(4);
  header.writeUInt32LE(opts.program.length, 0);
  try {
    libc.sendAll(mine, Buffer.concat([header, opts.program]), 'the stub sync socket');
  } catch (e) {
    const exit = session.wait(1000);
    session.kill();
    session.close();
    const how = exit ? describeExit(exit) : 'stopped reading';
    throw new StubError(`tsrun-stub ${how} before reading its program (${(e as Error).message})`);
  }
  return session;
}

export function describeExit(e: StubExit): string {
  if (e.signal !== null) return `was killed by signal ${e.signal}`;
  return `exited with status ${e.exitCode}`;
}

/** How long the parent side of a FORK may take to exit after reporting its child. */
const FORK_PARENT_EXIT_MS = 1000;

class Session implements StubSession {
  private fd: number;
  private pidfd: number;
  private closed = false;
  /** The stub's exit once reaped. */
  private exit: StubExit | null = null;
  /** The process of the chain that runs the program now, when a FORK made it (not the stub). */
  private forked: { pid: number; pidfd: number } | undefined;

  constructor(
    readonly pid: number,
    fd: number,
  ) {
    this.fd = fd;
    // Opened before anything reaps the stub (tsrun is its only reaper), so this is its pid.
    // pidfds are Linux 5.3; tsrun needs 5.12 (README).
    this.pidfd = libc.pidfdOpen(pid);
  }

  next(timeoutMs = -1): StubMessage {
    if (this.fd < 0) throw new StubError('the stub channel is closed');
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    const chunks: Buffer[] = [];
    let got = 0;
    let fd: number | null = null;
    try {
      while (got < FORMAT.MSG_SIZE) {
        const left = deadline === Infinity ? -1 : Math.max(0, deadline - Date.now());
        if (!libc.waitReadable(this.fd, left)) {
          throw new StubTimeoutError(`tsrun-stub ${this.pid}: no message within ${timeoutMs} ms`);
        }
        const r = libc.recvWithFd(this.fd, FORMAT.MSG_SIZE - got, 'the stub sync socket');
        if (r.data.length === 0) {
          if (got === 0) return { kind: 'eof' };
          throw new StubError(`tsrun-stub ${this.pid}: channel closed in the middle of a message`);
        }
        if (r.fd !== null) {
          if (fd !== null) {
            libc.close(r.fd);
            throw new StubError(`tsrun-stub ${this.pid}: two fds in one message`);
          }
          fd = r.fd;
        }
        chunks.push(r.data);
        got += r.data.length;
      }
    } catch (e) {
      if (fd !== null) libc.close(fd);
      throw e;
    }
    const m = Buffer.concat(chunks);
    const type = m.readUInt32LE(0);
    const opIndex = m.readUInt32LE(4);
    const a = m.readBigInt64LE(8);
    const b = m.readBigInt64LE(16);
    if (type !== MSG.SYNC && fd !== null) {
      libc.close(fd);
      throw new StubError(`tsrun-stub ${this.pid}: an fd came with message type ${type}`);
    }
    switch (type) {
      case MSG.SYNC:
        return { kind: 'sync', opIndex, code: Number(a), value: Number(b), fd };
      case MSG.CHILD_PID:
        this.forkedChild(Number(a));
        return { kind: 'child-pid', opIndex, pid: Number(a) };
      case MSG.ERROR:
        return { kind: 'error', opIndex, errno: Number(a), errnoName: errnoName(Number(a)) };
      case MSG.DONE:
        return { kind: 'done', opCount: opIndex };
      default:
        throw new StubError(`tsrun-stub ${this.pid}: unknown message type ${type}`);
    }
  }

  /**
   * A FORK reported its child: the parent side exits right after. Reap it, so that no zombie
   * waits for tsrun's exit: the stub is tsrun's child; a later parent is an orphan that was
   * re-parented to tsrun when tsrun is a subreaper (run, exec in the foreground), else to init.
   */
  private forkedChild(pid: number): void {
    const parent = this.forked;
    let pidfd = -1;
    try {
      pidfd = libc.pidfdOpen(pid);
    } catch {
      // gone already (and reaped): its parent is still reaped below
    }
    this.forked = { pid, pidfd };
    if (parent === undefined) {
      this.reap(FORK_PARENT_EXIT_MS);
      return;
    }
    if (parent.pidfd < 0) return;
    try {
      if (libc.poll([{ fd: parent.pidfd, events: POLL.POLLIN }], FORK_PARENT_EXIT_MS) !== null) {
        libc.waitPidfd(parent.pidfd, WAIT.WEXITED | WAIT.WNOHANG);
      }
    } catch (e) {
      // ECHILD: re-parented to init, which reaps it
      if (!(e instanceof SyscallError && e.errnoName === 'ECHILD')) throw e;
    } finally {
      libc.close(parent.pidfd);
    }
  }

  reply(status = 0, value: number | bigint = 0, fd?: number): void {
    if (this.fd < 0) throw new StubError('the stub channel is closed');
    const r = Buffer.alloc(FORMAT.REPLY_SIZE);
    r.writeUInt32LE(status >>> 0, 0);
    r.writeBigInt64LE(BigInt(value), 8);
    libc.sendWithFd(this.fd, r, fd, 'the stub sync socket');
  }

  wait(timeoutMs = -1): StubExit | null {
    if (this.exit !== null) return this.exit;
    if (this.pidfd < 0) return null; // closed
    // A pidfd becomes readable when its process exits.
    if (libc.poll([{ fd: this.pidfd, events: POLL.POLLIN }], timeoutMs) === null) return null;
    return toExit(libc.waitPidfd(this.pidfd, WAIT.WEXITED | WAIT.WNOWAIT | WAIT.WNOHANG));
  }

  reap(timeoutMs = -1): StubExit | null {
    const exit = this.wait(timeoutMs);
    if (exit === null || this.exit !== null) return exit;
    libc.waitPidfd(this.pidfd, WAIT.WEXITED | WAIT.WNOHANG);
    this.exit = exit;
    return exit;
  }

  kill(signal: number = SIG.SIGKILL): void {
    if (this.closed || this.exit !== null) return;
    try {
      libc.pidfdSendSignal(this.pidfd, signal);
    } catch (e) {
      if (!(e instanceof SyscallError && e.errnoName === 'ESRCH')) throw e;
    }
  }

  takeChildPidfd(): number {
    const pidfd = this.forked?.pidfd ?? -1;
    if (this.forked === undefined || pidfd < 0) throw new StubError(`tsrun-stub ${this.pid}: the forked process is gone`);
    this.forked = { pid: this.forked.pid, pidfd: -1 };
    return pidfd;
  }

  closeChannel(): void {
    if (this.fd >= 0) {
      libc.close(this.fd);
      this.fd = -1;
    }
  }

  close(): void {
    this.closeChannel();
    if (this.pidfd >= 0) libc.close(this.pidfd);
    this.pidfd = -1;
    if (this.forked !== undefined && this.forked.pidfd >= 0) libc.close(this.forked.pidfd);
    this.forked = undefined;
    this.closed = true;
  }
}

function toExit(s: libc.WaitStatus | null): StubExit | null {
  return s === null ? null : { exitCode: s.exitCode, signal: s.signal };
}
