// The cgroup writer, the freezer and the device program replacement, on a scratch
// directory that imitates a cgroup tree and a fake bpf(): any user.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ancestors, applyWrites, CgroupWriteError, enableControllers, writeCgroupFile } from '../../src/cgroups/apply.js';
import { buildDeviceFilter } from '../../src/cgroups/device-filter.js';
import type { BpfOps } from '../../src/cgroups/devices.js';
import { DEVICE_PROGRAM_NAME, installDeviceFilter } from '../../src/cgroups/devices.js';
import { freeze, thaw } from '../../src/cgroups/freezer.js';
import { hostControllers, planResources, refuseMissingControllers } from '../../src/cgroups/manager.js';
import { planResourceWrites } from '../../src/cgroups/resources.js';
import { UnsupportedError } from '../../src/errors.js';

const scratch: string[] = [];
afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fake hierarchy: the root (no cgroup.type), a/ and a/b/ (with cgroup.type), each with the given files. */
function tree(files: Record<string, string>): string {
  const mount = mkdtempSync(join(tmpdir(), 'tsrun-cg-'));
  scratch.push(mount);
  mkdirSync(join(mount, 'a/b'), { recursive: true });
  for (const [path, content] of Object.entries(files)) writeFileSync(join(mount, path), content);
  return mount;
}

const read = (mount: string, path: string): string => readFileSync(join(mount, path), 'utf8');

describe('applyWrites', () => {
  it('writes each value to its file', () => {
    const m = tree({ 'a/b/memory.max': 'max\n', 'a/b/pids.max': 'max\n' });
    applyWrites(join(m, 'a/b'), planResourceWrites({ memory: { limit: 1048576 }, pids: { limit: 7 } }, { controllers: new Set(['memory', 'pids']) }));
    expect(read(m, 'a/b/memory.max')).toBe('1048576');
    expect(read(m, 'a/b/pids.max')).toBe('7');
  });

  it('honours ifMissing: skip, or the fallback file', () => {
    const m = tree({ 'a/b/io.weight': 'default 100\n', 'a/b/hugetlb.2MB.max': 'max' });
    const writes = planResourceWrites({ blockIO: { weight: 1000 }, hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] }, { controllers: new Set(['io', 'hugetlb']) });
    applyWrites(join(m, 'a/b'), writes);
    // no io.bfq.weight: io.weight with the converted value; no hugetlb.2MB.rsvd.max: skipped
    expect(read(m, 'a/b/io.weight')).toBe('10000');
    expect(read(m, 'a/b/hugetlb.2MB.max')).toBe('2097152');
  });

  it('a missing file without ifMissing is an error naming the field and the path', () => {
    const m = tree({});
    const writes = planResourceWrites({ pids: { limit: 3 } }, { controllers: new Set(['pids']) });
    expect(() => applyWrites(join(m, 'a/b'), writes)).toThrow(CgroupWriteError);
    expect(() => applyWrites(join(m, 'a/b'), writes)).toThrow(/^\/linux\/resources\/pids\/limit: writing "3" to .*\/a\/b\/pids\.max: ENOENT/);
  });

  it('never creates a file', () => {
    const m = tree({});
    expect(() => writeCgroupFile(m, 'cgroup.freeze', '1')).toThrow(/ENOENT/);
  });
});

