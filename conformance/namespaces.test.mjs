// @ts-check
// config-linux.md#namespaces: new namespaces, inherited ones, joined ones,
// compared through /proc/<pid>/ns inodes inside and outside the container.
import { area } from './lib/kit.mjs';
import { NS_FILE, namespaceHolder, nsLink } from './lib/observe.mjs';
import { removeNamespace, setNamespace } from './lib/config.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('namespaces');

const TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];
const PRINT_NS = 'for n in pid net mnt ipc uts user cgroup time; do echo "$n $(readlink /proc/self/ns/$n)"; done';

/** @param {string} out @returns {Record<string, string>} */
function parseNs(out) {
  /** @type {Record<string, string>} */
  const m = {};
  for (const line of out.split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v) m[k] = v;
  }
  return m;
}

/** A user namespace needs mappings; cover the ids the default mounts use (devpts gid=5). */
/** @param {any} cfg */
function addUserNs(cfg) {
  setNamespace(cfg, 'user');
  cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  return cfg;
}

for (const type of TYPES) {
  const file = /** @type {string} */ (NS_FILE[type]);
  req(
    {
      id: `new-${type}`,
      section: 'config-linux.md#namespaces',
      title: `a listed ${type} namespace without path is a new namespace`,
      quote: '"If path is not specified, the runtime MUST create a new container namespace of type type."',
    },
    async (t, k) => {
      const cfg = k.config({ script: PRINT_NS });
      if (type === 'user') addUserNs(cfg);
      else setNamespace(cfg, type);
      const ns = parseNs(await k.mustRun(cfg));
      const host = nsLink('self', file);
      k.need(Boolean(ns[file]), `the container can read its ${file} namespace link (${JSON.stringify(ns)})`);
      t.not(ns[file], host, `container ${ns[file]} differs from the runtime's ${host}`);
    },
  );
}

for (const type of TYPES) {
  const file = /** @type {string} */ (NS_FILE[type]);
  req(
    {
      id: `inherit-${type}`,
      section: 'config-linux.md#namespaces',
      title: `an unlisted ${type} namespace is the runtime's`,
      quote: '"If a namespace type is not specified in the namespaces array, the container MUST inherit the runtime namespace of that type."',
    },
    async (t, k) => {
      const cfg = k.config({ script: PRINT_NS });
      removeNamespace(cfg, type);
      if (type === 'uts') delete cfg.hostname; // a hostname needs a uts namespace
      const ns = parseNs(await k.mustRun(cfg));
      const host = nsLink('self', file);
      k.need(Boolean(ns[file]), `the container can read its ${file} namespace link (${JSON.stringify(ns)})`);
      t.equal(ns[file], host, `container ${file} namespace is the runtime's`);
    },
  );
}

/** unshare(1) flag and /proc ns file for the joinable types */
const JOIN = /** @type {Record<string, string>} */ ({ network: '--net', ipc: '--ipc', uts: '--uts', pid: '--pid', cgroup: '--cgroup' });
for (const [type, flag] of Object.entries(JOIN)) {
  const file = /** @type {string} */ (NS_FILE[type]);
  req(
    {
      id: `join-${type}`,
      section: 'config-linux.md#namespaces',
      title: `a ${type} namespace with a path is joined`,
      quote: '"The runtime MUST place the container process in the namespace associated with that path."',
    },
    async (t, k) => {
      const holder = await namespaceHolder([flag]);
      k.onCleanup(holder.kill);
      const target = nsLink(holder.nsPid, file);
      k.need(Boolean(target) && target !== nsLink('self', file), `a helper process holds a new ${file} namespace (${target})`);
      const cfg = k.config({ script: PRINT_NS });
      setNamespace(cfg, type, `/proc/${holder.nsPid}/ns/${file}`);
      const ns = parseNs(await k.mustRun(cfg));
      t.equal(ns[file], target, `the container is in the helper's ${file} namespace`);
    },
  );
}

