// A classic BPF interpreter for seccomp programs, for verdict tests: run the
// program libseccomp exported on a struct seccomp_data and get the
// SECCOMP_RET_* value the kernel would act on. Little-endian (x86_64, aarch64).
//
// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }

export interface SeccompData {
  readonly nr: number;
  /** AUDIT_ARCH_* of the calling convention. */
  readonly arch: number;
  readonly args?: readonly (number | bigint)[];
  readonly ip?: bigint;
}

const SECCOMP_DATA_SIZE = 64;
const BPF_MEMWORDS = 16;

function seccompData(d: SeccompData): DataView {
  const dv = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  dv.setInt32(0, d.nr, true);
  dv.setUint32(4, d.arch >>> 0, true);
  dv.setBigUint64(8, d.ip ?? 0n, true);
  for (let i = 0; i < 6; i++) dv.setBigUint64(16 + 8 * i, BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), true);
  return dv;
}

/** Runs `program` (struct sock_filter[]) on `data`; returns the u32 verdict. Throws on what the kernel's checker would reject. */
export function runSeccompBpf(program: Uint8Array, data: SeccompData): number {
  const code = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const n = program.byteLength / 8;
  const pkt = seccompData(data);
  const mem = new Uint32Array(BPF_MEMWORDS);
  let a = 0;
  let x = 0;
  for (let pc = 0, steps = 0; pc < n; pc++, steps++) {
    if (steps > n) throw new Error('BPF program loops');
    const op = code.getUint16(pc * 8, true);
    const jt = code.getUint8(pc * 8 + 2);
    const jf = code.getUint8(pc * 8 + 3);
    const k = code.getUint32(pc * 8 + 4, true);
    const cls = op & 0x07;
    const src = op & 0x08 ? x : k; // BPF_X : BPF_K
    switch (cls) {
      case 0x00: // BPF_LD
      case 0x01: {
        // BPF_LDX
        const mode = op & 0xe0;
        const size = op & 0x18;
        let v: number;
        if (mode === 0x00) v = k; // BPF_IMM
        else if (mode === 0x20) {
          // BPF_ABS: seccomp only allows aligned 32-bit loads
          if (size !== 0x00 || k % 4 !== 0 || k + 4 > SECCOMP_DATA_SIZE) throw new Error(`bad load at ${pc}`);
          v = pkt.getUint32(k, true);
        } else if (mode === 0x60) v = mem[k] ?? 0; // BPF_MEM
        else if (mode === 0x80) v = SECCOMP_DATA_SIZE; // BPF_LEN
        else throw new Error(`unsupported load mode 0x${mode.toString(16)} at ${pc}`);
        if (cls === 0x00) a = v >>> 0;
        else x = v >>> 0;
        break;
      }
      case 0x02: // BPF_ST
        mem[k] = a;
        break;
      case 0x03: // BPF_STX
        mem[k] = x;
        break;
      case 0x04: {
        // BPF_ALU
        const alu = op & 0xf0;
        const s = src >>> 0;
        switch (alu) {
          case 0x00: a = (a + s) >>> 0; break;
          case 0x10: a = (a - s) >>> 0; break;
          case 0x20: a = Math.imul(a, s) >>> 0; break;
          case 0x30: a = s === 0 ? 0 : Math.floor(a / s) >>> 0; break;
          case 0x40: a = (a | s) >>> 0; break;
          case 0x50: a = (a & s) >>> 0; break;
          case 0x60: a = s >= 32 ? 0 : (a << s) >>> 0; break;
          case 0x70: a = s >= 32 ? 0 : a >>> s; break;
          case 0x80: a = -a >>> 0; break;
          case 0x90: a = s === 0 ? 0 : (a % s) >>> 0; break;
          case 0xa0: a = (a ^ s) >>> 0; break;
          default: throw new Error(`unsupported ALU op 0x${alu.toString(16)} at ${pc}`);
        }
        break;
      }
      case 0x05: {
        // BPF_JMP
        const jop = op & 0xf0;
        const s = src >>> 0;
        if (jop === 0x00) {
          pc += k; // BPF_JA
          break;
        }
        let cond: boolean;
        if (jop === 0x10) cond = a === s; // JEQ
        else if (jop === 0x20) cond = a > s; // JGT
        else if (jop === 0x30) cond = a >= s; // JGE
        else if (jop === 0x40) cond = (a & s) !== 0; // JSET
        else throw new Error(`unsupported jump 0x${jop.toString(16)} at ${pc}`);
        pc += cond ? jt : jf;
        break;
      }
      case 0x06: // BPF_RET
        return ((op & 0x18) === 0x10 ? a : k) >>> 0; // BPF_A : BPF_K
      case 0x07: // BPF_MISC
        if ((op & 0xf8) === 0x00) x = a; // TAX
        else a = x; // TXA
        break;
    }
  }
  throw new Error('BPF program ran off its end');
}
