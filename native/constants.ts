// The ONE table of kernel constants tsrun uses, by their kernel names. Nothing outside native/
// writes a kernel number: it imports it from here (or from syscalls.ts / errno.ts).
//
// Values are the same on x86_64 and aarch64 except the O_* open flags (see O_BY_ARCH).
// test/unit/native-constants.test.ts compiles a C program against the system headers and
// compares every value when a C compiler is present.
//
// Flags above bit 30 (CLONE_IO, CLONE_INTO_CGROUP, MS_NOUSER, ...) do not survive JavaScript's
// 32-bit `|`: combine flags with `orFlags()` here or `flags()` in program.ts, which use BigInt.

import type { Arch } from './syscalls.js';

export type ConstTable = Readonly<Record<string, number | bigint>>;

/** clone(2)/clone3(2)/unshare(2)/setns(2) flags. */
export const CLONE = {
  CLONE_NEWTIME: 0x80,
  CLONE_VM: 0x100,
  CLONE_FS: 0x200,
  CLONE_FILES: 0x400,
  CLONE_SIGHAND: 0x800,
  CLONE_PIDFD: 0x1000,
  CLONE_PTRACE: 0x2000,
  CLONE_VFORK: 0x4000,
  CLONE_PARENT: 0x8000,
  CLONE_THREAD: 0x10000,
  CLONE_NEWNS: 0x20000,
  CLONE_SYSVSEM: 0x40000,
  CLONE_SETTLS: 0x80000,
  CLONE_PARENT_SETTID: 0x100000,
  CLONE_CHILD_CLEARTID: 0x200000,
  CLONE_DETACHED: 0x400000,
  CLONE_UNTRACED: 0x800000,
  CLONE_CHILD_SETTID: 0x1000000,
  CLONE_NEWCGROUP: 0x2000000,
  CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_IO: 0x80000000,
  CLONE_CLEAR_SIGHAND: 0x100000000,
  CLONE_INTO_CGROUP: 0x200000000,
} as const;

/** sizeof(struct clone_args) per version. */
export const CLONE_ARGS = {
  CLONE_ARGS_SIZE_VER0: 64,
  CLONE_ARGS_SIZE_VER1: 80,
  CLONE_ARGS_SIZE_VER2: 88,
} as const;

/** mount(2) flags. */
export const MS = {
  MS_RDONLY: 0x1,
  MS_NOSUID: 0x2,
  MS_NODEV: 0x4,
  MS_NOEXEC: 0x8,
  MS_SYNCHRONOUS: 0x10,
  MS_REMOUNT: 0x20,
  MS_MANDLOCK: 0x40,
  MS_DIRSYNC: 0x80,
  MS_NOSYMFOLLOW: 0x100,
  MS_NOATIME: 0x400,
  MS_NODIRATIME: 0x800,
  MS_BIND: 0x1000,
  MS_MOVE: 0x2000,
  MS_REC: 0x4000,
  MS_SILENT: 0x8000,
  MS_POSIXACL: 0x10000,
  MS_UNBINDABLE: 0x20000,
  MS_PRIVATE: 0x40000,
  MS_SLAVE: 0x80000,
  MS_SHARED: 0x100000,
  MS_RELATIME: 0x200000,
  MS_KERNMOUNT: 0x400000,
  MS_I_VERSION: 0x800000,
  MS_STRICTATIME: 0x1000000,
  MS_LAZYTIME: 0x2000000,
  MS_ACTIVE: 0x40000000,
  MS_NOUSER: 0x80000000,
} as const;

/** umount2(2) flags. */
export const MNT = {
  MNT_FORCE: 1,
  MNT_DETACH: 2,
  MNT_EXPIRE: 4,
  UMOUNT_NOFOLLOW: 8,
} as const;

