// @ts-check
// config.md#mounts: listed order, tmpfs with options, bind mounts (rw, ro,
// relative source, single file), relative destinations, failures.
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { bindMount } from './lib/config.mjs';
import { parseMountinfo } from './lib/observe.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('mounts');

/**
 * @param {string} out  mountinfo text
 * @param {string} mp
 */
function mountAt(out, mp) {
  return parseMountinfo(out).filter((m) => m.mountPoint === mp).pop();
}

req(
  {
    id: 'listed-order',
    section: 'config.md#mounts',
    title: 'mounts are mounted in the listed order',
    quote: '"The runtime MUST mount entries in the listed order."',
  },
  async (t, k) => {
    const a = path.join(k.dir, 'first');
    const b = path.join(k.dir, 'second');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(a, 'from-first'), '');
    fs.writeFileSync(path.join(b, 'from-second'), '');
    const cfg = k.config({ args: ['ls', '/stack'] });
    cfg.mounts.push(bindMount(a, '/stack'), bindMount(b, '/stack'));
    t.equal(await k.mustRun(cfg), 'from-second\n', 'the mount listed last is on top');
  },
);

req(
  {
    id: 'nested-order',
    section: 'config.md#mounts',
    title: 'a mount listed after a tmpfs lands inside that tmpfs',
    quote: '"The runtime MUST mount entries in the listed order."',
  },
  async (t, k) => {
    const src = path.join(k.dir, 'inner');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'hello'), 'inner file\n');
    const cfg = k.config({ script: 'cat /outer/inner/hello; grep -c " /outer" /proc/self/mountinfo' });
    cfg.mounts.push({ destination: '/outer', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }, bindMount(src, '/outer/inner'));
    t.equal(await k.mustRun(cfg), 'inner file\n2\n', 'the bind mount is visible inside the tmpfs');
  },
);

req(
  {
    id: 'tmpfs-options',
    section: 'config.md#linux-mount-options',
    title: 'a tmpfs gets its flags (nosuid, nodev, noexec, ro) and data options (size, mode)',
    quote: '"Runtimes MUST/SHOULD/MAY implement the following option strings for Linux" (nodev, noexec, nosuid, ro: MUST) and "SHOULD treat unknown options as filesystem-specific ones"',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'cat /proc/self/mountinfo; echo "stat $(stat -c %a /t)"' });
    cfg.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'ro', 'size=2m', 'mode=1750'] });
    const out = await k.mustRun(cfg);
    const m = mountAt(out, '/t');
    k.need(Boolean(m), 'a mount at /t exists');
    t.equal(m?.fsType, 'tmpfs', 'type tmpfs');
    for (const f of ['nosuid', 'nodev', 'noexec', 'ro']) t.ok(m?.options.includes(f), `${f} is set`);
    t.ok(m?.superOptions.includes('size=2048k'), `size=2m (${m?.superOptions.join(',')})`);
    t.match(out, /stat 1750/, 'mode=1750');
  },
);

req(
  {
    id: 'tmpfs-rw-default',
    section: 'config.md#linux-mount-options',
    title: 'a tmpfs without ro is writable and has no nosuid/noexec',
    quote: '"rw | MUST", "exec | MUST", "suid | MUST" (the defaults of mount(8))',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'echo x > /t/f && cat /t/f; cat /proc/self/mountinfo' });
    cfg.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    const out = await k.mustRun(cfg);
    t.ok(out.startsWith('x\n'), 'the tmpfs is writable');
    const m = mountAt(out, '/t');
    t.notOk(m?.options.includes('noexec'), 'no noexec');
    t.notOk(m?.options.includes('nosuid'), 'no nosuid');
  },
);

req(
  {
    id: 'bind-visible',
    section: 'config.md#mounts',
    title: 'a bind mount shows the host directory, and writes go through',
    quote: '"source (string, OPTIONAL) A device name, but can also be a file or directory name for bind mounts" "A mount is a bind mount if it has either bind or rbind in the options."',
  },
  async (t, k) => {
    const src = path.join(k.dir, 'data');
    fs.mkdirSync(src, { mode: 0o777 });
    fs.writeFileSync(path.join(src, 'from-host'), 'host content\n');
    const cfg = k.config({ script: 'cat /data/from-host; echo container content > /data/from-container' });
    cfg.mounts.push({ destination: '/data', type: 'none', source: src, options: ['bind', 'rw'] });
    t.equal(await k.mustRun(cfg), 'host content\n', 'the host file is visible');
    t.equal(fs.readFileSync(path.join(src, 'from-container'), 'utf8'), 'container content\n', 'the container write reached the host');
  },
);

req(
  {
    id: 'bind-readonly',
    section: 'config.md#linux-mount-options',
    title: 'a bind mount with ro is read-only',
    quote: '"ro | MUST" (mount(8): mount the filesystem read-only)',
  },
  async (t, k) => {
    const src = path.join(k.dir, 'data');
    fs.mkdirSync(src, { mode: 0o777 });
    fs.writeFileSync(path.join(src, 'f'), 'unchanged\n');
    const cfg = k.config({ script: 'cat /data/f; (echo changed > /data/f) 2>&1; touch /data/new 2>&1; exit 0' });
    cfg.mounts.push(bindMount(src, '/data', ['ro']));
    const out = await k.mustRun(cfg);
    t.match(out, /^unchanged\n/, 'readable');
    t.match(out, /Read-only file system/, 'writes fail with EROFS');
    t.equal(fs.readFileSync(path.join(src, 'f'), 'utf8'), 'unchanged\n', 'the host file is unchanged');
    t.notOk(fs.existsSync(path.join(src, 'new')), 'no file was created');
  },
);

