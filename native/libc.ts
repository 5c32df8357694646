// libc through koffi: the few calls tsrun makes from Node itself. Each wrapper throws a
// SyscallError (`flock /run/tsrun/x/lock: EWOULDBLOCK (Resource temporarily unavailable)`).
//
// koffi itself is loaded on the first call (native/koffi.ts), not on import: commands that never
// call into libc (`state`, `list`) do not pay for it. Nothing outside native/ imports koffi.
//
// All calls are blocking and synchronous: tsrun is a command line, not a server.

import { F, O, POLL, SOCK, SPAWN, TIOC, WAIT } from './constants.js';
import { errno as errno_, syscallError } from './errno.js';
import { offerImmediateExit } from './exit.js';
import { koffi as loadKoffi } from './koffi.js';
import { syscallNumber } from './syscalls.js';

type Koffi = typeof import('koffi');
type Fn = (...args: unknown[]) => unknown;

/**
 * The C prototype of every libc function tsrun calls from Node. Each is bound on its first call
 * (fn): a koffi binding parses its prototype (~20 us), and a command uses only some of them.
 */
const PROTOTYPES = {
  socketpair: 'int socketpair(int domain, int type, int protocol, _Out_ int *sv)',
  pipe2: 'int pipe2(_Out_ int *fds, int flags)',
  read: 'long read(int fd, void *buf, size_t count)',
  write: 'long write(int fd, const void *buf, size_t count)',
  close: 'int close(int fd)',
  poll: 'int poll(void *fds, unsigned long nfds, int timeout)',
  flock: 'int flock(int fd, int operation)',
  send: 'long send(int fd, const void *buf, size_t len, int flags)',
  sendmsg: 'long sendmsg(int fd, void *msg, int flags)',
  recvmsg: 'long recvmsg(int fd, void *msg, int flags)',
  syscall: 'long syscall(long number, ...)',
  prctl: 'int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)',
  waitid: 'int waitid(int idtype, uint32_t id, void *infop, int options)',
  kill: 'int kill(int pid, int sig)',
  // open(2) and fcntl(2) are variadic in C; an int in the variadic slot is passed like a fixed one on LP64.
  open: 'int open(const char *path, int flags, uint32_t mode)',
  fcntl: 'int fcntl(int fd, int cmd, long arg)',
  dup: 'int dup(int fd)',
  mkfifo: 'int mkfifo(const char *path, uint32_t mode)',
  socket: 'int socket(int domain, int type, int protocol)',
  connect: 'int connect(int fd, const void *addr, uint32_t len)',
  ioctl: 'int ioctl(int fd, unsigned long request, void *arg)',
  posixSpawn: 'int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)',
  actionsInit: 'int posix_spawn_file_actions_init(void *actions)',
  actionsAddDup2: 'int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)',
  actionsDestroy: 'int posix_spawn_file_actions_destroy(void *actions)',
  attrInit: 'int posix_spawnattr_init(void *attr)',
  attrSetFlags: 'int posix_spawnattr_setflags(void *attr, short flags)',
  attrSetSigMask: 'int posix_spawnattr_setsigmask(void *attr, const void *set)',
  attrSetSigDefault: 'int posix_spawnattr_setsigdefault(void *attr, const void *set)',
  attrDestroy: 'int posix_spawnattr_destroy(void *attr)',
  sigfillset: 'int sigfillset(void *set)',
} as const;

type LibcFunction = keyof typeof PROTOTYPES;

interface Loaded {
  koffi: Koffi;
  libc: ReturnType<Koffi['load']>;
}

let loaded: Loaded | undefined;
const bound: { [name in LibcFunction]?: Fn } = {};

/** koffi and libc, loaded on the first call into either. */
function lib(): Loaded {
  if (loaded) return loaded;
  const koffi = loadKoffi();
  const libc = koffi.load('libc.so.6');
  loaded = { koffi, libc };
  offerImmediateExit((status) => libc.func('void _exit(int status)')(status));
  return loaded;
}

/** The libc function `name`, bound on its first call. */
function fn(name: LibcFunction): Fn {
  return (bound[name] ??= lib().libc.func(PROTOTYPES[name]) as Fn);
}

function fail(syscall: string, path?: string): never {
  const e = lib().koffi.errno();
  throw syscallError(syscall, e, path);
}

function errno(): number {
  return lib().koffi.errno();
}

const EINTR = errno_('EINTR');
const EAGAIN = errno_('EAGAIN');

/** Call until it does not fail with EINTR; returns the result (-1: errno is set). */
function retry(f: () => number): number {
  for (;;) {
    const r = f();
    if (r !== -1 || errno() !== EINTR) return r;
  }
}

