// Host probes of create (src/lifecycle/probe.ts): plain fs reads in a scratch directory, no root.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeOf, mountPointOf, resolveInRootfs, sourceProbe } from '../../src/lifecycle/probe.js';

const kindOf = (p: string) => sourceProbe.sourceKind(p);

let dir: string;
let rootfs: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsrun-probe-'));
  rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  mkdirSync(join(rootfs, 'usr/lib'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\nodd:x::0::/odd:/bin/sh\n');
  writeFileSync(join(rootfs, 'file'), '');
  symlinkSync('/usr/lib', join(rootfs, 'lib'));
  symlinkSync('../../../../usr', join(rootfs, 'up'));
  symlinkSync('/missing/x', join(rootfs, 'dangling'));
  symlinkSync('loop', join(rootfs, 'loop'));
  writeFileSync(
    join(dir, 'mountinfo'),
    [
      '21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '22 21 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw',
      '23 21 0:6 / /srv/a\\040b rw shared:3 - tmpfs tmpfs rw',
      '24 21 0:7 / /srv rw shared:4 - tmpfs tmpfs rw',
      '25 21 0:8 / /srv/abc rw shared:5 - tmpfs tmpfs rw',
      'short line',
      '26 21 0:9 / /data',
      '',
    ].join('\n'),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mountPointOf', () => {
  const mi = () => join(dir, 'mountinfo');
  it('finds the longest mount point holding a path, on component boundaries', () => {
    expect(mountPointOf('/srv/abc/x', mi())).toBe('/srv/abc');
    expect(mountPointOf('/srv/ab', mi())).toBe('/srv');
    expect(mountPointOf('/srv', mi())).toBe('/srv');
    expect(mountPointOf('/dev/null', mi())).toBe('/dev');
    expect(mountPointOf('/device', mi())).toBe('/');
    expect(mountPointOf('/etc', mi())).toBe('/');
  });
  it('unescapes octal escapes, and reads a last line without a newline or with only five fields', () => {
    expect(mountPointOf('/srv/a b/c', mi())).toBe('/srv/a b');
    expect(mountPointOf('/data/x', mi())).toBe('/data');
  });
  it('reads the real mountinfo', () => {
    expect(mountPointOf('/proc/self')).toBe('/proc');
  });
});

describe('resolveInRootfs', () => {
  it('resolves symlinks inside the rootfs, absolute and relative, never above it', () => {
    expect(resolveInRootfs(rootfs, '/lib/x')).toEqual({ path: '/usr/lib/x', exists: false });
    expect(resolveInRootfs(rootfs, '/lib')).toEqual({ path: '/usr/lib', exists: true });
    expect(resolveInRootfs(rootfs, '/up/lib')).toEqual({ path: '/usr/lib', exists: true });
    expect(resolveInRootfs(rootfs, '/./etc//passwd')).toEqual({ path: '/etc/passwd', exists: true });
  });
  it('keeps the rest as written from the first missing component, dangling links included', () => {
    expect(resolveInRootfs(rootfs, '/proc/sys/../kernel')).toEqual({ path: '/proc/kernel', exists: false });
    expect(resolveInRootfs(rootfs, '/dangling/y')).toEqual({ path: '/missing/x/y', exists: false });
    expect(resolveInRootfs(rootfs, '/file/below')).toEqual({ path: '/file/below', exists: false });
  });
  it('gives up on symlink loops', () => {
    expect(resolveInRootfs(rootfs, '/loop/a')).toEqual({ path: '/loop/a', exists: false });
  });
});

describe('kindOf and homeOf', () => {
  it('tells directories, files and missing paths apart', () => {
    expect(kindOf(rootfs)).toBe('dir');
    expect(kindOf(join(rootfs, 'lib'))).toBe('dir');
    expect(kindOf(join(rootfs, 'file'))).toBe('file');
    expect(kindOf(join(rootfs, 'nothing'))).toBe('missing');
    expect(kindOf(join(rootfs, 'file/below'))).toBe('missing');
    expect(kindOf(join(rootfs, 'dangling'))).toBe('missing');
  });
  it("reads HOME from the image's passwd", () => {
    expect(homeOf(rootfs, 0)).toBe('/root');
    expect(homeOf(rootfs, 65534)).toBe('/nonexistent');
    expect(homeOf(rootfs, 1000)).toBeUndefined();
    expect(homeOf(join(dir, 'no-rootfs'), 0)).toBeUndefined();
  });
});