/** statfs(2) f_flags (what a bind remount must keep). */
export const ST = {
  ST_RDONLY: 0x1,
  ST_NOSUID: 0x2,
  ST_NODEV: 0x4,
  ST_NOEXEC: 0x8,
  ST_SYNCHRONOUS: 0x10,
  ST_MANDLOCK: 0x40,
  ST_NOATIME: 0x400,
  ST_NODIRATIME: 0x800,
  ST_RELATIME: 0x1000,
  ST_NOSYMFOLLOW: 0x2000,
} as const;

/** mount_setattr(2) attributes and struct mount_attr. */
export const MOUNT_ATTR = {
  MOUNT_ATTR_RDONLY: 0x1,
  MOUNT_ATTR_NOSUID: 0x2,
  MOUNT_ATTR_NODEV: 0x4,
  MOUNT_ATTR_NOEXEC: 0x8,
  MOUNT_ATTR__ATIME: 0x70,
  MOUNT_ATTR_RELATIME: 0x0,
  MOUNT_ATTR_NOATIME: 0x10,
  MOUNT_ATTR_STRICTATIME: 0x20,
  MOUNT_ATTR_NODIRATIME: 0x80,
  MOUNT_ATTR_IDMAP: 0x100000,
  MOUNT_ATTR_NOSYMFOLLOW: 0x200000,
  /** sizeof(struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }) */
  MOUNT_ATTR_SIZE_VER0: 32,
} as const;

/** open_tree(2), move_mount(2), fsopen/fsmount/fsconfig(2). */
export const NEW_MOUNT_API = {
  OPEN_TREE_CLONE: 1,
  OPEN_TREE_CLOEXEC: 0o2000000,
  MOVE_MOUNT_F_SYMLINKS: 0x1,
  MOVE_MOUNT_F_AUTOMOUNTS: 0x2,
  MOVE_MOUNT_F_EMPTY_PATH: 0x4,
  MOVE_MOUNT_T_SYMLINKS: 0x10,
  MOVE_MOUNT_T_AUTOMOUNTS: 0x20,
  MOVE_MOUNT_T_EMPTY_PATH: 0x40,
  MOVE_MOUNT_SET_GROUP: 0x100,
  MOVE_MOUNT_BENEATH: 0x200,
  FSOPEN_CLOEXEC: 1,
  FSPICK_CLOEXEC: 1,
  FSPICK_SYMLINK_NOFOLLOW: 2,
  FSPICK_NO_AUTOMOUNT: 4,
  FSPICK_EMPTY_PATH: 8,
  FSMOUNT_CLOEXEC: 1,
  FSCONFIG_SET_FLAG: 0,
  FSCONFIG_SET_STRING: 1,
  FSCONFIG_SET_BINARY: 2,
  FSCONFIG_SET_PATH: 3,
  FSCONFIG_SET_PATH_EMPTY: 4,
  FSCONFIG_SET_FD: 5,
  FSCONFIG_CMD_CREATE: 6,
  FSCONFIG_CMD_RECONFIGURE: 7,
} as const;

/** *at(2) flags. */
export const AT = {
  AT_FDCWD: -100,
  AT_SYMLINK_NOFOLLOW: 0x100,
  AT_REMOVEDIR: 0x200,
  AT_EACCESS: 0x200,
  AT_SYMLINK_FOLLOW: 0x400,
  AT_NO_AUTOMOUNT: 0x800,
  AT_EMPTY_PATH: 0x1000,
  AT_STATX_SYNC_AS_STAT: 0x0,
  AT_STATX_FORCE_SYNC: 0x2000,
  AT_STATX_DONT_SYNC: 0x4000,
  AT_RECURSIVE: 0x8000,
} as const;

const O_COMMON = {
  O_RDONLY: 0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_ACCMODE: 0o3,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_DSYNC: 0o10000,
  O_ASYNC: 0o20000,
  O_NOATIME: 0o1000000,
  O_CLOEXEC: 0o2000000,
  O_SYNC: 0o4010000,
  O_PATH: 0o10000000,
} as const;

