import { describe, expect, it } from 'vitest';
import { ProgramBuilder } from '../../native/program.js';
import { decideNamespaces, planNamespaces } from '../../src/plan/namespaces.js';
import type { Spec } from '../../src/spec/types.js';

function plan(spec: Spec): string[] {
  const b = new ProgramBuilder('x64');
  planNamespaces(b, spec, decideNamespaces(spec), b.reg());
  return b.describe();
}

const base: Spec = { ociVersion: '1.3.0', root: { path: 'rootfs' } };

describe('namespaces plan', () => {
  it('always creates a mount namespace and always forks', () => {
    const d = decideNamespaces(base);
    expect(d.create).toEqual(['mount']);
    expect(d.needsFork).toBe(true);
    const ops = plan(base);
    expect(ops.some((l) => l.includes('unshare(CLONE_NEWNS)'))).toBe(true);
    expect(ops.at(-1)).toMatch(/fork/);
  });

  it('creates new namespaces in one unshare after the user namespace and its id-map sync', () => {
    const ops = plan({
      ...base,
      linux: { namespaces: [{ type: 'pid' }, { type: 'user' }, { type: 'network' }, { type: 'mount' }, { type: 'cgroup' }] },
    });
    const user = ops.findIndex((l) => l.includes('unshare(CLONE_NEWUSER)'));
    const sync = ops.findIndex((l) => l.includes('sync(code=2'));
    const rest = ops.findIndex((l) => /unshare\(.*CLONE_NEWPID/.test(l));
    expect(user).toBeGreaterThanOrEqual(0);
    expect(sync).toBe(user + 1);
    expect(rest).toBeGreaterThan(sync);
    expect(ops[rest]).toMatch(/CLONE_NEWNET/);
    expect(ops[rest]).toMatch(/CLONE_NEWCGROUP/);
    expect(ops[rest]).not.toMatch(/CLONE_NEWUSER/);
  });

  it('opens every joined path before joining any, and joins the user namespace first', () => {
    const ops = plan({
      ...base,
      linux: {
        namespaces: [
          { type: 'network', path: '/proc/1/ns/net' },
          { type: 'user', path: '/proc/1/ns/user' },
          { type: 'ipc' },
        ],
      },
    });
    const opens = ops.map((l, i) => (l.includes('openat') ? i : -1)).filter((i) => i >= 0);
    const setns = ops.map((l, i) => (l.includes('setns') ? i : -1)).filter((i) => i >= 0);
    expect(opens).toHaveLength(2);
    expect(setns).toHaveLength(2);
    expect(Math.max(...opens)).toBeLessThan(Math.min(...setns));
    expect(ops[setns[0] as number]).toMatch(/CLONE_NEWUSER/);
    expect(ops[setns[1] as number]).toMatch(/CLONE_NEWNET/);
    // Joined namespaces are not unshared; the missing mount namespace and ipc are.
    expect(ops.find((l) => l.includes('unshare'))).toMatch(/unshare\(CLONE_NEWIPC\|CLONE_NEWNS\)/);
  });

  it('writes time namespace offsets after unsharing it and before the fork', () => {
    const ops = plan({ ...base, linux: { namespaces: [{ type: 'time' }], timeOffsets: { monotonic: { secs: 10, nanosecs: 5 } } } });
    const write = ops.findIndex((l) => l.includes('"monotonic 10 5\\n"'));
    expect(write).toBeGreaterThan(ops.findIndex((l) => l.includes('CLONE_NEWTIME')));
    expect(write).toBeLessThan(ops.findIndex((l) => l.includes('fork')));
  });
});
