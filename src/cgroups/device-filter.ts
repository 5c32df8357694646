// linux.resources.devices -> a BPF_PROG_TYPE_CGROUP_DEVICE program, the
// cgroup v2 replacement of v1's devices.allow/devices.deny. Pure: the result
// is instruction data and bytes; native/ loads and attaches them.
//
// Semantics are runc's (libcontainer/cgroups/devices): the rules are first
// replayed on an emulation of the v1 devices cgroup, which is what callers
// wrote their rules for, then the resulting exception list is compiled.
//  - A type "a" rule resets everything: allow = allow-all with deny
//    exceptions, deny = deny-all with allow exceptions. Without one the
//    container starts from deny-all.
//  - Any other rule adds an exception when its action differs from the
//    default, and removes access from the exception with the very same
//    type:major:minor when it equals it. So a later rule overrides an earlier
//    one for the same device, but a wildcard deny does not revoke a specific
//    allow, as in v1.
//  - Removing access from inside a wildcard exception ("punching a hole") is
//    refused: v1 silently ignored it, runc refuses it, so does tsrun.
//  - runc's default devices (AllowedDevices) are appended after the config's
//    rules, so a config cannot deny them.
// All exceptions then have the same action, so their order in the program
// does not matter: the first block that matches decides, else the default.
import { BPF } from '../../native/constants.js';
import { UnsupportedError } from '../errors.js';
import type { LinuxDeviceCgroup } from '../spec/types.js';

export type DeviceKind = 'b' | 'c';

export interface DeviceRule {
  readonly allow: boolean;
  /** 'a' = every device (and resets the rule set, see above). */
  readonly type: 'a' | DeviceKind;
  /** -1 = any. */
  readonly major: number;
  /** -1 = any. */
  readonly minor: number;
  /** A non-empty subset of "rwm". */
  readonly access: string;
  /** Where the rule comes from, for messages: a JSON path or "runc's default devices". */
  readonly origin: string;
}

const DEFAULTS = "runc's default devices";

function allowChar(major: number, minor: number, access = 'rwm'): DeviceRule {
  return { allow: true, type: 'c', major, minor, access, origin: DEFAULTS };
}

/** runc's specconv.AllowedDevices, in its order: what every runc container may use whatever its config says. */
export const DEFAULT_ALLOWED_DEVICES: readonly DeviceRule[] = [
  allowChar(-1, -1, 'm'), // mknod of any character device (access still needs a rule)
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm', origin: DEFAULTS },
  allowChar(1, 3), // /dev/null
  allowChar(1, 8), // /dev/random
  allowChar(1, 7), // /dev/full
  allowChar(5, 0), // /dev/tty
  allowChar(1, 5), // /dev/zero
  allowChar(1, 9), // /dev/urandom
  allowChar(136, -1), // /dev/pts/*
  allowChar(5, 2), // /dev/ptmx
  allowChar(10, 200), // /dev/net/tun: removed in runc 1.2.0-rc1, restored because callers relied on it
];

/** The license string the program is loaded with: it calls no GPL-only helper. */
export const DEVICE_PROGRAM_LICENSE = 'Apache-2.0';

// ---- rules -----------------------------------------------------------------

/**
 * The kernel's dev_t has 12 bits of major and 20 of minor; the program also
 * compares them with 32-bit immediates that the 64-bit jumps sign-extend, so
 * anything above 2^31-1 could never match anyway.
 */
const MAX_DEVICE_NUMBER = 0x7fffffff;

function deviceNumber(field: string, n: number | undefined): number {
  if (n === undefined || n === -1) return -1;
  if (!Number.isInteger(n) || n < 0 || n > MAX_DEVICE_NUMBER) throw new UnsupportedError(field, `${JSON.stringify(n)} is not a device number (or -1 for any)`);
  return n;
}

function ruleType(field: string, t: string | undefined): DeviceRule['type'] {
  if (t === undefined || t === 'a' || t === 'b' || t === 'c') return t ?? 'a';
  throw new UnsupportedError(field, `${JSON.stringify(t)} is not a device cgroup type (a, b or c)`);
}

