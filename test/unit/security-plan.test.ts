// The plan of the process's confinement and scheduling, as data: where the
// seccomp filter is loaded (three points, by no_new_privs and listener), the
// listener hand-over sync, LSM label writes before no_new_privs, sched_setattr,
// set_mempolicy and sched_setaffinity arguments. No root, no libseccomp.
import { describe, expect, it } from 'vitest';
import { SECCOMP } from '../../native/constants.js';
import { ProgramBuilder } from '../../native/program.js';
import { allocateRegisters, type PlanContext } from '../../src/plan/context.js';
import { buildContainerProgram } from '../../src/plan/container.js';
import type { LsmProbe } from '../../src/plan/lsm.js';
import { parseIdList, planCpuAffinity, schedAttr } from '../../src/plan/scheduling.js';
import { ruleConditionSets, seccompActionValue, seccompLoadFlags, seccompLoadPoint, type CompiledSeccomp } from '../../src/plan/seccomp.js';
import { SYNC } from '../../src/plan/sync.js';
import type { Process, Spec } from '../../src/spec/types.js';

function spec(process: Partial<Process> = {}, linux: Spec['linux'] = { namespaces: [{ type: 'mount' }] }): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { user: { uid: 1000, gid: 100 }, args: ['/bin/sh'], env: ['PATH=/bin'], cwd: '/', noNewPrivileges: true, ...process },
    linux,
  };
}

// Four fake instructions: the plan never looks inside.
const FILTER: CompiledSeccomp = { bpf: new Uint8Array(32), flags: 0, listener: false };
const WITH_LISTENER: CompiledSeccomp = { bpf: new Uint8Array(32), flags: SECCOMP.SECCOMP_FILTER_FLAG_NEW_LISTENER, listener: true };

function ops(s: Spec, seccomp?: CompiledSeccomp, lsm?: LsmProbe): string[] {
  return buildContainerProgram({
    spec: s,
    bundle: '/b',
    rootfs: '/b/rootfs',
    execFifo: '/run/c/exec.fifo',
    env: ['PATH=/bin'],
    noPivot: false,
    preserveFds: 0,
    host: { lastCap: 40, ...(lsm ? { lsm } : {}), sourceKind: () => 'dir', mountPointOf: () => '/', resolveInRootfs: (_r: string, p: string) => p, hostHasKcore: false },
    seccomp,
  }).builder.describe();
}

