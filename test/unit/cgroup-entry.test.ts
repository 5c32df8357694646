import { describe, expect, it } from 'vitest';
import { ProgramBuilder } from '../../native/program.js';
import { planCgroupEntry } from '../../src/plan/cgroup-entry.js';

function plan(dir: string | undefined): string[] {
  const b = new ProgramBuilder();
  planCgroupEntry(b, dir, b.reg());
  return b.describe();
}

describe('planCgroupEntry', () => {
  it('is born in the cgroup with CLONE_INTO_CGROUP: open, fork, close in the child', () => {
    const ops = plan('/sys/fs/cgroup/c1');
    expect(ops).toHaveLength(3);
    const dirFlags = new ProgramBuilder().O;
    const open = `0x${(dirFlags.O_RDONLY | dirFlags.O_DIRECTORY | dirFlags.O_CLOEXEC).toString(16)}`;
    expect(ops[0]).toContain(`r0 = openat(AT_FDCWD, "/sys/fs/cgroup/c1", ${open}, 0)`);
    expect(ops[1]).toContain('fork(0, cgroup=<r0>)');
    expect(ops[2]).toContain('close(<r0>)');
    expect(ops.join('\n')).not.toMatch(/sync/);
  });

  it('plans nothing without a cgroup', () => {
    expect(plan(undefined)).toEqual([]);
  });
});