/** Absent access means every access ("rwm"): the spec makes it optional and gives no other meaning. */
function ruleAccess(field: string, access: string | undefined): string {
  if (access === undefined) return 'rwm';
  if (!/^[rwm]+$/.test(access)) throw new UnsupportedError(field, `${JSON.stringify(access)} is not a non-empty combination of r, w and m`);
  return access;
}

/** The config's rules, normalised, followed by runc's default devices. */
export function effectiveDeviceRules(rules: readonly LinuxDeviceCgroup[] | undefined): DeviceRule[] {
  const fromConfig = (rules ?? []).map((r, i): DeviceRule => {
    const f = `/linux/resources/devices/${i}`;
    return {
      allow: r.allow,
      type: ruleType(`${f}/type`, r.type),
      major: deviceNumber(`${f}/major`, r.major),
      minor: deviceNumber(`${f}/minor`, r.minor),
      access: ruleAccess(`${f}/access`, r.access),
      origin: f,
    };
  });
  return [...fromConfig, ...DEFAULT_ALLOWED_DEVICES];
}

// ---- the v1 emulation ------------------------------------------------------

const ACCESS_BITS: Readonly<Record<string, number>> = {
  r: BPF.BPF_DEVCG_ACC_READ,
  w: BPF.BPF_DEVCG_ACC_WRITE,
  m: BPF.BPF_DEVCG_ACC_MKNOD,
};
const ALL_ACCESS = BPF.BPF_DEVCG_ACC_READ | BPF.BPF_DEVCG_ACC_WRITE | BPF.BPF_DEVCG_ACC_MKNOD;

function accessBits(access: string): number {
  let bits = 0;
  for (const ch of access) bits |= ACCESS_BITS[ch] ?? 0;
  return bits;
}

function accessText(bits: number): string {
  return ['r', 'w', 'm'].filter((ch) => (bits & (ACCESS_BITS[ch] ?? 0)) !== 0).join('');
}

interface Exception {
  readonly type: DeviceKind;
  readonly major: number;
  readonly minor: number;
  readonly access: number;
}

/** The state a v1 devices cgroup would be in: a default and its exceptions. */
export interface DeviceRuleSet {
  readonly defaultAllow: boolean;
  /** Devices whose listed access gets the opposite of the default, sorted by major, minor, type. */
  readonly exceptions: readonly { readonly type: DeviceKind; readonly major: number; readonly minor: number; readonly access: string }[];
}

function key(type: DeviceKind, major: number, minor: number): string {
  return `${type} ${major}:${minor}`;
}

function show(n: number): string {
  return n === -1 ? '*' : String(n);
}

function describeMeta(type: DeviceKind, major: number, minor: number): string {
  return `${type} ${show(major)}:${show(minor)}`;
}

class Emulator {
  defaultAllow = false;
  readonly exceptions = new Map<string, Exception>();

  apply(rule: DeviceRule): void {
    if (rule.type === 'a') {
      this.defaultAllow = rule.allow;
      this.exceptions.clear();
    } else if (rule.allow === this.defaultAllow) {
      this.remove(rule, rule.type);
    } else {
      this.add(rule.type, rule.major, rule.minor, accessBits(rule.access));
    }
  }

  private add(type: DeviceKind, major: number, minor: number, access: number): void {
    const old = this.exceptions.get(key(type, major, minor))?.access ?? 0;
    this.exceptions.set(key(type, major, minor), { type, major, minor, access: old | access });
  }

  private remove(rule: DeviceRule, type: DeviceKind): void {
    const access = accessBits(rule.access);
    this.refuseHole(rule, type, access);
    const k = key(type, rule.major, rule.minor);
    const left = (this.exceptions.get(k)?.access ?? 0) & ~access;
    if (left === 0) this.exceptions.delete(k);
    else this.exceptions.set(k, { type, major: rule.major, minor: rule.minor, access: left });
  }

