// Programs for tsrun-stub: a flat byte format of ops the C stub executes in order (see
// native/stub/protocol.h for the layout, native/stub-protocol.ts for the numbers).
//
// Pure TypeScript and pure data: building, encoding and describing a program needs no root
// and no koffi, so plans can be unit-tested and printed (`--dry-run`).
//
//   const b = new ProgramBuilder();
//   const root = b.reg();
//   b.syscall('unshare', [flags(CLONE, 'CLONE_NEWNS', 'CLONE_NEWUTS')]);
//   b.syscall('openat', [flags(AT, 'AT_FDCWD'), str('/rootfs'), flags(O, 'O_PATH', 'O_CLOEXEC'), 0], { result: root });
//   b.syscall('mount', [str('proc'), fdPath(root), str('proc'), flags(MS, 'MS_NOSUID'), nul()], { label: 'mount proc' });
//   b.sync(SYNC_CREATED, undefined, { last: true });
//   b.execve('/bin/sh', ['sh'], ['PATH=/bin']);
//   const bytes = b.encode();

import { SyscallError, TsrunError } from '../src/errors.js';
import { flagNames, O_BY_ARCH, type ConstTable, type OpenFlags } from './constants.js';
import { errnoMessage, errnoName, errnoNumber } from './errno.js';
import { ARG, FLAG, FORMAT, OP, type ArgKind, type OpCode } from './stub-protocol.js';
import { hostArch, isSyscallName, SYSCALLS, type Arch, type SyscallInfo } from './syscalls.js';

/** A program that cannot be built: a bug in the code that builds it, never a user error. */
export class ProgramError extends TsrunError {
  override readonly name = 'ProgramError';
}

