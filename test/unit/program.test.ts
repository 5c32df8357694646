// The program encoder: byte layout, validation, describe(). Pure: runs as any user, no stub.

import { describe, expect, it } from 'vitest';
import { AT, CLONE, MS, O_BY_ARCH, SECCOMP } from '../../native/constants.js';
import {
  buffer,
  bytes,
  fdPath,
  flags,
  flagsValue,
  imm,
  nul,
  ProgramBuilder,
  ProgramError,
  ptrArray,
  regArg,
  sockFprog,
  str,
  StubOpError,
} from '../../native/program.js';
import { ARG, FLAG, FORMAT, OP } from '../../native/stub-protocol.js';

/** Writes the expected bytes field by field, independently of the encoder. */
class Expect {
  readonly b: Uint8Array;
  readonly dv: DataView;
  constructor(size: number) {
    this.b = new Uint8Array(size);
    this.dv = new DataView(this.b.buffer);
  }
  header(ops: number, relocs: number, dataLen: number): this {
    this.b.set([0x54, 0x53, 0x52, 0x50], 0); // "TSRP"
    this.dv.setUint16(4, 1, true);
    this.dv.setUint32(8, ops, true);
    this.dv.setUint32(12, relocs, true);
    this.dv.setUint32(16, dataLen, true);
    return this;
  }
  op(
    at: number,
    o: { code: number; result?: number; ok?: number[]; param: number; label: number; flags?: number; kinds?: number[]; args?: bigint[] },
  ): this {
    this.dv.setUint16(at, o.code, true);
    this.dv.setUint8(at + 2, o.result ?? 255);
    this.dv.setUint8(at + 3, (o.ok ?? []).length);
    (o.ok ?? []).forEach((e, i) => this.dv.setUint16(at + 4 + 2 * i, e, true));
    this.dv.setUint32(at + 12, o.param, true);
    this.dv.setUint32(at + 16, o.label, true);
    this.dv.setUint16(at + 20, o.flags ?? 0, true);
    (o.kinds ?? []).forEach((k, i) => this.dv.setUint8(at + 22 + i, k));
    (o.args ?? []).forEach((a, i) => this.dv.setBigUint64(at + 32 + 8 * i, BigInt.asUintN(64, a), true));
    return this;
  }
  text(at: number, s: string): this {
    this.b.set(new TextEncoder().encode(s), at);
    return this;
  }
  u64(at: number, v: number): this {
    this.dv.setBigUint64(at, BigInt(v), true);
    return this;
  }
  u32(at: number, v: number): this {
    this.dv.setUint32(at, v, true);
    return this;
  }
}

