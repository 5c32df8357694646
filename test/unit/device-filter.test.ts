import { describe, expect, it } from 'vitest';
import { BPF } from '../../native/constants.js';
import {
  BPF_INSN_SIZE,
  type BpfInsn,
  type DeviceAccessRequest,
  DEFAULT_ALLOWED_DEVICES,
  buildDeviceFilter,
  decodeInsns,
  effectiveDeviceRules,
  emulateDeviceRules,
  encodeInsns,
  evaluateDeviceProgram,
} from '../../src/cgroups/device-filter.js';
import { UnsupportedError } from '../../src/errors.js';
import type { LinuxDeviceCgroup } from '../../src/spec/types.js';

/** "c 1:3 rw" -> a request. */
function req(text: string): DeviceAccessRequest {
  const m = /^([bc]) (\d+):(\d+) ([rwm]+)$/.exec(text);
  if (m === null) throw new Error(`bad request ${text}`);
  return { type: m[1] as 'b' | 'c', major: Number(m[2]), minor: Number(m[3]), access: m[4] ?? '' };
}

type Verdict = 'allow' | 'deny';

/** Runs the encoded program (the bytes the kernel gets) on every request of the table. */
function verdicts(rules: LinuxDeviceCgroup[] | undefined, table: Record<string, Verdict>): void {
  const { bytes } = buildDeviceFilter(rules);
  const got = Object.fromEntries(Object.keys(table).map((r) => [r, evaluateDeviceProgram(bytes, req(r)) ? 'allow' : 'deny']));
  expect(got).toEqual(table);
}

const DENY_ALL: LinuxDeviceCgroup = { allow: false, access: 'rwm' };
const ALLOW_ALL: LinuxDeviceCgroup = { allow: true, access: 'rwm' };

/** What every container gets whatever its rules (runc's AllowedDevices). */
const DEFAULTS_ALLOWED: Record<string, Verdict> = {
  'c 1:3 rw': 'allow', // null
  'c 1:3 rwm': 'allow',
  'c 1:5 r': 'allow', // zero
  'c 1:7 w': 'allow', // full
  'c 1:8 r': 'allow', // random
  'c 1:9 r': 'allow', // urandom
  'c 5:0 rw': 'allow', // tty
  'c 5:2 rw': 'allow', // ptmx
  'c 136:0 rw': 'allow', // pts/0
  'c 136:4242 rw': 'allow',
  'c 10:200 rw': 'allow', // net/tun
  'c 99:7 m': 'allow', // mknod of any char device
  'b 8:0 m': 'allow', // mknod of any block device
};

describe('device program: default deny plus runc\'s default devices', () => {
  it('with no rules', () => {
    verdicts(undefined, {
      ...DEFAULTS_ALLOWED,
      'c 1:1 r': 'deny', // /dev/mem
      'c 4:0 rw': 'deny', // tty0
      'c 5:1 rw': 'deny', // console: not in runc's list
      'c 10:229 rw': 'deny', // fuse
      'b 8:0 r': 'deny',
      'b 8:0 w': 'deny',
      'c 99:7 r': 'deny',
    });
  });

  it('with the usual deny-all first rule (runc spec, containerd)', () => {
    verdicts([DENY_ALL, { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }], {
      ...DEFAULTS_ALLOWED,
      'c 10:229 rw': 'allow',
      'c 10:228 rw': 'deny',
      'b 8:0 r': 'deny',
    });
  });

  it('a config cannot deny the default devices: they are appended after its rules (runc)', () => {
    verdicts([DENY_ALL, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }], { 'c 1:3 rw': 'allow' });
  });
});

