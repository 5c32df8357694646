// bpf(2) for cgroup v2 device programs (BPF_PROG_TYPE_CGROUP_DEVICE): load,
// attach, list, inspect and detach. Mechanism only: which programs to
// replace is decided in src/cgroups/devices.ts.
//
// union bpf_attr holds 64-bit user pointers, so each call lays its attribute
// out in memory koffi allocated (stable addresses), as libc.ts does for
// msghdr. Layouts are the kernel's (include/uapi/linux/bpf.h); a size smaller
// than the kernel's union is fine (it zero-fills the rest).
//
// koffi is loaded on the first call, not on import.

import { koffi as loadKoffi } from './koffi.js';
import { BPF, SIGPROCMASK } from './constants.js';
import { errnoMessage, errnoNumber, syscallError } from './errno.js';
import { rawSyscall } from './libc.js';

/** A block of native memory with its address, viewed as bytes. */
interface Block {
  readonly ptr: unknown;
  readonly base: bigint;
  readonly view: DataView;
  readonly bytes: Uint8Array;
}

function withBlock<T>(size: number, use: (b: Block) => T): T {
  const koffi = loadKoffi();
  const ptr = koffi.alloc('uint8_t', size);
  try {
    const ab = koffi.view(ptr, size);
    const bytes = new Uint8Array(ab);
    bytes.fill(0);
    return use({ ptr, base: koffi.address(ptr), view: new DataView(ab), bytes });
  } finally {
    koffi.free(ptr);
  }
}

/** bpf(cmd, attr, size): the result, or -errno. */
function bpf(cmd: number, attr: Block, size: number): number {
  return rawSyscall('bpf', 'int', cmd, 'void *', attr.ptr, 'unsigned int', size);
}

/** The kernel's sigset_t: one bit per signal, 64 signals. */
const KERNEL_SIGSET_BYTES = 8;

/**
 * Runs `fn` with every signal blocked in this thread (they stay pending and arrive after): the
 * verifier gives up with EAGAIN whenever a signal is pending, and a busy tsrun gets them (SIGCHLD,
 * SIGWINCH, a profiler's SIGPROF every few hundred microseconds).
 */
function withSignalsBlocked<T>(fn: () => T): T {
  const old = Buffer.alloc(KERNEL_SIGSET_BYTES);
  const all = Buffer.alloc(KERNEL_SIGSET_BYTES, 0xff);
  if (rawSyscall('rt_sigprocmask', 'int', SIGPROCMASK.SIG_BLOCK, 'void *', all, 'void *', old, 'size_t', KERNEL_SIGSET_BYTES) < 0) return fn();
  try {
    return fn();
  } finally {
    rawSyscall('rt_sigprocmask', 'int', SIGPROCMASK.SIG_SETMASK, 'void *', old, 'void *', null, 'size_t', KERNEL_SIGSET_BYTES);
  }
}

function fail(what: string, object: string, errno: number, detail?: string): never {
  throw syscallError(`bpf(${what})`, errno, object, detail);
}

// ---- BPF_PROG_LOAD -----------------------------------------------------------------------

const EAGAIN = errnoNumber('EAGAIN') as number;
/** libbpf's count of load attempts on EAGAIN. */
const LOAD_RETRIES = 5;

// prog_type u32 @0, insn_cnt u32 @4, insns u64 @8, license u64 @16, log_level u32 @24,
// log_size u32 @28, log_buf u64 @32, kern_version u32 @40, prog_flags u32 @44,
// prog_name char[16] @48, prog_ifindex u32 @64, expected_attach_type u32 @68
const LOAD_ATTR_SIZE = 72;
const LOG_SIZE = 1 << 16;
const INSN_SIZE = 8;

/** What the kernel accepts in an object name: letters, digits, '_' and '.', at most 15 bytes. */
function checkName(name: string): void {
  if (!/^[A-Za-z0-9_.]*$/.test(name) || name.length >= BPF.BPF_OBJ_NAME_LEN) {
    throw new RangeError(`bpf program name ${JSON.stringify(name)}: at most ${BPF.BPF_OBJ_NAME_LEN - 1} of [A-Za-z0-9_.]`);
  }
}