describe('enableControllers', () => {
  it('lists the ancestors from the mount to the parent', () => {
    expect(ancestors('/sys/fs/cgroup', '/sys/fs/cgroup/c')).toEqual(['/sys/fs/cgroup']);
    expect(ancestors('/sys/fs/cgroup', '/sys/fs/cgroup/a/b/c')).toEqual(['/sys/fs/cgroup', '/sys/fs/cgroup/a', '/sys/fs/cgroup/a/b']);
    expect(() => ancestors('/sys/fs/cgroup', '/sys/fs/cgroup')).toThrow(/not below/);
  });

  it('writes only the missing controllers, top-down, and never into the container\'s own cgroup', () => {
    const m = tree({
      'cgroup.subtree_control': 'cpu memory',
      'cgroup.procs': '1\n2\n',
      'a/cgroup.type': 'domain',
      'a/cgroup.subtree_control': '',
      'a/cgroup.procs': '',
      'a/b/cgroup.type': 'domain',
      'a/b/cgroup.subtree_control': 'untouched',
    });
    enableControllers(m, join(m, 'a/b'), ['memory', 'pids']);
    // the root (processes allowed there) gets only pids; a/ gets both
    expect(read(m, 'cgroup.subtree_control')).toBe('+pids');
    expect(read(m, 'a/cgroup.subtree_control')).toBe('+memory +pids');
    expect(read(m, 'a/b/cgroup.subtree_control')).toBe('untouched');
  });

  it('refuses an ancestor with processes of its own (the no-internal-process rule), naming it', () => {
    const m = tree({
      'cgroup.subtree_control': 'memory',
      'a/cgroup.type': 'domain',
      'a/cgroup.subtree_control': '',
      'a/cgroup.procs': '4242\n',
    });
    expect(() => enableControllers(m, join(m, 'a/b'), ['memory'])).toThrow(new RegExp(`ancestor cgroup ${join(m, 'a')} has processes of its own.*no-internal-process`));
    expect(read(m, 'a/cgroup.subtree_control')).toBe('');
  });

  it('leaves a populated ancestor alone when it already distributes the controller', () => {
    const m = tree({ 'cgroup.subtree_control': 'memory', 'a/cgroup.type': 'domain', 'a/cgroup.subtree_control': 'memory', 'a/cgroup.procs': '1\n' });
    expect(() => enableControllers(m, join(m, 'a/b'), ['memory'])).not.toThrow();
  });
});

describe('controllers of the host', () => {
  it('reads cgroup.controllers of the mount', () => {
    const m = tree({ 'cgroup.controllers': 'cpuset cpu io memory hugetlb pids\n' });
    expect([...hostControllers(m)].sort()).toEqual(['cpu', 'cpuset', 'hugetlb', 'io', 'memory', 'pids']);
  });

  it('refuses a resource whose controller is missing, naming the field and the controller (all of them)', () => {
    const writes = planResourceWrites({ memory: { limit: 1 << 20 }, pids: { limit: 5 } }, { controllers: new Set(['hugetlb']) });
    let err: unknown;
    try {
      refuseMissingControllers(writes, new Set(['hugetlb']), '/sys/fs/cgroup/unified');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as UnsupportedError).field).toBe('/linux/resources/pids/limit');
    expect((err as Error).message).toBe(
      '/linux/resources/pids/limit: needs the cgroup v2 "pids" controller, which this host\'s unified hierarchy at /sys/fs/cgroup/unified does not have (it has only hugetlb); /linux/resources/memory/limit needs "memory"',
    );
  });

  it('plans writes, the controllers to enable and the device program', () => {
    const m = tree({ 'cgroup.controllers': 'memory pids' });
    const plan = planResources({ memory: { limit: 1 << 20 }, devices: [{ allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }] }, m);
    expect(plan.controllers).toEqual(['memory']);
    expect(plan.writes.map((w) => w.file)).toEqual(['memory.max']);
    expect(plan.devices.rules.exceptions.some((e) => e.major === 10 && e.minor === 229)).toBe(true);
    expect(() => planResources({ cpu: { quota: 1000 } }, m)).toThrow(/"cpu" controller/);
  });
});

