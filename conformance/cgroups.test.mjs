// @ts-check
// config-linux.md#control-groups in the pure cgroup v2 view (TESTING.md):
// cgroupsPath, creation and removal, the cgroup namespace, unified, hugetlb
// limits, the device allowlist, and the freezer through runc's pause/resume.
// On this machine only the hugetlb controller exists; memory, cpu, io and
// pids limits belong in the v2 VM (test/integration, test/callers).
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { cgroupV2SkipReason, rootControllers } from './lib/env.mjs';
import { cgroupPath } from './lib/observe.mjs';
import { setNamespace } from './lib/config.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('cgroups');
const CG = '/sys/fs/cgroup';
const v2Skip = cgroupV2SkipReason();
const hugetlbSkip =
  v2Skip ||
  (!rootControllers().includes('hugetlb')
    ? 'the hugetlb controller is not available at the cgroup2 root'
    : !fs.existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB')
      ? 'no 2MB huge pages on this kernel'
      : null);
const kmsgSkip = v2Skip || (readOr('/proc/sys/kernel/printk_devkmsg', '') === 'off' ? 'printk_devkmsg is off: /dev/kmsg cannot be opened for writing at all' : null);

/** @param {string} p @param {string} dflt */
function readOr(p, dflt) {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return dflt;
  }
}

/**
 * A cgroupsPath for this case (named after a container id of this run, so
 * that run.mjs can sweep it), with parent directories removed at cleanup.
 * @param {import('./lib/kit.mjs').Kit} k
 * @param {string} [sub]
 */
function casePath(k, sub = '') {
  const top = `/${k.id('cg')}`;
  k.onCleanup(() => removeTree(path.join(CG, top)));
  return sub ? `${top}/${sub}` : top;
}

/** rmdir a cgroup directory tree, deepest first (best effort). @param {string} dir */
function removeTree(dir) {
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // busy or gone
  }
}

req(
  {
    id: 'path-absolute',
    section: 'config-linux.md#cgroups-path',
    title: 'an absolute cgroupsPath is relative to the cgroup mount point',
    quote: '"In the case of an absolute path (starting with /), the runtime MUST take the path to be relative to the cgroups mount point."',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const cgp = casePath(k, 'leaf');
    const cfg = k.config({ script: 'sleep 30' });
    cfg.linux.cgroupsPath = cgp;
    const c = await k.mustCreate(cfg);
    const pid = (await c.state()).json?.pid;
    t.equal(cgroupPath(pid), cgp, `the container process is in ${cgp}`);
    t.ok(fs.existsSync(path.join(CG, cgp, 'cgroup.procs')), 'the cgroup exists under the mount point (created when missing)');
    t.ok(readOr(path.join(CG, cgp, 'cgroup.procs'), '').split('\n').includes(String(pid)), 'and lists the process');
  },
);

req(
  {
    id: 'removed-on-delete',
    section: 'runtime.md#delete',
    title: 'delete removes the cgroup the runtime created',
    quote: '"Deleting a container MUST delete the resources that were created during the create step."',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const cgp = casePath(k);
    const cfg = k.config({ script: 'true' });
    cfg.linux.cgroupsPath = cgp;
    const c = await k.mustStart(cfg);
    t.ok(fs.existsSync(path.join(CG, cgp)), 'the cgroup exists while the container does');
    await c.waitStatus('stopped');
    k.need((await c.delete()).status === 0, 'delete succeeds');
    t.notOk(fs.existsSync(path.join(CG, cgp)), 'the cgroup is gone after delete');
  },
);

req(
  {
    id: 'parent-kept',
    section: 'runtime.md#delete',
    title: 'delete keeps a parent cgroup the runtime did not create',
    quote: '"Note that resources associated with the container, but not created by this container, MUST NOT be deleted."',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const parent = casePath(k);
    fs.mkdirSync(path.join(CG, parent));
    const cfg = k.config({ script: 'true' });
    cfg.linux.cgroupsPath = `${parent}/leaf`;
    const c = await k.mustStart(cfg);
    await c.waitStatus('stopped');
    k.need((await c.delete()).status === 0, 'delete succeeds');
    t.notOk(fs.existsSync(path.join(CG, parent, 'leaf')), "the container's own cgroup is gone");
    t.ok(fs.existsSync(path.join(CG, parent)), 'the pre-existing parent cgroup is kept');
  },
);