describe('encoding', () => {
  it('lays out header, op records and data byte for byte; labels only for the ops after the last sync', () => {
    const b = new ProgramBuilder('x64');
    const r = b.reg();
    b.syscall('mkdirat', [flags(AT, 'AT_FDCWD'), str('/a'), 0o755], { result: r, okErrnos: ['EEXIST'], label: 'mkdir /a' });
    b.sync(7, r, { last: true });
    b.syscall('close', [r], { label: 'close /a' });
    // data: "/a\0" @0, "close /a\0" @8 .. 17, padded to 24. Before the channel closes, tsrun
    // names a failed op itself: no label in the data.
    const e = new Expect(24 + 3 * 80 + 24)
      .header(3, 0, 24)
      .op(24, { code: 1, result: 0, ok: [17], param: 258, label: FORMAT.NO_LABEL, kinds: [0, 1, 0], args: [-100n, 0n, 0o755n] })
      .op(104, { code: 2, param: 7, label: FORMAT.NO_LABEL, flags: 1, kinds: [3], args: [0n] })
      .op(184, { code: 1, param: 3, label: 8, kinds: [3], args: [0n] })
      .text(264, '/a')
      .text(264 + 8, 'close /a');
    expect(b.encode()).toEqual(e.b);
    expect(b.label(0)).toBe('mkdir /a');
    expect(b.errorFor(0, 13).message).toBe('mkdir /a: EACCES (Permission denied)');
  });

  it('relocates pointer arrays (argv, envp), NULL-terminated, with shared strings, per architecture', () => {
    const b = new ProgramBuilder('arm64');
    b.execve('/bin/sh', ['sh', '-c', 'sh'], ['A=1']);
    // data: "/bin/sh" @0, "sh" @8, "-c" @16, argv @24 [8, 16, 8, NULL] .. 56,
    //       "A=1" @56, envp @64 [56, NULL] .. 80 (no label: the channel is open)
    const e = new Expect(24 + 80 + 80 + 4 * 4)
      .header(1, 4, 80)
      .op(24, { code: 1, param: 221, label: FORMAT.NO_LABEL, kinds: [1, 1, 1], args: [0n, 24n, 64n] })
      .text(104, '/bin/sh')
      .text(104 + 8, 'sh')
      .text(104 + 16, '-c')
      .u64(104 + 24, 8)
      .u64(104 + 32, 16)
      .u64(104 + 40, 8)
      .text(104 + 56, 'A=1')
      .u64(104 + 64, 56)
      .u32(184, 24)
      .u32(188, 32)
      .u32(192, 40)
      .u32(196, 64);
    expect(b.encode()).toEqual(e.b);
  });

  it('encodes registers, fd paths, NULL, fork and send_fd', () => {
    const b = new ProgramBuilder('x64');
    const r0 = b.reg();
    const r1 = b.reg();
    b.syscall('mount', [nul(), fdPath(r1), nul(), flags(MS, 'MS_BIND', 'MS_REC'), nul()], { label: 'm' });
    b.fork({ flags: flags(CLONE, 'CLONE_NEWPID'), cgroupFd: r0, result: r1 });
    b.sendFd(r0, 5);
    const p = b.encode();
    const dv = new DataView(p.buffer);
    const op = (i: number) => 24 + 80 * i;
    expect(dv.getUint32(8, true)).toBe(3);
    // mount
    expect([...p.subarray(op(0) + 22, op(0) + 28)]).toEqual([ARG.NULL, ARG.FDPATH, ARG.NULL, ARG.IMM, ARG.NULL, ARG.IMM]);
    expect(dv.getBigUint64(op(0) + 40, true)).toBe(1n);
    expect(dv.getBigUint64(op(0) + 56, true)).toBe(0x5000n);
    // fork
    expect(dv.getUint16(op(1), true)).toBe(OP.FORK);
    expect(dv.getUint8(op(1) + 2)).toBe(1);
    expect([...p.subarray(op(1) + 22, op(1) + 24)]).toEqual([ARG.IMM, ARG.REG]);
    expect(dv.getBigUint64(op(1) + 32, true)).toBe(0x20000000n);
    expect(dv.getBigUint64(op(1) + 40, true)).toBe(0n);
    // send_fd
    expect(dv.getUint16(op(2), true)).toBe(OP.SEND_FD);
    expect([...p.subarray(op(2) + 22, op(2) + 25)]).toEqual([ARG.REG, ARG.IMM, ARG.IMM]);
    expect(dv.getBigUint64(op(2) + 40, true)).toBe(5n);
  });

  it('encodes a sync that sends an fd, and 64-bit immediates', () => {
    const b = new ProgramBuilder('x64');
    const r = b.reg();
    b.sync(1, r, { sendFd: true });
    b.syscall('unshare', [flags(CLONE, 'CLONE_NEWNS', 'CLONE_IO')]);
    b.syscall('close_range', [3, imm(0xffffffffn), 0]);
    b.syscall('lseek', [0, imm(-1), 0]);
    const p = b.encode();
    const dv = new DataView(p.buffer);
    expect(dv.getUint16(24 + 20, true)).toBe(FLAG.SEND_FD);
    expect(dv.getBigUint64(24 + 80 + 32, true)).toBe(0x80020000n); // not sign-extended
    expect(dv.getBigUint64(24 + 160 + 40, true)).toBe(0xffffffffn);
    expect(dv.getBigInt64(24 + 240 + 40, true)).toBe(-1n);
  });

  it('builds struct sock_fprog with a relocated filter pointer', () => {
    const b = new ProgramBuilder('x64');
    const filter = new Uint8Array(16).fill(0xaa);
    b.syscall('seccomp', [flags(SECCOMP, 'SECCOMP_SET_MODE_FILTER'), 0, sockFprog(filter)]);
    const p = b.encode();
    const dv = new DataView(p.buffer);
    const data = 24 + 80;
    // filter @0 (16 bytes), sock_fprog @16 {len=2, filter=@0}
    expect(dv.getBigUint64(24 + 32 + 16, true)).toBe(16n);
    expect([...p.subarray(data, data + 16)]).toEqual([...filter]);
    expect(dv.getUint16(data + 16, true)).toBe(2);
    expect(dv.getBigUint64(data + 24, true)).toBe(0n);
    expect(dv.getUint32(12, true)).toBe(1);
    expect(dv.getUint32(p.length - 4, true)).toBe(24);
  });

  it('never shares output buffers, shares identical strings', () => {
    const b = new ProgramBuilder('x64');
    const r = b.reg();
    b.syscall('readlinkat', [flags(AT, 'AT_FDCWD'), str('/x'), buffer(8), 8], { result: r });
    b.syscall('readlinkat', [flags(AT, 'AT_FDCWD'), str('/x'), buffer(8), 8], { result: r });
    const dv = new DataView(b.encode().buffer);
    const arg = (op: number, i: number) => dv.getBigUint64(24 + 80 * op + 32 + 8 * i, true);
    expect(arg(0, 1)).toBe(arg(1, 1));
    expect(arg(0, 2)).not.toBe(arg(1, 2));
  });

  it('encodes strings as UTF-8 in place, NUL-terminated, the next item 8-aligned after them', () => {
    const b = new ProgramBuilder('x64');
    const texts = ['/é', 'x😀y', 'a'.repeat(300) + 'ß', ''];
    for (const t of texts) b.syscall('chdir', [str(t)], { label: 'l' });
    const p = b.encode();
    const dataAt = FORMAT.HEADER_SIZE + texts.length * FORMAT.OP_SIZE;
    let expected = 0;
    const offsets: number[] = [];
    for (const t of texts) {
      offsets.push(expected);
      expected = (expected + new TextEncoder().encode(t).length + 1 + 7) & ~7;
    }
    const dv = new DataView(p.buffer);
    texts.forEach((t, i) => {
      const off = Number(dv.getBigUint64(FORMAT.HEADER_SIZE + i * FORMAT.OP_SIZE + 32, true));
      expect(off).toBe(offsets[i]);
      const enc = new TextEncoder().encode(t);
      expect([...p.subarray(dataAt + off, dataAt + off + enc.length + 1)]).toEqual([...enc, 0]);
    });
  });

  it('works out flag names only when shown, and shows the same names', () => {
    const b = new ProgramBuilder('x64');
    const v = MS.MS_NOSUID | MS.MS_NODEV | 0x8000000;
    b.syscall('mount', [nul(), str('/'), nul(), flagsValue(MS, v, 'MS_'), nul()], { label: 'labelled' });
    b.syscall('mount', [nul(), str('/'), nul(), flagsValue(MS, 0, 'MS_'), nul()]);
    expect(b.describe()).toEqual([
      '0 mount(NULL, "/", NULL, MS_NOSUID|MS_NODEV|0x8000000, NULL)  # labelled',
      '1 mount(NULL, "/", NULL, 0, NULL)',
    ]);
    expect(b.label(1)).toBe('mount(NULL, "/", NULL, 0, NULL)');
    const a = flagsValue(MS, MS.MS_RDONLY);
    expect(a).toMatchObject({ kind: 'imm', value: BigInt(MS.MS_RDONLY), text: 'MS_RDONLY' });
    expect(() => flagsValue(MS, 1.5)).toThrow(ProgramError);
  });

  it('pads the data blob to 8 bytes and keeps the header consistent', () => {
    const b = new ProgramBuilder('x64');
    b.syscall('chdir', [str('/abc')]);
    const p = b.encode();
    const dv = new DataView(p.buffer);
    const dataLen = dv.getUint32(16, true);
    expect(dataLen % 8).toBe(0);
    expect(p.length).toBe(FORMAT.HEADER_SIZE + FORMAT.OP_SIZE + dataLen);
  });
});

