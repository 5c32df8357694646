// linux.sysctl: /proc/sys is only partly namespaced, so a key is allowed only
// when the container has its own namespace of the kind the key belongs to
// (runc's `sysctl` check). Anything else would change the host.

import type { NamespaceType } from '../types.js';
import { hasPrivateNamespace, mapEntries, pointer, q, type Check } from './context.js';

/**
 * sysctl(8) accepts "/" as separator in place of "."; when the first
 * separator is "/", the two are swapped (net/ipv4/conf/eno2.100/rp_filter ->
 * net.ipv4.conf.eno2/100.rp_filter), as runc does.
 */
export function normalizeSysctlKey(key: string): string {
  const first = key.search(/[./]/);
  if (first < 0 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

interface Owner {
  readonly ns: NamespaceType;
  readonly what: string;
}

/** The namespace a sysctl belongs to, or undefined if it is not namespaced. */
export function sysctlNamespace(key: string): Owner | undefined {
  if (/^kernel\.(msg|sem|shm)/.test(key) || key.startsWith('fs.mqueue.')) return { ns: 'ipc', what: 'IPC' };
  if (key.startsWith('net.')) return { ns: 'network', what: 'network' };
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return { ns: 'uts', what: 'UTS' };
  return undefined;
}

export const sysctls: Check = {
  name: 'sysctls',
  run(spec, host, report) {
    for (const [raw, value] of mapEntries(spec.linux?.sysctl)) {
      const at = pointer('linux', 'sysctl', raw);
      const key = normalizeSysctlKey(raw);
      // Each component becomes one directory of /proc/sys ("/" inside a component stands for ".").
      const parts = key.split('.').map((p) => p.replace(/\//g, '.'));
      if (parts.some((p) => p === '' || p === '.' || p === '..')) {
        report.error(at, `${q(raw)} is not a valid sysctl name`);
        continue;
      }
      const owner = sysctlNamespace(key);
      if (owner === undefined) {
        report.error(at, `sysctl ${q(key)} is not namespaced: setting it would change the host; allowed are net.* (network namespace), kernel.msg*, kernel.sem*, kernel.shm*, fs.mqueue.* (IPC namespace), kernel.hostname and kernel.domainname (UTS namespace)`);
        continue;
      }
      if (!hasPrivateNamespace(spec, host, owner.ns)) {
        report.error(at, `sysctl ${q(key)} needs a ${owner.what} namespace of the container's own: add {"type": "${owner.ns}"} to /linux/namespaces`);
        continue;
      }
      // Two values for the same name: the dedicated field and the sysctl.
      const field = key === 'kernel.hostname' ? 'hostname' : key === 'kernel.domainname' ? 'domainname' : undefined;
      if (field !== undefined) {
        const direct = spec[field];
        if (direct !== undefined && direct !== '' && direct !== value) {
          report.error(at, `sysctl ${key}=${q(value)} contradicts /${field} ${q(direct)}; set only /${field}`);
        }
      }
    }
  },
};
