// native/'s tables against their sources of truth: the stub's C protocol header (always), the
// kernel's syscall and errno headers (when installed), and every constant against the system
// headers through a C compiler (when there is one). Any user; nothing is executed but a tiny
// generated C program.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONSTANT_TABLES, O_BY_ARCH, signals, flagNames, ioprioValue, orFlags, signalName, CLONE, MS } from '../../native/constants.js';
import { errno, errnoMessage, errnoName, errnoNumber } from '../../native/errno.js';
import * as protocol from '../../native/stub-protocol.js';
import { SYSCALLS, syscallName, syscallNumber, type SyscallInfo } from '../../native/syscalls.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `#define NAME <number>` and `NAME = <number>,` (enum entries) of a C header. */
function cNumbers(text: string, prefix: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const re = new RegExp(`^\\s*(?:#define\\s+(${prefix}\\w+)\\s+|(${prefix}\\w+)\\s*=\\s*)(0x[0-9a-fA-F]+|\\d+)\\b`, 'gm');
  for (const m of text.matchAll(re)) out.set((m[1] ?? m[2]) as string, BigInt(m[3] as string));
  return out;
}

describe('stub protocol: native/stub-protocol.ts agrees with native/stub/protocol.h', () => {
  const header = readFileSync(join(root, 'native/stub/protocol.h'), 'utf8');
  const c = cNumbers(header, 'TSRP_');
  const tables = {
    FORMAT: protocol.FORMAT,
    OP: protocol.OP,
    ARG: protocol.ARG,
    FLAG: protocol.FLAG,
    MSG: protocol.MSG,
    EXIT: protocol.EXIT,
  } as const;

  it('parses the header', () => {
    expect(c.size).toBeGreaterThan(30);
  });

  for (const [table, values] of Object.entries(tables)) {
    it(`${table} matches ${protocol.C_PREFIXES[table as keyof typeof tables]}*`, () => {
      const prefix = protocol.C_PREFIXES[table as keyof typeof tables];
      for (const [key, value] of Object.entries(values)) {
        expect(c.get(`${prefix}${key}`), `${prefix}${key}`).toBe(BigInt(value));
      }
    });
  }

  it('every TSRP_ number of the header exists in TypeScript', () => {
    const known = new Set<string>();
    for (const [table, values] of Object.entries(tables)) {
      for (const key of Object.keys(values)) known.add(`${protocol.C_PREFIXES[table as keyof typeof tables]}${key}`);
    }
    expect([...c.keys()].filter((name) => !known.has(name))).toEqual([]);
  });
});