/** open(2) flags per architecture: aarch64 swaps O_DIRECTORY/O_NOFOLLOW/O_DIRECT/O_LARGEFILE. */
export const O_BY_ARCH = {
  x64: {
    ...O_COMMON,
    O_DIRECT: 0o40000,
    O_LARGEFILE: 0o100000,
    O_DIRECTORY: 0o200000,
    O_NOFOLLOW: 0o400000,
    O_TMPFILE: 0o20200000,
  },
  arm64: {
    ...O_COMMON,
    O_DIRECTORY: 0o40000,
    O_NOFOLLOW: 0o100000,
    O_DIRECT: 0o200000,
    O_LARGEFILE: 0o400000,
    O_TMPFILE: 0o20040000,
  },
} as const satisfies Record<Arch, ConstTable>;

function currentArch(): Arch {
  return process.arch === 'arm64' ? 'arm64' : 'x64';
}

export type OpenFlags = { readonly [K in keyof (typeof O_BY_ARCH)['x64']]: number };

/** open(2) flags of the architecture tsrun runs on. */
export const O: OpenFlags = O_BY_ARCH[currentArch()];

/** openat2(2) resolve flags and struct open_how. */
export const RESOLVE = {
  RESOLVE_NO_XDEV: 0x1,
  RESOLVE_NO_MAGICLINKS: 0x2,
  RESOLVE_NO_SYMLINKS: 0x4,
  RESOLVE_BENEATH: 0x8,
  RESOLVE_IN_ROOT: 0x10,
  RESOLVE_CACHED: 0x20,
  /** sizeof(struct open_how { u64 flags, mode, resolve; }) */
  OPEN_HOW_SIZE_VER0: 24,
} as const;

/** close_range(2) flags. */
export const CLOSE_RANGE = {
  CLOSE_RANGE_UNSHARE: 0x2,
  CLOSE_RANGE_CLOEXEC: 0x4,
} as const;

/** prctl(2) options. */
export const PR = {
  PR_SET_PDEATHSIG: 1,
  PR_GET_PDEATHSIG: 2,
  PR_GET_DUMPABLE: 3,
  PR_SET_DUMPABLE: 4,
  PR_GET_KEEPCAPS: 7,
  PR_SET_KEEPCAPS: 8,
  PR_SET_NAME: 15,
  PR_GET_NAME: 16,
  PR_GET_SECCOMP: 21,
  PR_SET_SECCOMP: 22,
  PR_CAPBSET_READ: 23,
  PR_CAPBSET_DROP: 24,
  PR_GET_SECUREBITS: 27,
  PR_SET_SECUREBITS: 28,
  PR_SET_TIMERSLACK: 29,
  PR_SET_CHILD_SUBREAPER: 36,
  PR_GET_CHILD_SUBREAPER: 37,
  PR_SET_NO_NEW_PRIVS: 38,
  PR_GET_NO_NEW_PRIVS: 39,
  PR_CAP_AMBIENT: 47,
  PR_CAP_AMBIENT_IS_SET: 1,
  PR_CAP_AMBIENT_RAISE: 2,
  PR_CAP_AMBIENT_LOWER: 3,
  PR_CAP_AMBIENT_CLEAR_ALL: 4,
} as const;

/** seccomp(2) operations, filter flags, modes and filter return actions. */
export const SECCOMP = {
  SECCOMP_SET_MODE_STRICT: 0,
  SECCOMP_SET_MODE_FILTER: 1,
  SECCOMP_GET_ACTION_AVAIL: 2,
  SECCOMP_GET_NOTIF_SIZES: 3,
  SECCOMP_FILTER_FLAG_TSYNC: 0x1,
  SECCOMP_FILTER_FLAG_LOG: 0x2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 0x4,
  SECCOMP_FILTER_FLAG_NEW_LISTENER: 0x8,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH: 0x10,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 0x20,
  SECCOMP_MODE_DISABLED: 0,
  SECCOMP_MODE_STRICT: 1,
  SECCOMP_MODE_FILTER: 2,
  SECCOMP_RET_KILL_PROCESS: 0x80000000,
  SECCOMP_RET_KILL_THREAD: 0x0,
  SECCOMP_RET_TRAP: 0x30000,
  SECCOMP_RET_ERRNO: 0x50000,
  SECCOMP_RET_USER_NOTIF: 0x7fc00000,
  SECCOMP_RET_TRACE: 0x7ff00000,
  SECCOMP_RET_LOG: 0x7ffc0000,
  SECCOMP_RET_ALLOW: 0x7fff0000,
} as const;