describe('validation', () => {
  it('rejects unknown syscalls and ones the architecture lacks', () => {
    expect(() => new ProgramBuilder('x64').syscall('frobnicate', [])).toThrow(/unknown syscall "frobnicate"/);
    expect(() => new ProgramBuilder('arm64').syscall('lstat', [str('/'), buffer(144)])).toThrow(/lstat does not exist on arm64/);
    expect(() => new ProgramBuilder('x64').syscall('lstat', [str('/'), buffer(144)])).not.toThrow();
  });

  it('checks argument counts', () => {
    const b = new ProgramBuilder('x64');
    expect(() => b.syscall('mount', [str('a'), str('b'), nul()])).toThrow(/mount takes 5 arguments, not 3/);
    expect(() => b.syscall('close', [1, 2])).toThrow(/close takes 1 argument, not 2/);
    expect(() => b.syscall('prctl', [38])).toThrow(/prctl takes 2 to 5 arguments, not 1/);
    expect(() => b.syscall('prctl', [38, 1])).not.toThrow();
    expect(() => b.syscall('openat', [flags(AT, 'AT_FDCWD'), str('/'), 0])).not.toThrow();
  });

  it('checks registers', () => {
    const b = new ProgramBuilder('x64');
    const regs = Array.from({ length: 16 }, () => b.reg());
    expect(regs.map((r) => r.index)).toEqual([...Array(16).keys()]);
    expect(() => b.reg()).toThrow(/out of registers/);
    const other = new ProgramBuilder('x64');
    expect(() => other.syscall('close', [regs[3]!])).toThrow(/r3 was not allocated/);
    expect(() => other.syscall('chdir', [fdPath(regs[0]!)])).toThrow(/r0 was not allocated/);
    expect(() => other.syscall('getpid', [], { result: regs[0]! })).toThrow(/r0 was not allocated/);
    expect(other.length).toBe(0);
  });

  it('checks tolerated errnos', () => {
    const b = new ProgramBuilder('x64');
    expect(() => b.syscall('close', [3], { okErrnos: ['ENOPE'] })).toThrow(/unknown errno name "ENOPE"/);
    expect(() => b.syscall('close', [3], { okErrnos: ['EBADF', 'EINTR', 'EIO', 'EPERM', 'EEXIST'] })).toThrow(/at most 4/);
  });

  it('checks values', () => {
    expect(() => imm(1n << 64n)).toThrow(/does not fit/);
    expect(() => imm(1.5)).toThrow(/not an integer/);
    expect(() => str('a\0b')).toThrow(/NUL/);
    expect(() => sockFprog(new Uint8Array(7))).toThrow(/multiple of 8/);
    expect(() => new ProgramBuilder('x64').sync(-1)).toThrow(/u32/);
  });

  it('checks sync and fork against the closed channel', () => {
    const b = new ProgramBuilder('x64');
    b.sync(1, 0, { last: true });
    expect(() => b.sync(2)).toThrow(/after the last sync/);
    expect(() => b.fork()).toThrow(/after the last sync/);
    expect(() => b.syscall('getpid', [])).not.toThrow();
  });

  it('checks sync values', () => {
    const b = new ProgramBuilder('x64');
    expect(() => b.sync(1, str('x'))).toThrow(/immediate or a register/);
    expect(() => b.sync(1, 5, { sendFd: true })).toThrow(/needs the fd in a register/);
  });
});