const at = (o: string[], re: RegExp): number => o.findIndex((l) => re.test(l));
const LOAD = /seccomp\(SECCOMP_SET_MODE_FILTER/;

describe('where the seccomp filter is loaded', () => {
  it('no_new_privs, no listener: after the exec fifo and close_range, right before execve', () => {
    const o = ops(spec(), FILTER);
    const load = at(o, LOAD);
    expect(load).toBeGreaterThan(at(o, /wait for start on the exec fifo/));
    expect(load).toBeGreaterThan(at(o, /close_range/));
    expect(load).toBe(at(o, /execve\(/) - 1);
    expect(o[load]).toMatch(/seccomp\(SECCOMP_SET_MODE_FILTER, 0, \{len=4, filter=<bpf 4 insns>\}\)  # load the seccomp filter \(4 instructions\)/);
    expect(o.filter((l) => LOAD.test(l))).toHaveLength(1);
  });

  it('no_new_privs with a listener: before the "created" sync, then the fd goes to tsrun on its own sync and is closed', () => {
    const o = ops(spec(), WITH_LISTENER);
    const load = at(o, LOAD);
    const created = at(o, new RegExp(`sync\\(code=${SYNC.CREATED}`));
    expect(load).toBeGreaterThan(at(o, /faccessat2/)); // after the executable check
    expect(at(o, /faccessat2/)).toBeGreaterThan(0);
    expect(load).toBeLessThan(created);
    expect(o[load]).toMatch(/^\d+ r(\d+) = seccomp\(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, /);
    const reg = /r(\d+) = seccomp/.exec(o[load] ?? '')?.[1];
    expect(o[load + 1]).toBe(`${load + 1} sync(code=${SYNC.SECCOMP_LISTENER}, <r${reg}>, +fd)  # hand the seccomp notify fd to tsrun`);
    expect(o[load + 2]).toMatch(new RegExp(`close\\(<r${reg}>\\)  # close the seccomp notify fd`));
  });

  it('without no_new_privs: while the process still has CAP_SYS_ADMIN, before the bounding set, user and capabilities change', () => {
    for (const c of [FILTER, WITH_LISTENER]) {
      const o = ops(spec({ noNewPrivileges: false }), c);
      const load = at(o, LOAD);
      expect(load).toBeGreaterThan(0);
      expect(load).toBeLessThan(at(o, /PR_CAPBSET_DROP/));
      expect(load).toBeLessThan(at(o, /setresuid/));
      expect(load).toBeLessThan(at(o, /capset/));
      expect(at(o, /PR_SET_NO_NEW_PRIVS/)).toBe(-1);
      expect(o.filter((l) => LOAD.test(l))).toHaveLength(1);
      if (c.listener) expect(o[load + 1]).toMatch(new RegExp(`sync\\(code=${SYNC.SECCOMP_LISTENER}, .*\\+fd\\)`));
    }
    expect(seccompLoadPoint(spec({ noNewPrivileges: false }), FILTER)).toBe('privileged');
    expect(seccompLoadPoint(spec(), WITH_LISTENER)).toBe('before-last-sync');
    expect(seccompLoadPoint(spec(), FILTER)).toBe('before-execve');
  });

  it('no filter, no seccomp op', () => {
    expect(at(ops(spec()), LOAD)).toBe(-1);
  });
});

describe('seccomp translation (pure)', () => {
  it('actions to SECCOMP_RET_* with their data', () => {
    expect(seccompActionValue('SCMP_ACT_ERRNO', undefined, '/x')).toBe(0x50001);
    expect(seccompActionValue('SCMP_ACT_ERRNO', 38, '/x')).toBe(0x50026);
    expect(seccompActionValue('SCMP_ACT_TRACE', undefined, '/x')).toBe(0x7ff00001);
    expect(seccompActionValue('SCMP_ACT_KILL', undefined, '/x')).toBe(0);
    expect(seccompActionValue('SCMP_ACT_KILL_PROCESS', undefined, '/x')).toBe(0x80000000);
    expect(seccompActionValue('SCMP_ACT_NOTIFY', undefined, '/x')).toBe(0x7fc00000);
    expect(() => seccompActionValue('SCMP_ACT_ERRNO', 65536, '/linux/seccomp/syscalls/0/action')).toThrow(/\/linux\/seccomp\/syscalls\/0\/action: errno 65536/);
  });

  it('conditions: one rule when every argument is tested once, one rule per condition otherwise (runc)', () => {
    const one = ruleConditionSets({ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 2, valueTwo: 3, op: 'SCMP_CMP_MASKED_EQ' }] }, '/r');
    expect(one).toEqual([[{ arg: 0, op: 4, datumA: 1n, datumB: 0n }, { arg: 1, op: 7, datumA: 2n, datumB: 3n }]]);
    const split = ruleConditionSets({ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 2, op: 'SCMP_CMP_EQ' }] }, '/r');
    expect(split).toHaveLength(2);
    expect(ruleConditionSets({ names: ['x'], action: 'SCMP_ACT_ERRNO' }, '/r')).toEqual([[]]);
    // a negative value is the two's complement u64 the kernel compares
    expect(ruleConditionSets({ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }, '/r')[0]?.[0]?.datumA).toBe(2n ** 64n - 1n);
  });

  it('load flags', () => {
    const all = { defaultAction: 'SCMP_ACT_ALLOW' as const, flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] as const };
    expect(seccompLoadFlags({ ...all, flags: [...all.flags] }, false)).toEqual({
      flags: SECCOMP.SECCOMP_FILTER_FLAG_LOG | SECCOMP.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
      ignored: [
        { flag: 'SECCOMP_FILTER_FLAG_TSYNC', why: expect.any(String) },
        { flag: 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', why: 'no rule uses SCMP_ACT_NOTIFY' },
      ],
    });
    expect(seccompLoadFlags({ ...all, flags: [...all.flags] }, true).flags).toBe(0x8 | 0x2 | 0x4 | 0x20);
  });
});