/** AUDIT_ARCH_* values seccomp filters compare seccomp_data.arch with. */
export const AUDIT_ARCH = {
  AUDIT_ARCH_X86_64: 0xc000003e,
  AUDIT_ARCH_I386: 0x40000003,
  AUDIT_ARCH_AARCH64: 0xc00000b7,
  AUDIT_ARCH_ARM: 0x40000028,
} as const;

/** File types and mode bits (st_mode, mknod). */
export const S = {
  S_IFMT: 0o170000,
  S_IFSOCK: 0o140000,
  S_IFLNK: 0o120000,
  S_IFREG: 0o100000,
  S_IFBLK: 0o60000,
  S_IFDIR: 0o40000,
  S_IFCHR: 0o20000,
  S_IFIFO: 0o10000,
  S_ISUID: 0o4000,
  S_ISGID: 0o2000,
  S_ISVTX: 0o1000,
} as const;

/** Signals by name (identical on x86_64 and aarch64). SIGRTMIN is glibc's (34), as `kill -l` shows. */
export const SIG = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
  SIGRTMIN: 34,
  SIGRTMAX: 64,
} as const;

/** memfd_create(2) flags. */
export const MFD = {
  MFD_CLOEXEC: 0x1,
} as const;

/** rt_sigprocmask(2) operations. */
export const SIGPROCMASK = {
  SIG_BLOCK: 0,
  SIG_UNBLOCK: 1,
  SIG_SETMASK: 2,
} as const;

let signalTable: Readonly<Record<string, number>> | undefined;

/**
 * Every signal name with its number, real-time ones as `kill -l` names them (SIGRTMIN+1 ..
 * SIGRTMAX-1). Made when first asked (kill, signal names in messages), not by every command
 * that imports the constants.
 */
export function signals(): Readonly<Record<string, number>> {
  if (signalTable) return signalTable;
  const all: Record<string, number> = { ...SIG };
  for (let n = SIG.SIGRTMIN + 1; n < SIG.SIGRTMAX; n++) {
    const up = n - SIG.SIGRTMIN;
    const down = SIG.SIGRTMAX - n;
    all[up <= 15 ? `SIGRTMIN+${up}` : `SIGRTMAX-${down}`] = n;
  }
  return (signalTable = Object.freeze(all));
}

/** The canonical name of a signal number (SIGABRT, not SIGIOT), or undefined. */
export function signalName(n: number): string | undefined {
  const alias = new Set(['SIGIOT', 'SIGPOLL']);
  for (const [name, v] of Object.entries(signals())) if (v === n && !alias.has(name)) return name;
  return undefined;
}

/** setrlimit(2) resources (identical on x86_64 and aarch64). */
export const RLIMIT = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
} as const;

/** RLIM_INFINITY as the u64 the kernel reads. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** ioprio_set(2) classes and targets. */
export const IOPRIO = {
  IOPRIO_CLASS_NONE: 0,
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
  IOPRIO_WHO_PROCESS: 1,
  IOPRIO_WHO_PGRP: 2,
  IOPRIO_WHO_USER: 3,
  IOPRIO_CLASS_SHIFT: 13,
} as const;

/** IOPRIO_PRIO_VALUE(class, data). */
export function ioprioValue(klass: number, data: number): number {
  return ((klass << IOPRIO.IOPRIO_CLASS_SHIFT) | (data & ((1 << IOPRIO.IOPRIO_CLASS_SHIFT) - 1))) >>> 0;
}

