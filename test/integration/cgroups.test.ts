// cgroup v2 on this machine, through the real tsrun binary: what a hybrid
// host's unified hierarchy can do (hugetlb, the freezer, device programs,
// stats) and the refusal of what it cannot (memory, pids, cpu, io: see
// TESTING.md). The limits of those controllers are tested in a pure v2 VM:
// test/integration/cgroups-v2vm.test.ts.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findUnifiedMount } from '../../src/cgroups/location.js';
import type { Spec } from '../../src/spec/types.js';
import type { Bundle, TestSpec } from '../helpers/bundle.js';
import { hasBusybox, isRoot, makeBundle, minimalSpec, readOutput, tsrun, tsrunToFiles } from '../helpers/bundle.js';

const MOUNT = findUnifiedMount(readFileSync('/proc/self/mountinfo', 'utf8')) ?? '/sys/fs/cgroup';
const controllers = new Set(existsSync(join(MOUNT, 'cgroup.controllers')) ? readFileSync(join(MOUNT, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean) : []);
const hasHugetlb2M = controllers.has('hugetlb') && existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB');

const made: { bundle: Bundle; id: string }[] = [];
afterEach(() => {
  for (const { bundle, id } of made.splice(0)) tsrun(bundle, ['delete', '--force', id]);
});

function bundleFor(spec: Spec, id: string): Bundle {
  const bundle = makeBundle(spec);
  made.push({ bundle, id });
  return bundle;
}

function status(b: Bundle, id: string): string {
  const r = tsrun(b, ['state', id]);
  if (r.status !== 0) throw new Error(`state failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { status: string }).status;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitFor(check: () => boolean, ms = 5000): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    sleepMs(20);
  }
  return check();
}

function withResources(spec: TestSpec, resources: NonNullable<Spec['linux']>['resources']): TestSpec {
  spec.linux = { ...spec.linux, resources };
  return spec;
}

describe.skipIf(!isRoot || !hasBusybox)(`cgroup v2 on this host (${MOUNT}: ${[...controllers].join(' ') || 'no controllers'})`, () => {
  it.skipIf(controllers.has('memory'))('refuses a memory limit the host cannot enforce, naming the field and the controller, leaving nothing behind', () => {
    const b = bundleFor(withResources(minimalSpec(['true']), { memory: { limit: 64 << 20 } }), 'cg-refuse');
    const r = tsrunToFiles(b, ['create', 'cg-refuse']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/linux/resources/memory/limit');
    // the log line quotes the message: \" inside msg="..."
    expect(r.stderr).toMatch(/\\?"memory\\?" controller/);
    expect(existsSync(b.root) ? readdirSync(b.root) : []).toEqual([]);
    expect(existsSync(join(MOUNT, 'cg-refuse'))).toBe(false);
  });

  it.skipIf(!hasHugetlb2M)('writes hugetlb limits (max and rsvd.max) before the container runs, and update changes them', () => {
    const b = bundleFor(withResources(minimalSpec(['sleep', '30']), { hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] }), 'cg-huge');
    expect(tsrunToFiles(b, ['create', 'cg-huge']).status).toBe(0);
    const dir = join(MOUNT, 'cg-huge');
    expect(readFileSync(join(dir, 'hugetlb.2MB.max'), 'utf8').trim()).toBe(String(4 << 20));
    if (existsSync(join(dir, 'hugetlb.2MB.rsvd.max'))) expect(readFileSync(join(dir, 'hugetlb.2MB.rsvd.max'), 'utf8').trim()).toBe(String(4 << 20));

    const u = tsrun(b, ['update', '--resources', '-', 'cg-huge'], { input: JSON.stringify({ hugepageLimits: [{ pageSize: '2MB', limit: 2 << 20 }] }) });
    expect(u.stderr).toBe('');
    expect(u.status).toBe(0);
    expect(readFileSync(join(dir, 'hugetlb.2MB.max'), 'utf8').trim()).toBe(String(2 << 20));
    const recorded = JSON.parse(readFileSync(join(b.root, 'cg-huge', 'state.json'), 'utf8')) as { config: Spec };
    expect(recorded.config.linux?.resources?.hugepageLimits).toEqual([{ pageSize: '2MB', limit: 2 << 20 }]);

    // a controller the host lacks is refused by update too, and nothing changes
    const p = tsrun(b, ['update', '--pids-limit', '5', 'cg-huge']);
    expect(p.status).toBe(1);
    expect(p.stderr).toContain('/linux/resources/pids/limit');
    expect(p.stderr).toMatch(/\\?"pids\\?" controller/);
    expect((JSON.parse(readFileSync(join(b.root, 'cg-huge', 'state.json'), 'utf8')) as { config: Spec }).config.linux?.resources?.pids).toBeUndefined();
  });

  it.skipIf(!existsSync('/dev/loop-control'))('enforces device rules with an eBPF program: an allowed device opens, a denied one does not', () => {
    const spec = minimalSpec([
      'sh',
      '-c',
      // a failed redirection of `exec` ends the shell: each open is tried in a subshell
      'if (exec 3</dev/loop-control); then echo allowed-ok; fi; if ! (exec 4</dev/fuse); then echo denied-ok; fi; if (exec 5</dev/null); then echo default-ok; fi',
    ]);
    spec.linux = {
      ...spec.linux,
      devices: [
        { path: '/dev/loop-control', type: 'c', major: 10, minor: 237, fileMode: 0o600 },
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600 },
      ],
      resources: { devices: [{ allow: true, type: 'c', major: 10, minor: 237, access: 'rw' }] },
    };
    const b = bundleFor(spec, 'cg-dev');
    const r = tsrun(b, ['run', 'cg-dev']);
    expect(r.stdout).toBe('allowed-ok\ndenied-ok\ndefault-ok\n');
    expect(r.stderr).toMatch(/can't open '?\/dev\/fuse'?: Operation not permitted/);
  });

  it('pause freezes every process and state says paused; resume thaws; a paused container can be killed and deleted', () => {
    const b = bundleFor(minimalSpec(['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done']), 'cg-pause');
    expect(tsrunToFiles(b, ['create', 'cg-pause']).status).toBe(0);
    // a created container can be paused too (runc)
    expect(tsrun(b, ['pause', 'cg-pause']).status).toBe(0);
    expect(status(b, 'cg-pause')).toBe('paused');
    expect(tsrun(b, ['resume', 'cg-pause']).status).toBe(0);
    expect(status(b, 'cg-pause')).toBe('created');
    expect(tsrun(b, ['start', 'cg-pause']).status).toBe(0);

    const counter = join(b.rootfs, 'tmp/n');
    expect(waitFor(() => existsSync(counter) && readFileSync(counter, 'utf8').trim() !== '')).toBe(true);
    const p = tsrun(b, ['pause', 'cg-pause']);
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    expect(status(b, 'cg-pause')).toBe('paused');
    expect(readFileSync(join(MOUNT, 'cg-pause', 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
    const frozenAt = readFileSync(counter, 'utf8');
    sleepMs(300);
    expect(readFileSync(counter, 'utf8')).toBe(frozenAt);
    expect(tsrun(b, ['pause', 'cg-pause']).stderr).toMatch(/container not running/);

    expect(tsrun(b, ['resume', 'cg-pause']).status).toBe(0);
    expect(status(b, 'cg-pause')).toBe('running');
    expect(waitFor(() => readFileSync(counter, 'utf8') !== frozenAt)).toBe(true);
    expect(tsrun(b, ['resume', 'cg-pause']).stderr).toMatch(/container not paused/);

    expect(tsrun(b, ['pause', 'cg-pause']).status).toBe(0);
    expect(tsrun(b, ['delete', '--force', 'cg-pause']).status).toBe(0);
    expect(existsSync(join(MOUNT, 'cg-pause'))).toBe(false);
  });

  it('delete --force kills and removes a container whose cgroup holds a child cgroup with its init in it', () => {
    const b = bundleFor(minimalSpec(['sleep', '60']), 'cg-nest');
    expect(tsrunToFiles(b, ['create', 'cg-nest']).status).toBe(0);
    expect(tsrun(b, ['start', 'cg-nest']).status).toBe(0);
    const pid = (JSON.parse(tsrun(b, ['state', 'cg-nest']).stdout) as { pid: number }).pid;
    // What a container's own cgroup manager (systemd inside, a nested runtime) makes: the plain
    // rmdir of delete's fast path fails with EBUSY on the parent, then on the child.
    const inner = join(MOUNT, 'cg-nest', 'inner');
    mkdirSync(inner);
    writeFileSync(join(inner, 'cgroup.procs'), String(pid));
    expect(readFileSync(join(inner, 'cgroup.procs'), 'utf8').trim()).toBe(String(pid));
    const d = tsrun(b, ['delete', '--force', 'cg-nest']);
    expect(d.stderr).toBe('');
    expect(d.status).toBe(0);
    expect(existsSync(join(MOUNT, 'cg-nest'))).toBe(false);
    // killed: gone, or a zombie until pid 1 reaps it
    const goneOrZombie = (): boolean => {
      try {
        return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    expect(waitFor(goneOrZombie)).toBe(true);
  });

  it('events --stats prints one runc stats event as JSON', () => {
    const b = bundleFor(minimalSpec(['sh', '-c', 'sleep 30 & sleep 30']), 'cg-stats');
    expect(tsrunToFiles(b, ['create', 'cg-stats']).status).toBe(0);
    expect(tsrun(b, ['start', 'cg-stats']).status).toBe(0);
    expect(waitFor(() => readFileSync(join(MOUNT, 'cg-stats', 'cgroup.procs'), 'utf8').trim().split('\n').length === 2)).toBe(true);
    const r = tsrun(b, ['events', '--stats', 'cg-stats']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0] as string) as { type: string; id: string; data: Record<string, Record<string, unknown>> };
    expect(event.type).toBe('stats');
    expect(event.id).toBe('cg-stats');
    expect(Object.keys(event.data)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    expect(event.data.pids).toMatchObject({ current: 2 });
    expect(event.data.cpu?.usage).toHaveProperty('kernel');
    if (hasHugetlb2M) expect(event.data.hugetlb).toHaveProperty('2MB');
    expect(tsrun(b, ['events', '--interval', '0s', 'cg-stats']).stderr).toMatch(/duration interval must be greater than 0/);
  });

  it('events streams until the container is gone', () => {
    const b = bundleFor(minimalSpec(['sleep', '1']), 'cg-stream');
    expect(tsrunToFiles(b, ['create', 'cg-stream']).status).toBe(0);
    expect(tsrun(b, ['start', 'cg-stream']).status).toBe(0);
    const r = tsrunToFiles(b, ['events', '--interval', '200ms', 'cg-stream'], 'events');
    expect(r.status).toBe(0);
    const events = readOutput(b, 'events').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.type === 'stats')).toBe(true);
  });
});