/** An op of a program that failed in the stub: `mount proc on /proc: ENOENT (No such file or directory)`. */
export class StubOpError extends SyscallError {
  constructor(
    syscall: string,
    errno: number,
    readonly opIndex: number,
    readonly label: string,
  ) {
    super(syscall, errno, errnoName(errno), undefined, errnoMessage(errno));
    this.message = `${label}: ${errnoName(errno)} (${errnoMessage(errno)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** A register of the stub: holds an i64, typically an fd one op opens and later ops use. */
export interface Reg {
  readonly kind: 'register';
  readonly index: number;
}

/** Something placed in the program's data blob. */
export type DataSpec =
  | { readonly t: 'str'; readonly s: string }
  | {
      readonly t: 'bytes';
      readonly b: Uint8Array;
      /** u64 slots inside b that must hold the address of another data item. */
      readonly pointers: readonly { readonly at: number; readonly to: DataSpec }[];
      readonly text?: string;
    }
  | { readonly t: 'ptrs'; readonly items: readonly (DataSpec | null)[] };

export type Arg =
  | { readonly kind: 'imm'; readonly value: bigint; readonly text?: string }
  | { readonly kind: 'data'; readonly spec: DataSpec }
  | { readonly kind: 'null' }
  | { readonly kind: 'reg'; readonly reg: Reg }
  | { readonly kind: 'fdpath'; readonly reg: Reg };

/** What ops accept as an argument: an Arg, a register (its value), a number (immediate), a string, null. */
export type ArgLike = Arg | Reg | number | bigint | string | null;

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

/** An immediate value; `text` is how describe() shows it. */
export function imm(value: number | bigint, text?: string): Arg {
  const v = immValue(value);
  return text === undefined ? { kind: 'imm', value: v } : { kind: 'imm', value: v, text };
}

function immValue(value: number | bigint): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new ProgramError(`immediate ${value} is not an integer`);
  const v = BigInt(value);
  if (v < I64_MIN || v > U64_MAX) throw new ProgramError(`immediate ${v} does not fit in 64 bits`);
  return v;
}

/**
 * Named constants of one table ORed together (as a BigInt: safe above bit 31), shown by name:
 * `flags(MS, 'MS_BIND', 'MS_REC')`. One name gives that constant (`flags(AT, 'AT_FDCWD')`), none gives 0.
 */
export function flags<T extends ConstTable>(table: T, ...names: (keyof T & string)[]): Arg {
  if (names.length === 0) return imm(0);
  let v = 0n;
  for (const name of names) {
    const x = table[name];
    if (x === undefined) throw new ProgramError(`unknown constant ${name}`);
    v = names.length === 1 ? BigInt(x) : v | BigInt(x);
  }
  return imm(v, names.join('|'));
}

/**
 * A value shown as the flag names of a table it is made of (`MS_NOSUID|MS_NODEV`). The names are
 * worked out when first shown (describe(), or the label of an op that has none of its own): most
 * ops carry a label, so most never are.
 */
export function flagsValue(table: ConstTable, value: number | bigint, prefix?: string): Arg {
  const v = immValue(value);
  let text: string | undefined;
  return {
    kind: 'imm',
    value: v,
    get text(): string {
      if (text === undefined) {
        const names = flagNames(table, v, prefix);
        text = names.length ? names.join('|') : '0';
      }
      return text;
    },
  };
}

/** A NUL-terminated string in the data blob (its address is the argument). */
export function str(s: string): Arg {
  if (s.includes('\0')) throw new ProgramError(`string ${JSON.stringify(s)} contains a NUL byte`);
  return { kind: 'data', spec: { t: 'str', s } };
}

/** Bytes in the data blob (a struct, a BPF program, ...); `text` is how describe() shows them. */
export function bytes(b: Uint8Array, text?: string): Arg {
  return { kind: 'data', spec: bytesSpec(b, [], text) };
}

/** Zeroed writable bytes for an output argument (never shared with another argument). */
export function buffer(size: number, text?: string): Arg {
  return { kind: 'data', spec: bytesSpec(new Uint8Array(size), [], text ?? `<buffer ${size}>`) };
}

/** Struct bytes with pointer members: each `at` is the offset of a u64 slot that gets `to`'s address. */
export function struct(b: Uint8Array, pointers: readonly { at: number; to: Arg }[], text?: string): Arg {
  const ptrs = pointers.map(({ at, to }) => {
    if (to.kind !== 'data') throw new ProgramError('a struct pointer member must point into the data blob');
    if (at < 0 || at + 8 > b.length || at % 8 !== 0) throw new ProgramError(`pointer member at ${at} is outside the struct or unaligned`);
    return { at, to: to.spec };
  });
  return { kind: 'data', spec: bytesSpec(b, ptrs, text) };
}

/** A NULL-terminated array of string pointers (argv, envp). */
export function ptrArray(strings: readonly string[]): Arg {
  const items: DataSpec[] = strings.map((s) => {
    const a = str(s);
    return (a as { spec: DataSpec }).spec;
  });
  return { kind: 'data', spec: { t: 'ptrs', items: [...items, null] } };
}

/** struct sock_fprog { unsigned short len; struct sock_filter *filter; } for a classic BPF program. */
export function sockFprog(filter: Uint8Array): Arg {
  if (filter.length % 8 !== 0) throw new ProgramError(`a classic BPF program is a multiple of 8 bytes, not ${filter.length}`);
  const n = filter.length / 8;
  if (n === 0 || n > 0xffff) throw new ProgramError(`a classic BPF program has 1..65535 instructions, not ${n}`);
  const s = new Uint8Array(16);
  new DataView(s.buffer).setUint16(0, n, true);
  return struct(s, [{ at: 8, to: bytes(filter, `<bpf ${n} insns>`) }], `{len=${n}, filter=<bpf ${n} insns>}`);
}

/** The value held by a register. */
export function regArg(r: Reg): Arg {
  return { kind: 'reg', reg: r };
}

/** The string "/proc/self/fd/<value of r>", built by the stub: to mount or open through an fd. */
export function fdPath(r: Reg): Arg {
  return { kind: 'fdpath', reg: r };
}

/** A NULL pointer. */
export function nul(): Arg {
  return { kind: 'null' };
}

function bytesSpec(b: Uint8Array, pointers: readonly { at: number; to: DataSpec }[], text?: string): DataSpec {
  return text === undefined ? { t: 'bytes', b, pointers } : { t: 'bytes', b, pointers, text };
}

function toArg(a: ArgLike): Arg {
  if (a === null) return nul();
  if (typeof a === 'number' || typeof a === 'bigint') return imm(a);
  if (typeof a === 'string') return str(a);
  if (a.kind === 'register') return regArg(a);
  return a;
}

// ---------------------------------------------------------------------------------------------
// The builder

export interface SyscallOptions {
  /** What the op does, in words: error messages use it (`mount proc on /proc: ENOENT (...)`). */
  label?: string;
  /** Register that receives the return value (or -errno of a tolerated failure). */
  result?: Reg;
  /** Errno names that do not fail the op (up to 4): the stub stores -errno in `result` and goes on. */
  okErrnos?: readonly string[];
}

export interface SyncOptions {
  label?: string;
  /** Register that receives the reply's value, or the fd the reply carries. */
  result?: Reg;
  /** Close the sync channel after the reply: later failures are printed on stderr. */
  last?: boolean;
  /** Attach the fd held by the value register to the message (e.g. a seccomp notify listener). */
  sendFd?: boolean;
}

export interface ForkOptions {
  /** clone3 flags (CLONE_NEWPID, ...), e.g. `flags(CLONE, 'CLONE_NEWPID')` or a number/BigInt. */
  flags?: Arg | number | bigint;
  /** A cgroup directory fd: the child is born in that cgroup (CLONE_INTO_CGROUP). */
  cgroupFd?: Reg;
  label?: string;
  /** Register that receives 0 in the child. */
  result?: Reg;
}

export interface SendFdOptions {
  label?: string;
  result?: Reg;
  /** Bytes sent with the fd (runc sends the pty's name over a console socket). Default: one NUL byte. */
  payload?: string | Uint8Array;
}

interface EncodedArg {
  kind: ArgKind;
  /** A number for register indices and data offsets (small, non-negative), a BigInt for immediates. */
  value: bigint | number;
}

interface Op {
  code: OpCode;
  name: string;
  result: number;
  ok: readonly number[];
  okNames: readonly string[];
  param: number;
  label: number;
  labelText: string;
  userLabel: boolean;
  flags: number;
  args: EncodedArg[];
  /** How describe() shows the arguments: custom texts, or the args themselves, shown when asked. */
  argTexts: readonly string[] | undefined;
  argList: readonly Arg[];
}

const LABEL_MAX = 4096;
const NO_ERRNOS: readonly string[] = Object.freeze([]);
const NO_NUMBERS: readonly number[] = Object.freeze([]);
/** One encoder for every builder: strings are encoded straight into the data blob. */
const utf8 = new TextEncoder();

export class ProgramBuilder {
  readonly arch: Arch;
  private readonly ops: Op[] = [];
  private nregs = 0;
  private data = new Uint8Array(256);
  private dataLen = 0;
  private readonly relocs: number[] = [];
  private readonly strings = new Map<string, number>();
  private channelClosed = false;

  /** open(2) flags of this builder's architecture (aarch64 differs from x86_64 in four of them). */
  readonly O: OpenFlags;

  constructor(arch: Arch = hostArch()) {
    this.arch = arch;
    this.O = O_BY_ARCH[arch];
  }

  /** Allocate a register (16 in all). */
  reg(): Reg {
    if (this.nregs >= FORMAT.NREGS) throw new ProgramError(`out of registers (the stub has ${FORMAT.NREGS})`);
    return { kind: 'register', index: this.nregs++ };
  }

  /** Number of ops so far. */
  get length(): number {
    return this.ops.length;
  }

  /** A raw system call, by name (resolved for this builder's architecture). Returns the op index. */
  syscall(name: string, args: readonly ArgLike[], opts: SyscallOptions = {}): number {
    if (!isSyscallName(name)) throw new ProgramError(`unknown syscall ${JSON.stringify(name)}`);
    const info: SyscallInfo = SYSCALLS[name];
    const nr = info[this.arch];
    if (nr === null) throw new ProgramError(`syscall ${name} does not exist on ${this.arch}`);
    const min = info.min ?? info.args;
    if (args.length > info.args || args.length < min) {
      const want = min === info.args ? `${info.args}` : `${min} to ${info.args}`;
      throw new ProgramError(`${name} takes ${want} argument${info.args === 1 ? '' : 's'}, not ${args.length}`);
    }
    const list = args.map(toArg);
    return this.push(OP.SYSCALL, name, nr, list, 0, opts.label, opts.result, opts.okErrnos, undefined);
  }

  /**
   * A sync point: send {code, value} to tsrun and wait for its reply. The reply's value (or the fd it
   * carries) goes into `result`; a non-zero reply status makes the stub exit quietly.
   */
  sync(code: number, value?: ArgLike, opts: SyncOptions = {}): number {
    if (!Number.isInteger(code) || code < 0 || code > 0xffffffff) throw new ProgramError(`sync code ${code} is not a u32`);
    this.checkChannel('sync');
    const v = toArg(value ?? 0);
    if (v.kind !== 'imm' && v.kind !== 'reg') throw new ProgramError('a sync value is an immediate or a register');
    if (opts.sendFd && v.kind !== 'reg') throw new ProgramError('sync with sendFd needs the fd in a register');
    const f = (opts.last ? FLAG.LAST : 0) | (opts.sendFd ? FLAG.SEND_FD : 0);
    const texts = [`code=${code}`, this.argText(v), ...(opts.sendFd ? ['+fd'] : []), ...(opts.last ? ['last'] : [])];
    const i = this.push(OP.SYNC, 'sync', code, [v], f, opts.label, opts.result, undefined, texts);
    if (opts.last) this.channelClosed = true;
    return i;
  }

  /**
   * clone3: the child goes on with the next op; the parent reports {CHILD_PID, pid} and exits.
   * Needed after unshare(CLONE_NEWPID) or setns into a PID namespace, and to be born in a cgroup.
   */
  fork(opts: ForkOptions = {}): number {
    this.checkChannel('fork');
    const f = opts.flags === undefined ? imm(0) : typeof opts.flags === 'object' ? opts.flags : imm(opts.flags);
    if (f.kind !== 'imm') throw new ProgramError('fork flags are an immediate');
    const args: Arg[] = [f];
    const texts = [this.argText(f)];
    if (opts.cgroupFd) {
      args.push(regArg(opts.cgroupFd));
      texts.push(`cgroup=${this.argText(regArg(opts.cgroupFd))}`);
    }
    return this.push(OP.FORK, 'fork', 0, args, 0, opts.label, opts.result, undefined, texts);
  }

  /** Send the fd `fd` over the unix socket `sock` (SCM_RIGHTS): a pty master to a console socket. */
  sendFd(sock: Reg | number, fd: Reg | number, opts: SendFdOptions = {}): number {
    const p = opts.payload;
    const payload = p === undefined ? undefined : typeof p === 'string' ? new TextEncoder().encode(p) : p;
    const args: Arg[] = [toArg(sock), toArg(fd)];
    if (payload && payload.length > 0) args.push(bytes(payload, JSON.stringify(new TextDecoder().decode(payload))), imm(payload.length));
    const texts = args.slice(0, 3).map((a) => this.argText(a));
    return this.push(OP.SEND_FD, 'send_fd', 0, args, 0, opts.label, opts.result, undefined, texts);
  }

  /** execve(path, argv, envp). */
  execve(path: string, argv: readonly string[], envp: readonly string[], opts: SyscallOptions = {}): number {
    return this.syscall('execve', [str(path), ptrArray(argv), ptrArray(envp)], { label: `exec ${path}`, ...opts });
  }

  /**
   * Write `content` to the file at `path` (a /proc or /sys file): openat + write + close,
   * with `scratch` holding the fd in between. Returns the index of the write op.
   */
  writeFile(path: string, content: string | Uint8Array, scratch: Reg, opts: { label?: string; dirfd?: Reg } = {}): number {
    const b = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    const label = opts.label ?? `write ${path}`;
    const dir = opts.dirfd ? regArg(opts.dirfd) : imm(-100, 'AT_FDCWD');
    const oflags = this.O.O_WRONLY | this.O.O_CLOEXEC;
    this.syscall('openat', [dir, str(path), imm(oflags, 'O_WRONLY|O_CLOEXEC'), imm(0)], { label: `open ${path}`, result: scratch });
    const text = typeof content === 'string' ? JSON.stringify(content) : `<${b.length} bytes>`;
    const i = this.syscall('write', [scratch, bytes(b, text), imm(b.length)], { label });
    this.syscall('close', [scratch], { label: `close ${path}` });
    return i;
  }

  /** The label of op `index` (its own label, or its call as describe() prints it). */
  label(index: number): string {
    const op = this.ops[index];
    if (!op) throw new ProgramError(`no op ${index} (the program has ${this.ops.length})`);
    return op.labelText;
  }

  /** The error to raise for op `index` failing with `errno` (as the stub reports it). */
  errorFor(index: number, errno: number): StubOpError {
    const op = this.ops[index];
    return new StubOpError(op?.name ?? 'stub', errno, index, op ? op.labelText : `op ${index}`);
  }

  /** One line per op: `3 r2 = openat(AT_FDCWD, "/proc", O_PATH|O_CLOEXEC, 0)  # open /proc`. */
  describe(): string[] {
    return this.ops.map((op, i) => {
      const res = op.result === FORMAT.NO_REG ? '' : `r${op.result} = `;
      const ok = op.okNames.length ? ` [ok: ${op.okNames.join(', ')}]` : '';
      const label = op.userLabel ? `  # ${op.labelText}` : '';
      return `${i} ${res}${op.name}(${this.textsOf(op).join(', ')})${ok}${label}`;
    });
  }

  /** The program's bytes, to hand to startStub(). */
  encode(): Uint8Array {
    const dataLen = align8(this.dataLen);
    const size = FORMAT.HEADER_SIZE + this.ops.length * FORMAT.OP_SIZE + dataLen + this.relocs.length * FORMAT.RELOC_SIZE;
    if (size > FORMAT.MAX_PROGRAM) throw new ProgramError(`program of ${size} bytes exceeds ${FORMAT.MAX_PROGRAM}`);
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, FORMAT.MAGIC, true);
    dv.setUint16(4, FORMAT.VERSION, true);
    dv.setUint16(6, 0, true);
    dv.setUint32(8, this.ops.length, true);
    dv.setUint32(12, this.relocs.length, true);
    dv.setUint32(16, dataLen, true);
    dv.setUint32(20, 0, true);
    let p = FORMAT.HEADER_SIZE;
    // `out` starts zeroed: only non-zero fields are written (an absent argument is IMM 0).
    for (const op of this.ops) {
      dv.setUint16(p, op.code, true);
      dv.setUint8(p + 2, op.result);
      const ok = op.ok;
      dv.setUint8(p + 3, ok.length);
      for (let k = 0; k < ok.length; k++) dv.setUint16(p + 4 + 2 * k, ok[k] as number, true);
      dv.setUint32(p + 12, op.param, true);
      dv.setUint32(p + 16, op.label, true);
      dv.setUint16(p + 20, op.flags, true);
      const args = op.args;
      for (let k = 0; k < args.length; k++) {
        const a = args[k] as EncodedArg;
        dv.setUint8(p + 22 + k, a.kind);
        const v = a.value;
        if (typeof v === 'number') dv.setUint32(p + 32 + 8 * k, v, true);
        else if (v !== 0n) dv.setBigUint64(p + 32 + 8 * k, BigInt.asUintN(64, v), true);
      }
      p += FORMAT.OP_SIZE;
    }
    out.set(this.data.subarray(0, this.dataLen), p);
    p += dataLen;
    for (const r of this.relocs) {
      dv.setUint32(p, r, true);
      p += FORMAT.RELOC_SIZE;
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------

  private checkChannel(what: string): void {
    if (this.channelClosed) throw new ProgramError(`${what} after the last sync: the sync channel is closed by then`);
  }

  private checkReg(r: Reg): number {
    if (!Number.isInteger(r.index) || r.index < 0 || r.index >= this.nregs) {
      throw new ProgramError(`register r${r.index} was not allocated by this builder (it has ${this.nregs})`);
    }
    return r.index;
  }

  private push(
    code: OpCode,
    name: string,
    param: number,
    args: readonly Arg[],
    opFlags: number,
    label: string | undefined,
    result: Reg | undefined,
    okErrnos: readonly string[] | undefined,
    argTexts: readonly string[] | undefined,
  ): number {
    if (args.length > FORMAT.MAX_ARGS) throw new ProgramError(`${name}: at most ${FORMAT.MAX_ARGS} arguments`);
    // Indexed loops in this hot path: interpreted for-of and spreads allocate an iterator result per
    // element, and a create runs ~190 ops through here (its allocations decide whether V8 scavenges
    // once or twice).
    const okNames = okErrnos === undefined || okErrnos.length === 0 ? NO_ERRNOS : okErrnos.slice();
    if (okNames.length > FORMAT.MAX_OK_ERRNOS) throw new ProgramError(`${name}: at most ${FORMAT.MAX_OK_ERRNOS} tolerated errnos`);
    const ok = okNames.length === 0 ? NO_NUMBERS : okNames.map((n) => {
      const e = errnoNumber(n);
      if (e === undefined) throw new ProgramError(`${name}: unknown errno name ${JSON.stringify(n)}`);
      return e;
    });
    const res = result ? this.checkReg(result) : FORMAT.NO_REG;
    // Validate before touching the data blob, so a rejected op leaves the builder unchanged.
    for (let k = 0; k < args.length; k++) {
      const a = args[k] as Arg;
      if (a.kind === 'reg' || a.kind === 'fdpath') this.checkReg(a.reg);
    }
    const labelText = label ?? `${name}(${(argTexts ?? args.map((a) => this.argText(a))).join(', ')})`;
    if (labelText.length > LABEL_MAX) throw new ProgramError(`${name}: label longer than ${LABEL_MAX} characters`);
    if (labelText.includes('\0')) throw new ProgramError(`${name}: label contains a NUL byte`);
    const encoded: EncodedArg[] = new Array(args.length);
    for (let k = 0; k < args.length; k++) encoded[k] = this.encodeArg(args[k] as Arg);
    // The stub prints a label itself only when it has no tsrun to tell (the channel is closed);
    // before that it reports the op's index and tsrun names it (errorFor). Placing the ~200
    // labels of a container's program cost ~0.6 ms of create; only those after the last sync are.
    const labelOff = this.channelClosed ? this.placeString(labelText) : FORMAT.NO_LABEL;
    this.ops.push({
      code,
      name,
      result: res,
      ok,
      okNames,
      param,
      label: labelOff,
      labelText,
      userLabel: label !== undefined,
      flags: opFlags,
      args: encoded,
      argTexts,
      argList: args,
    });
    return this.ops.length - 1;
  }

  private encodeArg(a: Arg): EncodedArg {
    switch (a.kind) {
      case 'imm':
        return { kind: ARG.IMM, value: a.value };
      case 'null':
        return { kind: ARG.NULL, value: 0 };
      case 'reg':
        return { kind: ARG.REG, value: this.checkReg(a.reg) };
      case 'fdpath':
        return { kind: ARG.FDPATH, value: this.checkReg(a.reg) };
      case 'data':
        return { kind: ARG.DATA, value: this.place(a.spec) };
    }
  }

  private textsOf(op: Op): readonly string[] {
    return op.argTexts ?? op.argList.map((a) => this.argText(a));
  }

  private argText(a: Arg): string {
    switch (a.kind) {
      case 'imm':
        return a.text ?? (a.value > 0xffffn ? `0x${a.value.toString(16)}` : a.value.toString());
      case 'null':
        return 'NULL';
      case 'reg':
        return `<r${a.reg.index}>`;
      case 'fdpath':
        return `/proc/self/fd/<r${a.reg.index}>`;
      case 'data':
        return specText(a.spec);
    }
  }

  /** Place a data item (and what it points to); returns its offset. Strings are shared. */
  private place(spec: DataSpec): number {
    switch (spec.t) {
      case 'str':
        return this.placeString(spec.s);
      case 'bytes': {
        const targets = spec.pointers.map((p) => this.place(p.to));
        const off = this.alloc(spec.b.length);
        this.data.set(spec.b, off);
        spec.pointers.forEach((p, k) => this.pointer(off + p.at, targets[k] as number));
        return off;
      }
      case 'ptrs': {
        const targets = spec.items.map((it) => (it === null ? null : this.place(it)));
        const off = this.alloc(8 * targets.length);
        targets.forEach((t, k) => {
          if (t !== null) this.pointer(off + 8 * k, t);
        });
        return off;
      }
    }
  }

  private placeString(s: string): number {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    // Encoded in place: UTF-8 takes at most 3 bytes per UTF-16 unit; the NUL is the zeroed byte after it.
    const off = align8(this.dataLen);
    this.reserve(off + 3 * s.length + 1);
    const { written } = utf8.encodeInto(s, this.data.subarray(off));
    this.dataLen = off + written + 1;
    this.strings.set(s, off);
    return off;
  }

  private pointer(at: number, target: number): void {
    new DataView(this.data.buffer).setBigUint64(at, BigInt(target), true);
    this.relocs.push(at);
  }

  /** Reserve n zeroed bytes at an 8-aligned offset. */
  private alloc(n: number): number {
    const off = align8(this.dataLen);
    const end = off + Math.max(n, 1);
    this.reserve(end);
    this.dataLen = end;
    return off;
  }

  /** Grows the blob to hold `end` bytes; bytes past dataLen are always zero. */
  private reserve(end: number): void {
    if (end <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < end) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.data.subarray(0, this.dataLen));
    this.data = grown;
  }
}

function specText(spec: DataSpec): string {
  switch (spec.t) {
    case 'str':
      return JSON.stringify(spec.s);
    case 'bytes':
      return spec.text ?? `<${spec.b.length} bytes>`;
    case 'ptrs':
      return `[${spec.items.filter((i): i is DataSpec => i !== null).map(specText).join(', ')}]`;
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