describe('device program: rule semantics', () => {
  it('type, major and minor wildcards (-1 or absent)', () => {
    verdicts(
      [
        DENY_ALL,
        { allow: true, type: 'b', major: 8, access: 'r' }, // minor absent: any
        { allow: true, type: 'c', major: -1, minor: 42, access: 'rw' },
      ],
      {
        'b 8:0 r': 'allow',
        'b 8:17 r': 'allow',
        'b 8:0 w': 'deny',
        'b 9:0 r': 'deny',
        'c 8:0 r': 'deny',
        'c 200:42 rw': 'allow',
        'c 200:43 r': 'deny',
        'b 200:42 r': 'deny',
      },
    );
  });

  it('access: every requested access must be granted', () => {
    verdicts([DENY_ALL, { allow: true, type: 'c', major: 4, minor: 1, access: 'r' }], {
      'c 4:1 r': 'allow',
      'c 4:1 w': 'deny',
      'c 4:1 rw': 'deny',
    });
  });

  it('rules for the same device add up', () => {
    verdicts(
      [DENY_ALL, { allow: true, type: 'c', major: 4, minor: 1, access: 'r' }, { allow: true, type: 'c', major: 4, minor: 1, access: 'w' }],
      { 'c 4:1 rw': 'allow', 'c 4:1 m': 'allow' /* mknod: runc's default */ },
    );
  });

  it('a later rule for the same device overrides an earlier one', () => {
    verdicts(
      [DENY_ALL, { allow: true, type: 'c', major: 4, minor: 1, access: 'rw' }, { allow: false, type: 'c', major: 4, minor: 1, access: 'w' }],
      { 'c 4:1 r': 'allow', 'c 4:1 w': 'deny' },
    );
    verdicts([{ allow: false, type: 'c', major: 4, minor: 1, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 1, access: 'rwm' }], {
      'c 4:1 rw': 'allow',
    });
  });

  it('a type "a" rule resets all rules before it', () => {
    verdicts([{ allow: true, type: 'c', major: 4, minor: 1, access: 'rwm' }, DENY_ALL], { 'c 4:1 r': 'deny', 'c 1:3 r': 'allow' });
    verdicts([{ allow: false, type: 'b', major: 8, minor: 0, access: 'rwm' }, ALLOW_ALL], { 'b 8:0 rw': 'allow' });
  });

  it('allow-all (privileged containers) allows everything, with deny exceptions after it', () => {
    verdicts([ALLOW_ALL], { 'b 8:0 rw': 'allow', 'c 1:1 r': 'allow', 'c 4242:1 m': 'allow' });
    verdicts([ALLOW_ALL, { allow: false, type: 'b', major: 8, minor: 0, access: 'rw' }], {
      'b 8:0 r': 'deny',
      'b 8:0 w': 'deny',
      'b 8:0 m': 'allow',
      'b 8:1 r': 'allow',
      'c 1:3 rw': 'allow',
    });
  });

  it('a wildcard deny does not revoke a specific allow (cgroup v1 semantics, as runc)', () => {
    verdicts([DENY_ALL, { allow: true, type: 'c', major: 4, minor: 1, access: 'rw' }, { allow: false, type: 'c', access: 'r' }], {
      'c 4:1 r': 'allow',
    });
  });

  it('refuses to punch a hole in a wildcard rule, naming the rule', () => {
    const rules: LinuxDeviceCgroup[] = [DENY_ALL, { allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 1, access: 'r' }];
    expect(() => buildDeviceFilter(rules)).toThrow(UnsupportedError);
    expect(() => buildDeviceFilter(rules)).toThrow(/^\/linux\/resources\/devices\/2: cannot deny "r" on c 1:1: an earlier rule allows "r" on all of c \*:\*/);
    // The same in an allow-all set: allowing back part of a wildcard deny.
    expect(() => buildDeviceFilter([ALLOW_ALL, { allow: false, type: 'b', major: 8, access: 'rw' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }])).toThrow(
      /devices\/2: cannot allow "r" on b 8:0/,
    );
  });

  it('absent type means all devices; absent access means rwm', () => {
    const [rule] = effectiveDeviceRules([{ allow: false }]);
    expect(rule).toMatchObject({ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm', origin: '/linux/resources/devices/0' });
  });

  it('refuses invalid rules, naming the field', () => {
    const field = (rules: LinuxDeviceCgroup[]): string => {
      try {
        buildDeviceFilter(rules);
      } catch (err) {
        return (err as UnsupportedError).field;
      }
      return 'accepted';
    };
    expect(field([{ allow: true, type: 'u', access: 'r' }])).toBe('/linux/resources/devices/0/type');
    expect(field([DENY_ALL, { allow: true, type: 'c', access: '' }])).toBe('/linux/resources/devices/1/access');
    expect(field([{ allow: true, type: 'c', access: 'rx' }])).toBe('/linux/resources/devices/0/access');
    expect(field([{ allow: true, type: 'c', major: -2, access: 'r' }])).toBe('/linux/resources/devices/0/major');
    expect(field([{ allow: true, type: 'c', minor: 2 ** 31, access: 'r' }])).toBe('/linux/resources/devices/0/minor');
  });
});

describe('emulated rule set', () => {
  it("is default deny with runc's defaults as allow exceptions, sorted", () => {
    const set = emulateDeviceRules(effectiveDeviceRules([DENY_ALL]));
    expect(set.defaultAllow).toBe(false);
    expect(set.exceptions.map((e) => `${e.type} ${e.major}:${e.minor} ${e.access}`)).toEqual([
      'b -1:-1 m',
      'c -1:-1 m',
      'c 1:3 rwm',
      'c 1:5 rwm',
      'c 1:7 rwm',
      'c 1:8 rwm',
      'c 1:9 rwm',
      'c 5:0 rwm',
      'c 5:2 rwm',
      'c 10:200 rwm',
      'c 136:-1 rwm',
    ]);
    expect(DEFAULT_ALLOWED_DEVICES).toHaveLength(11);
  });
});

describe('program encoding', () => {
  it('is struct bpf_insn, little-endian, and round-trips', () => {
    const { insns, bytes, license } = buildDeviceFilter([DENY_ALL]);
    expect(bytes.length).toBe(insns.length * BPF_INSN_SIZE);
    // r2 = *(u32 *)(r1 + 0): code, dst 2 | src 1 << 4, off 0, imm 0.
    expect([...bytes.subarray(0, 8)]).toEqual([BPF.BPF_LDX | BPF.BPF_MEM | BPF.BPF_W, 0x12, 0, 0, 0, 0, 0, 0]);
    // Ends with "r0 = 0 (deny); exit".
    expect([...bytes.subarray(bytes.length - 16)]).toEqual([0xb4, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    expect(decodeInsns(bytes)).toEqual(insns);
    expect(decodeInsns(encodeInsns([{ code: 0x55, dst: 4, src: 0, off: -3, imm: -7 }]))).toEqual([{ code: 0x55, dst: 4, src: 0, off: -3, imm: -7 }]);
    expect(license).toBe('Apache-2.0');
  });

  it('jumps forward only, and every jump lands inside the program', () => {
    const { insns } = buildDeviceFilter([DENY_ALL, { allow: true, type: 'b', major: 8, access: 'r' }]);
    insns.forEach((ins, pc) => {
      if ((ins.code & 0x07) === BPF.BPF_JMP && ins.code !== (BPF.BPF_JMP | BPF.BPF_EXIT)) {
        expect(ins.off).toBeGreaterThanOrEqual(0);
        expect(pc + 1 + ins.off).toBeLessThan(insns.length);
      }
    });
  });
});

describe('the interpreter is as strict as the verifier where it matters', () => {
  const r = req('c 1:3 r');
  const exit: BpfInsn = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

  it('refuses reading r0 before it is written', () => {
    expect(() => evaluateDeviceProgram([exit], r)).toThrow(/r0 read before/);
  });

  it('refuses a return value other than 0 or 1', () => {
    expect(() => evaluateDeviceProgram([{ code: 0xb4, dst: 0, src: 0, off: 0, imm: 2 }, exit], r)).toThrow(/not 0 or 1/);
  });

  it('refuses running off the end, unknown opcodes, and out-of-bounds context loads', () => {
    expect(() => evaluateDeviceProgram([{ code: 0xb4, dst: 0, src: 0, off: 0, imm: 1 }], r)).toThrow(/left the program/);
    expect(() => evaluateDeviceProgram([{ code: 0x07, dst: 0, src: 0, off: 0, imm: 1 }, exit], r)).toThrow(/opcode 0x7/);
    expect(() => evaluateDeviceProgram([{ code: 0x61, dst: 2, src: 1, off: 12, imm: 0 }, exit], r)).toThrow(/out of bounds/);
  });
});