describe('describe()', () => {
  it('prints one line per op, with results, tolerated errnos and labels', () => {
    const b = new ProgramBuilder('x64');
    const root = b.reg();
    const cg = b.reg();
    const o = O_BY_ARCH.x64;
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str('/rootfs'), flagsValue(o, o.O_PATH | o.O_CLOEXEC, 'O_'), 0], { result: root });
    b.syscall('mkdirat', [root, str('proc'), imm(0o755, '0755')], { okErrnos: ['EEXIST'] });
    b.syscall('mount', [str('proc'), fdPath(root), str('proc'), flags(MS, 'MS_NOSUID', 'MS_NODEV'), nul()], {
      label: 'mount proc on /proc',
    });
    b.sync(3, regArg(root), { result: cg, label: 'cgroup' });
    b.fork({ flags: flags(CLONE, 'CLONE_NEWPID'), cgroupFd: cg });
    b.sendFd(cg, 0, { payload: '/dev/ptmx' });
    b.syscall('write', [1, bytes(new Uint8Array(3)), 3]);
    b.sync(4, 0, { last: true });
    b.execve('/bin/sh', ['sh', '-c', 'echo hi'], ['PATH=/bin']);
    expect(b.describe()).toEqual([
      '0 r0 = openat(AT_FDCWD, "/rootfs", O_CLOEXEC|O_PATH, 0)',
      '1 mkdirat(<r0>, "proc", 0755) [ok: EEXIST]',
      '2 mount("proc", /proc/self/fd/<r0>, "proc", MS_NOSUID|MS_NODEV, NULL)  # mount proc on /proc',
      '3 r1 = sync(code=3, <r0>)  # cgroup',
      '4 fork(CLONE_NEWPID, cgroup=<r1>)',
      '5 send_fd(<r1>, 0, "/dev/ptmx")',
      '6 write(1, <3 bytes>, 3)',
      '7 sync(code=4, 0, last)',
      '8 execve("/bin/sh", ["sh", "-c", "echo hi"], ["PATH=/bin"])  # exec /bin/sh',
    ]);
    expect(b.label(2)).toBe('mount proc on /proc');
    expect(b.label(1)).toBe('mkdirat(<r0>, "proc", 0755)');
  });

  it('words stub failures with the op label', () => {
    const b = new ProgramBuilder('x64');
    b.syscall('getpid', []);
    const i = b.syscall('mount', [str('proc'), str('/proc'), str('proc'), 0, nul()], { label: 'mount proc on /proc' });
    const e = b.errorFor(i, 1);
    expect(e).toBeInstanceOf(StubOpError);
    expect(e.message).toBe('mount proc on /proc: EPERM (Operation not permitted)');
    expect(e.syscall).toBe('mount');
    expect(e.errnoName).toBe('EPERM');
    expect(e.opIndex).toBe(1);
    expect(() => b.label(9)).toThrow(ProgramError);
  });

  it('writeFile composes open, write and close', () => {
    const b = new ProgramBuilder('x64');
    const s = b.reg();
    b.writeFile('/proc/self/uid_map', '0 1000 1\n', s);
    expect(b.describe()).toEqual([
      '0 r0 = openat(AT_FDCWD, "/proc/self/uid_map", O_WRONLY|O_CLOEXEC, 0)  # open /proc/self/uid_map',
      '1 write(<r0>, "0 1000 1\\n", 9)  # write /proc/self/uid_map',
      '2 close(<r0>)  # close /proc/self/uid_map',
    ]);
  });

  it('uses ptrArray and strings interchangeably with explicit helpers', () => {
    const b = new ProgramBuilder('x64');
    b.syscall('execve', ['/bin/true', ptrArray(['true']), ptrArray([])]);
    expect(b.describe()).toEqual(['0 execve("/bin/true", ["true"], [])']);
  });
});
