// linux.netDevices (config-linux.md "Network Devices").

import { findNamespace, mapEntries, pointer, q, type Check } from './context.js';

/** IFNAMSIZ is 16 bytes with the terminating NUL. */
const MAX_IFNAME_BYTES = 15;

/** Why `name` is not a valid interface name (the kernel's dev_valid_name), or undefined. */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (Buffer.byteLength(name) > MAX_IFNAME_BYTES) return `is longer than ${MAX_IFNAME_BYTES} bytes`;
  if (name === '.' || name === '..') return 'is "." or ".."';
  if (/[/:\s]/.test(name)) return 'contains "/", ":" or white space';
  return undefined;
}

/**
 * Devices move into the container's network namespace, so there must be one
 * (runc: "unable to move network devices without a NET namespace"); host
 * names and new names are valid interface names; no two devices end up with
 * the same name in the container.
 */
export const netDevices: Check = {
  name: 'netDevices',
  run(spec, _host, report) {
    const devices = mapEntries(spec.linux?.netDevices);
    if (devices.length === 0) return;
    if (findNamespace(spec, 'network') === undefined) {
      report.error('/linux/netDevices', 'network devices can only be moved into a network namespace: add {"type": "network"} to /linux/namespaces');
    }
    const targets = new Map<string, string>();
    for (const [hostName, dev] of devices) {
      const at = pointer('linux', 'netDevices', hostName);
      const hostProblem = interfaceNameProblem(hostName);
      if (hostProblem !== undefined) report.error(at, `host interface name ${q(hostName)} ${hostProblem}`);
      const target = dev.name === undefined || dev.name === '' ? hostName : dev.name;
      if (dev.name !== undefined && dev.name !== '') {
        const problem = interfaceNameProblem(dev.name);
        if (problem !== undefined) report.error(pointer('linux', 'netDevices', hostName, 'name'), `interface name ${q(dev.name)} ${problem}`);
      }
      const other = targets.get(target);
      if (other !== undefined) report.error(at, `${q(hostName)} and ${q(other)} would both be named ${q(target)} in the container`);
      else targets.set(target, hostName);
    }
  },
};