// ---------------------------------------------------------------------------------------------
// fds

/** socketpair(2); default: AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC. */
export function socketpair(type: number = SOCK.SOCK_STREAM | SOCK.SOCK_CLOEXEC, domain: number = SOCK.AF_UNIX): [number, number] {
  const sv = new Int32Array(2);
  if (fn('socketpair')(domain, type, 0, sv) !== 0) fail('socketpair');
  return [sv[0] as number, sv[1] as number];
}

/** TIOCSWINSZ: the window size of a terminal (a pty master tsrun relays). */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  if (fn('ioctl')(fd, TIOC.TIOCSWINSZ, ws) !== 0) fail('ioctl TIOCSWINSZ');
}

/** sun_path of struct sockaddr_un: 108 bytes, NUL included. */
const SUN_PATH_MAX = 108;

/** A connected AF_UNIX stream socket (close-on-exec) to the socket at `path` (a console socket). */
export function connectUnix(path: string): number {
  const name = Buffer.from(path);
  if (name.length >= SUN_PATH_MAX) throw syscallError('connect', errno_('ENAMETOOLONG'), path, `socket path longer than ${SUN_PATH_MAX - 1} bytes`);
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(SOCK.AF_UNIX, 0);
  name.copy(addr, 2);
  const fd = fn('socket')(SOCK.AF_UNIX, SOCK.SOCK_STREAM | SOCK.SOCK_CLOEXEC, 0) as number;
  if (fd < 0) fail('socket', path);
  if (retry(() => fn('connect')(fd, addr, 2 + name.length + 1) as number) !== 0) {
    const e = errno();
    fn('close')(fd);
    throw syscallError('connect', e, path);
  }
  return fd;
}

/** pipe2(2): [read end, write end]; default O_CLOEXEC. */
export function pipe(flags: number = O.O_CLOEXEC): [number, number] {
  const fds = new Int32Array(2);
  if (fn('pipe2')(fds, flags) !== 0) fail('pipe2');
  return [fds[0] as number, fds[1] as number];
}

/** open(2); default O_RDONLY|O_CLOEXEC. */
export function open(path: string, flags: number = O.O_RDONLY | O.O_CLOEXEC, mode = 0o644): number {
  const fd = retry(() => fn('open')(path, flags, mode) as number);
  if (fd < 0) fail('open', path);
  return fd;
}

/** mkfifo(3): a named pipe (the exec fifo). The mode is subject to the umask. */
export function mkfifo(path: string, mode: number): void {
  if ((fn('mkfifo')(path, mode) as number) !== 0) fail('mkfifo', path);
}

/** close(2). EINTR counts as closed (Linux always releases the fd). */
export function close(fd: number): void {
  if ((fn('close')(fd) as number) !== 0 && errno() !== EINTR) fail('close', `fd ${fd}`);
}

/** dup(2) (the copy is not close-on-exec). */
export function dup(fd: number): number {
  const r = fn('dup')(fd) as number;
  if (r < 0) fail('dup', `fd ${fd}`);
  return r;
}

/** fcntl(2) with an integer argument. */
export function fcntl(fd: number, cmd: number, arg = 0): number {
  const r = retry(() => fn('fcntl')(fd, cmd, arg) as number);
  if (r < 0) fail('fcntl', `fd ${fd}`);
  return r;
}

/** Set or clear FD_CLOEXEC. */
export function setCloexec(fd: number, on: boolean): void {
  const cur = fcntl(fd, F.F_GETFD);
  fcntl(fd, F.F_SETFD, on ? cur | F.FD_CLOEXEC : cur & ~F.FD_CLOEXEC);
}

/** read(2) once: up to `max` bytes (empty at EOF). */
export function read(fd: number, max: number): Buffer {
  const buf = Buffer.alloc(max);
  const n = retry(() => Number(fn('read')(fd, buf, max)));
  if (n < 0) fail('read', `fd ${fd}`);
  return buf.subarray(0, n);
}