  /** Removing access that a wider wildcard exception grants would be a no-op in v1: refuse it instead of leaving a false sense of security. */
  private refuseHole(rule: DeviceRule, type: DeviceKind, access: number): void {
    const wider: readonly [number, number][] = [[-1, rule.minor], [rule.major, -1], [-1, -1]];
    for (const [major, minor] of wider) {
      if (major === rule.major && minor === rule.minor) continue;
      const overlap = (this.exceptions.get(key(type, major, minor))?.access ?? 0) & access;
      if (overlap !== 0) {
        throw new UnsupportedError(
          rule.origin,
          `cannot ${rule.allow ? 'allow' : 'deny'} "${accessText(access)}" on ${describeMeta(type, rule.major, rule.minor)}: ` +
            `an earlier rule ${this.defaultAllow ? 'denies' : 'allows'} "${accessText(overlap)}" on all of ${describeMeta(type, major, minor)}, ` +
            'and a wildcard rule cannot have a hole punched in it (cgroup v1 semantics, kept by runc)',
        );
      }
    }
  }
}

/** Replays the rules on the v1 emulation (runc's devices emulator). */
export function emulateDeviceRules(rules: readonly DeviceRule[]): DeviceRuleSet {
  const emu = new Emulator();
  for (const rule of rules) emu.apply(rule);
  const exceptions = [...emu.exceptions.values()]
    .sort((a, b) => a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)) // not localeCompare: ICU's collator costs ~10 ms to set up
    .map((e) => ({ type: e.type, major: e.major, minor: e.minor, access: accessText(e.access) }));
  return { defaultAllow: emu.defaultAllow, exceptions };
}

// ---- eBPF encoding ---------------------------------------------------------

