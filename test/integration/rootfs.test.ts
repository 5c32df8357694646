// The root filesystem of real containers: hostile symlinks in the rootfs,
// read-only root, masked and read-only paths, bind mounts of files.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bundle, TestSpec } from '../helpers/bundle.js';
import { hasBusybox, isRoot, makeBundle, minimalSpec, tsrun, tsrunToFiles } from '../helpers/bundle.js';

const made: { bundle: Bundle; id: string }[] = [];
const outside: string[] = [];

function bundleFor(spec: TestSpec, id: string, prepare?: (b: Bundle) => void): Bundle {
  const bundle = makeBundle(spec);
  prepare?.(bundle);
  made.push({ bundle, id });
  return bundle;
}

afterEach(() => {
  for (const { bundle, id } of made.splice(0)) {
    tsrun(bundle, ['delete', '--force', id]);
    rmSync(bundle.dir, { recursive: true, force: true });
  }
  for (const d of outside.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!isRoot || !hasBusybox)('root filesystem (root, busybox-static)', () => {
  it('a symlink in the rootfs cannot make a mount land outside it', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsrun-outside-'));
    outside.push(host);
    const spec = minimalSpec(['sh', '-c', 'cat /proc/self/mountinfo']);
    spec.mounts = [...(spec.mounts ?? []), { destination: '/evil/sub', type: 'tmpfs', source: 'tmpfs' }, { destination: '/rel/sub', type: 'tmpfs', source: 'tmpfs' }];
    const b = bundleFor(spec, 'evil1', (bb) => {
      // An absolute link climbing out, and a relative one climbing out: both must stay inside.
      symlinkSync(`/../../../../../..${host}`, join(bb.rootfs, 'evil'));
      symlinkSync(`../../../../../../../..${host}`, join(bb.rootfs, 'rel'));
    });
    const r = tsrun(b, ['run', 'evil1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(join(host, 'sub'))).toBe(false);
    expect(existsSync(join(b.rootfs, host, 'sub'))).toBe(true);
    expect(r.stdout).toContain(` ${host}/sub `);
  });

  it('a symlinked device path and a symlinked file bind destination stay inside the rootfs', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsrun-outside-'));
    outside.push(host);
    writeFileSync(join(host, 'victim'), 'untouched');
    const spec = minimalSpec(['cat', '/etc/hosts']);
    spec.mounts = [...(spec.mounts ?? []), { destination: '/etc/hosts', type: 'bind', source: 'hosts', options: ['bind', 'ro'] }];
    const b = bundleFor(spec, 'evil2', (bb) => {
      writeFileSync(join(bb.dir, 'hosts'), 'from the bundle\n');
      symlinkSync(join(host, 'victim'), join(bb.rootfs, 'etc/hosts'));
    });
    const r = tsrun(b, ['run', 'evil2']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from the bundle\n');
    expect(readFileSync(join(host, 'victim'), 'utf8')).toBe('untouched');
  });

  it('root.readonly makes / read-only; masked paths are empty; read-only paths refuse writes', () => {
    // Masked paths that this host's /proc has: one file and one directory.
    const file = ['/proc/timer_list', '/proc/keys', '/proc/kcore'].find((p) => existsSync(p)) ?? '/proc/version';
    const dir = ['/proc/scsi', '/proc/acpi', '/proc/fs'].find((p) => existsSync(p)) ?? '/proc/sys';
    const spec = minimalSpec([
      'sh',
      '-c',
      `touch /x 2>/dev/null && echo rootrw || echo rootro; cat ${file} | wc -c; ls ${dir} | wc -l; (echo 1 > /proc/sys/kernel/domainname) 2>/dev/null && echo sysrw || echo sysro`,
    ]);
    spec.root = { path: 'rootfs', readonly: true };
    spec.linux = { ...spec.linux, maskedPaths: [file, dir, '/proc/does-not-exist'], readonlyPaths: ['/proc/sys'] };
    const b = bundleFor(spec, 'ro1');
    const r = tsrun(b, ['run', 'ro1']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').map((l) => l.trim())).toEqual(['rootro', '0', '0', 'sysro', '']);
  });

  it('creates a missing bind destination with the kind of its source, and the cwd', () => {
    const spec = minimalSpec(['sh', '-c', 'pwd; cat /opt/data/file; ls /opt/dir']);
    spec.process = { ...spec.process!, cwd: '/work/here' };
    spec.mounts = [
      ...(spec.mounts ?? []),
      { destination: '/opt/data/file', type: 'bind', source: 'file', options: ['bind'] },
      { destination: '/opt/dir', type: 'bind', source: 'dir', options: ['rbind', 'ro'] },
    ];
    const b = bundleFor(spec, 'bind1', (bb) => {
      writeFileSync(join(bb.dir, 'file'), 'a file\n');
      mkdirSync(join(bb.dir, 'dir'));
      writeFileSync(join(bb.dir, 'dir', basename('inside')), '');
    });
    const r = tsrun(b, ['run', 'bind1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/work/here\na file\ninside\n');
  });

  it('mounts each filesystem type with its options, as /proc/self/mountinfo shows them', () => {
    const spec = minimalSpec(['cat', '/proc/self/mountinfo']);
    spec.mounts = [
      ...(spec.mounts ?? []),
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=750', 'size=1m'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev', 'relatime'] },
      { destination: '/srv', type: 'bind', source: '.', options: ['rbind', 'ro', 'noatime'] },
    ];
    spec.linux = { ...spec.linux, namespaces: [...(spec.linux?.namespaces ?? []), { type: 'cgroup' }] };
    const b = bundleFor(spec, 'types1');
    const r = tsrun(b, ['run', 'types1']);
    expect(r.stderr).toBe('');
    const mounts = new Map(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => {
          const f = l.split(' ');
          const dash = f.indexOf('-');
          return [f[4] as string, { opts: f[5] ?? '', fstype: f[dash + 1] ?? '', super: f[dash + 3] ?? '' }] as const;
        }),
    );
    expect(mounts.get('/tmp')).toMatchObject({ fstype: 'tmpfs' });
    expect(mounts.get('/tmp')?.opts).toMatch(/nosuid,nodev,noexec/);
    expect(mounts.get('/tmp')?.super).toMatch(/size=1024k,mode=750/);
    expect(mounts.get('/dev/mqueue')?.fstype).toBe('mqueue');
    expect(mounts.get('/sys/fs/cgroup')).toMatchObject({ fstype: 'cgroup2' });
    expect(mounts.get('/sys/fs/cgroup')?.opts).toMatch(/^ro,/);
    expect(mounts.get('/srv')?.opts).toMatch(/^ro,.*noatime/);
    expect(mounts.get('/dev/pts')?.super).toMatch(/ptmxmode=666/);
    expect(mounts.get('/proc')?.fstype).toBe('proc');
    expect(mounts.get('/')).toBeDefined();
  });

  it('--no-pivot moves the rootfs to / and chroots', () => {
    const b = bundleFor(minimalSpec(['sh', '-c', 'ls /; cat /proc/self/mountinfo | wc -l']), 'nopivot1');
    const r = tsrun(b, ['run', '--no-pivot', 'nopivot1']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toContain('bin');
  });

  it('creates linux.devices with their type, numbers, mode and owner', () => {
    const spec = minimalSpec(['sh', '-c', 'stat -c "%F %t:%T %a %u:%g" /dev/fuse /dev/null /dev/mydir/loop; ls -l /dev/ptmx /dev/fd']);
    spec.linux = {
      ...spec.linux,
      devices: [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o640, uid: 1000, gid: 5 },
        { path: '/dev/mydir/loop', type: 'b', major: 7, minor: 0, fileMode: 0o600 },
      ],
    };
    const b = bundleFor(spec, 'dev1');
    const r = tsrun(b, ['run', 'dev1']);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['character special file a:e5 640 1000:5', 'character special file 1:3 666 0:0', 'block special file 7:0 600 0:0']);
    expect(lines.some((l) => /\/dev\/ptmx -> pts\/ptmx$/.test(l))).toBe(true);
    expect(lines.some((l) => /\/dev\/fd -> \/proc\/self\/fd$/.test(l))).toBe(true);
  });

  it('rootfsPropagation and per-mount propagation decide whether a host mount made after start shows inside', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsrun-prop-'));
    outside.push(host);
    const run = (id: string, option: string): string => {
      const spec = minimalSpec(['sleep', '60']);
      spec.mounts = [...(spec.mounts ?? []), { destination: '/mnt', type: 'bind', source: host, options: ['rbind', option] }];
      const b = bundleFor(spec, id);
      expect(tsrunToFiles(b, ['run', '-d', id]).status).toBe(0);
      return id;
    };
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', host]).status).toBe(0);
    try {
      expect(spawnSync('mount', ['--make-shared', host]).status).toBe(0);
      const slave = run('prop1', 'rslave');
      const priv = run('prop2', 'rprivate');
      mkdirSync(join(host, 'late'));
      expect(spawnSync('mount', ['-t', 'tmpfs', 'late', join(host, 'late')]).status).toBe(0);
      const seen = (id: string): boolean => {
        const b = made.find((m) => m.id === id)?.bundle as Bundle;
        return tsrun(b, ['exec', id, 'cat', '/proc/self/mountinfo']).stdout.includes(' /mnt/late ');
      };
      expect(seen(slave)).toBe(true);
      expect(seen(priv)).toBe(false);
      spawnSync('umount', [join(host, 'late')]);
    } finally {
      for (const { bundle, id } of made.splice(0)) tsrun(bundle, ['delete', '--force', id]);
      spawnSync('umount', ['-R', host]);
    }
  });

  it('bind mounts work inside a user namespace, read-only ones too, and /dev nodes are host binds', () => {
    const spec = minimalSpec(['sh', '-c', 'cat /srv/file; (echo x > /srv/file) 2>/dev/null && echo rw || echo ro; echo hi > /dev/null && echo devnull-ok']);
    spec.linux = {
      namespaces: [{ type: 'pid' }, { type: 'user' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }],
      uidMappings: [{ containerID: 0, hostID: 0, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 0, size: 65536 }],
    };
    spec.mounts = [...(spec.mounts ?? []).filter((m) => m.type !== 'sysfs'), { destination: '/srv/file', type: 'bind', source: 'file', options: ['bind', 'ro', 'nosuid'] }];
    const b = bundleFor(spec, 'userbind1', (bb) => writeFileSync(join(bb.dir, 'file'), 'data\n'));
    const r = tsrun(b, ['run', 'userbind1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('data\nro\ndevnull-ok\n');
  });

  it('leaves no mount on the host after delete', () => {
    const before = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length;
    const spec = minimalSpec(['true']);
    spec.mounts = [...(spec.mounts ?? []), { destination: '/srv', type: 'bind', source: '.', options: ['rbind', 'ro'] }];
    const b = bundleFor(spec, 'noleak1');
    expect(tsrun(b, ['run', 'noleak1']).status).toBe(0);
    expect(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length).toBe(before);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(b.rootfs);
  });

  it('idmaps a bind mount with its own mappings, or the container\'s (idmap, ridmap)', () => {
    const spec = minimalSpec(['sh', '-c', 'stat -c "%u:%g" /srv/own/file /srv/own/sub/file /srv/r/sub/file']);
    spec.mounts = [
      ...(spec.mounts ?? []),
      { destination: '/srv/own', type: 'bind', source: 'data', options: ['rbind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 2000, size: 10 }] },
      { destination: '/srv/r', type: 'bind', source: 'data', options: ['rbind', 'ridmap'], uidMappings: [{ containerID: 0, hostID: 3000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 3000, size: 10 }] },
    ];
    const b = bundleFor(spec, 'idmap1', (bb) => {
      mkdirSync(join(bb.dir, 'data', 'sub'), { recursive: true });
      writeFileSync(join(bb.dir, 'data', 'file'), '');
      writeFileSync(join(bb.dir, 'data', 'sub', 'file'), '');
      // data/sub is a mount of its own: idmap leaves it alone, ridmap maps it too.
      spawnSync('mount', ['--bind', join(bb.dir, 'data', 'sub'), join(bb.dir, 'data', 'sub')]);
    });
    try {
      const r = tsrun(b, ['run', 'idmap1']);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim().split('\n')).toEqual(['1000:2000', '0:0', '3000:3000']);
    } finally {
      spawnSync('umount', [join(b.dir, 'data', 'sub')]);
    }
  });

  it('idmap without mappings of its own uses the container\'s user namespace mappings', () => {
    const spec = minimalSpec(['sh', '-c', 'stat -c "%u:%g" /srv/plain/file /srv/mapped/file']);
    spec.linux = {
      namespaces: [{ type: 'pid' }, { type: 'user' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    };
    spec.mounts = [
      ...(spec.mounts ?? []).filter((m) => m.type !== 'sysfs'),
      { destination: '/srv/plain', type: 'bind', source: 'data', options: ['bind'] },
      { destination: '/srv/mapped', type: 'bind', source: 'data', options: ['bind', 'idmap'] },
    ];
    const b = bundleFor(spec, 'idmap2', (bb) => {
      mkdirSync(join(bb.dir, 'data'));
      writeFileSync(join(bb.dir, 'data', 'file'), '');
      spawnSync('chown', ['-R', '100000:100000', bb.rootfs]);
      chmodSync(bb.dir, 0o755);
    });
    const r = tsrun(b, ['run', 'idmap2']);
    expect(r.stderr).toBe('');
    // Host root's file: unmapped (the overflow id) through a plain bind, container root through the idmapped one.
    expect(r.stdout.trim().split('\n')).toEqual(['65534:65534', '0:0']);
  });

  it('tmpcopyup fills a tmpfs with what the image has there (modes, owners, symlinks), even on a read-only root', () => {
    const spec = minimalSpec(['sh', '-c', 'stat -c "%n %a %u:%g %F" /data/a /data/sub /data/sub/b; readlink /data/link; grep " /data " /proc/self/mountinfo | cut -d" " -f9; echo new > /data/c && cat /data/c']);
    spec.root = { path: 'rootfs', readonly: true };
    spec.mounts = [...(spec.mounts ?? []), { destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'tmpcopyup'] }];
    const b = bundleFor(spec, 'copyup1', (bb) => {
      mkdirSync(join(bb.rootfs, 'data', 'sub'), { recursive: true });
      writeFileSync(join(bb.rootfs, 'data', 'a'), 'A');
      chmodSync(join(bb.rootfs, 'data', 'a'), 0o640);
      spawnSync('chown', ['1000:1001', join(bb.rootfs, 'data', 'a')]);
      chmodSync(join(bb.rootfs, 'data', 'sub'), 0o711);
      writeFileSync(join(bb.rootfs, 'data', 'sub', 'b'), 'B');
      symlinkSync('/etc/passwd', join(bb.rootfs, 'data', 'link'));
    });
    const r = tsrun(b, ['run', 'copyup1']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([
      '/data/a 640 1000:1001 regular file',
      '/data/sub 711 0:0 directory',
      '/data/sub/b 644 0:0 regular file',
      '/etc/passwd',
      'tmpfs',
      'new',
    ]);
    // The image itself is untouched.
    expect(existsSync(join(b.rootfs, 'data', 'c'))).toBe(false);
  });

  it('refuses a linux.devices path where the image has something else, and leaves it alone', () => {
    const spec = minimalSpec(['true']);
    spec.linux = { ...spec.linux, devices: [{ path: '/opt/fuse', type: 'c', major: 10, minor: 229 }] };
    const b = bundleFor(spec, 'devx1', (bb) => {
      mkdirSync(join(bb.rootfs, 'opt'));
      writeFileSync(join(bb.rootfs, 'opt', 'fuse'), 'keep me');
    });
    const r = tsrunToFiles(b, ['create', 'devx1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\/linux\/devices\/0\/path: \/opt\/fuse already exists in the rootfs and is not that device/);
    expect(readFileSync(join(b.rootfs, 'opt', 'fuse'), 'utf8')).toBe('keep me');
  });
});
