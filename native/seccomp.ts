// libseccomp through koffi: the compiler of seccomp filters. tsrun builds a filter with it in
// the parent, exports the classic BPF program and hands the bytes to the stub, which loads them
// with seccomp(2) right before execve. libseccomp knows the syscall tables of every
// architecture and the 64-bit argument comparison sequences; tsrun does not duplicate them.
//
// libseccomp is loaded on first use only: a config without linux.seccomp never needs it, and
// a host without it fails only such configs (LibseccompUnavailableError). TSRUN_LIBSECCOMP
// names another library file (a path or a soname) to load instead of libseccomp.so.2: for
// unusual installs, and for tests of a host without libseccomp.
//
// The numbers below are libseccomp's ABI (seccomp.h), not the kernel's: actions share the
// kernel's SECCOMP_RET_* encoding (constants.ts SECCOMP), compare operators and filter
// attributes are libseccomp enums.

import { koffi as loadKoffi } from './koffi.js';
import { readFileSync } from 'node:fs';
import { SyscallError, TsrunError } from '../src/errors.js';
import { MFD, SECCOMP } from './constants.js';
import { errno, errnoMessage, errnoName, syscallError } from './errno.js';
import { close, rawSyscall } from './libc.js';

type Koffi = typeof import('koffi');
type Fn = (...args: unknown[]) => unknown;

/** enum scmp_compare. */
export const SCMP_CMP = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
} as const;

/** enum scmp_filter_attr (the ones tsrun sets). */
export const SCMP_FLTATR = {
  SCMP_FLTATR_ACT_DEFAULT: 1,
  SCMP_FLTATR_ACT_BADARCH: 2,
  SCMP_FLTATR_CTL_NNP: 3,
  SCMP_FLTATR_CTL_TSYNC: 4,
  SCMP_FLTATR_API_TSKIP: 5,
  SCMP_FLTATR_CTL_LOG: 6,
  SCMP_FLTATR_CTL_SSB: 7,
  SCMP_FLTATR_CTL_OPTIMIZE: 8,
} as const;

/** The library to load: TSRUN_LIBSECCOMP, else the soname every distribution ships. */
export const LIBSECCOMP_DEFAULT = 'libseccomp.so.2';

/** libseccomp cannot be loaded: only configs with linux.seccomp need it. */
export class LibseccompUnavailableError extends TsrunError {
  override readonly name = 'LibseccompUnavailableError';
  constructor(
    readonly library: string,
    detail: string,
  ) {
    super(
      `seccomp needs libseccomp, and ${library} cannot be loaded (${detail}); ` +
        'install it (Debian/Ubuntu: apt-get install libseccomp2; Fedora: dnf install libseccomp)',
    );
  }
}

/** A libseccomp call that failed: `seccomp_rule_add_array: EEXIST (File exists)`. */
export class LibseccompError extends SyscallError {
  override readonly name = 'LibseccompError';
}

interface Bindings {
  koffi: Koffi;
  init: Fn;
  release: Fn;
  archAdd: Fn;
  archResolve: Fn;
  syscallResolve: Fn;
  ruleAddArray: Fn;
  attrSet: Fn;
  exportBpf: Fn;
  version: Fn;
  apiGet: Fn;
}

let bound: Bindings | undefined;

function lib(): Bindings {
  if (bound) return bound;
  const koffi = loadKoffi();
  const path = process.env.TSRUN_LIBSECCOMP || LIBSECCOMP_DEFAULT;
  let s;
  try {
    s = koffi.load(path);
  } catch (e) {
    throw new LibseccompUnavailableError(path, (e as Error).message);
  }
  try {
    bound = {
      koffi,
      init: s.func('void *seccomp_init(uint32_t def_action)'),
      release: s.func('void seccomp_release(void *ctx)'),
      archAdd: s.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
      archResolve: s.func('uint32_t seccomp_arch_resolve_name(const char *arch_name)'),
      syscallResolve: s.func('int seccomp_syscall_resolve_name(const char *name)'),
      ruleAddArray: s.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *arg_array)'),
      attrSet: s.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
      exportBpf: s.func('int seccomp_export_bpf(void *ctx, int fd)'),
      version: s.func('const void *seccomp_version(void)'),
      apiGet: s.func('unsigned int seccomp_api_get(void)'),
    };
  } catch (e) {
    // A library without these symbols is not a libseccomp tsrun can use (older than 2.4).
    throw new LibseccompUnavailableError(path, (e as Error).message);
  }
  return bound;
}

function check(call: string, r: number, what?: string): number {
  if (r < 0) throw new LibseccompError(call, -r, errnoName(-r), what, errnoMessage(-r));
  return r;
}

export interface LibseccompVersion {
  readonly major: number;
  readonly minor: number;
  readonly micro: number;
}

/** The loaded libseccomp's version; throws LibseccompUnavailableError without one. */
export function libseccompVersion(): LibseccompVersion {
  const l = lib();
  const v = l.koffi.decode(l.version(), l.koffi.struct({ major: 'uint', minor: 'uint', micro: 'uint' })) as LibseccompVersion;
  return { major: v.major, minor: v.minor, micro: v.micro };
}

/** seccomp_api_get(): what the library and the running kernel support together (6: user notification). */
export function libseccompApiLevel(): number {
  return lib().apiGet() as number;
}

