// The process's confinement and scheduling from inside real containers
// (root, busybox-static): seccomp (errno, kill, argument conditions, default
// errno, NOTIFY with an agent, without libseccomp), capability sets exactly as
// configured (empty and full), oom_score_adj, I/O priority, scheduler policy,
// memory policy, and LSM labels refused where the host has no such LSM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCHED } from '../../native/constants.js';
import { libseccompAvailable } from '../../native/seccomp.js';
import { CAPABILITY_NAMES } from '../../src/capabilities.js';
import type { LinuxSeccomp, Spec } from '../../src/spec/types.js';
import type { Bundle } from '../helpers/bundle.js';
import { hasBusybox, isRoot, makeBundle, minimalSpec, TSRUN, tsrun, tsrunToFiles } from '../helpers/bundle.js';

const CGROUP_MOUNT = '/sys/fs/cgroup/unified';
const made: { bundle: Bundle; id: string }[] = [];
const cc = ['cc', 'gcc'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
const FIXTURES = join(import.meta.dirname, '../fixtures');
let tools = '';

function bundleFor(spec: Spec, id: string): Bundle {
  const bundle = makeBundle(spec);
  made.push({ bundle, id });
  return bundle;
}

function run(spec: Spec, id: string): { status: number | null; stdout: string; stderr: string } {
  return tsrun(bundleFor(spec, id), ['run', id]);
}

function script(text: string, patch: (s: ReturnType<typeof minimalSpec>) => void = () => {}): Spec {
  const s = minimalSpec(['sh', '-c', text]);
  patch(s);
  return s;
}

function withSeccomp(text: string, seccomp: LinuxSeccomp, patch: (s: ReturnType<typeof minimalSpec>) => void = () => {}): Spec {
  return script(text, (s) => {
    s.linux = { ...s.linux, seccomp };
    patch(s);
  });
}

/** /proc/self/status fields of the container process. */
function statusOf(out: string): Record<string, string> {
  return Object.fromEntries(
    out
      .split('\n')
      .map((l) => /^(\w+):\s*(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] as string, (m[2] as string).trim()]),
  );
}