req(
  {
    id: 'same-path-same-place',
    section: 'config-linux.md#cgroups-path',
    title: 'the same cgroupsPath attaches to the same place',
    quote: '"If the value is specified, the runtime MUST consistently attach to the same place in the cgroups hierarchy given the same value of cgroupsPath."',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const cgp = casePath(k, 'shared');
    const seen = [];
    for (let i = 0; i < 2; i++) {
      const cfg = k.config({ script: 'sleep 30' });
      cfg.linux.cgroupsPath = cgp;
      const c = await k.mustCreate(cfg);
      seen.push(cgroupPath(/** @type {number} */ ((await c.state()).json?.pid)));
      k.need((await c.delete({ force: true })).status === 0, 'delete --force succeeds');
    }
    t.same(seen, [cgp, cgp], 'both containers were placed in the same cgroup');
  },
);

req(
  {
    id: 'cgroup-namespace',
    section: 'config-linux.md#namespaces',
    title: "a new cgroup namespace is rooted at the container's cgroup",
    quote: '"cgroup the container will have an isolated view of the cgroup hierarchy."',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/proc/self/cgroup'] });
    cfg.linux.cgroupsPath = casePath(k);
    setNamespace(cfg, 'cgroup');
    // (on a hybrid machine /proc/self/cgroup also lists the v1 hierarchies)
    const v2 = (await k.mustRun(cfg)).split('\n').find((l) => l.startsWith('0::'));
    t.equal(v2, '0::/', 'the process sees itself at the root of the v2 hierarchy');
  },
);

req(
  {
    id: 'no-cgroup-namespace',
    section: 'config-linux.md#namespaces',
    title: "without a cgroup namespace the full cgroup path is visible",
    quote: '"If a namespace type is not specified in the namespaces array, the container MUST inherit the runtime namespace of that type."',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const cgp = casePath(k);
    const cfg = k.config({ args: ['cat', '/proc/self/cgroup'] });
    cfg.linux.cgroupsPath = cgp;
    const v2 = (await k.mustRun(cfg)).split('\n').find((l) => l.startsWith('0::'));
    t.equal(v2, `0::${cgp}`, 'the process sees its full path in the v2 hierarchy');
  },
);

req(
  {
    id: 'unified-unknown-key-written',
    section: 'config-linux.md#unified',
    title: 'a unified key is written to its file, even one the runtime does not know',
    quote: '"Each key in the map refers to a file in the cgroup unified hierarchy." "Configuration unknown to the runtime MUST still be written to the relevant file."',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const cgp = casePath(k);
    const cfg = k.config({ script: 'sleep 30' });
    cfg.linux.cgroupsPath = cgp;
    cfg.linux.resources = { unified: { 'cgroup.max.descendants': '7', 'cgroup.max.depth': '3' } };
    await k.mustCreate(cfg);
    t.equal(readOr(path.join(CG, cgp, 'cgroup.max.descendants'), ''), '7', 'cgroup.max.descendants');
    t.equal(readOr(path.join(CG, cgp, 'cgroup.max.depth'), ''), '3', 'cgroup.max.depth');
  },
);

req(
  {
    id: 'unified-missing-controller',
    section: 'config-linux.md#unified',
    title: 'a unified key of a controller that is not available is an error',
    quote: '"The runtime MUST generate an error when the configuration refers to a cgroup controller that is not present or that cannot be enabled."',
    skip: v2Skip || (rootControllers().includes('pids') ? 'the pids controller is available here: this case needs a machine without it' : false),
  },
  async (t, k) => {
    // control: a unified key of the core (always there) is written
    const control = k.config({ script: 'true' });
    control.linux.cgroupsPath = casePath(k, 'control');
    control.linux.resources = { unified: { 'cgroup.max.depth': '5' } };
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.linux.cgroupsPath = casePath(k);
    cfg.linux.resources = { unified: { 'pids.max': '10' } };
    await k.expectCreateFails(control, cfg, 'pids is not an available controller');
  },
);

