// `tsrun exec` into real containers (root, busybox).
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bundle, TestSpec } from '../helpers/bundle.js';
import { hasBusybox, isRoot, makeBundle, minimalSpec, tsrun, tsrunToFiles } from '../helpers/bundle.js';

const CGROUP_MOUNT = '/sys/fs/cgroup/unified';
const made: { bundle: Bundle; id: string }[] = [];

afterEach(() => {
  for (const { bundle, id } of made.splice(0)) tsrun(bundle, ['delete', '--force', id]);
});

/** A running container whose init sleeps. */
function running(id: string, adjust?: (s: TestSpec) => void): Bundle {
  const spec = minimalSpec(['sleep', '60']);
  adjust?.(spec);
  const b = makeBundle(spec);
  made.push({ bundle: b, id });
  const r = tsrunToFiles(b, ['run', '-d', id]);
  if (r.status !== 0) throw new Error(`run -d failed: ${r.stderr}`);
  return b;
}

describe.skipIf(!isRoot || !hasBusybox)('exec (root, busybox-static)', () => {
  it('runs in every namespace and the cgroup of the container, and returns the exit status', () => {
    const b = running('ex1');
    const init = (JSON.parse(tsrun(b, ['state', 'ex1']).stdout) as { pid: number }).pid;
    const kinds = ['pid', 'net', 'ipc', 'uts', 'mnt'];
    const r = tsrun(b, ['exec', 'ex1', 'sh', '-c', `hostname; ${kinds.map((k) => `readlink /proc/self/ns/${k}`).join('; ')}; grep '^0::' /proc/self/cgroup; exit 7`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(7);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('tsrun-test');
    kinds.forEach((k, i) => expect(lines[i + 1]).toBe(readlinkSync(`/proc/${init}/ns/${k}`)));
    // no cgroup namespace in minimalSpec: the host's view of the container's cgroup
    expect(lines[kinds.length + 1]).toBe('0::/ex1');
  });

  it('applies --user, --additional-gids, --cwd, --env and --cap', () => {
    const b = running('ex2');
    const r = tsrun(b, ['exec', '--user', '1000:1000', '-g', '5', '--cwd', '/tmp', '--env', 'FOO=bar', '--cap', 'CAP_NET_RAW', 'ex2', 'sh', '-c', 'id -u; id -g; id -G; pwd; echo $FOO; grep CapBnd /proc/self/status']);
    expect(r.stderr).toBe('');
    const [uid, gid, groups, cwd, foo, bnd] = r.stdout.trim().split('\n');
    expect([uid, gid, cwd, foo]).toEqual(['1000', '1000', '/tmp', 'bar']);
    expect(groups?.split(' ')).toContain('5');
    // minimalSpec's bounding set plus CAP_NET_RAW (13)
    expect(BigInt(`0x${bnd?.split(/\s+/)[1]}`) & (1n << 13n)).toBe(1n << 13n);
  });

  it('takes the whole process from --process', () => {
    const b = running('ex3');
    const file = join(b.dir, 'process.json');
    writeFileSync(file, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ['sh', '-c', 'echo $ONLY; pwd'], env: ['ONLY=this', 'PATH=/bin'], cwd: '/proc' }));
    const r = tsrun(b, ['exec', '--process', file, 'ex3']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('this\n/proc\n');
    writeFileSync(file, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ['true'], cwd: 'relative' }));
    const bad = tsrun(b, ['exec', '--process', file, 'ex3']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/process\/cwd/);
  });

  it('--detach returns once the process runs and writes its pid file; the process is in the container cgroup', () => {
    const b = running('ex4');
    const pidFile = join(b.dir, 'exec.pid');
    const r = tsrunToFiles(b, ['exec', '-d', '--pid-file', pidFile, 'ex4', 'sleep', '30'], 'exec');
    expect(r.status).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(readFileSync(join(CGROUP_MOUNT, 'ex4', 'cgroup.procs'), 'utf8').split('\n')).toContain(String(pid));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\x0030\x00');
  });

  it('exec into a user-namespaced container runs as its root', () => {
    const b = running('ex5', (s) => {
      s.linux = {
        namespaces: [{ type: 'pid' }, { type: 'user' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }],
        uidMappings: [{ containerID: 0, hostID: 0, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 0, size: 65536 }],
      };
      s.mounts = (s.mounts ?? []).filter((m) => m.type !== 'sysfs');
    });
    const r = tsrun(b, ['exec', 'ex5', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '))).toEqual(['0', '0 0 65536']);
  });

  it('refuses a stopped container and an unknown command with runc\'s errors', () => {
    const b = running('ex6');
    const missing = tsrun(b, ['exec', 'ex6', 'no-such-command']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/exec: \\?"no-such-command\\?": executable file not found in \$PATH/);
    tsrun(b, ['kill', 'ex6', 'KILL']);
    for (let i = 0; i < 100 && JSON.parse(tsrun(b, ['state', 'ex6']).stdout).status !== 'stopped'; i++);
    const r = tsrun(b, ['exec', 'ex6', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot exec in a stopped container/);
  });

  it('the container\'s seccomp filter applies to exec\'d processes', () => {
    const b = running('ex7', (s) => {
      s.linux = { ...s.linux, seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] } };
    });
    const r = tsrun(b, ['exec', 'ex7', 'sh', '-c', 'mkdir /tmp/d 2>&1; grep ^Seccomp: /proc/self/status']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Operation not permitted/);
    expect(r.stdout).toMatch(/Seccomp:\s+2/);
  });

  it('applies execCPUAffinity of a --process file (final: after joining the cgroup)', () => {
    const b = running('ex8');
    const file = join(b.dir, 'process.json');
    writeFileSync(file, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ['grep', 'Cpus_allowed_list', '/proc/self/status'], env: ['PATH=/bin'], cwd: '/', execCPUAffinity: { initial: '0', final: '0' } }));
    const r = tsrun(b, ['exec', '--process', file, 'ex8']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Cpus_allowed_list:\s+0$/m);
  });

  it('refuses exec into a paused container with runc\'s message, and execs again after resume', () => {
    const b = running('ex9');
    expect(tsrun(b, ['pause', 'ex9']).status).toBe(0);
    try {
      const r = tsrun(b, ['exec', 'ex9', 'true']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/cannot exec in a paused container/);
    } finally {
      expect(tsrun(b, ['resume', 'ex9']).status).toBe(0);
    }
    expect(tsrun(b, ['exec', 'ex9', 'true']).status).toBe(0);
  });
});
