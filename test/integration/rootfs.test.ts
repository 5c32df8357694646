// The root filesystem of real containers: hostile symlinks in the rootfs,
// read-only root, masked and read-only paths, bind mounts of files.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bundle, TestSpec } from '../helpers/bundle.js';
import { hasBusybox, isRoot, makeBundle, minimalSpec, tsrun } from '../helpers/bundle.js';

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
});
