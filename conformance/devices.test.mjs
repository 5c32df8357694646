// @ts-check
// config-linux.md#default-filesystems, #default-devices, #devices and
// runtime-linux.md#dev-symbolic-links.
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { parseMountinfo } from './lib/observe.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('devices');

const DEFAULT_DEVICES = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];

/** `stat` the paths inside the container: "path|type|major(hex)|minor(hex)|mode|uid|gid" per line */
/** @param {string[]} paths */
function statScript(paths) {
  return paths.map((p) => `stat -L -c '%n|%F|%t|%T|%a|%u|%g' ${p} 2>&1`).join('; ');
}

/** @param {string} out */
function parseStat(out) {
  /** @type {Record<string, { type: string, major: number, minor: number, mode: string, uid: number, gid: number }>} */
  const m = {};
  for (const line of out.trim().split('\n')) {
    const f = line.split('|');
    if (f.length < 7) continue;
    m[/** @type {string} */ (f[0])] = {
      type: /** @type {string} */ (f[1]),
      major: parseInt(/** @type {string} */ (f[2]), 16),
      minor: parseInt(/** @type {string} */ (f[3]), 16),
      mode: /** @type {string} */ (f[4]),
      uid: Number(f[5]),
      gid: Number(f[6]),
    };
  }
  return m;
}

for (const [dev, major, minor] of DEFAULT_DEVICES) {
  req(
    {
      id: `default-${path.basename(String(dev))}`,
      section: 'config-linux.md#default-devices',
      title: `${dev} is supplied as the character device ${major}:${minor}`,
      quote: `"In addition to any devices configured with this setting, the runtime MUST also supply: ... ${dev}"`,
    },
    async (t, k) => {
      const st = parseStat(await k.mustRun(k.config({ script: statScript([String(dev)]) })));
      const s = st[String(dev)];
      t.equal(s?.type, 'character special file', `${dev} is a character device`);
      t.equal(s?.major, major, 'major');
      t.equal(s?.minor, minor, 'minor');
    },
  );
}

req(
  {
    id: 'default-devices-work',
    section: 'config-linux.md#default-devices',
    title: 'the default devices behave as the kernel devices (null, zero, full, urandom)',
    quote: '"the runtime MUST also supply: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty ..."',
  },
  async (t, k) => {
    const script = [
      'echo discarded > /dev/null && echo null-ok',
      'head -c 4 /dev/zero | od -An -tx1 | tr -d " \\n"; echo',
      'dd if=/dev/zero of=/dev/full bs=1 count=1 2>&1 || true',
      'head -c 16 /dev/urandom | wc -c',
    ].join('; ');
    const out = await k.mustRun(k.config({ script }));
    const lines = out.split('\n');
    t.equal(lines[0], 'null-ok', '/dev/null swallows writes');
    t.equal(lines[1], '00000000', '/dev/zero reads zeros');
    t.match(out, /No space left on device/, '/dev/full fails writes with ENOSPC');
    t.match(out, /\n\s*16\n/, '/dev/urandom reads bytes');
  },
);

req(
  {
    id: 'default-ptmx',
    section: 'config-linux.md#default-devices',
    title: "/dev/ptmx is a bind mount or symlink of the container's /dev/pts/ptmx",
    quote: '"/dev/ptmx. A bind-mount or symlink of the container\'s /dev/pts/ptmx."',
  },
  async (t, k) => {
    const out = await k.mustRun(k.config({ script: 'stat -L -c "%d %i" /dev/ptmx; stat -c "%d %i" /dev/pts/ptmx' }));
    const [a, b] = out.trim().split('\n');
    t.ok(a && a === b, `/dev/ptmx (${a}) is /dev/pts/ptmx (${b})`);
  },
);

req(
  {
    id: 'no-console-without-terminal',
    section: 'config-linux.md#default-devices',
    title: '/dev/console is not a pty of the container when terminal is false',
    quote: '"/dev/console is set up if terminal is enabled in the config by bind mounting the pseudoterminal pty to /dev/console."',
  },
  async (t, k) => {
    const out = await k.mustRun(k.config({ script: 'grep -c " /dev/console " /proc/self/mountinfo; exit 0' }));
    t.equal(out.trim(), '0', 'nothing is mounted on /dev/console');
  },
);

for (const [link, target] of [
  ['/dev/fd', '/proc/self/fd'],
  ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'],
  ['/dev/stderr', '/proc/self/fd/2'],
]) {
  req(
    {
      id: `symlink-${path.basename(String(link))}`,
      section: 'runtime-linux.md#dev-symbolic-links',
      title: `${link} is a symlink to ${target}`,
      quote: `"While creating the container (step 2 in the lifecycle), runtimes MUST create the following symlinks if the source file exists after processing mounts: ${target} -> ${link}"`,
    },
    async (t, k) => {
      const out = await k.mustRun(k.config({ script: `readlink ${link}` }));
      t.equal(out.trim(), target, `readlink ${link}`);
    },
  );
}