/** Whether libseccomp can be loaded (never throws). */
export function libseccompAvailable(): boolean {
  try {
    lib();
    return true;
  } catch (e) {
    if (e instanceof LibseccompUnavailableError) return false;
    throw e;
  }
}

/** The native architecture's number of a syscall name, or undefined when libseccomp does not know it. */
export function resolveSyscall(name: string): number | undefined {
  const nr = lib().syscallResolve(name) as number;
  // __NR_SCMP_ERROR (-1); other negative numbers are libseccomp's pseudo-syscalls, which
  // seccomp_rule_add translates per architecture (socketcall multiplexing and the like).
  return nr === -1 ? undefined : nr;
}

/** libseccomp's token (the AUDIT_ARCH_* value) of an architecture name ("x86_64"), or undefined. */
export function resolveArch(name: string): number | undefined {
  const token = lib().archResolve(name) as number;
  return token === 0 ? undefined : token >>> 0;
}

/** One argument comparison of a rule (struct scmp_arg_cmp). */
export interface ArgCompare {
  /** Argument index, 0..5. */
  readonly arg: number;
  readonly op: number;
  /** The value compared with (the mask for SCMP_CMP_MASKED_EQ). */
  readonly datumA: bigint;
  /** The second value (the masked value for SCMP_CMP_MASKED_EQ). */
  readonly datumB: bigint;
}

const ARG_CMP_SIZE = 24;

function argArray(conds: readonly ArgCompare[]): Buffer | null {
  if (conds.length === 0) return null;
  const b = Buffer.alloc(ARG_CMP_SIZE * conds.length);
  conds.forEach((c, i) => {
    b.writeUInt32LE(c.arg, i * ARG_CMP_SIZE);
    b.writeUInt32LE(c.op, i * ARG_CMP_SIZE + 4);
    b.writeBigUInt64LE(BigInt.asUintN(64, c.datumA), i * ARG_CMP_SIZE + 8);
    b.writeBigUInt64LE(BigInt.asUintN(64, c.datumB), i * ARG_CMP_SIZE + 16);
  });
  return b;
}

/**
 * A libseccomp filter being built (scmp_filter_ctx). Every method throws a LibseccompError
 * naming the call; release() frees it (always call it, in a finally).
 */
export class SeccompFilter {
  private ctx: unknown;

  /** seccomp_init with the default action (a SECCOMP_RET_* value, errno/data in the low 16 bits). */
  constructor(defaultAction: number) {
    const l = lib();
    const ctx = l.init(defaultAction >>> 0);
    if (ctx === null) throw new LibseccompError('seccomp_init', 22, 'EINVAL', undefined, `libseccomp refused the default action 0x${(defaultAction >>> 0).toString(16)}`);
    this.ctx = ctx;
  }

  /** Add an architecture token; the native one is always present (adding it again is not an error). */
  addArch(token: number, what?: string): void {
    const r = lib().archAdd(this.live(), token >>> 0) as number;
    if (r === -17) return; // EEXIST: already in the filter
    check('seccomp_arch_add', r, what);
  }

  setAttr(attr: number, value: number, what?: string): void {
    check('seccomp_attr_set', lib().attrSet(this.live(), attr, value >>> 0) as number, what);
  }

  /**
   * seccomp_rule_add_array: `action` for `syscall` (a native number) when all `conds` hold. `what`
   * names the rule in an error; a function is called only then (a profile adds ~350 rules).
   */
  addRule(action: number, syscall: number, conds: readonly ArgCompare[], what?: string | (() => string)): void {
    const r = lib().ruleAddArray(this.live(), action >>> 0, syscall, conds.length, argArray(conds)) as number;
    if (r < 0) check('seccomp_rule_add_array', r, typeof what === 'function' ? what() : what);
  }

  /** The classic BPF program (struct sock_filter[]), exported through a memfd. */
  exportBpf(): Uint8Array {
    const fd = rawSyscall('memfd_create', 'const char *', 'tsrun-seccomp', 'unsigned int', MFD.MFD_CLOEXEC);
    if (fd < 0) throw syscallError('memfd_create', -fd);
    try {
      check('seccomp_export_bpf', lib().exportBpf(this.live(), fd) as number);
      // A new open file description through /proc: it starts at offset 0.
      return new Uint8Array(readFileSync(`/proc/self/fd/${fd}`));
    } finally {
      close(fd);
    }
  }

  release(): void {
    if (this.ctx !== undefined) lib().release(this.ctx);
    this.ctx = undefined;
  }

  private live(): unknown {
    if (this.ctx === undefined) throw new TsrunError('seccomp filter used after release()');
    return this.ctx;
  }
}

/**
 * Whether the running kernel accepts these seccomp(2) filter flags: SECCOMP_SET_MODE_FILTER
 * with a NULL program fails with EFAULT once the flags passed validation (EINVAL before), and
 * installs nothing. Needs no privilege, and no libseccomp.
 */
export function kernelAcceptsFilterFlags(flags: number): boolean {
  const r = rawSyscall('seccomp', 'unsigned int', SECCOMP.SECCOMP_SET_MODE_FILTER, 'unsigned int', flags >>> 0, 'void *', null);
  if (r === 0) return true; // cannot happen with a NULL program; treat as accepted
  return r === -errno('EFAULT');
}