/** struct bpf_insn: u8 code, u8 dst_reg:4 src_reg:4, s16 off, s32 imm (8 bytes, little-endian). */
export interface BpfInsn {
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

export const BPF_INSN_SIZE = 8;

// Opcodes, composed from the kernel's class/size/mode/op/source bits.
const LDX_MEM_W = BPF.BPF_LDX | BPF.BPF_MEM | BPF.BPF_W;
const ALU32_AND_K = BPF.BPF_ALU | BPF.BPF_AND | BPF.BPF_K;
const ALU32_RSH_K = BPF.BPF_ALU | BPF.BPF_RSH | BPF.BPF_K;
const ALU32_MOV_K = BPF.BPF_ALU | BPF.BPF_MOV | BPF.BPF_K;
const ALU32_MOV_X = BPF.BPF_ALU | BPF.BPF_MOV | BPF.BPF_X;
const JNE_K = BPF.BPF_JMP | BPF.BPF_JNE | BPF.BPF_K;
const JNE_X = BPF.BPF_JMP | BPF.BPF_JNE | BPF.BPF_X;
const EXIT = BPF.BPF_JMP | BPF.BPF_EXIT;

function insn(code: number, dst: number, src: number, off: number, imm: number): BpfInsn {
  return { code, dst, src, off, imm };
}

export function encodeInsns(insns: readonly BpfInsn[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * BPF_INSN_SIZE);
  const view = new DataView(bytes.buffer);
  insns.forEach((ins, i) => {
    const at = i * BPF_INSN_SIZE;
    view.setUint8(at, ins.code);
    view.setUint8(at + 1, (ins.src << 4) | ins.dst);
    view.setInt16(at + 2, ins.off, true);
    view.setInt32(at + 4, ins.imm, true);
  });
  return bytes;
}

export function decodeInsns(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % BPF_INSN_SIZE !== 0) throw new RangeError(`an eBPF program is a multiple of ${BPF_INSN_SIZE} bytes, not ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const insns: BpfInsn[] = [];
  for (let at = 0; at < bytes.length; at += BPF_INSN_SIZE) {
    const regs = view.getUint8(at + 1);
    insns.push(insn(view.getUint8(at), regs & 0xf, regs >> 4, view.getInt16(at + 2, true), view.getInt32(at + 4, true)));
  }
  return insns;
}

// ---- the program -----------------------------------------------------------

// Registers: r1 = struct bpf_cgroup_dev_ctx * on entry; r2 type, r3 access, r4 major, r5 minor.
const R0 = 0;
const R1 = 1;
const R2 = 2;
const R3 = 3;
const R4 = 4;
const R5 = 5;

/** struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; } */
function loadContext(): BpfInsn[] {
  return [
    insn(LDX_MEM_W, R2, R1, 0, 0),
    insn(ALU32_AND_K, R2, 0, 0, 0xffff),
    insn(LDX_MEM_W, R3, R1, 0, 0),
    insn(ALU32_RSH_K, R3, 0, 0, 16),
    insn(LDX_MEM_W, R4, R1, 4, 0),
    insn(LDX_MEM_W, R5, R1, 8, 0),
  ];
}

function verdict(allow: boolean): BpfInsn[] {
  return [insn(ALU32_MOV_K, R0, 0, 0, allow ? 1 : 0), insn(EXIT, 0, 0, 0, 0)];
}

type Condition = (skip: number) => BpfInsn[];

/** The checks of one exception; each jumps `skip` instructions past its own end (to the next block) when it fails. */
function conditions(e: DeviceRuleSet['exceptions'][number]): Condition[] {
  const type = e.type === 'b' ? BPF.BPF_DEVCG_DEV_BLOCK : BPF.BPF_DEVCG_DEV_CHAR;
  const access = accessBits(e.access);
  const checks: Condition[] = [(skip) => [insn(JNE_K, R2, 0, skip, type)]];
  // The requested access must be a subset of the rule's: (access & rule) == access.
  if (access !== ALL_ACCESS) {
    checks.push((skip) => [insn(ALU32_MOV_X, R1, R3, 0, 0), insn(ALU32_AND_K, R1, 0, 0, access), insn(JNE_X, R1, R3, skip, 0)]);
  }
  if (e.major !== -1) checks.push((skip) => [insn(JNE_K, R4, 0, skip, e.major)]);
  if (e.minor !== -1) checks.push((skip) => [insn(JNE_K, R5, 0, skip, e.minor)]);
  return checks;
}

/** One exception: its checks, then its verdict; a failed check jumps to the first instruction after the block. */
function block(e: DeviceRuleSet['exceptions'][number], allow: boolean): BpfInsn[] {
  const tail = verdict(allow);
  const checks = conditions(e);
  const sizes = checks.map((check) => check(0).length);
  // Instructions after the current check's jump, up to the end of the block.
  let after = sizes.reduce((a, b) => a + b, 0) + tail.length;
  const out: BpfInsn[] = [];
  checks.forEach((check, i) => {
    after -= sizes[i] ?? 0;
    out.push(...check(after));
  });
  return [...out, ...tail];
}

/** The program for an emulated rule set: each exception gets the non-default verdict; no match gets the default. */
export function compileDeviceProgram(set: DeviceRuleSet): BpfInsn[] {
  return [
    ...loadContext(),
    ...set.exceptions.flatMap((e) => block(e, !set.defaultAllow)),
    ...verdict(set.defaultAllow),
  ];
}

export interface DeviceFilter {
  readonly rules: DeviceRuleSet;
  readonly insns: readonly BpfInsn[];
  /** What BPF_PROG_LOAD takes as `insns`. */
  readonly bytes: Uint8Array;
  readonly license: string;
}

/** linux.resources.devices -> the device program, with runc's default devices. */
export function buildDeviceFilter(rules: readonly LinuxDeviceCgroup[] | undefined): DeviceFilter {
  const set = emulateDeviceRules(effectiveDeviceRules(rules));
  const insns = compileDeviceProgram(set);
  return { rules: set, insns, bytes: encodeInsns(insns), license: DEVICE_PROGRAM_LICENSE };
}

// ---- an interpreter, for tests and explain output --------------------------

export interface DeviceAccessRequest {
  readonly type: DeviceKind;
  readonly major: number;
  readonly minor: number;
  /** What the kernel asks: "r", "w", "rw" (open) or "m" (mknod). */
  readonly access: string;
}

const CTX_SIZE = 12;
const MAX_STEPS = 1 << 16;
const U32 = 0xffffffffn;

type Reg = { readonly kind: 'ctx' } | { readonly kind: 'scalar'; readonly value: bigint };

class DeviceProgramError extends Error {
  override readonly name = 'DeviceProgramError';
}

function contextBytes(req: DeviceAccessRequest): DataView {
  const type = req.type === 'b' ? BPF.BPF_DEVCG_DEV_BLOCK : BPF.BPF_DEVCG_DEV_CHAR;
  const view = new DataView(new ArrayBuffer(CTX_SIZE));
  view.setUint32(0, ((accessBits(req.access) << 16) | type) >>> 0, true);
  view.setUint32(4, req.major >>> 0, true);
  view.setUint32(8, req.minor >>> 0, true);
  return view;
}

/** A small eBPF interpreter for what compileDeviceProgram emits, strict where the kernel's verifier is (uninitialised registers, jumps, exit value). */
class Machine {
  private readonly regs: (Reg | undefined)[] = new Array<Reg | undefined>(11).fill(undefined);
  private pc = 0;

  constructor(
    private readonly insns: readonly BpfInsn[],
    private readonly ctx: DataView,
  ) {
    this.regs[R1] = { kind: 'ctx' };
  }

  run(): boolean {
    for (let steps = 0; steps < MAX_STEPS; steps++) {
      const ins = this.insns[this.pc];
      if (ins === undefined) throw new DeviceProgramError(`execution left the program at ${this.pc}`);
      const result = this.step(ins);
      if (result !== undefined) return result;
    }
    throw new DeviceProgramError('the program does not end');
  }

  private scalar(r: number): bigint {
    const reg = this.regs[r];
    if (reg === undefined) throw new DeviceProgramError(`r${r} read before it is written (pc ${this.pc})`);
    if (reg.kind !== 'scalar') throw new DeviceProgramError(`r${r} is a pointer, not a number (pc ${this.pc})`);
    return reg.value;
  }

  private set(r: number, value: bigint): undefined {
    this.regs[r] = { kind: 'scalar', value };
    return undefined;
  }

  /** Returns the verdict at EXIT, else undefined. */
  private step(ins: BpfInsn): boolean | undefined {
    this.pc++;
    switch (ins.code) {
      case LDX_MEM_W: return this.load(ins);
      case ALU32_AND_K: return this.set(ins.dst, this.scalar(ins.dst) & BigInt(ins.imm >>> 0));
      case ALU32_RSH_K: return this.set(ins.dst, (this.scalar(ins.dst) & U32) >> BigInt(ins.imm & 31));
      case ALU32_MOV_K: return this.set(ins.dst, BigInt(ins.imm >>> 0));
      case ALU32_MOV_X: return this.set(ins.dst, this.scalar(ins.src) & U32);
      // 64-bit jumps compare the whole register with the sign-extended immediate.
      case JNE_K: return this.jump(ins, this.scalar(ins.dst) !== BigInt.asUintN(64, BigInt(ins.imm)));
      case JNE_X: return this.jump(ins, this.scalar(ins.dst) !== this.scalar(ins.src));
      case EXIT: return this.exit();
      default: throw new DeviceProgramError(`opcode 0x${ins.code.toString(16)} at ${this.pc - 1} is not one the device filter emits`);
    }
  }

  private load(ins: BpfInsn): undefined {
    if (this.regs[ins.src]?.kind !== 'ctx') throw new DeviceProgramError(`load through r${ins.src}, which is not the context pointer`);
    if (ins.off < 0 || ins.off + 4 > CTX_SIZE || ins.off % 4 !== 0) throw new DeviceProgramError(`context load at offset ${ins.off} is out of bounds`);
    this.set(ins.dst, BigInt(this.ctx.getUint32(ins.off, true)));
    return undefined;
  }

  private jump(ins: BpfInsn, taken: boolean): undefined {
    // Forward only: the programs have no loops, and this keeps the interpreter total.
    if (ins.off < 0) throw new DeviceProgramError(`backward jump at ${this.pc - 1}`);
    if (taken) this.pc += ins.off;
    return undefined;
  }

  private exit(): boolean {
    const r0 = this.scalar(R0);
    // The verifier requires 0 (deny) or 1 (allow) from a device program.
    if (r0 !== 0n && r0 !== 1n) throw new DeviceProgramError(`the program returns ${r0}, not 0 or 1`);
    return r0 === 1n;
  }
}

/** Runs a device program on one access, as the kernel would: true = allowed. */
export function evaluateDeviceProgram(program: readonly BpfInsn[] | Uint8Array, request: DeviceAccessRequest): boolean {
  const insns = program instanceof Uint8Array ? decodeInsns(program) : program;
  return new Machine(insns, contextBytes(request)).run();
}