req(
  {
    id: 'unified-enables-controller',
    section: 'config-linux.md#unified',
    title: 'the controller a unified key needs is enabled for the cgroup',
    quote: '"The OCI runtime MUST ensure that the needed cgroup controllers are enabled for the cgroup."',
    skip: hugetlbSkip || false,
  },
  async (t, k) => {
    const cgp = casePath(k, 'leaf');
    const cfg = k.config({ script: 'sleep 30' });
    cfg.linux.cgroupsPath = cgp;
    cfg.linux.resources = { unified: { 'hugetlb.2MB.max': String(4 * 2097152) } };
    await k.mustCreate(cfg);
    t.match(readOr(path.join(CG, path.dirname(cgp), 'cgroup.subtree_control'), ''), /hugetlb/, 'hugetlb is enabled in the parent');
    t.equal(readOr(path.join(CG, cgp, 'hugetlb.2MB.max'), ''), String(4 * 2097152), 'hugetlb.2MB.max');
  },
);

req(
  {
    id: 'hugepage-limits',
    section: 'config-linux.md#huge-page-limits',
    title: 'hugepageLimits set the hugetlb limit of the page size',
    quote: '"hugepageLimits (array of objects, OPTIONAL) represents the hugetlb controller which allows to limit the HugeTLB reservations (if supported) or usage (page fault)." "limit (uint64, REQUIRED) - limit in bytes of hugepagesize HugeTLB reservations (if supported) or usage."',
    skip: hugetlbSkip || false,
  },
  async (t, k) => {
    const cgp = casePath(k);
    const cfg = k.config({ script: 'sleep 30' });
    cfg.linux.cgroupsPath = cgp;
    cfg.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 8 * 2097152 }] };
    await k.mustCreate(cfg);
    const max = readOr(path.join(CG, cgp, 'hugetlb.2MB.max'), '');
    const rsvd = readOr(path.join(CG, cgp, 'hugetlb.2MB.rsvd.max'), '');
    t.ok(max === String(8 * 2097152) || rsvd === String(8 * 2097152), `hugetlb.2MB.max (${max}) or .rsvd.max (${rsvd}) is the limit`);
  },
);

/**
 * linux.devices creates /dev/kmsg (1:11, not a default device); the
 * allowlist decides whether it can be opened for writing.
 * @param {import('./lib/kit.mjs').Kit} k
 * @param {object[]} rules
 */
async function kmsgOpen(k, rules) {
  const cfg = k.config({ script: '(exec 3>/dev/kmsg) 2>&1 && echo open-ok; exit 0' });
  cfg.linux.cgroupsPath = casePath(k);
  cfg.linux.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o600 }];
  cfg.linux.resources = { devices: rules };
  return k.mustRun(cfg);
}

req(
  {
    id: 'devices-deny',
    section: 'config-linux.md#allowed-device-list',
    title: 'a device the allowlist denies cannot be opened',
    quote: '"devices (array of objects, OPTIONAL) configures the allowed device list." "allow (boolean, REQUIRED) - whether the entry is allowed or denied."',
    skip: kmsgSkip || false,
  },
  async (t, k) => {
    const out = await kmsgOpen(k, [{ allow: false, access: 'rwm' }]);
    t.match(out, /Operation not permitted/, 'opening /dev/kmsg fails with EPERM');
    t.notMatch(out, /open-ok/, 'it did not open');
  },
);

req(
  {
    id: 'devices-allow',
    section: 'config-linux.md#allowed-device-list',
    title: 'a device the allowlist allows can be opened',
    quote: '"allow (boolean, REQUIRED) - whether the entry is allowed or denied." "type ... major, minor ... access (string, OPTIONAL) - cgroup permissions for device."',
    skip: kmsgSkip || false,
  },
  async (t, k) => {
    const out = await kmsgOpen(k, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 11, access: 'w' },
    ]);
    t.match(out, /open-ok/, 'opening /dev/kmsg for writing works');
  },
);

req(
  {
    id: 'devices-listed-order',
    section: 'config-linux.md#allowed-device-list',
    title: 'allowlist entries apply in the listed order (a later deny wins)',
    quote: '"The runtime MUST apply entries in the listed order."',
    skip: kmsgSkip || false,
  },
  async (t, k) => {
    const out = await kmsgOpen(k, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 11, access: 'rw' },
      { allow: false, type: 'c', major: 1, minor: 11, access: 'w' },
    ]);
    t.match(out, /Operation not permitted/, 'the last entry (deny write) wins');
  },
);