req(
  {
    id: 'join-wrong-type',
    section: 'config-linux.md#namespaces',
    title: 'a path to a namespace of another type is an error',
    quote: '"The runtime MUST generate an error if path is not associated with a namespace of type type."',
  },
  async (t, k) => {
    const net = await namespaceHolder(['--net']);
    k.onCleanup(net.kill);
    const uts = await namespaceHolder(['--uts']);
    k.onCleanup(uts.kill);
    // control: joining a network namespace by path works
    const control = k.config({ script: 'true' });
    setNamespace(control, 'network', `/proc/${net.nsPid}/ns/net`);
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    setNamespace(cfg, 'network', `/proc/${uts.nsPid}/ns/uts`);
    await k.expectCreateFails(control, cfg, 'the network namespace path names a uts namespace');
  },
);

req(
  {
    id: 'join-missing-path',
    section: 'config-linux.md#namespaces',
    title: 'a namespace path that does not exist is an error',
    quote: '"The runtime MUST place the container process in the namespace associated with that path." — "If the runtime is unable to create the environment specified in the config.json, it MUST generate an error."',
  },
  async (t, k) => {
    const net = await namespaceHolder(['--net']);
    k.onCleanup(net.kill);
    const control = k.config({ script: 'true' });
    setNamespace(control, 'network', `/proc/${net.nsPid}/ns/net`);
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    setNamespace(cfg, 'network', `/proc/999999999/ns/net`);
    await k.expectCreateFails(control, cfg, 'the namespace path does not exist');
  },
);

req(
  {
    id: 'duplicate-type',
    section: 'config-linux.md#namespaces',
    title: 'two namespaces of the same type are an error',
    quote: '"If a namespaces field contains duplicated namespaces with same type, the runtime MUST generate an error."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.linux.namespaces.push({ type: 'ipc' });
    await k.expectCreateFails(k.config({ script: 'true' }), cfg, 'two ipc namespaces');
  },
);

req(
  {
    id: 'pid-isolation',
    section: 'config-linux.md#namespaces',
    title: 'in a new pid namespace the process sees only its own processes',
    quote: '"pid processes inside the container will only be able to see other processes inside the same container or inside the same pid namespace."',
  },
  async (t, k) => {
    const out = await k.mustRun(k.config({ script: 'echo "self $$"; ls /proc | grep -E "^[0-9]+$" | wc -l' }));
    const lines = out.trim().split('\n');
    t.equal(lines[0], 'self 1', 'the container process is pid 1');
    t.ok(Number(lines[1]) <= 4, `only a few pids are visible (${lines[1]})`);
  },
);

req(
  {
    id: 'network-isolation',
    section: 'config-linux.md#namespaces',
    title: 'a new network namespace has its own network stack (loopback only)',
    quote: '"network the container will have its own network stack."',
  },
  async (t, k) => {
    const out = await k.mustRun(k.config({ script: 'ls /sys/class/net' }));
    t.same(out.trim().split(/\s+/), ['lo'], 'only the loopback device');
  },
);

req(
  {
    id: 'mount-isolation',
    section: 'config-linux.md#namespaces',
    title: "mounts made in the container do not appear in the runtime's mount namespace",
    quote: '"mount the container will have an isolated mount table."',
  },
  async (t, k) => {
    // The suite runs in a private mount namespace, where nothing could
    // propagate back anyway: make the case dir a shared mount, as / is on a
    // systemd host, so that a runtime leaking mounts back would be seen.
    const { spawnSync } = await import('node:child_process');
    const { mountsUnder } = await import('./lib/observe.mjs');
    k.need(spawnSync('mount', ['--bind', k.dir, k.dir]).status === 0 && spawnSync('mount', ['--make-shared', k.dir]).status === 0, 'the case dir is a shared mount');
    k.onCleanup(() => {
      spawnSync('umount', ['-R', '-l', k.dir]);
    });
    const cfg = k.config({ script: 'mkdir -p /mnt/x && mount -t tmpfs none /mnt/x && echo mounted; sleep 30' });
    cfg.process.capabilities.bounding.push('CAP_SYS_ADMIN');
    cfg.process.capabilities.effective.push('CAP_SYS_ADMIN');
    cfg.process.capabilities.permitted.push('CAP_SYS_ADMIN');
    const c = await k.mustStart(cfg);
    k.need(await c.waitOutput('mounted'), 'the container mounted a tmpfs');
    const before = mountsUnder(k.dir).filter((m) => m !== k.dir);
    t.same(before, [], `no mount of the container appears under the case dir in the runtime namespace (${before.join(', ')})`);
  },
);
