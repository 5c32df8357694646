// linux.namespaces: known, unique, supported by the kernel, joined by absolute paths that exist.

import type { NamespaceType } from '../types.js';
import { entries, isAbsolute, pointer, q, type Check } from './context.js';

export const NAMESPACE_TYPES: readonly NamespaceType[] = ['mount', 'pid', 'network', 'uts', 'ipc', 'user', 'cgroup', 'time'];

const KNOWN: ReadonlySet<string> = new Set(NAMESPACE_TYPES);

/**
 * Each type at most once (config-linux.md: duplicates MUST be an error), only
 * the spec's types, and only types this kernel has (runc checks user, cgroup
 * and time; every type is checked here).
 */
export const namespaceTypes: Check = {
  name: 'namespaceTypes',
  run(spec, host, report) {
    const seen = new Map<string, number>();
    for (const [i, ns] of entries(spec.linux?.namespaces)) {
      const at = pointer('linux', 'namespaces', i, 'type');
      if (!KNOWN.has(ns.type)) {
        report.error(at, `unknown namespace type ${q(ns.type)}; allowed: ${NAMESPACE_TYPES.join(', ')}`);
        continue;
      }
      const first = seen.get(ns.type);
      if (first !== undefined) {
        report.error(at, `namespace type ${q(ns.type)} is listed twice (first at /linux/namespaces/${first})`);
        continue;
      }
      seen.set(ns.type, i);
      if (!host.namespaces.has(ns.type)) {
        report.error(at, `the kernel does not support ${ns.type} namespaces`);
      }
    }
  },
};

/** A namespace path MUST be absolute (config-linux.md) and must exist to be joined. */
export const namespacePaths: Check = {
  name: 'namespacePaths',
  run(spec, host, report) {
    for (const [i, ns] of entries(spec.linux?.namespaces)) {
      if (ns.path === undefined) continue;
      const at = pointer('linux', 'namespaces', i, 'path');
      if (ns.path === '') {
        // specs-go drops an empty path (omitempty): treat it as "create a new namespace", as runc does.
        continue;
      }
      if (!isAbsolute(ns.path)) {
        report.error(at, `namespace path ${q(ns.path)} must be absolute`);
      } else if (!host.exists(ns.path)) {
        report.error(at, `namespace path ${ns.path} does not exist`);
      }
    }
  },
};