function loadOnce(insns: Uint8Array, license: string, name: string, withLog: boolean): { fd: number; log: string } {
  const lic = Buffer.from(`${license}\0`);
  const insnsAt = LOAD_ATTR_SIZE;
  const licAt = insnsAt + insns.length;
  const logAt = (licAt + lic.length + 7) & ~7;
  return withBlock(logAt + (withLog ? LOG_SIZE : 0), (b) => {
    b.bytes.set(insns, insnsAt);
    b.bytes.set(lic, licAt);
    b.view.setUint32(0, BPF.BPF_PROG_TYPE_CGROUP_DEVICE, true);
    b.view.setUint32(4, insns.length / INSN_SIZE, true);
    b.view.setBigUint64(8, b.base + BigInt(insnsAt), true);
    b.view.setBigUint64(16, b.base + BigInt(licAt), true);
    if (withLog) {
      b.view.setUint32(24, 1, true);
      b.view.setUint32(28, LOG_SIZE, true);
      b.view.setBigUint64(32, b.base + BigInt(logAt), true);
    }
    b.bytes.set(Buffer.from(name), 48);
    const fd = withSignalsBlocked(() => bpf(BPF.BPF_PROG_LOAD, b, LOAD_ATTR_SIZE));
    let log = '';
    if (withLog) {
      const raw = b.bytes.subarray(logAt, logAt + LOG_SIZE);
      const end = raw.indexOf(0);
      log = Buffer.from(raw.subarray(0, end === -1 ? raw.length : end)).toString('utf8').trim();
    }
    return { fd, log };
  });
}

/**
 * Loads a BPF_PROG_TYPE_CGROUP_DEVICE program; returns its fd (close-on-exec,
 * as every bpf fd). A refusal is loaded again with the verifier's log on, and
 * the log is in the error: it says which instruction the kernel objected to.
 */
export function loadCgroupDeviceProgram(insns: Uint8Array, license: string, name = ''): number {
  if (insns.length === 0 || insns.length % INSN_SIZE !== 0) throw new RangeError(`an eBPF program is a non-empty multiple of ${INSN_SIZE} bytes, not ${insns.length}`);
  checkName(name);
  // Signals are blocked during the load; EAGAIN is still retried, as libbpf does.
  let first = loadOnce(insns, license, name, false);
  for (let tries = 1; first.fd === -EAGAIN && tries < LOAD_RETRIES; tries++) first = loadOnce(insns, license, name, false);
  if (first.fd >= 0) return first.fd;
  const errno = -first.fd;
  const again = loadOnce(insns, license, name, true);
  // The second attempt may succeed (a transient failure): use it.
  if (again.fd >= 0) return again.fd;
  const log = again.log !== '' ? `; verifier log:\n${again.log}` : '';
  return fail('BPF_PROG_LOAD', 'cgroup device program', errno, `${errnoMessage(errno)}${log}`);
}

// ---- BPF_PROG_ATTACH / BPF_PROG_DETACH ---------------------------------------------------

// target_fd u32 @0, attach_bpf_fd u32 @4, attach_type u32 @8, attach_flags u32 @12, replace_bpf_fd u32 @16
const ATTACH_ATTR_SIZE = 20;

function attachAttr(b: Block, progFd: number, cgroupFd: number, flags: number): void {
  b.view.setUint32(0, cgroupFd, true);
  b.view.setUint32(4, progFd, true);
  b.view.setUint32(8, BPF.BPF_CGROUP_DEVICE, true);
  b.view.setUint32(12, flags, true);
}

/**
 * Attaches a device program to a cgroup (an fd of its directory) with
 * BPF_F_ALLOW_MULTI: programs attached by others stay, and an access must be
 * allowed by every one of them. `what` names the cgroup in errors.
 */
export function attachCgroupDevice(progFd: number, cgroupFd: number, what = `fd ${cgroupFd}`): void {
  withBlock(ATTACH_ATTR_SIZE, (b) => {
    attachAttr(b, progFd, cgroupFd, BPF.BPF_F_ALLOW_MULTI);
    const r = bpf(BPF.BPF_PROG_ATTACH, b, ATTACH_ATTR_SIZE);
    if (r < 0) fail('BPF_PROG_ATTACH', what, -r);
  });
}

/** Detaches one device program (by an fd of it) from a cgroup. */
export function detachCgroupDevice(progFd: number, cgroupFd: number, what = `fd ${cgroupFd}`): void {
  withBlock(ATTACH_ATTR_SIZE, (b) => {
    attachAttr(b, progFd, cgroupFd, 0);
    const r = bpf(BPF.BPF_PROG_DETACH, b, ATTACH_ATTR_SIZE);
    if (r < 0) fail('BPF_PROG_DETACH', what, -r);
  });
}