req(
  {
    id: 'default-filesystems',
    section: 'config-linux.md#default-filesystems',
    title: '/proc, /sys, /dev/pts and /dev/shm are proc, sysfs, devpts and tmpfs',
    quote: '"The following filesystems SHOULD be made available in each container\'s filesystem: /proc proc, /sys sysfs, /dev/pts devpts, /dev/shm tmpfs"',
  },
  async (t, k) => {
    const mounts = parseMountinfo(await k.mustRun(k.config({ args: ['cat', '/proc/self/mountinfo'] })));
    /** @param {string} mp */
    const typeOf = (mp) => mounts.filter((m) => m.mountPoint === mp).pop()?.fsType;
    t.equal(typeOf('/proc'), 'proc', '/proc');
    t.equal(typeOf('/sys'), 'sysfs', '/sys');
    t.equal(typeOf('/dev/pts'), 'devpts', '/dev/pts');
    t.equal(typeOf('/dev/shm'), 'tmpfs', '/dev/shm');
  },
);

req(
  {
    id: 'proc-is-containers',
    section: 'config-linux.md#default-filesystems',
    title: "/proc shows the container's pid namespace",
    quote: '"/proc | proc" — and "pid processes inside the container will only be able to see other processes inside the same container"',
  },
  async (t, k) => {
    const out = await k.mustRun(k.config({ script: 'readlink /proc/self; echo $$' }));
    const [self, pid] = out.trim().split('\n');
    t.equal(pid, '1', 'the shell is pid 1');
    t.ok(Number(self) < 10, `/proc/self names a small pid of the container namespace (${self})`);
  },
);

req(
  {
    id: 'linux-devices',
    section: 'config-linux.md#devices',
    title: 'linux.devices are created with type, major, minor, fileMode, uid and gid',
    quote: '"devices (array of objects, OPTIONAL) lists devices that MUST be available in the container."',
  },
  async (t, k) => {
    const cfg = k.config({ script: statScript(['/dev/kmsg', '/dev/loop-test', '/dev/test-fifo']) });
    cfg.linux.devices = [
      { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o640, uid: 12, gid: 34 },
      { path: '/dev/loop-test', type: 'b', major: 7, minor: 200, fileMode: 0o600, uid: 0, gid: 0 },
      { path: '/dev/test-fifo', type: 'p', fileMode: 0o620, uid: 56, gid: 78 },
    ];
    const st = parseStat(await k.mustRun(cfg));
    const c = st['/dev/kmsg'];
    t.equal(c?.type, 'character special file', 'char device');
    t.same([c?.major, c?.minor], [1, 11], 'char major:minor');
    t.equal(c?.mode, '640', 'char fileMode');
    t.same([c?.uid, c?.gid], [12, 34], 'char uid:gid');
    const b = st['/dev/loop-test'];
    t.equal(b?.type, 'block special file', 'block device');
    t.same([b?.major, b?.minor], [7, 200], 'block major:minor');
    t.equal(b?.mode, '600', 'block fileMode');
    const p = st['/dev/test-fifo'];
    t.equal(p?.type, 'fifo', 'fifo');
    t.equal(p?.mode, '620', 'fifo fileMode');
    t.same([p?.uid, p?.gid], [56, 78], 'fifo uid:gid');
  },
);

req(
  {
    id: 'linux-devices-outside-dev',
    section: 'config-linux.md#devices',
    title: 'a device path may be outside /dev',
    quote: '"The path MAY be anywhere in the container filesystem, notably outside of /dev."',
  },
  async (t, k) => {
    const cfg = k.config({ script: statScript(['/opt/devs/mydev']) });
    cfg.linux.devices = [{ path: '/opt/devs/mydev', type: 'c', major: 1, minor: 11, fileMode: 0o600 }];
    const s = parseStat(await k.mustRun(cfg))['/opt/devs/mydev'];
    t.equal(s?.type, 'character special file', 'a char device');
    t.same([s?.major, s?.minor], [1, 11], 'major:minor');
  },
);

req(
  {
    id: 'linux-devices-existing-file',
    section: 'config-linux.md#devices',
    title: 'a device whose path is an existing non-matching file is an error',
    quote: '"If a file already exists at path that does not match the requested device, the runtime MUST generate an error."',
  },
  async (t, k) => {
    // /dev/null's numbers: nothing blocks if a runtime puts the device there anyway
    const dev = { path: '/opt/notadevice', type: 'c', major: 1, minor: 3, fileMode: 0o600 };
    const control = k.config({ script: 'true' });
    control.linux.devices = [{ ...dev, path: '/opt/newdevice' }];
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.linux.devices = [dev];
    const bundle = k.bundle(cfg);
    const file = path.join(bundle, 'rootfs', 'opt', 'notadevice');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, 'a regular file\n');
    await k.expectCreateFails(control, bundle, 'a regular file is at the device path');
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    t.ok(st?.isFile(), `the regular file is still there, not replaced (${st ? (st.isCharacterDevice() ? 'a character device now' : 'not a regular file') : 'gone'})`);
    if (st?.isFile()) t.equal(fs.readFileSync(file, 'utf8'), 'a regular file\n', 'and unchanged');
  },
);
