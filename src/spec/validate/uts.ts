// hostname and domainname change the UTS namespace they are set in.

import { findNamespace, hasPrivateNamespace, type Check } from './context.js';

/**
 * Setting them needs a UTS namespace of the container's own (runc: "unable to
 * set hostname without a private UTS namespace"). Joining another
 * container's UTS namespace by path is allowed, as runc allows it: Podman
 * sets the pod's hostname on containers that join the pod's namespace. The
 * runtime's own UTS namespace (when the host can tell) is refused.
 */
export const utsNames: Check = {
  name: 'utsNames',
  run(spec, host, report) {
    for (const field of ['hostname', 'domainname'] as const) {
      const value = spec[field];
      if (value === undefined || value === '') continue;
      if (findNamespace(spec, 'uts') === undefined) {
        report.error(`/${field}`, `${field} can only be set with a UTS namespace: add {"type": "uts"} to /linux/namespaces`);
      } else if (!hasPrivateNamespace(spec, host, 'uts')) {
        report.error(`/${field}`, `${field} would change the host's hostname: the UTS namespace path is the runtime's own`);
      }
    }
  },
};