function compile(source: string, out: string, isStatic: boolean): void {
  const r = spawnSync(cc as string, [...(isStatic ? ['-static'] : []), '-O2', '-o', out, join(FIXTURES, source)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot compile ${source}: ${r.stderr}`);
}

afterEach(() => {
  for (const { bundle, id } of made.splice(0)) tsrun(bundle, ['delete', '--force', id]);
});

describe.skipIf(!isRoot || !hasBusybox)('process attributes (root, busybox-static)', () => {
  beforeAll(() => {
    tools = mkdtempSync(join(tmpdir(), 'tsrun-tools-'));
    if (cc) {
      compile('seccomp-agent.c', join(tools, 'seccomp-agent'), false);
      compile('show-mempolicy.c', join(tools, 'show-mempolicy'), true);
    }
  });
  afterAll(() => rmSync(tools, { recursive: true, force: true }));

  describe.skipIf(!libseccompAvailable())('seccomp', () => {
    const MKDIR = 'mkdir /tmp/d 2>&1 && echo mkdir-ok; echo after';

    it('an ERRNO rule fails the syscall with EPERM (no_new_privs: loaded right before execve)', () => {
      const r = run(withSeccomp(`${MKDIR}; grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs):" /proc/self/status`, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }), 'sc-errno');
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/Operation not permitted/);
      expect(r.stdout).not.toMatch(/mkdir-ok/);
      const st = statusOf(r.stdout);
      expect(st).toMatchObject({ Seccomp: '2', Seccomp_filters: '1', NoNewPrivs: '1' });
    });

    it('without no_new_privs the filter is loaded while the process still has CAP_SYS_ADMIN, and errnoRet is the errno', () => {
      const spec = withSeccomp(
        `${MKDIR}; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status`,
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 }] },
        (s) => {
          s.process = { ...(s.process as NonNullable<Spec['process']>), noNewPrivileges: false };
        },
      );
      const r = run(spec, 'sc-nonnp');
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/No space left on device/);
      expect(statusOf(r.stdout)).toMatchObject({ Seccomp: '2', NoNewPrivs: '0' });
    });

    it('a KILL rule kills the process that makes the call (SIGSYS)', () => {
      const r = run(withSeccomp('echo before; mkdir /tmp/d; echo "status=$?"; [ -d /tmp/d ] && echo created; exit 0', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL' }] }), 'sc-kill');
      expect(r.stdout).toMatch(/^before\n/);
      expect(r.stdout).toMatch(/status=159/);
      expect(r.stdout).not.toMatch(/created/);
    });

    it('a rule with an argument condition matches only those calls', () => {
      const r = run(
        withSeccomp('touch /tmp/f; chmod 700 /tmp/f && echo 700-ok; chmod 777 /tmp/f 2>&1 || echo 777-denied', {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [
            { names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0o777, op: 'SCMP_CMP_EQ' }] },
            { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 0o777, op: 'SCMP_CMP_EQ' }] },
          ],
        }),
        'sc-args',
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/700-ok/);
      expect(r.stdout).toMatch(/777-denied/);
    });

    it('the default action with defaultErrnoRet applies to every syscall no rule allows', () => {
      // What busybox sh, echo and mkdir need (x86_64 and aarch64 names; unknown ones are skipped), but not mkdir.
      const allow = [
        'execve', 'brk', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'mprotect', 'mmap', 'munmap', 'getpid', 'getppid',
        'getuid', 'geteuid', 'getgid', 'getegid', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'write', 'writev', 'read', 'exit_group', 'exit',
        'fcntl', 'dup2', 'dup3', 'close', 'ioctl', 'open', 'openat', 'stat', 'fstat', 'lstat', 'newfstatat', 'statx', 'getcwd', 'wait4', 'clone',
        'clone3', 'fork', 'vfork', 'umask', 'uname', 'gettid', 'futex', 'readlink', 'readlinkat',
      ];
      const r = run(withSeccomp('echo start; mkdir /tmp/d 2>&1; echo done', { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls: [{ names: allow, action: 'SCMP_ACT_ALLOW' }] }), 'sc-default');
      expect(r.stdout).toMatch(/^start\n/);
      expect(r.stdout).toMatch(/Function not implemented/);
      expect(r.stdout).toMatch(/done\n$/);
    });

    it.skipIf(!cc)('SCMP_ACT_NOTIFY: the agent at listenerPath gets the state and the fd, and answers the syscall', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsrun-agent-'));
      const sock = join(dir, 'agent.sock');
      const out = join(dir, 'state.json');
      const agent: ChildProcess = spawn(join(tools, 'seccomp-agent'), [sock, out], { stdio: ['ignore', 'ignore', 'pipe'] });
      let agentErr = '';
      agent.stderr?.on('data', (d: Buffer) => (agentErr += d.toString()));
      const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
      try {
        for (let i = 0; i < 200 && !existsSync(sock); i++) spawnSync('sleep', ['0.01']);
        expect(existsSync(sock)).toBe(true);
        const spec = withSeccomp('mkdir /tmp/d && echo mkdir-ok; [ -d /tmp/d ] && echo exists || echo absent', {
          defaultAction: 'SCMP_ACT_ALLOW',
          listenerPath: sock,
          listenerMetadata: 'meta-data',
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
        });
        const b = bundleFor(spec, 'sc-notify');
        const r = tsrun(b, ['run', 'sc-notify']);
        expect(r.stderr).toBe('');
        // The agent answered "success" without running mkdir.
        expect(r.stdout).toBe('mkdir-ok\nabsent\n');
        expect(r.status).toBe(0);
        const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 5000))]);
        expect(agentErr).toBe('');
        expect(code).toBe(0);
        const state = JSON.parse(readFileSync(out, 'utf8')) as { ociVersion: string; fds: string[]; pid: number; metadata: string; state: { id: string; status: string; pid: number; bundle: string } };
        expect(state.fds).toEqual(['seccompFd']);
        expect(state.metadata).toBe('meta-data');
        expect(state.ociVersion).toMatch(/^1\.\d+\.\d+$/);
        expect(state.state).toMatchObject({ id: 'sc-notify', status: 'creating', bundle: b.dir });
        expect(state.pid).toBe(state.state.pid);
        expect(state.pid).toBeGreaterThan(0);
        expect(readFileSync(`${out}.calls`, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(1);
      } finally {
        agent.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a listener that is not there fails create, leaving nothing behind', () => {
      const spec = withSeccomp('true', { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/nonexistent/agent.sock', syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_NOTIFY' }] });
      const b = bundleFor(spec, 'sc-noagent');
      const r = tsrunToFiles(b, ['create', 'sc-noagent']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/seccomp: cannot connect to the listener \/nonexistent\/agent.sock: ENOENT/);
      expect(readdirSync(b.root)).toEqual([]);
      expect(existsSync(join(CGROUP_MOUNT, 'sc-noagent'))).toBe(false);
    });

    it('without libseccomp, only a config with seccomp fails, with a clear error and nothing left behind', () => {
      const env = { ...process.env, TSRUN_LIBSECCOMP: '/nonexistent/libseccomp.so.2' };
      const withIt = bundleFor(withSeccomp('true', { defaultAction: 'SCMP_ACT_ALLOW' }), 'sc-nolib');
      const r = spawnSync(process.execPath, [TSRUN, '--root', withIt.root, 'run', '--bundle', withIt.dir, 'sc-nolib'], { encoding: 'utf8', env });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/seccomp needs libseccomp, and \/nonexistent\/libseccomp.so.2 cannot be loaded .*install it/);
      expect(existsSync(withIt.root) ? readdirSync(withIt.root) : []).toEqual([]);
      const without = bundleFor(script('echo fine'), 'sc-nolib2');
      const ok = spawnSync(process.execPath, [TSRUN, '--root', without.root, 'run', '--bundle', without.dir, 'sc-nolib2'], { encoding: 'utf8', env });
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toBe('fine\n');
    });
  });

  describe('capabilities', () => {
    const host = statusOf(readFileSync('/proc/self/status', 'utf8'));
    const hostBounding = BigInt(`0x${host.CapBnd}`);
    const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    const caps = (mask: string | undefined): bigint => BigInt(`0x${mask ?? 'x'}`);

    it('an empty set in every one of the five sets', () => {
      const r = run(script('grep ^Cap /proc/self/status', (s) => {
        s.process = { ...(s.process as NonNullable<Spec['process']>), capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] } };
      }), 'caps-empty');
      expect(r.stderr).toBe('');
      const st = statusOf(r.stdout);
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(caps(st[set]), set).toBe(0n);
    });

    it('the full set (every capability this host can give) in every set, ambient included', () => {
      const all = CAPABILITY_NAMES.filter((_, n) => n <= lastCap && (hostBounding & (1n << BigInt(n))) !== 0n);
      const r = run(script('grep ^Cap /proc/self/status', (s) => {
        s.process = { ...(s.process as NonNullable<Spec['process']>), capabilities: { bounding: all, effective: all, permitted: all, inheritable: all, ambient: all } };
      }), 'caps-full');
      expect(r.stderr).toBe('');
      const st = statusOf(r.stdout);
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(caps(st[set]).toString(16), set).toBe(hostBounding.toString(16));
    });

    // As root with no_new_privs, execve keeps the permitted set (no file capabilities are
    // gained) and makes it effective: the configured effective set is what the process has
    // up to execve, the kernel's rules decide after it (as with runc).
    it('distinct sets stay distinct (effective: root gets its permitted set at execve)', () => {
      const r = run(script('grep ^Cap /proc/self/status', (s) => {
        s.process = {
          ...(s.process as NonNullable<Spec['process']>),
          capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'], permitted: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], inheritable: ['CAP_CHOWN'], ambient: ['CAP_CHOWN'] },
        };
      }), 'caps-mixed');
      const st = statusOf(r.stdout);
      const bit = (n: number): bigint => 1n << BigInt(n);
      expect(caps(st.CapBnd)).toBe(bit(5) | bit(0) | bit(13));
      expect(caps(st.CapPrm)).toBe(bit(5) | bit(0));
      expect(caps(st.CapEff)).toBe(bit(5) | bit(0));
      expect(caps(st.CapInh)).toBe(bit(0));
      expect(caps(st.CapAmb)).toBe(bit(0));
    });
  });

  it('oom_score_adj and the I/O priority', () => {
    const r = run(script('cat /proc/self/oom_score_adj; ionice -p $$', (s) => {
      s.process = { ...(s.process as NonNullable<Spec['process']>), oomScoreAdj: 123, ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 6 } };
    }), 'oom-io');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('123\nbest-effort: prio 6\n');
    const idle = run(script('ionice -p $$', (s) => {
      s.process = { ...(s.process as NonNullable<Spec['process']>), ioPriority: { class: 'IOPRIO_CLASS_IDLE', priority: 0 } };
    }), 'io-idle');
    expect(idle.stderr).toBe('');
    expect(idle.stdout).toMatch(/^idle/);
  });

  /** policy (field 41), rt_priority (40) and nice (19) of /proc/self/stat. */
  function schedOf(stat: string): { policy: number; rtPriority: number; nice: number } {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state)
    return { policy: Number(f[41 - 3]), rtPriority: Number(f[40 - 3]), nice: Number(f[19 - 3]) };
  }

  it('the scheduler policy and nice value (sched_setattr)', () => {
    const r = run(script('cat /proc/self/stat', (s) => {
      s.process = { ...(s.process as NonNullable<Spec['process']>), scheduler: { policy: 'SCHED_BATCH', nice: 7 } };
    }), 'sched-batch');
    expect(r.stderr).toBe('');
    expect(schedOf(r.stdout)).toEqual({ policy: SCHED.SCHED_BATCH, rtPriority: 0, nice: 7 });
    const idle = run(script('cat /proc/self/stat', (s) => {
      s.process = { ...(s.process as NonNullable<Spec['process']>), scheduler: { policy: 'SCHED_IDLE' } };
    }), 'sched-idle');
    expect(schedOf(idle.stdout).policy).toBe(SCHED.SCHED_IDLE);
  });

  // Real-time policies may be refused by the host (RT group scheduling without a budget).
  const rtAllowed = spawnSync('chrt', ['-r', '10', 'true']).status === 0;
  it.skipIf(!rtAllowed)('a real-time policy with its priority, and a clear error for SCHED_ISO (the kernel has none)', () => {
    const r = run(script('cat /proc/self/stat', (s) => {
      s.process = { ...(s.process as NonNullable<Spec['process']>), scheduler: { policy: 'SCHED_RR', priority: 10 } };
    }), 'sched-rr');
    expect(r.stderr).toBe('');
    expect(schedOf(r.stdout)).toMatchObject({ policy: SCHED.SCHED_RR, rtPriority: 10 });
    const iso = bundleFor(script('true', (s) => {
      s.process = { ...(s.process as NonNullable<Spec['process']>), scheduler: { policy: 'SCHED_ISO' } };
    }), 'sched-iso');
    const bad = tsrunToFiles(iso, ['create', 'sched-iso']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/set the scheduler policy SCHED_ISO: EINVAL/);
  });

  it.skipIf(!cc || !existsSync('/sys/devices/system/node/node0'))('the memory policy (set_mempolicy), flags included', () => {
    const spec = script('/bin/show-mempolicy', (s) => {
      s.linux = { ...s.linux, memoryPolicy: { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] } };
    });
    const b = bundleFor(spec, 'mpol');
    copyFileSync(join(tools, 'show-mempolicy'), join(b.rootfs, 'bin/show-mempolicy'));
    chmodSync(join(b.rootfs, 'bin/show-mempolicy'), 0o755);
    const r = tsrun(b, ['run', 'mpol']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`mode=${2 | (1 << 15)} nodes=1\n`);
  });

  it('refuses an LSM label the host cannot apply, naming the field, before anything exists', () => {
    const apparmor = existsSync('/sys/kernel/security/apparmor');
    const selinux = existsSync('/sys/fs/selinux/enforce');
    const cases = [
      ...(apparmor ? [] : [['apparmorProfile', 'tsrun-test-profile', /\/process\/apparmorProfile: AppArmor profile .*tsrun-test-profile.* is set but AppArmor is not enabled on this host/]] as const),
      ...(selinux ? [] : [['selinuxLabel', 'system_u:system_r:container_t:s0', /\/process\/selinuxLabel: SELinux label .* is set but SELinux is not enabled on this host/]] as const),
    ];
    for (const [field, value, message] of cases) {
      const id = `lsm-${field}`;
      const b = bundleFor(script('true', (s) => {
        s.process = { ...(s.process as NonNullable<Spec['process']>), [field]: value };
      }), id);
      const r = tsrunToFiles(b, ['create', id]);
      expect(r.status, field).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(b.root) ? readdirSync(b.root) : []).toEqual([]);
    }
  });

  it('execCPUAffinity does not apply to the init process (config.md), so create accepts it', () => {
    const r = run(script('echo ran', (s) => {
      s.process = { ...(s.process as NonNullable<Spec['process']>), execCPUAffinity: { initial: '0', final: '0' } };
    }), 'affinity-init');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ran\n');
  });
});