describe('syscall numbers', () => {
  it('resolves names per architecture and back', () => {
    expect(syscallNumber('mount', 'x64')).toBe(165);
    expect(syscallNumber('mount', 'arm64')).toBe(40);
    expect(syscallNumber('clone3', 'arm64')).toBe(435);
    expect(syscallName(165, 'x64')).toBe('mount');
    expect(syscallName(9999, 'x64')).toBe('syscall_9999');
    expect(() => syscallNumber('lstat', 'arm64')).toThrow(/does not exist on arm64/);
    expect(() => syscallNumber('no_such_call', 'x64')).toThrow(/unknown syscall/);
  });

  it('has no two names with one number on an architecture', () => {
    for (const arch of ['x64', 'arm64'] as const) {
      const seen = new Map<number, string>();
      for (const [name, info] of Object.entries(SYSCALLS) as [string, SyscallInfo][]) {
        const nr = info[arch];
        if (nr === null) continue;
        expect(seen.get(nr), `${arch} ${nr}: ${name}`).toBeUndefined();
        seen.set(nr, name);
      }
    }
  });

  const x64Header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
  it.skipIf(!existsSync(x64Header))(`x86_64 numbers match ${x64Header} (linux-libc-dev)`, () => {
    const nrs = cNumbers(readFileSync(x64Header, 'utf8'), '__NR_');
    let compared = 0;
    for (const [name, info] of Object.entries(SYSCALLS) as [string, SyscallInfo][]) {
      const h = nrs.get(`__NR_${name}`);
      if (h === undefined) continue; // newer than the installed headers
      expect(info.x64, name).toBe(Number(h));
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });

  const genericHeader = '/usr/include/asm-generic/unistd.h';
  it.skipIf(!existsSync(genericHeader))(`aarch64 numbers match ${genericHeader} (linux-libc-dev)`, () => {
    const text = readFileSync(genericHeader, 'utf8');
    const nrs = cNumbers(text, '__NR_');
    // 64-bit names defined through __NR3264_* (fcntl, newfstatat, fstat, lseek, ...).
    const nr3264 = cNumbers(text, '__NR3264_');
    for (const m of text.matchAll(/^#define (__NR_\w+) __NR3264_(\w+)/gm)) {
      const v = nr3264.get(`__NR3264_${m[2]}`);
      if (v !== undefined) nrs.set(m[1] as string, v);
    }
    let compared = 0;
    for (const [name, info] of Object.entries(SYSCALLS) as [string, SyscallInfo][]) {
      const h = nrs.get(`__NR_${name}`);
      if (info.arm64 === null) {
        expect(h, `${name} is absent on aarch64`).toBeUndefined();
        continue;
      }
      if (h === undefined) continue;
      expect(info.arm64, name).toBe(Number(h));
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });
});

describe('errno', () => {
  it('maps names and numbers both ways', () => {
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(-13)).toBe('EACCES');
    expect(errnoName(9999)).toBe('E9999');
    expect(errnoMessage(1)).toBe('Operation not permitted');
    expect(errnoNumber('EWOULDBLOCK')).toBe(11);
    expect(errnoNumber('ENOTSUP')).toBe(95);
    expect(errnoNumber('NOPE')).toBeUndefined();
    expect(errno('EBUSY')).toBe(16);
    expect(() => errno('NOPE')).toThrow(/unknown errno/);
  });

  const headers = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'];
  it.skipIf(!headers.every((h) => existsSync(h)))('matches asm-generic/errno*.h (linux-libc-dev)', () => {
    const c = new Map<string, bigint>();
    for (const h of headers) for (const [k, v] of cNumbers(readFileSync(h, 'utf8'), 'E')) c.set(k, v);
    expect(c.size).toBeGreaterThan(120);
    for (const [name, n] of c) expect(errnoNumber(name), name).toBe(Number(n));
  });
});

describe('constants', () => {
  it('ORs flags as BigInt, above bit 31 too', () => {
    expect(orFlags(CLONE, 'CLONE_NEWPID', 'CLONE_INTO_CGROUP')).toBe(0x220000000n);
    expect(orFlags(CLONE, 'CLONE_NEWNS', 'CLONE_IO')).toBe(0x80020000n);
    expect(orFlags(CONSTANT_TABLES.AT, 'AT_FDCWD')).toBe(-100n);
    expect(flagNames(MS, 6)).toEqual(['MS_NOSUID', 'MS_NODEV']);
    expect(flagNames(MS, 0x10000002)).toEqual(['MS_NOSUID', '0x10000000']);
  });

  it('names signals as kill -l does', () => {
    expect(signals().SIGKILL).toBe(9);
    expect(signals()['SIGRTMIN+1']).toBe(35);
    expect(signals()['SIGRTMIN+15']).toBe(49);
    expect(signals()['SIGRTMAX-14']).toBe(50);
    expect(signals()['SIGRTMAX-1']).toBe(63);
    expect(signalName(6)).toBe('SIGABRT');
    expect(signalName(29)).toBe('SIGIO');
    expect(signalName(99)).toBeUndefined();
  });

  it('builds ioprio values', () => {
    expect(ioprioValue(2, 4)).toBe(0x4004);
  });

  it('knows the aarch64 open flags that differ', () => {
    expect(O_BY_ARCH.arm64.O_DIRECTORY).toBe(0o40000);
    expect(O_BY_ARCH.x64.O_DIRECTORY).toBe(0o200000);
    expect(O_BY_ARCH.arm64.O_CLOEXEC).toBe(O_BY_ARCH.x64.O_CLOEXEC);
  });

  const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';

  // Names no system header exports (kernel-internal, or in a header that clashes with glibc's).
  const NOT_IN_HEADERS = new Set([
    'SCHED_ATTR_SIZE_VER0', // linux/sched/types.h, which redefines glibc's struct sched_param
    'SCHED_ATTR_SIZE_VER1',
    'PER_QUERY', // personality(0xffffffff): kernel/exec_domain.c, no header
    // Newer than Debian 12's headers (linux 6.1, glibc 2.36).
    'MOVE_MOUNT_BENEATH', // linux 6.5
    'ST_NOSYMFOLLOW', // glibc 2.37
    'MPOL_WEIGHTED_INTERLEAVE', // linux 6.9
  ]);
  // Values the C library defines differently on purpose.
  const DIFFERENT = new Set([
    'O_LARGEFILE', // glibc defines it 0 on LP64 (the kernel forces it there); the table has the kernel's bit
  ]);
  // Names whose C spelling differs.
  const C_EXPR: Record<string, string> = {
    OPEN_HOW_SIZE_VER0: 'sizeof(struct open_how)',
    LINUX_CAPABILITY_VERSION_1: '_LINUX_CAPABILITY_VERSION_1',
    LINUX_CAPABILITY_VERSION_2: '_LINUX_CAPABILITY_VERSION_2',
    LINUX_CAPABILITY_VERSION_3: '_LINUX_CAPABILITY_VERSION_3',
    LINUX_CAPABILITY_U32S_3: '_LINUX_CAPABILITY_U32S_3',
  };

  it.skipIf(!cc || process.platform !== 'linux')(`match the system headers (compiled with ${cc ?? 'no C compiler'})`, () => {
    const tables = { ...CONSTANT_TABLES, O: O_BY_ARCH[arch] } as Record<string, Record<string, number | bigint>>;
    const names = new Map<string, bigint>();
    for (const [table, values] of Object.entries(tables)) {
      for (const [name, v] of Object.entries(values)) {
        // Sizes and values the headers spell differently are checked by name elsewhere.
        if (table === 'IOPRIO' && name === 'IOPRIO_CLASS_SHIFT') continue;
        names.set(name, BigInt(v));
      }
    }
    const includes = [
      'sched.h',
      'linux/sched.h',
      'sys/mount.h',
      'sys/statvfs.h',
      'fcntl.h',
      'linux/openat2.h',
      'linux/close_range.h',
      'sys/prctl.h',
      'linux/seccomp.h',
      'linux/audit.h',
      'sys/stat.h',
      'signal.h',
      'sys/resource.h',
      'linux/ioprio.h',
      'sys/personality.h',
      'linux/mempolicy.h',
      'linux/keyctl.h',
      'linux/capability.h',
      'sys/file.h',
      'sys/socket.h',
      'poll.h',
      'spawn.h',
      'sys/mman.h',
      'sys/wait.h',
      'sys/pidfd.h',
      'sys/ioctl.h',
      'linux/bpf.h',
      'stdio.h',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-consts-'));
    try {
      let pending = [...names.keys()];
      const dropped: string[] = [];
      let out = '';
      for (let attempt = 0; attempt < 10; attempt++) {
        const src =
          '#define _GNU_SOURCE\n' +
          includes.map((h) => `#include <${h}>\n`).join('') +
          'int main(void) {\n' +
          pending.map((n) => `  printf("%s %lld\\n", "${n}", (long long)(${C_EXPR[n] ?? n}));\n`).join('') +
          '  return 0;\n}\n';
        writeFileSync(join(dir, 'c.c'), src);
        const r = spawnSync(cc as string, ['-w', '-o', join(dir, 'c'), join(dir, 'c.c')], { encoding: 'utf8' });
        if (r.status === 0) {
          out = spawnSync(join(dir, 'c'), { encoding: 'utf8' }).stdout;
          break;
        }
        const missing = new Set([...r.stderr.matchAll(/[‘'`](\w+)[’'`] undeclared/g)].map((m) => m[1] as string));
        expect(missing.size, `compile errors other than undeclared names:\n${r.stderr.slice(0, 2000)}`).toBeGreaterThan(0);
        dropped.push(...missing);
        pending = pending.filter((n) => !missing.has(n));
      }
      expect(out).not.toBe('');
      expect(dropped.filter((n) => !NOT_IN_HEADERS.has(n)), 'constants the headers lack').toEqual([]);
      let compared = 0;
      for (const line of out.trim().split('\n')) {
        const [name, value] = line.split(' ') as [string, string];
        if (DIFFERENT.has(name)) continue;
        const c = BigInt(value);
        const ts = names.get(name) as bigint;
        // A C int enum holds 1 << 31 as a negative number.
        const same = c === ts || (c < 0n && c >= -(1n << 31n) && BigInt.asUintN(32, c) === ts);
        expect(same, `${name}: C ${c}, TypeScript ${ts}`).toBe(true);
        compared++;
      }
      expect(compared).toBeGreaterThan(300);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
