import { describe, expect, it } from 'vitest';
import { containerCgroupDir, findUnifiedMount, unifiedCgroupOf } from '../../src/cgroups/location.js';

const HYBRID = `25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw
31 25 0:27 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
42 31 0:39 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
`;
const PURE = `31 25 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
`;

describe('cgroup location', () => {
  it('finds the unified mount on hybrid and pure v2 hosts', () => {
    expect(findUnifiedMount(HYBRID)).toBe('/sys/fs/cgroup/unified');
    expect(findUnifiedMount(PURE)).toBe('/sys/fs/cgroup');
    expect(findUnifiedMount('1 2 0:1 / / rw - ext4 /dev/sda rw\n')).toBeUndefined();
  });

  it('reads the v2 cgroup of a process', () => {
    expect(unifiedCgroupOf('1:cpu:/\n0::/user.slice/x.scope\n')).toBe('/user.slice/x.scope');
    expect(unifiedCgroupOf('0::/\n')).toBe('/');
    expect(() => unifiedCgroupOf('1:cpu:/\n')).toThrow(/cgroup v2/);
  });

  it('applies runc\'s rules for cgroupsPath', () => {
    expect(containerCgroupDir('/sys/fs/cgroup', '/own', 'c1', '/default/c1')).toBe('/sys/fs/cgroup/default/c1');
    expect(containerCgroupDir('/sys/fs/cgroup', '/own', 'c1', 'pod/c1')).toBe('/sys/fs/cgroup/own/pod/c1');
    expect(containerCgroupDir('/sys/fs/cgroup/unified', '/', 'c1', undefined)).toBe('/sys/fs/cgroup/unified/c1');
  });

  it('never leaves the hierarchy and never uses its root', () => {
    expect(containerCgroupDir('/sys/fs/cgroup', '/', 'c', '/../../etc')).toBe('/sys/fs/cgroup/etc');
    expect(() => containerCgroupDir('/sys/fs/cgroup', '/', 'c', '/')).toThrow(/root cgroup/);
  });
});
