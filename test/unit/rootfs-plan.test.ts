// The rootfs planner as data: mount options, safe paths, devices, the op
// order of a whole container program. No root needed.
import { describe, expect, it } from 'vitest';
import { MOUNT_ATTR, MS } from '../../native/constants.js';
import { ProgramBuilder } from '../../native/program.js';
import { UnsupportedError } from '../../src/errors.js';
import { buildContainerProgram } from '../../src/plan/container.js';
import { allocateRegisters } from '../../src/plan/context.js';
import { makedev, splitDev } from '../../native/constants.js';
import { devicesToCreate, needsDevSetup } from '../../src/plan/devices.js';
import { mkdirAllInRoot, pathComponents } from '../../src/plan/in-root.js';
import { SUPPORT } from '../../src/features.js';
import { bindAttributes, newMountAttributes, parseMountOptions } from '../../src/plan/mount-options.js';
import { dataWithMountLabel, refuseUnsupportedRootfsFields, rootPropagationFlags, type SourceProbe } from '../../src/plan/rootfs.js';
import type { Spec } from '../../src/spec/types.js';

const probe: SourceProbe = {
  sourceKind: (p) => (p.endsWith('.conf') ? 'file' : 'dir'),
  mountPointOf: () => '/',
  resolveInRootfs: (_rootfs: string, path: string) => path,
  selinuxEnabled: false,
  hostHasKcore: true,
};

function spec(extra: Partial<Spec> = {}): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { user: { uid: 1000, gid: 1000, additionalGids: [5] }, args: ['sh'], env: ['PATH=/usr/bin:/bin'], cwd: '/work' },
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
    ...extra,
  };
}

function program(s: Spec, noPivot = false, hostCgroupMount?: string): string[] {
  const { builder } = buildContainerProgram({
    spec: s,
    bundle: '/b',
    rootfs: '/b/rootfs',
    execFifo: '/run/tsrun/c/exec.fifo',
    env: ['PATH=/bin'],
    noPivot,
    preserveFds: 0,
    hostCgroupMount,
    host: { lastCap: 40, ...probe },
  });
  return builder.describe();
}

describe('mount options', () => {
  it('sets and clears flags in order, the last word winning', () => {
    const p = parseMountOptions(['ro', 'nosuid', 'rw', 'nodev', 'suid'], '/mounts/0/options');
    expect(p.flags).toBe(MS.MS_NODEV);
    expect(p.cleared & MS.MS_RDONLY).toBe(MS.MS_RDONLY);
    expect(p.cleared & MS.MS_NOSUID).toBe(MS.MS_NOSUID);
  });

  it('knows every mount option `tsrun features` lists (none of them ends up as filesystem data)', () => {
    for (const option of SUPPORT.mountOptions) {
      expect(parseMountOptions([option], 'f').data, option).toBe('');
    }
  });

  it('passes unknown options through as filesystem data, in order', () => {
    expect(parseMountOptions(['nosuid', 'mode=755', 'size=65536k', 'newinstance'], 'f').data).toBe('mode=755,size=65536k,newinstance');
  });

  it('recognises bind and rbind', () => {
    expect(parseMountOptions(['bind'], 'f')).toMatchObject({ bind: true, recursiveBind: false });
    expect(parseMountOptions(['rbind', 'ro'], 'f')).toMatchObject({ bind: true, recursiveBind: true, flags: MS.MS_RDONLY });
  });

  it('collects propagation changes and recursive attributes', () => {
    const p = parseMountOptions(['rslave', 'rro', 'rnosuid', 'rnoatime'], 'f');
    expect(p.propagation).toEqual([['MS_SLAVE', 'MS_REC']]);
    expect(p.recursive?.set).toBe(MOUNT_ATTR.MOUNT_ATTR_RDONLY | MOUNT_ATTR.MOUNT_ATTR_NOSUID | MOUNT_ATTR.MOUNT_ATTR_NOATIME);
    expect((p.recursive?.clear ?? 0) & MOUNT_ATTR.MOUNT_ATTR__ATIME).toBe(MOUNT_ATTR.MOUNT_ATTR__ATIME);
  });

  it('recognises runc\'s tmpcopyup and the idmap options, keeping them out of the data string', () => {
    expect(parseMountOptions(['tmpcopyup', 'mode=755'], 'f')).toMatchObject({ tmpcopyup: true, data: 'mode=755' });
    expect(parseMountOptions(['rbind', 'ridmap'], 'f')).toMatchObject({ idmap: 'ridmap', data: '' });
  });

  it('gives a bind mount only the attributes asked for, so locked flags stay', () => {
    const a = bindAttributes(parseMountOptions(['bind', 'ro', 'nosuid'], 'f'));
    expect(a).toEqual({ set: MOUNT_ATTR.MOUNT_ATTR_RDONLY | MOUNT_ATTR.MOUNT_ATTR_NOSUID, clear: 0 });
    expect(bindAttributes(parseMountOptions(['bind', 'rw'], 'f'))).toEqual({ set: 0, clear: MOUNT_ATTR.MOUNT_ATTR_RDONLY });
  });
});