/** dev_t as the kernel encodes it (glibc's makedev): major in bits 8..19 and 32..43, minor in 0..7 and 20..31. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** The inverse of makedev (glibc's major()/minor()). */
export function splitDev(dev: number | bigint): { major: number; minor: number } {
  const d = BigInt(dev);
  return { major: Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & 0xfffff000n)), minor: Number((d & 0xffn) | ((d >> 12n) & 0xffffff00n)) };
}

/** Scheduling policies, sched_setattr(2) flags and struct sched_attr sizes. */
export const SCHED = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  /** Reserved for SCHED_ISOCHRONOUS, never implemented: the kernel refuses it (EINVAL). */
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
  SCHED_RESET_ON_FORK: 0x40000000,
  SCHED_FLAG_RESET_ON_FORK: 0x1,
  SCHED_FLAG_RECLAIM: 0x2,
  SCHED_FLAG_DL_OVERRUN: 0x4,
  SCHED_FLAG_KEEP_POLICY: 0x8,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
  SCHED_ATTR_SIZE_VER0: 48,
  SCHED_ATTR_SIZE_VER1: 56,
} as const;

/** personality(2) execution domains and flags. */
export const PERSONALITY = {
  PER_LINUX: 0x0,
  PER_LINUX32: 0x8,
  UNAME26: 0x20000,
  ADDR_NO_RANDOMIZE: 0x40000,
  FDPIC_FUNCPTRS: 0x80000,
  MMAP_PAGE_ZERO: 0x100000,
  ADDR_COMPAT_LAYOUT: 0x200000,
  READ_IMPLIES_EXEC: 0x400000,
  ADDR_LIMIT_32BIT: 0x800000,
  SHORT_INODE: 0x1000000,
  WHOLE_SECONDS: 0x2000000,
  STICKY_TIMEOUTS: 0x4000000,
  ADDR_LIMIT_3GB: 0x8000000,
  PER_QUERY: 0xffffffff,
} as const;

/** set_mempolicy(2) modes and mode flags. */
export const MPOL = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
} as const;

/** keyctl(2) operations and special keyring ids. */
export const KEYCTL = {
  KEYCTL_GET_KEYRING_ID: 0,
  KEYCTL_JOIN_SESSION_KEYRING: 1,
  KEYCTL_SETPERM: 5,
  KEYCTL_DESCRIBE: 6,
  KEY_SPEC_THREAD_KEYRING: -1,
  KEY_SPEC_PROCESS_KEYRING: -2,
  KEY_SPEC_SESSION_KEYRING: -3,
} as const;

/** capget/capset(2) header versions, and capability numbers. */
export const CAPABILITY_VERSION = {
  LINUX_CAPABILITY_VERSION_1: 0x19980330,
  LINUX_CAPABILITY_VERSION_2: 0x20071026,
  LINUX_CAPABILITY_VERSION_3: 0x20080522,
  LINUX_CAPABILITY_U32S_3: 2,
} as const;

export const CAP = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
} as const;

/** fcntl(2) commands and flags. */
export const F = {
  F_DUPFD: 0,
  F_GETFD: 1,
  F_SETFD: 2,
  F_GETFL: 3,
  F_SETFL: 4,
  F_GETLK: 5,
  F_SETLK: 6,
  F_SETLKW: 7,
  F_DUPFD_CLOEXEC: 1030,
  F_SETPIPE_SZ: 1031,
  F_GETPIPE_SZ: 1032,
  F_ADD_SEALS: 1033,
  F_GET_SEALS: 1034,
  F_SEAL_SEAL: 0x1,
  F_SEAL_SHRINK: 0x2,
  F_SEAL_GROW: 0x4,
  F_SEAL_WRITE: 0x8,
  FD_CLOEXEC: 1,
} as const;

/** flock(2) operations. */
export const LOCK = {
  LOCK_SH: 1,
  LOCK_EX: 2,
  LOCK_NB: 4,
  LOCK_UN: 8,
} as const;

