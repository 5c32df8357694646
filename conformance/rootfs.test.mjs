// @ts-check
// config.md#root (readonly) and config-linux.md#rootfs-mount-propagation.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { area } from './lib/kit.mjs';
import { parseMountinfo } from './lib/observe.mjs';

const req = area('rootfs');

/** @param {string} out */
function rootMount(out) {
  return parseMountinfo(out).filter((m) => m.mountPoint === '/').pop();
}

req(
  {
    id: 'readonly-true',
    section: 'config.md#root',
    title: 'root.readonly true makes the root filesystem read-only',
    quote: '"readonly (bool, OPTIONAL) If true then the root filesystem MUST be read-only inside the container, defaults to false."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'touch /newfile 2>&1; echo "rc=$?"; cat /proc/self/mountinfo' });
    cfg.root.readonly = true;
    const bundle = k.bundle(cfg);
    const out = await k.mustRun(bundle);
    t.match(out, /Read-only file system/, 'writing to / fails with EROFS');
    t.match(out, /rc=1/, 'touch fails');
    t.ok(rootMount(out)?.options.includes('ro'), 'the / mount has the ro flag');
    t.notOk(fs.existsSync(path.join(bundle, 'rootfs', 'newfile')), 'nothing was written to the rootfs');
  },
);

req(
  {
    id: 'readonly-false',
    section: 'config.md#root',
    title: 'root.readonly false leaves the root filesystem writable',
    quote: '"readonly (bool, OPTIONAL) If true then the root filesystem MUST be read-only inside the container, defaults to false."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'echo written > /newfile && echo ok' });
    delete cfg.root.readonly; // the default
    const bundle = k.bundle(cfg);
    t.equal(await k.mustRun(bundle), 'ok\n', 'writing to / works');
    t.equal(fs.readFileSync(path.join(bundle, 'rootfs', 'newfile'), 'utf8'), 'written\n', 'and lands in the bundle rootfs');
  },
);

req(
  {
    id: 'readonly-mounts-still-writable',
    section: 'config.md#root',
    title: 'with a read-only root, writable mounts (a tmpfs) stay writable',
    quote: '"readonly ... If true then the root filesystem MUST be read-only" (the root filesystem, not the mounts on it)',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'echo x > /dev/shm/f && echo ok' });
    cfg.root.readonly = true;
    t.equal(await k.mustRun(cfg), 'ok\n', '/dev/shm (tmpfs) is writable');
  },
);

/**
 * Make the case dir a shared mount in the runtime namespace, so that mounts
 * made there propagate to containers whose rootfs is a slave of it.
 * @param {import('./lib/kit.mjs').Kit} k
 */
function shareCaseDir(k) {
  const r1 = spawnSync('mount', ['--bind', k.dir, k.dir]);
  const r2 = spawnSync('mount', ['--make-shared', k.dir]);
  k.onCleanup(() => {
    spawnSync('umount', ['-R', '-l', k.dir]);
  });
  return r1.status === 0 && r2.status === 0;
}

req(
  {
    id: 'propagation-shared',
    section: 'config-linux.md#rootfs-mount-propagation',
    title: 'rootfsPropagation shared: the rootfs mount is in a peer group',
    quote: '"shared: the rootfs mount belongs to a new peer group."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/proc/self/mountinfo'] });
    cfg.linux.rootfsPropagation = 'shared';
    const root = rootMount(await k.mustRun(cfg));
    t.ok(root?.optional.some((f) => f.startsWith('shared:')), `the / mount is shared (${root?.optional.join(' ')})`);
  },
);

req(
  {
    id: 'propagation-private',
    section: 'config-linux.md#rootfs-mount-propagation',
    title: 'rootfsPropagation private: no peer group, and host mounts do not propagate in',
    quote: '"private: the rootfs mount doesn\'t receive mount propagation events from the host"',
  },
  async (t, k) => {
    k.need(shareCaseDir(k), 'the case dir is a shared mount in the runtime namespace');
    const cfg = k.config({
      script: 'cat /proc/self/mountinfo > /results/mountinfo; echo ready; while [ ! -e /results/go ]; do sleep 0.05; done; if [ -e /mnt/ev/marker ]; then echo marker=yes; else echo marker=no; fi',
      results: true,
    });
    cfg.linux.rootfsPropagation = 'private';
    const c = await k.mustStart(cfg);
    k.need(await c.waitOutput('ready'), 'the container is ready');
    const mnt = path.join(c.bundle, 'rootfs', 'mnt', 'ev');
    fs.mkdirSync(mnt, { recursive: true });
    k.need(spawnSync('mount', ['-t', 'tmpfs', 'ev', mnt]).status === 0, 'a tmpfs is mounted on the host under the rootfs');
    fs.writeFileSync(path.join(mnt, 'marker'), '');
    fs.writeFileSync(path.join(k.results, 'go'), '');
    k.need(await c.waitOutput('marker='), 'the container looked');
    t.match(c.output(), /marker=no/, 'the host mount is not visible in the container');
    const root = rootMount(fs.readFileSync(path.join(k.results, 'mountinfo'), 'utf8'));
    t.notOk(root?.optional.some((f) => /^(shared|master):/.test(f)), `the / mount has no propagation (${root?.optional.join(' ')})`);
  },
);

req(
  {
    id: 'propagation-slave',
    section: 'config-linux.md#rootfs-mount-propagation',
    title: 'rootfsPropagation slave: host mounts propagate into the container',
    quote: '"slave: the rootfs mount receives propagation events from the host (e.g. if something is mounted on the host it will also appear in the container) but not the other way around."',
  },
  async (t, k) => {
    k.need(shareCaseDir(k), 'the case dir is a shared mount in the runtime namespace');
    const cfg = k.config({
      script: 'echo ready; while [ ! -e /results/go ]; do sleep 0.05; done; if [ -e /mnt/ev/marker ]; then echo marker=yes; else echo marker=no; fi',
      results: true,
    });
    cfg.linux.rootfsPropagation = 'slave';
    const c = await k.mustStart(cfg);
    k.need(await c.waitOutput('ready'), 'the container is ready');
    const mnt = path.join(c.bundle, 'rootfs', 'mnt', 'ev');
    fs.mkdirSync(mnt, { recursive: true });
    k.need(spawnSync('mount', ['-t', 'tmpfs', 'ev', mnt]).status === 0, 'a tmpfs is mounted on the host under the rootfs');
    fs.writeFileSync(path.join(mnt, 'marker'), '');
    fs.writeFileSync(path.join(k.results, 'go'), '');
    k.need(await c.waitOutput('marker='), 'the container looked');
    t.match(c.output(), /marker=yes/, 'the host mount is visible in the container');
  },
);

req(
  {
    id: 'propagation-unbindable',
    section: 'config-linux.md#rootfs-mount-propagation',
    title: 'rootfsPropagation unbindable: the rootfs mount is unbindable',
    quote: '"unbindable: the rootfs mount is a private mount that cannot be bind-mounted."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/proc/self/mountinfo'] });
    cfg.linux.rootfsPropagation = 'unbindable';
    const root = rootMount(await k.mustRun(cfg));
    t.ok(root?.optional.includes('unbindable'), `the / mount is unbindable (${root?.optional.join(' ')})`);
  },
);
