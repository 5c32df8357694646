// Syscall numbers per architecture, and how many arguments each takes.
//
// x86_64 from arch/x86/entry/syscalls/syscall_64.tbl (asm/unistd_64.h), aarch64 from
// include/uapi/asm-generic/unistd.h; test/unit/native-constants.test.ts compares this table
// with the installed headers when they are present. `null`: the call does not exist on that
// architecture (aarch64 has only the *at forms). Pure data: no koffi here.

export type Arch = 'x64' | 'arm64';

export interface SyscallInfo {
  /** Number on x86_64, null when absent. */
  readonly x64: number | null;
  /** Number on aarch64, null when absent. */
  readonly arm64: number | null;
  /** Arguments the kernel reads. */
  readonly args: number;
  /** Fewest arguments a caller must give (default: args); the rest are passed as 0. */
  readonly min?: number;
}

export const SYSCALLS = {
  read: { x64: 0, arm64: 63, args: 3 },
  write: { x64: 1, arm64: 64, args: 3 },
  openat: { x64: 257, arm64: 56, args: 4, min: 3 },
  openat2: { x64: 437, arm64: 437, args: 4 },
  close: { x64: 3, arm64: 57, args: 1 },
  close_range: { x64: 436, arm64: 436, args: 3 },
  mount: { x64: 165, arm64: 40, args: 5 },
  umount2: { x64: 166, arm64: 39, args: 2 },
  mount_setattr: { x64: 442, arm64: 442, args: 5 },
  open_tree: { x64: 428, arm64: 428, args: 3 },
  move_mount: { x64: 429, arm64: 429, args: 5 },
  fsopen: { x64: 430, arm64: 430, args: 2 },
  fsconfig: { x64: 431, arm64: 431, args: 5 },
  fsmount: { x64: 432, arm64: 432, args: 3 },
  fspick: { x64: 433, arm64: 433, args: 3 },
  pivot_root: { x64: 155, arm64: 41, args: 2 },
  chdir: { x64: 80, arm64: 49, args: 1 },
  fchdir: { x64: 81, arm64: 50, args: 1 },
  chroot: { x64: 161, arm64: 51, args: 1 },
  mkdirat: { x64: 258, arm64: 34, args: 3 },
  mknodat: { x64: 259, arm64: 33, args: 4 },
  symlinkat: { x64: 266, arm64: 36, args: 3 },
  linkat: { x64: 265, arm64: 37, args: 5 },
  unlinkat: { x64: 263, arm64: 35, args: 3 },
  renameat2: { x64: 316, arm64: 276, args: 5 },
  fchownat: { x64: 260, arm64: 54, args: 5 },
  fchmodat: { x64: 268, arm64: 53, args: 3 },
  fchmod: { x64: 91, arm64: 52, args: 2 },
  fchown: { x64: 93, arm64: 55, args: 3 },
  faccessat: { x64: 269, arm64: 48, args: 3 },
  faccessat2: { x64: 439, arm64: 439, args: 4 },
  readlinkat: { x64: 267, arm64: 78, args: 4 },
  newfstatat: { x64: 262, arm64: 79, args: 4 },
  lstat: { x64: 6, arm64: null, args: 2 },
  fstat: { x64: 5, arm64: 80, args: 2 },
  statx: { x64: 332, arm64: 291, args: 5 },
  statfs: { x64: 137, arm64: 43, args: 2 },
  fstatfs: { x64: 138, arm64: 44, args: 2 },
  getdents64: { x64: 217, arm64: 61, args: 3 },
  lseek: { x64: 8, arm64: 62, args: 3 },
  pread64: { x64: 17, arm64: 67, args: 4 },
  pwrite64: { x64: 18, arm64: 68, args: 4 },
  writev: { x64: 20, arm64: 66, args: 3 },
  dup: { x64: 32, arm64: 23, args: 1 },
  dup3: { x64: 292, arm64: 24, args: 3 },
  fcntl: { x64: 72, arm64: 25, args: 3, min: 2 },
  ioctl: { x64: 16, arm64: 29, args: 3, min: 2 },
  flock: { x64: 73, arm64: 32, args: 2 },
  pipe2: { x64: 293, arm64: 59, args: 2 },
  sethostname: { x64: 170, arm64: 161, args: 2 },
  setdomainname: { x64: 171, arm64: 162, args: 2 },
  uname: { x64: 63, arm64: 160, args: 1 },
  setns: { x64: 308, arm64: 268, args: 2 },
  unshare: { x64: 272, arm64: 97, args: 1 },
  clone: { x64: 56, arm64: 220, args: 5 },
  clone3: { x64: 435, arm64: 435, args: 2 },
  fork: { x64: 57, arm64: null, args: 0 },
  execve: { x64: 59, arm64: 221, args: 3 },
  execveat: { x64: 322, arm64: 281, args: 5 },
  exit: { x64: 60, arm64: 93, args: 1 },
  exit_group: { x64: 231, arm64: 94, args: 1 },
  wait4: { x64: 61, arm64: 260, args: 4 },
  waitid: { x64: 247, arm64: 95, args: 5, min: 4 },
  prctl: { x64: 157, arm64: 167, args: 5, min: 2 },
  capset: { x64: 126, arm64: 91, args: 2 },
  capget: { x64: 125, arm64: 90, args: 2 },
  setresuid: { x64: 117, arm64: 147, args: 3 },
  setresgid: { x64: 119, arm64: 149, args: 3 },
  setuid: { x64: 105, arm64: 146, args: 1 },
  setgid: { x64: 106, arm64: 144, args: 1 },
  setgroups: { x64: 116, arm64: 159, args: 2 },
  getuid: { x64: 102, arm64: 174, args: 0 },
  geteuid: { x64: 107, arm64: 175, args: 0 },
  getgid: { x64: 104, arm64: 176, args: 0 },
  getegid: { x64: 108, arm64: 177, args: 0 },
  setfsuid: { x64: 122, arm64: 151, args: 1 },
  setfsgid: { x64: 123, arm64: 152, args: 1 },
  setrlimit: { x64: 160, arm64: 164, args: 2 },
  getrlimit: { x64: 97, arm64: 163, args: 2 },
  prlimit64: { x64: 302, arm64: 261, args: 4 },
  seccomp: { x64: 317, arm64: 277, args: 3 },
  umask: { x64: 95, arm64: 166, args: 1 },
  setsid: { x64: 112, arm64: 157, args: 0 },
  setpgid: { x64: 109, arm64: 154, args: 2 },
  getpid: { x64: 39, arm64: 172, args: 0 },
  getppid: { x64: 110, arm64: 173, args: 0 },
  gettid: { x64: 186, arm64: 178, args: 0 },
  kill: { x64: 62, arm64: 129, args: 2 },
  tgkill: { x64: 234, arm64: 131, args: 3 },
  pidfd_open: { x64: 434, arm64: 434, args: 2 },
  pidfd_send_signal: { x64: 424, arm64: 424, args: 4 },
  pidfd_getfd: { x64: 438, arm64: 438, args: 3 },
  ioprio_set: { x64: 251, arm64: 30, args: 3 },
  ioprio_get: { x64: 252, arm64: 31, args: 2 },
  sched_setattr: { x64: 314, arm64: 274, args: 3 },
  sched_getattr: { x64: 315, arm64: 275, args: 4 },
  sched_setaffinity: { x64: 203, arm64: 122, args: 3 },
  sched_getaffinity: { x64: 204, arm64: 123, args: 3 },
  sched_setscheduler: { x64: 144, arm64: 119, args: 3 },
  personality: { x64: 135, arm64: 92, args: 1 },
  set_mempolicy: { x64: 238, arm64: 237, args: 3 },
  keyctl: { x64: 250, arm64: 219, args: 5, min: 2 },
  add_key: { x64: 248, arm64: 217, args: 5 },
  sendmsg: { x64: 46, arm64: 211, args: 3 },
  recvmsg: { x64: 47, arm64: 212, args: 3 },
  socket: { x64: 41, arm64: 198, args: 3 },
  socketpair: { x64: 53, arm64: 199, args: 4 },
  connect: { x64: 42, arm64: 203, args: 3 },
  bind: { x64: 49, arm64: 200, args: 3 },
  listen: { x64: 50, arm64: 201, args: 2 },
  accept4: { x64: 288, arm64: 242, args: 4 },
  setsockopt: { x64: 54, arm64: 208, args: 5 },
  memfd_create: { x64: 319, arm64: 279, args: 2 },
  bpf: { x64: 321, arm64: 280, args: 3 },
  landlock_create_ruleset: { x64: 444, arm64: 444, args: 3 },
  landlock_add_rule: { x64: 445, arm64: 445, args: 4 },
  landlock_restrict_self: { x64: 446, arm64: 446, args: 2 },
  rt_sigprocmask: { x64: 14, arm64: 135, args: 4 },
  rt_sigaction: { x64: 13, arm64: 134, args: 4 },
  nanosleep: { x64: 35, arm64: 101, args: 2 },
  clock_nanosleep: { x64: 230, arm64: 115, args: 4 },
  sync: { x64: 162, arm64: 81, args: 0 },
  getcwd: { x64: 79, arm64: 17, args: 2 },
  // Newer than the 6.1 headers Debian 12 ships (kernel 6.6).
  fchmodat2: { x64: 452, arm64: 452, args: 4 },
} as const satisfies Record<string, SyscallInfo>;

export type SyscallName = keyof typeof SYSCALLS;

/** The architecture tsrun runs on; throws on one it does not support. */
export function hostArch(): Arch {
  const a = process.arch;
  if (a === 'x64' || a === 'arm64') return a;
  throw new Error(`tsrun supports x86_64 and aarch64, not ${a}`);
}

export function isSyscallName(name: string): name is SyscallName {
  return Object.prototype.hasOwnProperty.call(SYSCALLS, name);
}

/** The number of a syscall on an architecture; throws for an unknown name or one absent there. */
export function syscallNumber(name: string, arch: Arch = hostArch()): number {
  if (!isSyscallName(name)) throw new Error(`unknown syscall ${JSON.stringify(name)}`);
  const nr = (SYSCALLS[name] as SyscallInfo)[arch];
  if (nr === null) throw new Error(`syscall ${name} does not exist on ${arch}`);
  return nr;
}

/** The name of a syscall number on an architecture (for messages), or `syscall_<nr>`. */
export function syscallName(nr: number, arch: Arch = hostArch()): string {
  for (const [name, info] of Object.entries(SYSCALLS) as [string, SyscallInfo][]) if (info[arch] === nr) return name;
  return `syscall_${nr}`;
}