// ---- BPF_PROG_QUERY ----------------------------------------------------------------------

// target_fd u32 @0, attach_type u32 @4, query_flags u32 @8, attach_flags u32 @12, prog_ids u64 @16, prog_cnt u32 @24
const QUERY_ATTR_SIZE = 32;
/** A cgroup holds at most 64 programs per attach type (BPF_CGROUP_MAX_PROGS); the retry handles a larger future limit. */
const QUERY_FIRST_COUNT = 64;
const ENOSPC = 28;

/** Ids of the device programs attached to this very cgroup (not those inherited from ancestors). */
export function queryCgroupDevicePrograms(cgroupFd: number, what = `fd ${cgroupFd}`): number[] {
  let count = QUERY_FIRST_COUNT;
  for (let attempt = 0; attempt < 4; attempt++) {
    const result = withBlock(QUERY_ATTR_SIZE + 4 * count, (b): { ids: number[] } | { errno: number; n: number } => {
      b.view.setUint32(0, cgroupFd, true);
      b.view.setUint32(4, BPF.BPF_CGROUP_DEVICE, true);
      b.view.setBigUint64(16, b.base + BigInt(QUERY_ATTR_SIZE), true);
      b.view.setUint32(24, count, true);
      const r = bpf(BPF.BPF_PROG_QUERY, b, QUERY_ATTR_SIZE);
      const n = b.view.getUint32(24, true);
      if (r < 0) return { errno: -r, n };
      return { ids: Array.from({ length: n }, (_, i) => b.view.getUint32(QUERY_ATTR_SIZE + 4 * i, true)) };
    });
    if ('ids' in result) return result.ids;
    // ENOSPC: more programs than room; the kernel told us how many there are.
    if (result.errno !== ENOSPC) fail('BPF_PROG_QUERY', what, result.errno);
    count = Math.max(result.n, count * 2);
  }
  return fail('BPF_PROG_QUERY', what, ENOSPC, 'the list of attached programs kept growing');
}

// ---- BPF_PROG_GET_FD_BY_ID / BPF_OBJ_GET_INFO_BY_FD ---------------------------------------

/** An fd of the loaded program with this id (close-on-exec). */
export function programFdById(id: number): number {
  return withBlock(12, (b) => {
    b.view.setUint32(0, id, true);
    const fd = bpf(BPF.BPF_PROG_GET_FD_BY_ID, b, 12);
    if (fd < 0) fail('BPF_PROG_GET_FD_BY_ID', `program ${id}`, -fd);
    return fd;
  });
}

export interface ProgramInfo {
  readonly type: number;
  readonly id: number;
  /** The name given at load (prog_name), empty when none. */
  readonly name: string;
}

// bpf_fd u32 @0, info_len u32 @4, info u64 @8. struct bpf_prog_info: type u32 @0, id u32 @4, ..., name char[16] @64
const INFO_ATTR_SIZE = 16;
const PROG_INFO_SIZE = 80;
const PROG_INFO_NAME_AT = 64;

export function programInfo(progFd: number): ProgramInfo {
  return withBlock(INFO_ATTR_SIZE + PROG_INFO_SIZE, (b) => {
    b.view.setUint32(0, progFd, true);
    b.view.setUint32(4, PROG_INFO_SIZE, true);
    b.view.setBigUint64(8, b.base + BigInt(INFO_ATTR_SIZE), true);
    const r = bpf(BPF.BPF_OBJ_GET_INFO_BY_FD, b, INFO_ATTR_SIZE);
    if (r < 0) fail('BPF_OBJ_GET_INFO_BY_FD', `fd ${progFd}`, -r);
    const info = INFO_ATTR_SIZE;
    const raw = b.bytes.subarray(info + PROG_INFO_NAME_AT, info + PROG_INFO_NAME_AT + BPF.BPF_OBJ_NAME_LEN);
    const end = raw.indexOf(0);
    return {
      type: b.view.getUint32(info, true),
      id: b.view.getUint32(info + 4, true),
      name: Buffer.from(raw.subarray(0, end === -1 ? raw.length : end)).toString('latin1'),
    };
  });
}
