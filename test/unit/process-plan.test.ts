// The process planner as data: user, capabilities, rlimits, the PATH lookup,
// execve. No root needed.
import { describe, expect, it } from 'vitest';
import { buildContainerProgram } from '../../src/plan/container.js';
import { executableCandidates, processEnv, refuseUnsupportedProcessFields, sysctlPath } from '../../src/plan/process.js';
import type { Process, Spec } from '../../src/spec/types.js';

function spec(process: Partial<Process> = {}, linux: Spec['linux'] = { namespaces: [{ type: 'mount' }] }): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { user: { uid: 1000, gid: 100, additionalGids: [5, 6] }, args: ['sh', '-c', 'true'], env: ['PATH=/usr/bin:/bin'], cwd: '/', ...process },
    linux,
  };
}

function ops(s: Spec, preserveFds = 0): string[] {
  return buildContainerProgram({
    spec: s,
    bundle: '/b',
    rootfs: '/b/rootfs',
    execFifo: '/run/c/exec.fifo',
    env: ['PATH=/usr/bin:/bin', 'HOME=/'],
    noPivot: false,
    preserveFds,
    host: { lastCap: 40, sourceKind: () => 'dir', mountPointOf: () => '/', resolveInRootfs: (_r: string, p: string) => p, selinuxEnabled: false, hostHasKcore: false },
  }).builder.describe();
}

describe('process environment and executable', () => {
  it('adds HOME from the image when the env has none', () => {
    expect(processEnv(['PATH=/bin'], '/home/u')).toEqual(['PATH=/bin', 'HOME=/home/u']);
    expect(processEnv(['PATH=/bin'], undefined)).toEqual(['PATH=/bin', 'HOME=/']);
    expect(processEnv(['HOME=/x'], '/home/u')).toEqual(['HOME=/x']);
  });

  it('looks args[0] up in the process PATH (the last PATH wins, an empty entry is the cwd)', () => {
    expect(executableCandidates('sh', ['PATH=/a', 'PATH=/usr/bin::/bin/'])).toEqual(['/usr/bin/sh', 'sh', '/bin/sh']);
    expect(executableCandidates('./run.sh', ['PATH=/bin'])).toEqual(['./run.sh']);
    expect(executableCandidates('sh', [])).toEqual([]);
  });

  it('checks the executable before "created", and tries execve in PATH order after the fifo', () => {
    const o = ops(spec());
    const created = o.findIndex((l) => l.includes('code=4'));
    const check = o.findIndex((l) => l.includes('exec: "sh": executable file not found in $PATH'));
    expect(check).toBeGreaterThan(0);
    expect(check).toBeLessThan(created);
    const execs = o.filter((l) => l.includes('execve('));
    expect(execs[0]).toMatch(/execve\("\/usr\/bin\/sh", \["sh", "-c", "true"\], \["PATH=\/usr\/bin:\/bin", "HOME=\/"\]\) \[ok: ENOENT, ENOTDIR, EACCES, ELOOP\]/);
    expect(execs[1]).toMatch(/execve\("\/bin\/sh",.*\)  # exec \/bin\/sh$/);
  });

  it('marks every fd after the preserved ones close-on-exec', () => {
    expect(ops(spec(), 2).some((l) => /close_range\(5, ~0U, CLOSE_RANGE_CLOEXEC\)/.test(l))).toBe(true);
  });
});

describe('sysctl', () => {
  it('maps keys to /proc/sys paths, "/" standing for a "." inside a component', () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('net/ipv4/ip_forward');
    expect(sysctlPath('net.ipv4.conf.eno2/100.rp_filter')).toBe('net/ipv4/conf/eno2.100/rp_filter');
    expect(sysctlPath('net/ipv4/conf/eno2.100/rp_filter')).toBe('net/ipv4/conf/eno2.100/rp_filter');
  });
});

describe('user and capabilities', () => {
  it('drops the bounding set, changes user keeping capabilities, then sets the exact sets', () => {
    const o = ops(spec({ capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: [], ambient: ['CAP_KILL'] } }));
    const at = (re: RegExp): number => o.findIndex((l) => re.test(l));
    expect(o.filter((l) => l.includes('PR_CAPBSET_DROP'))).toHaveLength(40);
    expect(o.some((l) => /PR_CAPBSET_DROP, CAP_KILL/.test(l))).toBe(false);
    const order = [at(/PR_CAPBSET_DROP/), at(/PR_SET_KEEPCAPS, 1/), at(/setgroups\(2, \[5, 6\]\)/), at(/setresgid\(100, 100, 100\)/), at(/setresuid\(1000, 1000, 1000\)/), at(/PR_SET_KEEPCAPS, 0/), at(/capset/), at(/PR_CAP_AMBIENT_RAISE, CAP_KILL/)];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(o[at(/capset/)]).toContain('{eff=0x20, prm=0x21, inh=0x0}');
  });

  it('skips capabilities the running kernel does not have', () => {
    const o = buildContainerProgram({
      spec: spec({ capabilities: { bounding: ['CAP_KILL', 'CAP_CHECKPOINT_RESTORE'], permitted: ['CAP_CHECKPOINT_RESTORE'] } }),
      bundle: '/b',
      rootfs: '/b/rootfs',
      execFifo: '/f',
      env: [],
      noPivot: false,
      preserveFds: 0,
      host: { lastCap: 37, sourceKind: () => 'dir', mountPointOf: () => '/', resolveInRootfs: (_r: string, p: string) => p, selinuxEnabled: false, hostHasKcore: false },
    }).builder.describe();
    expect(o.filter((l) => l.includes('PR_CAPBSET_DROP'))).toHaveLength(37);
    expect(o.find((l) => l.includes('capset'))).toContain('prm=0x0');
  });

  it('sets rlimits, no_new_privs, oom_score_adj, umask and cwd', () => {
    const o = ops(spec({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }], noNewPrivileges: true, oomScoreAdj: 100, user: { uid: 0, gid: 0, umask: 0o077 }, cwd: '/srv' }));
    expect(o.some((l) => /prlimit64\(0, RLIMIT_NOFILE, \{cur=1024, max=4096\}, NULL\)/.test(l))).toBe(true);
    expect(o.some((l) => /prctl\(PR_SET_NO_NEW_PRIVS, 1/.test(l))).toBe(true);
    expect(o.some((l) => /write\(.*"100"/.test(l))).toBe(true);
    expect(o.some((l) => /umask\(077\)/.test(l))).toBe(true);
    expect(o.some((l) => /chdir\("\/srv"\)/.test(l))).toBe(true);
  });

  it('refuses an unknown rlimit, naming it', () => {
    expect(() => ops(spec({ rlimits: [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }] }))).toThrow(/\/process\/rlimits\/0\/type/);
  });

  it('refuses process fields not implemented yet, naming the field', () => {
    expect(() => refuseUnsupportedProcessFields(spec({}, { intelRdt: { closID: 'x' } }))).toThrow(/\/linux\/intelRdt/);
    expect(() => refuseUnsupportedProcessFields(spec({ execCPUAffinity: { initial: '0' } }, { seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } }))).not.toThrow();
    expect(() => refuseUnsupportedProcessFields(spec({ apparmorProfile: 'x', selinuxLabel: 'y', scheduler: { policy: 'SCHED_BATCH' } }, { memoryPolicy: { mode: 'MPOL_LOCAL' } }))).not.toThrow();
    expect(() => refuseUnsupportedProcessFields(spec())).not.toThrow();
  });
});