describe('LSM exec labels', () => {
  const apparmor: LsmProbe = { apparmor: { execAttr: 'apparmor/exec' }, selinux: false };
  it('writes the AppArmor profile to its exec attribute, before no_new_privs', () => {
    const o = ops(spec({ apparmorProfile: 'docker-default' }), undefined, apparmor);
    const w = at(o, /write\(.*"exec docker-default"/);
    expect(o[w]).toMatch(/# set the AppArmor exec profile docker-default/);
    expect(o[w - 1]).toMatch(/openat\(AT_FDCWD, "\/proc\/self\/attr\/apparmor\/exec"/);
    expect(w).toBeLessThan(at(o, /PR_SET_NO_NEW_PRIVS/));
    expect(ops(spec({ apparmorProfile: 'p' }), undefined, { apparmor: { execAttr: 'exec' }, selinux: false }).some((l) => l.includes('"/proc/self/attr/exec"'))).toBe(true);
  });
  it('writes the SELinux label to /proc/thread-self/attr/exec', () => {
    const o = ops(spec({ selinuxLabel: 'system_u:system_r:container_t:s0' }), undefined, { selinux: true });
    expect(o[at(o, /write\(.*"system_u:system_r:container_t:s0"/) - 1]).toMatch(/"\/proc\/thread-self\/attr\/exec"/);
  });
  it('refuses a label of an LSM the host does not run, naming the field', () => {
    expect(() => ops(spec({ apparmorProfile: 'p' }), undefined, { selinux: true })).toThrow(/\/process\/apparmorProfile: AppArmor profile "p" is set but AppArmor is not enabled/);
    expect(() => ops(spec({ selinuxLabel: 'l' }), undefined, apparmor)).toThrow(/\/process\/selinuxLabel: SELinux label "l" is set but SELinux is not enabled/);
    // no probe (a command that does not pass one): not "disabled", just not supported there
    expect(() => ops(spec({ selinuxLabel: 'l' }))).toThrow(/\/process\/selinuxLabel: SELinux labels are not supported for this process yet/);
    expect(() => ops(spec({ apparmorProfile: 'p' }))).toThrow(/\/process\/apparmorProfile: AppArmor profiles are not supported for this process yet/);
  });
});

describe('scheduler, memory policy, CPU affinity', () => {
  it('sched_setattr with struct sched_attr (VER1), before the user change', () => {
    const o = ops(spec({ scheduler: { policy: 'SCHED_RR', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] } }));
    const i = at(o, /sched_setattr/);
    expect(o[i]).toMatch(/sched_setattr\(0, \{SCHED_RR, priority=10, SCHED_FLAG_RESET_ON_FORK\}, 0\)  # set the scheduler policy SCHED_RR/);
    expect(i).toBeLessThan(at(o, /setresuid/));
    const a = new DataView(schedAttr({ policy: 'SCHED_DEADLINE', runtime: 1000, deadline: 2000, period: 3000, nice: -3 }).buffer);
    expect([a.getUint32(0, true), a.getUint32(4, true), a.getInt32(16, true), a.getBigUint64(24, true), a.getBigUint64(32, true), a.getBigUint64(40, true)]).toEqual([56, 6, -3, 1000n, 2000n, 3000n]);
    expect(() => schedAttr({ policy: 'SCHED_OTHER', flags: ['SCHED_BOGUS' as 'SCHED_FLAG_RECLAIM'] })).toThrow(/\/process\/scheduler\/flags\/0/);
  });

  it('set_mempolicy with a node mask (maxnode one more than its bits), or none', () => {
    const o = ops(spec({}, { namespaces: [{ type: 'mount' }], memoryPolicy: { mode: 'MPOL_INTERLEAVE', nodes: '0-1,65', flags: ['MPOL_F_STATIC_NODES'] } }));
    expect(o[at(o, /set_mempolicy/)]).toMatch(/set_mempolicy\(MPOL_INTERLEAVE\|MPOL_F_STATIC_NODES, \{0-1,65\}, 129\)/);
    const local = ops(spec({}, { namespaces: [{ type: 'mount' }], memoryPolicy: { mode: 'MPOL_LOCAL' } }));
    expect(local[at(local, /set_mempolicy/)]).toMatch(/set_mempolicy\(MPOL_LOCAL, NULL, 0\)/);
  });

  it('parses kernel lists, strides included', () => {
    expect(parseIdList('0-3,7', '/f')).toEqual([0, 1, 2, 3, 7]);
    expect(parseIdList('0-15:2/4', '/f')).toEqual([0, 1, 4, 5, 8, 9, 12, 13]);
    expect(parseIdList(' 3 , 1,1', '/f')).toEqual([1, 3]);
    expect(parseIdList('', '/f')).toEqual([]);
    expect(() => parseIdList('3-1', '/f')).toThrow(/\/f: invalid range/);
    expect(() => parseIdList('x', '/f')).toThrow(/\/f: invalid list item/);
  });

  it('execCPUAffinity as sched_setaffinity of a cpu_set_t (for exec processes)', () => {
    const b = new ProgramBuilder('x64');
    const ctx: PlanContext = { b, regs: allocateRegisters(b), spec: spec(), bundle: '', rootfs: '', noPivot: false, userNamespace: false, newMountNamespace: false };
    planCpuAffinity(ctx, { initial: '0-1', final: '1' }, 'initial');
    planCpuAffinity(ctx, { initial: '0-1' }, 'final');
    expect(b.describe()).toEqual(['0 sched_setaffinity(0, 128, {0-1})  # set the initial CPU affinity 0-1']);
  });
});