/** Read until `n` bytes or EOF (then fewer). */
export function readFull(fd: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const part = buf.subarray(got);
    const r = retry(() => Number(fn('read')(fd, part, part.length)));
    if (r < 0) fail('read', `fd ${fd}`);
    if (r === 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}

/** Read until EOF. */
export function readAll(fd: number): Buffer {
  const parts: Buffer[] = [];
  for (;;) {
    const b = read(fd, 65536);
    if (b.length === 0) return Buffer.concat(parts);
    parts.push(b);
  }
}

/** write(2) all of `data` (loops over short writes). */
export function write(fd: number, data: Uint8Array | string): void {
  let buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  while (buf.length > 0) {
    const chunk = buf;
    const n = retry(() => Number(fn('write')(fd, chunk, chunk.length)));
    if (n < 0) fail('write', `fd ${fd}`);
    buf = buf.subarray(n);
  }
}

/** send(2) all of `data` on a socket with MSG_NOSIGNAL: a gone peer is EPIPE, never SIGPIPE. */
export function sendAll(sock: number, data: Uint8Array, what?: string): void {
  let buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  while (buf.length > 0) {
    const chunk = buf;
    const n = retry(() => Number(fn('send')(sock, chunk, chunk.length, SOCK.MSG_NOSIGNAL)));
    if (n < 0) fail('send', what ?? `fd ${sock}`);
    buf = buf.subarray(n);
  }
}

export interface PollFd {
  fd: number;
  events: number;
}

/**
 * poll(2): the revents of each fd, or null when `timeoutMs` passed first (negative: wait forever).
 * EINTR restarts with the time left.
 */
export function poll(fds: readonly PollFd[], timeoutMs: number): number[] | null {
  const buf = Buffer.alloc(8 * fds.length);
  fds.forEach((p, i) => {
    buf.writeInt32LE(p.fd, 8 * i);
    buf.writeInt16LE(p.events, 8 * i + 4);
  });
  const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
  for (;;) {
    const left = deadline === Infinity ? -1 : Math.max(0, Math.min(deadline - Date.now(), 0x7fffffff));
    const n = fn('poll')(buf, fds.length, left) as number;
    if (n < 0) {
      if (errno() === EINTR) continue;
      fail('poll');
    }
    if (n === 0) return null;
    return fds.map((_, i) => buf.readInt16LE(8 * i + 6));
  }
}

/** Wait until `fd` is readable (or hung up); false when `timeoutMs` passed first. */
export function waitReadable(fd: number, timeoutMs: number): boolean {
  return poll([{ fd, events: POLL.POLLIN }], timeoutMs) !== null;
}

/**
 * flock(2). With LOCK_NB, returns false when another holder has the lock; true once held.
 * `path` only names the file in errors.
 */
export function flock(fd: number, operation: number, path?: string): boolean {
  const r = retry(() => fn('flock')(fd, operation) as number);
  if (r === 0) return true;
  if (errno() === EAGAIN) return false;
  return fail('flock', path ?? `fd ${fd}`);
}

// ---------------------------------------------------------------------------------------------
// sendmsg/recvmsg with one fd (SCM_RIGHTS)
//
// struct msghdr holds pointers, so it is laid out by hand in memory koffi allocated (stable
// addresses), LP64 layout (x86_64 and aarch64):
//   msghdr  { void *name @0; u32 namelen @8; iovec *iov @16; size_t iovlen @24; void *control @32;
//             size_t controllen @40; int flags @48 }                                 = 56 bytes
//   iovec   { void *base @0; size_t len @8 }                                            = 16 bytes
//   cmsghdr { size_t len @0; int level @8; int type @12; data @16 }; CMSG_SPACE(4)      = 24 bytes

const MSGHDR = 0;
const IOVEC = 56;
const CONTROL = 72;
const CONTROL_SPACE = 24 * 4; // room for up to 4 fds (extra ones are closed, not leaked)
const PAYLOAD = CONTROL + CONTROL_SPACE;

interface Scratch {
  ptr: unknown;
  base: bigint;
  size: number;
  view: DataView;
  bytes: Uint8Array;
}
let scratch: Scratch | undefined;

function scratchFor(payload: number): Scratch {
  if (scratch && scratch.size >= PAYLOAD + payload) return scratch;
  const { koffi } = lib();
  if (scratch) koffi.free(scratch.ptr);
  const size = PAYLOAD + Math.max(payload, 4096);
  const ptr = koffi.alloc('uint8_t', size);
  const ab = koffi.view(ptr, size);
  scratch = { ptr, base: koffi.address(ptr), size, view: new DataView(ab), bytes: new Uint8Array(ab) };
  return scratch;
}

function prepareMsghdr(s: Scratch, len: number, controlLen: number): void {
  s.bytes.fill(0, 0, PAYLOAD);
  const v = s.view;
  v.setBigUint64(MSGHDR + 16, s.base + BigInt(IOVEC), true);
  v.setBigUint64(MSGHDR + 24, 1n, true);
  if (controlLen > 0) {
    v.setBigUint64(MSGHDR + 32, s.base + BigInt(CONTROL), true);
    v.setBigUint64(MSGHDR + 40, BigInt(controlLen), true);
  }
  v.setBigUint64(IOVEC, s.base + BigInt(PAYLOAD), true);
  v.setBigUint64(IOVEC + 8, BigInt(len), true);
}

/**
 * Send all of `data` on a unix socket, with `fd` attached (SCM_RIGHTS) when given. MSG_NOSIGNAL:
 * a gone peer is EPIPE, never SIGPIPE. `what` names the socket in errors.
 */
export function sendWithFd(sock: number, data: Uint8Array, fd?: number, what?: string): void {
  if (data.length === 0) throw new TypeError('sendWithFd needs at least one byte of data');
  const s = scratchFor(data.length);
  let sent = 0;
  let attach = fd;
  while (sent < data.length) {
    const part = data.subarray(sent);
    prepareMsghdr(s, part.length, attach === undefined ? 0 : 24);
    s.bytes.set(part, PAYLOAD);
    if (attach !== undefined) {
      s.view.setBigUint64(CONTROL, 20n, true); // CMSG_LEN(sizeof(int))
      s.view.setInt32(CONTROL + 8, SOCK.SOL_SOCKET, true);
      s.view.setInt32(CONTROL + 12, SOCK.SCM_RIGHTS, true);
      s.view.setInt32(CONTROL + 16, attach, true);
    }
    const n = retry(() => Number(fn('sendmsg')(sock, s.ptr, SOCK.MSG_NOSIGNAL)));
    if (n < 0) fail('sendmsg', what ?? `fd ${sock}`);
    sent += n;
    attach = undefined; // the fd went with the first byte
  }
}

export interface Received {
  /** The bytes received (empty at EOF). */
  data: Buffer;
  /** The fd that came with them (close-on-exec), or null. */
  fd: number | null;
}

/**
 * One recvmsg(2) of up to `max` bytes, taking the fd that comes with them (MSG_CMSG_CLOEXEC).
 * An EOF gives empty data. More than one fd is a protocol error: they are closed and it throws.
 */
export function recvWithFd(sock: number, max: number, what?: string): Received {
  const s = scratchFor(max);
  prepareMsghdr(s, max, CONTROL_SPACE);
  const n = retry(() => Number(fn('recvmsg')(sock, s.ptr, SOCK.MSG_CMSG_CLOEXEC)));
  if (n < 0) fail('recvmsg', what ?? `fd ${sock}`);
  const data = Buffer.from(s.bytes.subarray(PAYLOAD, PAYLOAD + n));
  const controlLen = Number(s.view.getBigUint64(MSGHDR + 40, true));
  const fds: number[] = [];
  for (let off = 0; off + 16 <= controlLen; ) {
    const clen = Number(s.view.getBigUint64(CONTROL + off, true));
    if (clen < 16) break;
    const level = s.view.getInt32(CONTROL + off + 8, true);
    const type = s.view.getInt32(CONTROL + off + 12, true);
    if (level === SOCK.SOL_SOCKET && type === SOCK.SCM_RIGHTS) {
      for (let k = 16; k + 4 <= clen; k += 4) fds.push(s.view.getInt32(CONTROL + off + k, true));
    }
    off += (clen + 7) & ~7;
  }
  const truncated = (s.view.getInt32(MSGHDR + 48, true) & SOCK.MSG_CTRUNC) !== 0;
  if (fds.length > 1 || truncated) {
    for (const f of fds) fn('close')(f);
    throw syscallError('recvmsg', errno_('EPROTO'), what ?? `fd ${sock}`, `received ${truncated ? 'too many' : fds.length} fds, expected at most one`);
  }
  return { data, fd: fds[0] ?? null };
}

// ---------------------------------------------------------------------------------------------
// processes

/**
 * syscall(2) for the calls libc has no function for (bpf, seccomp, memfd_create, ...), with
 * koffi's typed variadic arguments (`'int', 3, 'void *', buf`): the result, or -errno.
 */
export function rawSyscall(name: string, ...typedArgs: unknown[]): number {
  const r = Number(fn('syscall')(syscallNumber(name), ...typedArgs));
  return r < 0 ? -errno() : r;
}

/** pidfd_open(2): an fd that refers to process `pid` (no PID reuse race once open). */
export function pidfdOpen(pid: number, flags = 0): number {
  const r = rawSyscall('pidfd_open', 'int', pid, 'unsigned int', flags);
  if (r < 0) throw syscallError('pidfd_open', -r, `pid ${pid}`);
  return r;
}

/** pidfd_send_signal(2). */
export function pidfdSendSignal(pidfd: number, signal: number): void {
  const r = rawSyscall('pidfd_send_signal', 'int', pidfd, 'int', signal, 'void *', null, 'unsigned int', 0);
  if (r < 0) throw syscallError('pidfd_send_signal', -r, `pidfd ${pidfd}`);
}

/** kill(2). */
export function kill(pid: number, signal: number): void {
  if ((fn('kill')(pid, signal) as number) !== 0) fail('kill', `pid ${pid}`);
}

/** prctl(2) with integer arguments; returns its result. */
export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  const r = fn('prctl')(option, a2, a3, a4, a5) as number;
  if (r < 0) fail('prctl');
  return r;
}

