// mounts (config.md "Mounts", "Linux mount options"), and the paths the
// runtime masks or makes read-only.

import { entries, findNamespace, isAbsolute, pointer, q, type Check } from './context.js';
import { checkMappingList } from './idmappings.js';

/**
 * Linux: a destination SHOULD be absolute; a relative one is deprecated and
 * MUST be taken as relative to "/" (config.md). So relative is a warning, as
 * in runc (mountsWarn), and empty is an error.
 */
export const mountDestinations: Check = {
  name: 'mountDestinations',
  run(spec, _host, report) {
    for (const [i, m] of entries(spec.mounts)) {
      const at = pointer('mounts', i, 'destination');
      if (m.destination === '') report.error(at, 'mount destination must not be empty');
      else if (!isAbsolute(m.destination)) {
        report.warn(at, `relative mount destination ${q(m.destination)} is deprecated; it is taken as /${m.destination}`);
      }
    }
  },
};

const IDMAP_OPTIONS: ReadonlySet<string> = new Set(['idmap', 'ridmap']);

/**
 * Idmapped mounts (config.md): uidMappings and gidMappings come together;
 * `idmap`/`ridmap` without mappings of the mount's own take the container's
 * user namespace mappings, so they need a user namespace; mappings without
 * either option SHOULD NOT happen (applied as `idmap`, with a warning).
 */
export const mountIdMappings: Check = {
  name: 'mountIdMappings',
  run(spec, _host, report) {
    const userns = findNamespace(spec, 'user') !== undefined;
    for (const [i, m] of entries(spec.mounts)) {
      const uid = m.uidMappings ?? [];
      const gid = m.gidMappings ?? [];
      const options = (m.options ?? []).filter((o) => IDMAP_OPTIONS.has(o));
      const hasMappings = uid.length > 0 || gid.length > 0;
      if (hasMappings && uid.length === 0) report.error(pointer('mounts', i, 'uidMappings'), 'gidMappings is given without uidMappings: they must be given together');
      if (hasMappings && gid.length === 0) report.error(pointer('mounts', i, 'gidMappings'), 'uidMappings is given without gidMappings: they must be given together');
      if (new Set(options).size > 1) {
        report.error(pointer('mounts', i, 'options'), 'use either idmap or ridmap, not both');
      }
      if (options.length > 0 && !hasMappings && !userns) {
        report.error(pointer('mounts', i, 'options'), `${options[0]} without uidMappings and gidMappings uses the container's user namespace mappings, but there is no user namespace`);
      }
      if (hasMappings && options.length === 0) {
        report.warn(pointer('mounts', i), 'uidMappings/gidMappings SHOULD come with the idmap or ridmap option; applied as idmap');
      }
      checkMappingList(uid, ['mounts', i, 'uidMappings'], report);
      checkMappingList(gid, ['mounts', i, 'gidMappings'], report);
    }
  },
};

/**
 * maskedPaths and readonlyPaths MUST be absolute (config-linux.md), and they
 * need a mount namespace of the container's own (runc: "unable to restrict
 * sys entries without a private MNT namespace").
 */
export const maskedAndReadonlyPaths: Check = {
  name: 'maskedAndReadonlyPaths',
  run(spec, _host, report) {
    for (const field of ['maskedPaths', 'readonlyPaths'] as const) {
      const list = spec.linux?.[field] ?? [];
      for (const [i, path] of entries(list)) {
        if (!isAbsolute(path)) report.error(pointer('linux', field, i), `${q(path)} must be an absolute path in the container`);
      }
      if (list.length > 0 && findNamespace(spec, 'mount') === undefined) {
        report.error(pointer('linux', field), `${field} need a mount namespace: add {"type": "mount"} to /linux/namespaces`);
      }
    }
  },
};
