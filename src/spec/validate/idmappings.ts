// User namespace id mappings (config-linux.md "User namespace mappings") and
// the kernel's rules for uid_map/gid_map (user_namespaces(7)).

import type { IDMapping } from '../types.js';
import { entries, findNamespace, pointer, type Check, type Reporter } from './context.js';

/** uid_map/gid_map accept at most this many lines (user_namespaces(7), Linux 4.15+). */
const MAX_EXTENTS = 340;
/** Largest valid first+size: the kernel refuses a range whose end overflows 32 bits. */
const ID_LIMIT = 0xffff_ffff;

function overlaps(a: { start: number; size: number }, b: { start: number; size: number }): boolean {
  return a.start < b.start + b.size && b.start < a.start + a.size;
}

/**
 * Report what the kernel would refuse in one list of mappings: empty ranges,
 * ranges running past 2^32-1, ranges that overlap on the container side or on
 * the host side, more lines than uid_map takes.
 */
export function checkMappingList(list: readonly IDMapping[], at: readonly (string | number)[], report: Reporter): void {
  if (list.length > MAX_EXTENTS) {
    report.error(pointer(...at), `${list.length} mappings: the kernel accepts at most ${MAX_EXTENTS}`);
  }
  list.forEach((m, i) => {
    const here = [...at, i];
    if (m.size <= 0) {
      report.error(pointer(...here, 'size'), 'mapping size must be greater than 0');
      return;
    }
    if (m.containerID + m.size > ID_LIMIT) {
      report.error(pointer(...here), `container range ${m.containerID}..${m.containerID + m.size - 1} goes past the largest id ${ID_LIMIT - 1}`);
    }
    if (m.hostID + m.size > ID_LIMIT) {
      report.error(pointer(...here), `host range ${m.hostID}..${m.hostID + m.size - 1} goes past the largest id ${ID_LIMIT - 1}`);
    }
    for (let j = 0; j < i; j++) {
      const other = list[j];
      if (other === undefined || other.size <= 0) continue;
      if (overlaps({ start: m.containerID, size: m.size }, { start: other.containerID, size: other.size })) {
        report.error(pointer(...here), `container range ${m.containerID}..${m.containerID + m.size - 1} overlaps mapping ${j}`);
      }
      if (overlaps({ start: m.hostID, size: m.size }, { start: other.hostID, size: other.size })) {
        report.error(pointer(...here), `host range ${m.hostID}..${m.hostID + m.size - 1} overlaps mapping ${j}`);
      }
    }
  });
}

/** True if `id` falls in the container side of one of the mappings. */
export function isMapped(list: readonly IDMapping[], id: number): boolean {
  return list.some((m) => id >= m.containerID && id < m.containerID + m.size);
}

/**
 * Mappings need a user namespace (runc: "User namespace mappings specified,
 * but USER namespace isn't enabled"); a new user namespace needs both uid and
 * gid mappings; the two lists come together; each list is one the kernel takes.
 */
export const userNamespaceMappings: Check = {
  name: 'userNamespaceMappings',
  run(spec, _host, report) {
    const uid = spec.linux?.uidMappings ?? [];
    const gid = spec.linux?.gidMappings ?? [];
    const userns = findNamespace(spec, 'user');
    if (userns === undefined) {
      if (uid.length > 0) report.error('/linux/uidMappings', 'uid mappings are given but there is no user namespace in /linux/namespaces');
      if (gid.length > 0) report.error('/linux/gidMappings', 'gid mappings are given but there is no user namespace in /linux/namespaces');
    } else {
      const joined = userns.ns.path !== undefined && userns.ns.path !== '';
      if (!joined || uid.length > 0 || gid.length > 0) {
        const why = joined ? 'uid and gid mappings must be given together' : 'a new user namespace needs both uid and gid mappings';
        if (uid.length === 0) report.error('/linux/uidMappings', why);
        if (gid.length === 0) report.error('/linux/gidMappings', why);
      }
    }
    checkMappingList(uid, ['linux', 'uidMappings'], report);
    checkMappingList(gid, ['linux', 'gidMappings'], report);
  },
};

/**
 * In a new user namespace the process's uid, gid and additional gids must be
 * mapped, or setresuid/setresgid/setgroups fail with EINVAL.
 */
export const processUserMapped: Check = {
  name: 'processUserMapped',
  run(spec, _host, report) {
    const user = spec.process?.user;
    const userns = findNamespace(spec, 'user');
    if (user === undefined || userns === undefined) return;
    const uid = spec.linux?.uidMappings ?? [];
    const gid = spec.linux?.gidMappings ?? [];
    if (uid.length > 0 && !isMapped(uid, user.uid)) {
      report.error('/process/user/uid', `uid ${user.uid} is not mapped by /linux/uidMappings`);
    }
    if (gid.length > 0) {
      if (!isMapped(gid, user.gid)) report.error('/process/user/gid', `gid ${user.gid} is not mapped by /linux/gidMappings`);
      for (const [i, g] of entries(user.additionalGids)) {
        if (!isMapped(gid, g)) report.error(pointer('process', 'user', 'additionalGids', i), `gid ${g} is not mapped by /linux/gidMappings`);
      }
    }
  },
};