describe('paths inside the rootfs', () => {
  it('normalises components and keeps ".." at the root', () => {
    expect(pathComponents('/a/../b//c/.')).toEqual(['b', 'c']);
    expect(pathComponents('../../etc/passwd')).toEqual(['etc', 'passwd']);
    expect(pathComponents('/')).toEqual([]);
  });

  it('creates each missing component relative to a parent opened with RESOLVE_IN_ROOT', () => {
    const b = new ProgramBuilder('x64');
    const regs = allocateRegisters(b);
    mkdirAllInRoot(b, regs.rootfs, '/a/b', regs.scratch[0], 'file');
    const ops = b.describe();
    expect(ops[0]).toMatch(/mkdirat\(<r0>, "a", 493\) \[ok: EEXIST\]/);
    expect(ops[1]).toMatch(/openat2\(<r0>, "a", \{O_PATH\|O_CLOEXEC\|O_DIRECTORY, RESOLVE_IN_ROOT\}, 24\)/);
    expect(ops[2]).toMatch(/mknodat\(<r2>, "b", 33188, 0\) \[ok: EEXIST\]/);
    expect(ops).toHaveLength(4);
  });
});

describe('devices', () => {
  it('encodes dev_t as glibc makedev', () => {
    expect(makedev(1, 3)).toBe(0x103n);
    // major's low 12 bits at 8..19, minor's low byte at 0..7, minor's upper bits from bit 20
    expect(makedev(259, 0x12345)).toBe(0x12310345n);
    expect(makedev(0x12345, 1)).toBe((0x12000n << 32n) | 0x34501n);
    expect(splitDev(makedev(0x12345, 0x6789a))).toEqual({ major: 0x12345, minor: 0x6789a });
  });

  it('adds the default devices, overridden by linux.devices of the same path', () => {
    const devs = devicesToCreate(spec({ linux: { devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600 }, { path: '/dev/fuse', type: 'c', major: 10, minor: 229 }] } }));
    expect(devs.map((d) => d.path)).toEqual(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/fuse']);
    expect(devs[0]?.fileMode).toBe(0o600);
  });

  it('leaves /dev alone when the config bind-mounts it', () => {
    expect(needsDevSetup(spec({ mounts: [{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }] }))).toBe(false);
    expect(needsDevSetup(spec({ mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs' }] }))).toBe(true);
  });

  it('makes the device nodes of one directory through one fd of it, reopening only for another directory', () => {
    const opens = (ops: string[], dir: string): number => ops.filter((l) => l.includes(`openat2(<r0>, "${dir}"`)).length;
    const plain = program(spec());
    const firstNode = plain.findIndex((l) => l.includes('mknodat(<r2>, "null"'));
    const open = plain.slice(0, firstNode).map((l) => l.includes('openat2(<r0>')).lastIndexOf(true);
    const close = plain.findIndex((l, i) => i > firstNode && /close\(<r2>\)/.test(l));
    const section = plain.slice(open, close + 1);
    // one open of /dev for the six default nodes, ptmx and the symlinks, closed once after them
    expect(section[0]).toContain('openat2(<r0>, "dev"');
    expect(section.at(-1)).toMatch(/close\(<r2>\)  # close \/dev$/);
    expect(section.filter((l) => l.includes('mknodat(<r2>'))).toHaveLength(6);
    expect(section.some((l) => l.includes('symlink /dev/stderr'))).toBe(true);
    expect(opens(section, 'dev')).toBe(1);
    // a node elsewhere: its own directory, then /dev again
    const other = program(spec({ linux: { namespaces: [{ type: 'mount' }], devices: [{ path: '/dev/net/tun', type: 'c', major: 10, minor: 200 }] } }));
    const tun = other.findIndex((l) => l.includes('mknodat(<r2>, "tun"'));
    expect(tun).toBeGreaterThan(0);
    expect(other.slice(0, tun).reverse().find((l) => l.includes('openat2(<r0>'))).toContain('"dev/net"');
    expect(opens(other, 'dev/net')).toBe(1);
    // the terminal's /dev/console file uses the register as scratch: /dev is closed before it
    const tty = buildContainerProgram({
      spec: spec({ process: { ...spec().process!, terminal: true } }),
      bundle: '/b',
      rootfs: '/b/rootfs',
      execFifo: '/run/tsrun/c/exec.fifo',
      env: ['PATH=/bin'],
      noPivot: false,
      preserveFds: 0,
      consoleSocketFd: 3,
      host: { lastCap: 40, ...probe },
    }).builder.describe();
    const lastNode = tty.findIndex((l) => l.includes('mknodat(<r2>, "tty"'));
    const consoleAt = tty.findIndex((l) => l.includes('create the file /dev/console'));
    expect(lastNode).toBeGreaterThan(0);
    expect(tty.slice(lastNode, consoleAt).some((l) => /close\(<r2>\)  # close \/dev$/.test(l))).toBe(true);
  });

  it('makes devices with mknod, or binds them from the host in a user namespace', () => {
    const plain = program(spec());
    expect(plain.some((l) => /mknodat\(.*"null", 8630, 259\)/.test(l))).toBe(true);
    const userns = program(spec({ linux: { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] } }));
    expect(userns.some((l) => l.includes('mknodat') && l.includes('"null", 8630'))).toBe(false);
    expect(userns.some((l) => l.includes('open_tree(AT_FDCWD, "/dev/null"'))).toBe(true);
  });
});

describe('rootfs program', () => {
  it('propagation defaults to rslave; a config value is used before and after pivot_root', () => {
    expect(rootPropagationFlags(spec())).toBeUndefined();
    const ops = program(spec());
    expect(ops.find((l) => l.includes('set the propagation of /'))).toMatch(/MS_REC\|MS_SLAVE/);
    const shared = program(spec({ linux: { rootfsPropagation: 'shared' } }));
    expect(shared.filter((l) => /\(NULL, "\/", NULL, MS_SHARED, NULL\)/.test(l))).toHaveLength(2);
    expect(shared.some((l) => l.includes('the mount holding the rootfs, private'))).toBe(true);
    // pivot_root needs the rootfs's parent mount out of any peer group: a slave keeps host mounts coming (rslave, slave)
    expect(ops.some((l) => l.includes('the mount holding the rootfs, a slave'))).toBe(true);
    expect(program(spec({ linux: { rootfsPropagation: 'private' } })).some((l) => l.includes('the mount holding the rootfs, private'))).toBe(true);
  });

  it('bind mounts through open_tree + mount_setattr + move_mount, file destinations as files', () => {
    const ops = program(spec({ mounts: [{ destination: '/etc/app.conf', type: 'bind', source: 'app.conf', options: ['bind', 'ro'] }] }));
    const i = ops.findIndex((l) => l.includes('open_tree(AT_FDCWD, "/b/app.conf"'));
    expect(i).toBeGreaterThan(0);
    expect(ops.some((l) => /mknodat\(.*"app.conf"/.test(l))).toBe(true);
    expect(ops[i + 1]).toMatch(/mount_setattr\(.*\{set=0x1, clr=0x0\}/);
    expect(ops.slice(i).some((l) => l.includes('move_mount'))).toBe(true);
  });

  it('mounts filesystems on the fd of the resolved destination, cgroup as cgroup2', () => {
    const ops = program(spec({ mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] }] }));
    expect(ops.some((l) => /mount\("cgroup", \/proc\/self\/fd\/<r\d+>, "cgroup2", MS_RDONLY\|MS_NOSUID, NULL\)/.test(l))).toBe(true);
  });

  it("binds the host's cgroup2 mount for a cgroup mount in tsrun's cgroup namespace, with exactly the options' flags", () => {
    const cgroupMount = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec'] };
    const ops = program(spec({ mounts: [cgroupMount] }), false, '/sys/fs/cgroup/unified');
    expect(ops.some((l) => /"cgroup2"/.test(l))).toBe(false);
    const i = ops.findIndex((l) => /open_tree\(AT_FDCWD, "\/sys\/fs\/cgroup\/unified", OPEN_TREE_CLONE\|OPEN_TREE_CLOEXEC\)/.test(l));
    expect(i).toBeGreaterThan(0);
    // set ro|nosuid|noexec and relatime; clear nodev (not asked) and the atime bits
    const { set, clear } = newMountAttributes(parseMountOptions(cgroupMount.options, 'f'));
    expect(set).toBe(MOUNT_ATTR.MOUNT_ATTR_RDONLY | MOUNT_ATTR.MOUNT_ATTR_NOSUID | MOUNT_ATTR.MOUNT_ATTR_NOEXEC | MOUNT_ATTR.MOUNT_ATTR_RELATIME);
    expect(clear).toBe(MOUNT_ATTR.MOUNT_ATTR_NODEV | MOUNT_ATTR.MOUNT_ATTR__ATIME);
    expect(ops[i + 1]).toContain(`mount_setattr(<r${ops[i]?.match(/r(\d+) = open_tree/)?.[1]}>, "", AT_EMPTY_PATH, {set=0x${set.toString(16)}, clr=0x${clear.toString(16)}}`);
    expect(ops.slice(i).some((l) => /move_mount.*# mount the host's cgroup2/.test(l))).toBe(true);
  });

  it('mounts a new cgroup2 when the container has a cgroup namespace, or the mount has filesystem data', () => {
    const withNs = spec({ linux: { namespaces: [{ type: 'mount' }, { type: 'cgroup' }] }, mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' }] });
    expect(program(withNs, false, '/sys/fs/cgroup').some((l) => /mount\("cgroup", .*"cgroup2"/.test(l))).toBe(true);
    const withData = spec({ mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2', options: ['nsdelegate'] }] });
    expect(program(withData, false, '/sys/fs/cgroup').some((l) => /mount\("cgroup2", .*"cgroup2", 0, "nsdelegate"\)/.test(l))).toBe(true);
  });

  it('orders: mounts, exec fifo, create hooks, pivot_root, sysctl, masked/readonly paths, user, created, exec', () => {
    const ops = program(
      spec({
        linux: { namespaces: [{ type: 'mount' }], sysctl: { 'net.ipv4.ip_forward': '1' }, maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] },
        root: { path: 'rootfs', readonly: true },
        hooks: { createRuntime: [{ path: '/bin/true' }] },
      }),
    );
    const at = (re: RegExp): number => ops.findIndex((l) => re.test(l));
    const order = [
      at(/bind mount the rootfs/),
      at(/open the exec fifo/),
      at(/code=3/),
      at(/pivot_root/),
      at(/set sysctl net.ipv4.ip_forward=1/),
      at(/mask \/proc\/kcore/),
      at(/make \/proc\/sys read-only/),
      at(/make \/ read-only/),
      at(/set uid 1000/),
      at(/code=4/),
      at(/wait for start on the exec fifo/),
      at(/execve/),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('stops for the create hooks only when the config has one', () => {
    const stops = (hooks: Spec['hooks']): number => program(spec({ hooks })).filter((l) => /sync\(code=3/.test(l)).length;
    expect(stops(undefined)).toBe(0);
    expect(stops({ poststop: [{ path: '/bin/true' }], createRuntime: [] })).toBe(0);
    for (const name of ['prestart', 'createRuntime', 'createContainer'] as const) expect(stops({ [name]: [{ path: '/bin/true' }] }), name).toBe(1);
  });

  it('uses MS_MOVE + chroot with --no-pivot', () => {
    const ops = program(spec(), true);
    expect(ops.some((l) => l.includes('pivot_root('))).toBe(false);
    expect(ops.some((l) => l.includes('MS_MOVE'))).toBe(true);
    expect(ops.some((l) => l.includes('chroot('))).toBe(true);
  });

  it('tmpcopyup hands tsrun the directory under the tmpfs and the tmpfs, in that order, after the mount', () => {
    const ops = program(spec({ mounts: [{ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] }] }));
    const mount = ops.findIndex((l) => l.includes('mount tmpfs on /run'));
    const src = ops.findIndex((l) => /sync\(code=7, <r\d+>, \+fd\)/.test(l));
    const dst = ops.findIndex((l) => /sync\(code=8, <r\d+>, \+fd\)/.test(l));
    expect(mount).toBeGreaterThan(0);
    expect(src).toBeGreaterThan(mount);
    expect(dst).toBeGreaterThan(src);
    expect(ops[mount]).toContain('"mode=755"');
  });

  it('creates the process cwd inside the rootfs', () => {
    expect(program(spec()).some((l) => l.includes('create the directory /work in the container root'))).toBe(true);
  });

  it('refuses what it does not implement, naming the field', () => {
    expect(() => program(spec({ mounts: [{ destination: '/x', type: 'proc', source: 'proc', options: ['tmpcopyup'] }] }))).toThrow(/\/mounts\/0\/options: tmpcopyup applies to tmpfs mounts only/);
    // refused, so `tsrun features` does not list it (runc does)
    expect(() => program(spec({ mounts: [{ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['remount'] }] }))).toThrow(/\/mounts\/0\/options: remount/);
    expect(SUPPORT.mountOptions).not.toContain('remount');
    expect(() => refuseUnsupportedRootfsFields(spec({ linux: { rootfsPropagation: 'bogus' as 'shared' } }))).toThrow(/\/linux\/rootfsPropagation/);
  });

  it('gives mountLabel as context= to the container\'s own filesystems when SELinux is enabled, as runc', () => {
    expect(dataWithMountLabel('mode=755', 'system_u:object_r:container_file_t:s0', true)).toBe('mode=755,context="system_u:object_r:container_file_t:s0"');
    expect(dataWithMountLabel('', 'l', true)).toBe('context="l"');
    expect(dataWithMountLabel('mode=755', 'l', false)).toBe('mode=755');
  });

  it('idmaps bind mounts before any namespace, with the user namespace fd it is given', () => {
    const b = new ProgramBuilder('x64');
    const s = spec({ mounts: [{ destination: '/data', type: 'bind', source: '/host/data', options: ['rbind', 'ridmap'] }] });
    const ops = buildContainerProgram(
      { spec: s, bundle: '/b', rootfs: '/b/rootfs', execFifo: '/f', env: [], noPivot: false, preserveFds: 0, idmapped: [{ index: 0, usernsFd: 5 }], host: { lastCap: 40, ...probe } },
      b,
    ).builder.describe();
    const setattr = ops.findIndex((l) => l.includes('userns_fd=5'));
    expect(setattr).toBeGreaterThan(0);
    expect(ops[setattr]).toMatch(/AT_EMPTY_PATH\|AT_RECURSIVE, \{set=0x100000/);
    expect(setattr).toBeLessThan(ops.findIndex((l) => /create .*namespaces/.test(l)));
    expect(ops.filter((l) => l.includes('open_tree(AT_FDCWD, "/host/data"'))).toHaveLength(1);
    expect(ops.some((l) => /move_mount/.test(l))).toBe(true);
  });
});

