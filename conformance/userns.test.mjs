// @ts-check
// config-linux.md#user-namespace-mappings: uid/gid mappings of a new user
// namespace, seen from inside (/proc/self/uid_map) and from the host.
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { setNamespace } from './lib/config.mjs';
import { procStatus } from './lib/observe.mjs';

const req = area('userns');

/**
 * A config with a new user namespace. The default mounts need gid 5 (devpts)
 * mapped, so the first range covers 0..65535.
 * @param {any} cfg
 * @param {{ uid?: object[], gid?: object[] }} [maps]
 */
function withUserns(cfg, maps = {}) {
  setNamespace(cfg, 'user');
  cfg.linux.uidMappings = maps.uid || [{ containerID: 0, hostID: 100000, size: 65536 }];
  cfg.linux.gidMappings = maps.gid || [{ containerID: 0, hostID: 200000, size: 65536 }];
  return cfg;
}

/** @param {string} text */
function mapLines(text) {
  return text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
}

req(
  {
    id: 'uid-gid-map',
    section: 'config-linux.md#user-namespace-mappings',
    title: 'uidMappings and gidMappings are the maps of the user namespace',
    quote: '"uidMappings (array of objects, OPTIONAL) describes the user namespace uid mappings from the host to the container." "gidMappings ... describes the user namespace gid mappings from the host to the container."',
  },
  async (t, k) => {
    const cfg = withUserns(k.config({ script: 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map' }));
    const [uid, gid] = (await k.mustRun(cfg)).split('--\n');
    t.same(mapLines(uid || ''), [[0, 100000, 65536]], 'uid_map');
    t.same(mapLines(gid || ''), [[0, 200000, 65536]], 'gid_map');
  },
);

req(
  {
    id: 'several-ranges',
    section: 'config-linux.md#user-namespace-mappings',
    title: 'every mapping entry is applied',
    quote: '"Each entry has the following structure: containerID ... hostID ... size (uint32, REQUIRED) - is the number of ids to be mapped."',
  },
  async (t, k) => {
    const uid = [
      { containerID: 0, hostID: 100000, size: 1000 },
      { containerID: 1000, hostID: 300000, size: 64536 },
    ];
    const gid = [
      { containerID: 0, hostID: 200000, size: 100 },
      { containerID: 100, hostID: 400000, size: 65436 },
    ];
    const cfg = withUserns(k.config({ script: 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map' }), { uid, gid });
    const [u, g] = (await k.mustRun(cfg)).split('--\n');
    t.same(mapLines(u || ''), uid.map((m) => [m.containerID, m.hostID, m.size]), 'uid_map has both ranges');
    t.same(mapLines(g || ''), gid.map((m) => [m.containerID, m.hostID, m.size]), 'gid_map has both ranges');
  },
);

req(
  {
    id: 'host-ids',
    section: 'config-linux.md#user-namespace-mappings',
    title: 'the container root is the mapped host id on the host',
    quote: '"hostID (uint32, REQUIRED) - is the starting uid/gid on the host to be mapped to containerID."',
  },
  async (t, k) => {
    const cfg = withUserns(k.config({ script: 'id -u; id -g; sleep 30' }));
    const c = await k.mustStart(cfg);
    k.need(await c.waitOutput('\n', 5000), 'the container printed its ids');
    await new Promise((r) => setTimeout(r, 100));
    const [u, g] = c.output().trim().split('\n');
    t.equal(u, '0', 'uid 0 inside');
    t.equal(g, '0', 'gid 0 inside');
    const st = procStatus((await c.state()).json?.pid);
    t.equal(st?.Uid?.split('\t')[0], '100000', 'host uid of the container process');
    t.equal(st?.Gid?.split('\t')[0], '200000', 'host gid of the container process');
  },
);

req(
  {
    id: 'user-in-userns',
    section: 'config.md#user',
    title: 'process.user ids are container ids, mapped on the host',
    quote: '"uid (int, REQUIRED) specifies the user ID in the container namespace."',
  },
  async (t, k) => {
    const cfg = withUserns(k.config({ args: ['sleep', '30'] }));
    cfg.process.user = { uid: 1000, gid: 1001 };
    const c = await k.mustStart(cfg);
    const st = procStatus((await c.state()).json?.pid);
    t.equal(st?.Uid?.split('\t')[0], '101000', 'host uid = hostID + 1000');
    t.equal(st?.Gid?.split('\t')[0], '201001', 'host gid = hostID + 1001');
  },
);

req(
  {
    id: 'files-created-mapped',
    section: 'config-linux.md#user-namespace-mappings',
    title: 'files the container root creates belong to the mapped host ids',
    quote: '"uidMappings (array of objects, OPTIONAL) describes the user namespace uid mappings from the host to the container."',
  },
  async (t, k) => {
    const cfg = withUserns(k.config({ script: 'touch /results/made-inside', results: true }));
    await k.mustRun(cfg);
    const st = fs.statSync(path.join(k.results, 'made-inside'));
    t.equal(st.uid, 100000, 'owner uid on the host');
    t.equal(st.gid, 200000, 'owner gid on the host');
  },
);

req(
  {
    id: 'rootfs-ownership-unchanged',
    section: 'config-linux.md#user-namespace-mappings',
    title: 'the runtime does not chown the root filesystem to realize the mapping',
    quote: '"The runtime SHOULD NOT modify the ownership of referenced filesystems to realize the mapping."',
  },
  async (t, k) => {
    const cfg = withUserns(k.config({ script: 'true' }));
    const bundle = k.bundle(cfg);
    await k.mustRun(bundle);
    for (const p of ['rootfs', 'rootfs/bin', 'rootfs/bin/sh', 'rootfs/etc/passwd', 'rootfs/tmp']) {
      t.equal(fs.lstatSync(path.join(bundle, p)).uid, 0, `${p} still belongs to host root`);
    }
  },
);

req(
  {
    id: 'unmapped-ids-overflow',
    section: 'config-linux.md#user-namespace-mappings',
    title: 'host files of unmapped ids appear as the overflow id inside',
    quote: '"uidMappings (array of objects, OPTIONAL) describes the user namespace uid mappings from the host to the container." (ids outside the mapping are not mapped)',
  },
  async (t, k) => {
    const cfg = withUserns(k.config({ script: 'stat -L -c "%u %g" /bin/sh' }));
    const out = (await k.mustRun(cfg)).trim();
    const overflow = fs.readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();
    const overflowg = fs.readFileSync('/proc/sys/kernel/overflowgid', 'utf8').trim();
    t.equal(out, `${overflow} ${overflowg}`, 'the host root-owned /bin/sh shows as the overflow ids');
  },
);
