// What an unprivileged caller cannot do (runc libcontainer/configs/validate/rootless.go).

import { entries, findNamespace, pointer, q, type Check } from './context.js';
import { isMapped } from './idmappings.js';

/**
 * Rootless: a user namespace is required, with mappings unless it is joined
 * by path; uid=/gid= mount options must name ids the namespace maps;
 * idmapped mounts need CAP_SYS_ADMIN in the initial user namespace; moving
 * network devices needs CAP_NET_ADMIN there.
 */
export const rootless: Check = {
  name: 'rootless',
  run(spec, host, report) {
    if (!host.rootless) return;
    const userns = findNamespace(spec, 'user');
    if (userns === undefined) {
      report.error('/linux/namespaces', 'rootless containers need a user namespace: add {"type": "user"} to /linux/namespaces');
    }
    const uid = spec.linux?.uidMappings ?? [];
    const gid = spec.linux?.gidMappings ?? [];
    for (const [i, m] of entries(spec.mounts)) {
      for (const [j, option] of entries(m.options)) {
        const match = /^(uid|gid)=(\d+)$/.exec(option);
        if (match === null) continue;
        const kind = match[1] === 'uid' ? 'uid' : 'gid';
        const id = Number(match[2]);
        const list = kind === 'uid' ? uid : gid;
        if (userns !== undefined && list.length > 0 && !isMapped(list, id)) {
          report.error(pointer('mounts', i, 'options', j), `mount option ${q(option)}: ${kind} ${id} is not mapped in the rootless container's user namespace`);
        }
      }
      if ((m.uidMappings ?? []).length > 0 || (m.gidMappings ?? []).length > 0 || (m.options ?? []).some((o) => o === 'idmap' || o === 'ridmap')) {
        report.error(pointer('mounts', i), 'idmapped mounts are not supported rootless: they need CAP_SYS_ADMIN in the initial user namespace');
      }
    }
    if (Object.keys(spec.linux?.netDevices ?? {}).length > 0) {
      report.error('/linux/netDevices', 'network devices cannot be moved rootless: that needs CAP_NET_ADMIN in the initial user namespace');
    }
  },
};
