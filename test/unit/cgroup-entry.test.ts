import { describe, expect, it } from 'vitest';
import { ProgramBuilder } from '../../native/program.js';
import { kernelAtLeast, planCgroupEntry } from '../../src/plan/cgroup-entry.js';

function plan(entry: Parameters<typeof planCgroupEntry>[1]): string[] {
  const b = new ProgramBuilder();
  planCgroupEntry(b, entry, b.reg());
  return b.describe();
}

describe('planCgroupEntry', () => {
  it('is born in the cgroup with CLONE_INTO_CGROUP where the kernel has it: open, fork, close in the child', () => {
    const ops = plan({ dir: '/sys/fs/cgroup/c1', cloneInto: true });
    expect(ops).toHaveLength(3);
    const dirFlags = new ProgramBuilder().O;
    const open = `0x${(dirFlags.O_RDONLY | dirFlags.O_DIRECTORY | dirFlags.O_CLOEXEC).toString(16)}`;
    expect(ops[0]).toContain(`r0 = openat(AT_FDCWD, "/sys/fs/cgroup/c1", ${open}, 0)`);
    expect(ops[1]).toContain('fork(0, cgroup=<r0>)');
    expect(ops[2]).toContain('close(<r0>)');
    expect(ops.join('\n')).not.toMatch(/sync/);
  });

  it('waits at SYNC.CGROUP for tsrun to move it on older kernels', () => {
    const ops = plan({ dir: '/sys/fs/cgroup/c1', cloneInto: false });
    expect(ops).toHaveLength(1);
    expect(ops[0]).toContain('sync(code=1, 0)');
  });

  it('plans nothing without a cgroup', () => {
    expect(plan(undefined)).toEqual([]);
  });
});

describe('kernelAtLeast', () => {
  it('compares major.minor of a release string', () => {
    expect(kernelAtLeast('5.7.0', 5, 7)).toBe(true);
    expect(kernelAtLeast('5.6.19-generic', 5, 7)).toBe(false);
    expect(kernelAtLeast('6.1.0-18-amd64', 5, 7)).toBe(true);
    expect(kernelAtLeast('4.19.0', 5, 7)).toBe(false);
    expect(kernelAtLeast('5.10', 5, 7)).toBe(true);
    expect(kernelAtLeast('garbage', 5, 7)).toBe(false);
  });
});