req(
  {
    id: 'bind-relative-source',
    section: 'config.md#mounts',
    title: 'a relative bind source is relative to the bundle',
    quote: '"Path values for bind mounts are either absolute or relative to the bundle."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/data/marker'] });
    cfg.mounts.push(bindMount('shared-data', '/data', ['ro']));
    const bundle = k.bundle(cfg);
    fs.mkdirSync(path.join(bundle, 'shared-data'));
    fs.writeFileSync(path.join(bundle, 'shared-data', 'marker'), 'bundle-relative\n');
    const { res } = await k.run(bundle, { cwd: '/' });
    t.equal(res.status, 0, `run succeeds from another cwd (${describe(res)})`);
    t.equal(res.stdout, 'bundle-relative\n', 'the bundle directory was mounted');
  },
);

req(
  {
    id: 'bind-file',
    section: 'config.md#mounts',
    title: 'a single file can be bind-mounted',
    quote: '"source ... can also be a file or directory name for bind mounts"',
  },
  async (t, k) => {
    const src = path.join(k.dir, 'single-file');
    fs.writeFileSync(src, 'just a file\n');
    const cfg = k.config({ args: ['cat', '/etc/single'] });
    cfg.mounts.push(bindMount(src, '/etc/single', ['ro']));
    t.equal(await k.mustRun(cfg), 'just a file\n', 'the file content');
  },
);

req(
  {
    id: 'relative-destination',
    section: 'config.md#mounts',
    title: 'a relative destination is interpreted relative to /',
    quote: '"Linux: This value SHOULD be an absolute path. For compatibility with old tools and configurations, it MAY be a relative path, in which case it MUST be interpreted as relative to "/"."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'grep -c " /reldest " /proc/self/mountinfo' });
    cfg.mounts.push({ destination: 'reldest', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    t.equal(await k.mustRun(cfg, { cwd: '/' }), '1\n', 'a tmpfs is mounted at /reldest');
  },
);

req(
  {
    id: 'bind-nosuid-nodev-noexec',
    section: 'config.md#linux-mount-options',
    title: 'nosuid, nodev and noexec apply to a bind mount',
    quote: '"nodev | MUST", "noexec | MUST", "nosuid | MUST"',
  },
  async (t, k) => {
    const src = path.join(k.dir, 'data');
    fs.mkdirSync(src);
    const cfg = k.config({ script: '/exec/sh -c "echo exec-ok"; /data/sh -c "echo noexec-ran" 2>&1; cat /proc/self/mountinfo' });
    const bundle = k.bundle(cfg);
    // the rootfs' own shell, copied into a host dir bound twice: with and without noexec
    fs.copyFileSync(fs.realpathSync(path.join(bundle, 'rootfs', 'bin', 'sh')), path.join(src, 'sh'));
    fs.chmodSync(path.join(src, 'sh'), 0o755);
    cfg.mounts.push(bindMount(src, '/exec', ['ro']), bindMount(src, '/data', ['nosuid', 'nodev', 'noexec']));
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(cfg));
    const out = await k.mustRun(bundle);
    t.match(out, /exec-ok/, 'control: the same file runs from a bind mount without noexec');
    t.notMatch(out, /noexec-ran/, 'it does not run from the noexec mount');
    t.match(out, /Permission denied/, 'executing from the noexec mount fails with EACCES');
    const m = mountAt(out, '/data');
    for (const f of ['nosuid', 'nodev', 'noexec']) t.ok(m?.options.includes(f), `${f} is set`);
  },
);

req(
  {
    id: 'unknown-fstype',
    section: 'runtime.md#lifecycle',
    title: 'a mount of a filesystem type the kernel does not have is an error',
    quote: '"If the runtime is unable to create the environment specified in the config.json, it MUST generate an error."',
  },
  async (t, k) => {
    const control = k.config({ script: 'true' });
    control.mounts.push({ destination: '/x', type: 'tmpfs', source: 'none' });
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.mounts.push({ destination: '/x', type: 'no-such-fs-type', source: 'none' });
    await k.expectCreateFails(control, cfg, 'filesystem type no-such-fs-type');
  },
);

req(
  {
    id: 'bind-missing-source',
    section: 'runtime.md#lifecycle',
    title: 'a bind mount of a source that does not exist is an error',
    quote: '"If the runtime is unable to create the environment specified in the config.json, it MUST generate an error."',
  },
  async (t, k) => {
    const control = k.config({ script: 'true' });
    control.mounts.push(bindMount(k.results, '/data'));
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.mounts.push(bindMount(path.join(k.dir, 'does-not-exist'), '/data'));
    await k.expectCreateFails(control, cfg, 'the bind source does not exist');
  },
);