/**
 * A container whose process appends a line to /results/ticks every 50 ms.
 * @param {import('./lib/kit.mjs').Kit} k
 */
async function ticking(k) {
  const cfg = k.config({ script: 'while :; do echo t >> /results/ticks; sleep 0.05; done', results: true });
  cfg.linux.cgroupsPath = casePath(k);
  const c = await k.mustStart(cfg);
  const ticks = () => readOr(path.join(k.results, 'ticks'), '').split('\n').filter(Boolean).length;
  for (let i = 0; i < 100 && ticks() < 2; i++) await new Promise((r) => setTimeout(r, 20));
  return { c, ticks, cgroup: /** @type {string} */ (cfg.linux.cgroupsPath) };
}

req(
  {
    id: 'pause-resume',
    section: 'runc CLI (pause, resume)',
    title: 'pause freezes every process of the container and state says paused; resume thaws it',
    quote: 'runc pause: "suspends all processes inside the container"; runc resume: "resumes all processes that have been previously paused". runtime.md#state: status values "MAY be defined by the runtime" (paused, with the freezer of the cgroup)',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const { c, ticks, cgroup } = await ticking(k);
    const p = await k.rt.cmd(['pause', c.id]);
    k.need(p.status === 0, 'pause succeeds', p);
    t.equal((await c.state()).json?.status, 'paused', 'state says paused');
    t.match(readOr(path.join(CG, cgroup, 'cgroup.events'), ''), /frozen 1/, 'cgroup.events says frozen 1');
    const frozenAt = ticks();
    await new Promise((r) => setTimeout(r, 400));
    t.equal(ticks(), frozenAt, 'the process made no progress while paused');
    const r = await k.rt.cmd(['resume', c.id]);
    k.need(r.status === 0, 'resume succeeds', r);
    t.equal((await c.state()).json?.status, 'running', 'state says running again');
    let moved = false;
    for (let i = 0; i < 50 && !moved; i++) {
      await new Promise((res) => setTimeout(res, 20));
      moved = ticks() > frozenAt;
    }
    t.ok(moved, 'the process runs again after resume');
  },
);

req(
  {
    id: 'pause-not-running',
    section: 'runc CLI (pause)',
    title: 'pause of a container that is not running fails',
    quote: 'runc pause: "container not running" — a stopped container cannot be paused',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const { c } = await ticking(k);
    const p = await k.rt.cmd(['pause', c.id]);
    k.need(p.status === 0, 'control: pause of a running container succeeds', p);
    k.need((await k.rt.cmd(['resume', c.id])).status === 0, 'control: resume succeeds');
    const stopped = await k.mustStart(k.config({ script: 'true' }));
    k.need((await stopped.waitStatus('stopped')).json?.status === 'stopped', 'a second container stopped');
    const r = await k.rt.cmd(['pause', stopped.id]);
    t.not(r.status, 0, `pause of the stopped container fails (${describe(r)})`);
    t.equal((await stopped.state()).json?.status, 'stopped', 'it is still stopped');
  },
);

req(
  {
    id: 'delete-force-paused',
    section: 'runtime.md#delete',
    title: 'delete --force of a paused container removes it and its cgroup',
    quote: '"Deleting a container MUST delete the resources that were created during the create step." (a frozen cgroup must be thawed to be emptied)',
    skip: v2Skip || false,
  },
  async (t, k) => {
    const { c, cgroup } = await ticking(k);
    const pid = (await c.state()).json?.pid;
    k.need((await k.rt.cmd(['pause', c.id])).status === 0, 'pause succeeds');
    const r = await c.delete({ force: true });
    t.equal(r.status, 0, `delete --force succeeds (${describe(r)})`);
    t.not((await k.rt.state(c.id)).status, 0, 'the container no longer exists');
    await new Promise((res) => setTimeout(res, 200));
    t.notOk(fs.existsSync(path.join(CG, cgroup)), 'its cgroup is gone');
    t.notOk(pid && fs.existsSync(`/proc/${pid}`) && !/State:\s+Z/.test(readOr(`/proc/${pid}/status`, '')), 'its process is gone');
  },
);