// Opaque glibc types, sized with room to spare: glibc initialises them (80, 336 and 128 bytes on LP64).
const SPAWN_FILE_ACTIONS_BYTES = 256;
const SPAWN_ATTR_BYTES = 512;
const SIGSET_BYTES = 128;

export interface SpawnRequest {
  path: string;
  argv: readonly string[];
  env: readonly string[];
  /** fds[i] of tsrun becomes fd i of the child. Every other fd of tsrun is close-on-exec. */
  fds: readonly number[];
}

/**
 * posix_spawn(3): glibc's clone(CLONE_VM|CLONE_VFORK) + execve. Node's child_process forks the
 * whole process instead (page tables of a ~50 MB heap) and costs milliseconds more to load.
 * The child starts with every signal at its default and none blocked (Node ignores SIGPIPE).
 */
export function spawn(req: SpawnRequest): number {
  const actions = Buffer.alloc(SPAWN_FILE_ACTIONS_BYTES);
  const attr = Buffer.alloc(SPAWN_ATTR_BYTES);
  // Each source is first copied above every target (close-on-exec), so that no dup2 in the child
  // overwrites a source a later dup2 still needs; dup2 clears close-on-exec on the target.
  const copies: number[] = [];
  let e = 0;
  try {
    for (const fd of req.fds) copies.push(fcntl(fd, F.F_DUPFD_CLOEXEC, req.fds.length));
    e = fn('actionsInit')(actions) as number;
    if (e !== 0) throw syscallError('posix_spawn_file_actions_init', e, req.path);
    try {
      copies.forEach((fd, target) => {
        e = fn('actionsAddDup2')(actions, fd, target) as number;
        if (e !== 0) throw syscallError('posix_spawn_file_actions_adddup2', e, req.path);
      });
      e = fn('attrInit')(attr) as number;
      if (e !== 0) throw syscallError('posix_spawnattr_init', e, req.path);
      try {
        const all = Buffer.alloc(SIGSET_BYTES);
        fn('sigfillset')(all);
        fn('attrSetSigDefault')(attr, all);
        fn('attrSetSigMask')(attr, Buffer.alloc(SIGSET_BYTES));
        fn('attrSetFlags')(attr, SPAWN.POSIX_SPAWN_SETSIGDEF | SPAWN.POSIX_SPAWN_SETSIGMASK);
        const pid = [0];
        e = fn('posixSpawn')(pid, req.path, actions, attr, [...req.argv, null], [...req.env, null]) as number;
        if (e !== 0) throw syscallError('posix_spawn', e, req.path);
        return pid[0] as number;
      } finally {
        fn('attrDestroy')(attr);
      }
    } finally {
      fn('actionsDestroy')(actions);
    }
  } finally {
    for (const fd of copies) close(fd);
  }
}