/** A fake kernel: programs by id with names, attached lists per cgroup fd, and a log of calls. */
function fakeBpf(attached: { id: number; name: string }[]): { ops: BpfOps; calls: string[]; attached: { id: number; name: string }[] } {
  const calls: string[] = [];
  const fdToProg = new Map<number, { id: number; name: string }>();
  let nextFd = 100;
  let nextId = 1000;
  const openFd = (p: { id: number; name: string }): number => {
    const fd = nextFd++;
    fdToProg.set(fd, p);
    return fd;
  };
  const ops: BpfOps = {
    openDir: (path) => {
      calls.push(`open ${path}`);
      return 3;
    },
    close: (fd) => {
      fdToProg.delete(fd);
      calls.push(`close ${fd}`);
    },
    load: (_filter, name) => {
      const fd = openFd({ id: nextId++, name });
      calls.push(`load ${name} -> ${fd}`);
      return fd;
    },
    attach: (prog) => {
      const p = fdToProg.get(prog);
      if (p === undefined) throw new Error('attach of a closed fd');
      attached.push(p);
      calls.push(`attach ${p.id}`);
    },
    detach: (prog) => {
      const p = fdToProg.get(prog);
      if (p === undefined) throw new Error('detach of a closed fd');
      attached.splice(attached.findIndex((a) => a.id === p.id), 1);
      calls.push(`detach ${p.id}`);
    },
    query: () => attached.map((a) => a.id),
    fdById: (id) => {
      const p = attached.find((a) => a.id === id);
      return p === undefined ? undefined : openFd(p);
    },
    nameOf: (fd) => fdToProg.get(fd)?.name ?? '',
  };
  return { ops, calls, attached };
}

describe('installDeviceFilter', () => {
  const filter = buildDeviceFilter([]);

  it('attaches to a cgroup without programs and closes every fd', () => {
    const k = fakeBpf([]);
    installDeviceFilter('/cg', filter, k.ops);
    expect(k.attached).toEqual([{ id: 1000, name: DEVICE_PROGRAM_NAME }]);
    expect(k.calls).toEqual(['open /cg', `load ${DEVICE_PROGRAM_NAME} -> 100`, 'attach 1000', 'close 100', 'close 3']);
  });

  it('replaces the program tsrun attached before and keeps the others, attaching before detaching', () => {
    const k = fakeBpf([
      { id: 7, name: 'systemd_devices' },
      { id: 8, name: DEVICE_PROGRAM_NAME },
    ]);
    installDeviceFilter('/cg', filter, k.ops);
    expect(k.attached.map((a) => a.id)).toEqual([7, 1000]);
    expect(k.calls.indexOf('attach 1000')).toBeLessThan(k.calls.indexOf('detach 8'));
    // every fd opened (program 7 and 8 by id, the new one, the cgroup) is closed
    const opened = k.calls.filter((c) => c.startsWith('load')).length + 2 + 1;
    expect(k.calls.filter((c) => c.startsWith('close')).length).toBe(opened);
  });

  it('keeps the old program when the new one cannot be attached', () => {
    const k = fakeBpf([{ id: 8, name: DEVICE_PROGRAM_NAME }]);
    k.ops.attach = () => {
      throw new Error('EPERM');
    };
    expect(() => installDeviceFilter('/cg', filter, k.ops)).toThrow('EPERM');
    expect(k.attached.map((a) => a.id)).toEqual([8]);
    expect(k.calls.at(-1)).toBe('close 3');
  });
});

describe('freezer', () => {
  it('writes cgroup.freeze and returns once cgroup.events says frozen', () => {
    const m = tree({ 'a/cgroup.freeze': '0', 'a/cgroup.events': 'populated 1\nfrozen 1\n' });
    freeze(join(m, 'a'), 100);
    expect(read(m, 'a/cgroup.freeze')).toBe('1');
    writeFileSync(join(m, 'a/cgroup.events'), 'populated 1\nfrozen 0\n');
    thaw(join(m, 'a'), 100);
    expect(read(m, 'a/cgroup.freeze')).toBe('0');
  });

  it('thaws again and fails when the cgroup does not freeze in time', () => {
    const m = tree({ 'a/cgroup.freeze': '0', 'a/cgroup.events': 'populated 1\nfrozen 0\n' });
    expect(() => freeze(join(m, 'a'), 50)).toThrow(/did not freeze within 50 ms.*thawed again/);
    expect(read(m, 'a/cgroup.freeze')).toBe('0');
  });
});