/** Sockets: families, types, levels, control messages, send/recv flags. */
export const SOCK = {
  AF_UNIX: 1,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_SEQPACKET: 5,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_PASSCRED: 16,
  SO_PEERCRED: 17,
  SCM_RIGHTS: 1,
  SCM_CREDENTIALS: 2,
  MSG_PEEK: 0x2,
  MSG_CTRUNC: 0x8,
  MSG_TRUNC: 0x20,
  MSG_DONTWAIT: 0x40,
  MSG_NOSIGNAL: 0x4000,
  MSG_CMSG_CLOEXEC: 0x40000000,
} as const;

/** poll(2) events. */
export const POLL = {
  POLLIN: 0x1,
  POLLPRI: 0x2,
  POLLOUT: 0x4,
  POLLERR: 0x8,
  POLLHUP: 0x10,
  POLLNVAL: 0x20,
  POLLRDHUP: 0x2000,
} as const;

/** posix_spawnattr_setflags(3) flags (glibc's spawn.h). */
export const SPAWN = {
  POSIX_SPAWN_SETSIGDEF: 0x04,
  POSIX_SPAWN_SETSIGMASK: 0x08,
} as const;

/** waitid(2) id types, options, and si_code values of SIGCHLD. */
export const WAIT = {
  P_ALL: 0,
  P_PID: 1,
  P_PGID: 2,
  P_PIDFD: 3,
  WNOHANG: 0x1,
  WUNTRACED: 0x2,
  WSTOPPED: 0x2,
  WEXITED: 0x4,
  WCONTINUED: 0x8,
  WNOWAIT: 0x1000000,
  CLD_EXITED: 1,
  CLD_KILLED: 2,
  CLD_DUMPED: 3,
  CLD_TRAPPED: 4,
  CLD_STOPPED: 5,
  CLD_CONTINUED: 6,
} as const;

/** pidfd_open(2) flags. */
export const PIDFD = {
  PIDFD_NONBLOCK: 0o4000,
} as const;

/** Terminal ioctls (asm-generic/ioctls.h: the same on x86_64 and aarch64). */
export const TIOC = {
  TIOCGWINSZ: 0x5413,
  TIOCSWINSZ: 0x5414,
  TIOCSCTTY: 0x540e,
  TIOCNOTTY: 0x5422,
  TIOCGPTN: 0x80045430,
  TIOCSPTLCK: 0x40045431,
  TIOCGPTPEER: 0x5441,
} as const;

/** statx(2) mask bits. */
export const STATX = {
  STATX_TYPE: 0x1,
  STATX_MODE: 0x2,
  STATX_NLINK: 0x4,
  STATX_UID: 0x8,
  STATX_GID: 0x10,
  STATX_ATIME: 0x20,
  STATX_MTIME: 0x40,
  STATX_CTIME: 0x80,
  STATX_INO: 0x100,
  STATX_SIZE: 0x200,
  STATX_BLOCKS: 0x400,
  STATX_BASIC_STATS: 0x7ff,
  STATX_BTIME: 0x800,
  STATX_MNT_ID: 0x1000,
} as const;