export interface WaitStatus {
  pid: number;
  /** CLD_EXITED, CLD_KILLED, CLD_DUMPED, ... */
  code: number;
  /** Exit status when exited, else null. */
  exitCode: number | null;
  /** Signal number when killed (or stopped/continued), else null. */
  signal: number | null;
}

/**
 * waitid(P_PIDFD, pidfd, ..., options): default WEXITED. Returns null when WNOHANG was given and
 * nothing happened yet. With WNOWAIT the process stays waitable (e.g. for libuv to reap it).
 */
export function waitPidfd(pidfd: number, options: number = WAIT.WEXITED): WaitStatus | null {
  const si = Buffer.alloc(128);
  const r = retry(() => fn('waitid')(WAIT.P_PIDFD, pidfd, si, options) as number);
  if (r < 0) fail('waitid', `pidfd ${pidfd}`);
  // siginfo_t: si_signo @0, si_errno @4, si_code @8, si_pid @16, si_uid @20, si_status @24
  const pid = si.readInt32LE(16);
  if (pid === 0) return null;
  const code = si.readInt32LE(8);
  const status = si.readInt32LE(24);
  return code === WAIT.CLD_EXITED ? { pid, code, exitCode: status, signal: null } : { pid, code, exitCode: null, signal: status };
}
