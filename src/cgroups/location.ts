// Where a container's cgroup lives in the v2 (unified) hierarchy: pure
// decisions over the text of /proc/self/mountinfo and /proc/self/cgroup, with
// runc's rules for linux.cgroupsPath (fs2 driver, defaultDirPath).
import { posix } from 'node:path';
import { TsrunError } from '../errors.js';

/** The mount point of the cgroup2 filesystem: /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one. */
export function findUnifiedMount(mountinfo: string): string | undefined {
  const mounts: string[] = [];
  for (const line of mountinfo.split('\n')) {
    // fields: id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const sep = line.indexOf(' - ');
    if (sep === -1) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype !== 'cgroup2') continue;
    const mountPoint = line.slice(0, sep).split(' ')[4];
    if (mountPoint !== undefined) mounts.push(unescapeMountPath(mountPoint));
  }
  return mounts.find((m) => m === '/sys/fs/cgroup') ?? mounts.find((m) => m === '/sys/fs/cgroup/unified') ?? mounts[0];
}

/** A mount point as /proc/self/mountinfo writes it, unescaped (space, tab, newline and backslash are octal escapes). */
export function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The v2 cgroup of a process, from /proc/<pid>/cgroup (the `0::` line). */
export function unifiedCgroupOf(procCgroup: string): string {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) throw new TsrunError('cannot find this process\'s cgroup v2 path in /proc/self/cgroup');
  return line.slice(3) || '/';
}

/**
 * runc's rules: an absolute cgroupsPath is relative to the hierarchy's root;
 * a relative one, and the default `<id>`, are relative to tsrun's own cgroup.
 * The result never leaves the mount (`..` is resolved before joining).
 */
export function containerCgroupDir(mount: string, ownCgroup: string, id: string, cgroupsPath: string | undefined): string {
  const inner = cgroupsPath === undefined || cgroupsPath === '' ? id : cgroupsPath;
  const absolute = inner.startsWith('/') ? inner : posix.join(ownCgroup, inner);
  const clean = posix.normalize(`/${absolute}`);
  if (clean === '/') throw new TsrunError(`linux.cgroupsPath ${JSON.stringify(cgroupsPath)}: the root cgroup cannot hold a container`);
  return posix.join(mount, clean);
}