/** bpf(2) commands, program and attach types, and the eBPF instruction encoding. */
export const BPF = {
  BPF_MAP_CREATE: 0,
  BPF_PROG_LOAD: 5,
  BPF_PROG_ATTACH: 8,
  BPF_PROG_DETACH: 9,
  BPF_PROG_GET_NEXT_ID: 11,
  BPF_PROG_GET_FD_BY_ID: 13,
  BPF_OBJ_GET_INFO_BY_FD: 15,
  BPF_PROG_QUERY: 16,
  BPF_PROG_TYPE_CGROUP_DEVICE: 15,
  BPF_CGROUP_DEVICE: 6,
  BPF_F_ALLOW_OVERRIDE: 0x1,
  BPF_F_ALLOW_MULTI: 0x2,
  BPF_F_REPLACE: 0x4,
  BPF_DEVCG_ACC_MKNOD: 1,
  BPF_DEVCG_ACC_READ: 2,
  BPF_DEVCG_ACC_WRITE: 4,
  BPF_DEVCG_DEV_BLOCK: 1,
  BPF_DEVCG_DEV_CHAR: 2,
  /** Size of prog_name in BPF_PROG_LOAD and of name in struct bpf_prog_info (NUL included). */
  BPF_OBJ_NAME_LEN: 16,
  // instruction classes
  BPF_LD: 0x00,
  BPF_LDX: 0x01,
  BPF_ST: 0x02,
  BPF_STX: 0x03,
  BPF_ALU: 0x04,
  BPF_JMP: 0x05,
  BPF_RET: 0x06,
  BPF_JMP32: 0x06,
  BPF_ALU64: 0x07,
  // sizes
  BPF_W: 0x00,
  BPF_H: 0x08,
  BPF_B: 0x10,
  BPF_DW: 0x18,
  // modes
  BPF_IMM: 0x00,
  BPF_ABS: 0x20,
  BPF_IND: 0x40,
  BPF_MEM: 0x60,
  // sources
  BPF_K: 0x00,
  BPF_X: 0x08,
  // alu ops
  BPF_ADD: 0x00,
  BPF_SUB: 0x10,
  BPF_MUL: 0x20,
  BPF_DIV: 0x30,
  BPF_OR: 0x40,
  BPF_AND: 0x50,
  BPF_LSH: 0x60,
  BPF_RSH: 0x70,
  BPF_NEG: 0x80,
  BPF_XOR: 0xa0,
  BPF_MOV: 0xb0,
  // jump ops
  BPF_JA: 0x00,
  BPF_JEQ: 0x10,
  BPF_JGT: 0x20,
  BPF_JGE: 0x30,
  BPF_JSET: 0x40,
  BPF_JNE: 0x50,
  BPF_CALL: 0x80,
  BPF_EXIT: 0x90,
} as const;

/** Every table above, by a short name (used by describe(), the tests, and `orFlags` callers). */
export const CONSTANT_TABLES = {
  CLONE,
  CLONE_ARGS,
  MS,
  MNT,
  ST,
  MOUNT_ATTR,
  NEW_MOUNT_API,
  AT,
  O,
  RESOLVE,
  CLOSE_RANGE,
  PR,
  SECCOMP,
  AUDIT_ARCH,
  S,
  SIG,
  SIGPROCMASK,
  MFD,
  RLIMIT,
  IOPRIO,
  SCHED,
  PERSONALITY,
  MPOL,
  KEYCTL,
  CAPABILITY_VERSION,
  CAP,
  F,
  LOCK,
  SOCK,
  POLL,
  SPAWN,
  WAIT,
  PIDFD,
  TIOC,
  STATX,
  BPF,
} as const satisfies Record<string, ConstTable>;

/**
 * OR named flags of one table as a BigInt (safe above bit 31): `orFlags(MS, 'MS_BIND', 'MS_REC')`.
 * Negative values (AT_FDCWD) are returned as they are when alone.
 */
export function orFlags<T extends ConstTable>(table: T, ...names: (keyof T & string)[]): bigint {
  let v = 0n;
  for (const name of names) {
    const x = table[name];
    if (x === undefined) throw new TypeError(`unknown constant ${name}`);
    if (names.length === 1) return BigInt(x);
    v |= BigInt(x);
  }
  return v;
}

/** Split a flag value into the names of a table (for messages and describe()); leftover bits in hex. */
export function flagNames(table: ConstTable, value: number | bigint, prefix?: string): string[] {
  let rest = BigInt(value);
  const names: string[] = [];
  const entries = Object.entries(table)
    .filter(([name, v]) => (prefix === undefined || name.startsWith(prefix)) && BigInt(v) > 0n)
    .map(([name, v]) => [name, BigInt(v)] as const)
    .filter(([, v]) => (v & (v - 1n)) === 0n); // single bits only
  for (const [name, bit] of entries) {
    if ((rest & bit) === bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names;
}
