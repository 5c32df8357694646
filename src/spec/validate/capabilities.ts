// process.capabilities. config.md (1.3): a capability that cannot be mapped
// to the kernel or cannot be granted MUST be logged as a warning, and
// runtimes SHOULD NOT fail because of it. So everything here is a warning.

import { capabilityNumber } from '../../capabilities.js';
import type { CapabilitySet } from '../types.js';
import { entries, pointer, q, type Check } from './context.js';

const SETS: readonly CapabilitySet[] = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'];

export const capabilityNames: Check = {
  name: 'capabilityNames',
  run(spec, host, report) {
    const caps = spec.process?.capabilities;
    if (caps === undefined) return;
    for (const set of SETS) {
      for (const [i, name] of entries(caps[set])) {
        const at = pointer('process', 'capabilities', set, i);
        const number = capabilityNumber(name);
        if (number === undefined) {
          report.warn(at, `unknown capability ${q(name)} is ignored`);
        } else if (number > host.lastCap) {
          report.warn(at, `capability ${name} is not supported by this kernel (its last capability is ${host.lastCap}) and is ignored`);
        }
      }
    }
  },
};

/**
 * Sets the kernel will not honour as written: an effective capability must be
 * permitted (capset(2) fails otherwise), an ambient one must be permitted and
 * inheritable (PR_CAP_AMBIENT_RAISE fails otherwise). Such capabilities
 * cannot be granted: a warning, and the plan leaves them out.
 */
export const capabilitySubsets: Check = {
  name: 'capabilitySubsets',
  run(spec, _host, report) {
    const caps = spec.process?.capabilities;
    if (caps === undefined) return;
    const permitted = new Set(caps.permitted ?? []);
    const inheritable = new Set(caps.inheritable ?? []);
    for (const [i, name] of entries(caps.effective)) {
      if (!permitted.has(name)) report.warn(pointer('process', 'capabilities', 'effective', i), `effective capability ${name} is not in the permitted set and cannot be granted`);
    }
    for (const [i, name] of entries(caps.ambient)) {
      if (!permitted.has(name) || !inheritable.has(name)) {
        report.warn(pointer('process', 'capabilities', 'ambient', i), `ambient capability ${name} must also be permitted and inheritable; it cannot be raised`);
      }
    }
  },
};
