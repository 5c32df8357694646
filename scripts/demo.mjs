#!/usr/bin/env node
// `npm start`: a demo container that needs no image. Its root filesystem is an
// empty directory with read-only bind mounts of the host's /usr, /bin, /lib*
// and /sbin (symlinks where the host has merged /usr), in new namespaces,
// through the real create/start/delete path (`tsrun run`). Cleans up after.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const tsrun = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'tsrun.js');
if (process.getuid?.() !== 0) {
  console.error('npm start: the demo creates namespaces and mounts: run it as root');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'tsrun-demo-'));
const bundle = join(work, 'bundle');
const root = join(work, 'state');
const rootfs = join(bundle, 'rootfs');
mkdirSync(rootfs, { recursive: true });

const hostDirs = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'].filter((d) => existsSync(d));
const binds = [];
for (const dir of hostDirs) {
  if (lstatSync(dir).isSymbolicLink()) symlinkSync(readlinkSync(dir), join(rootfs, dir));
  else binds.push({ destination: dir, type: 'bind', source: dir, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
}

const config = {
  ociVersion: '1.3.0',
  process: {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['sh', '-c', 'echo hello from tsrun; id; hostname; ps -ef'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: '/',
    capabilities: {
      bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  hostname: 'tsrun-demo',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    ...binds,
  ],
  linux: {
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
    maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  },
};
writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));

console.log(`tsrun demo: bundle ${bundle}, rootfs = read-only binds of ${hostDirs.join(' ')}`);
const r = spawnSync(process.execPath, [tsrun, '--root', root, 'run', '--bundle', bundle, `demo-${process.pid}`], { stdio: 'inherit' });
rmSync(work, { recursive: true, force: true });
console.log(`tsrun demo: the container exited with status ${r.status}`);
process.exit(r.status ?? 1);
