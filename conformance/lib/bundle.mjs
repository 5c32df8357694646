// @ts-check
// A bundle per case: rootfs/ plus config.json written from a config object.
//
// The root filesystem is Debian's static busybox with its applet links
// (apt-get install -y busybox-static). Without busybox it is assembled from
// the host: the commands the cases run (sh, cat, stat, ...), each with the
// shared libraries `ldd` lists and the dynamic loader, at their host paths.
// CONFORMANCE_ROOTFS=host forces the host-assembled one (to test it);
// CONFORMANCE_BUSYBOX names another busybox binary.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BUSYBOX } from './env.mjs';

/** Commands the cases run inside containers (shell builtins aside). */
export const HOST_COMMANDS = [
  'sh', 'cat', 'ls', 'stat', 'readlink', 'grep', 'wc', 'head', 'tail', 'od', 'tr', 'touch', 'chmod', 'chown', 'mkdir',
  'rm', 'mount', 'umount', 'sleep', 'id', 'env', 'pwd', 'hostname', 'stty', 'tty', 'true', 'false', 'echo', 'test',
  'sed', 'awk', 'cp', 'ln', 'uname', 'printf', 'dd',
];

/** @type {string[] | null} */
let applets = null;
/** @type {string | null} */
let hostTemplate = null;

/** @returns {string | null} why busybox cannot be used, or null */
export function busyboxProblem() {
  try {
    const st = fs.statSync(BUSYBOX);
    if (!st.isFile()) return `${BUSYBOX} is not a file`;
  } catch {
    return `busybox is missing: ${BUSYBOX} does not exist (apt-get install -y busybox-static, or set CONFORMANCE_BUSYBOX)`;
  }
  const head = Buffer.alloc(4);
  const fd = fs.openSync(BUSYBOX, 'r');
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  if (head.toString('latin1') !== '\x7fELF') return `${BUSYBOX} is not an ELF executable`;
  return null;
}

/** @returns {'busybox' | 'host'} where root filesystems come from in this run */
export function rootfsKind() {
  if (process.env.CONFORMANCE_ROOTFS === 'host') return 'host';
  return busyboxProblem() ? 'host' : 'busybox';
}

/** A one-line description for the summary. */
export function rootfsDescription() {
  return rootfsKind() === 'busybox' ? `busybox (${BUSYBOX})` : `assembled from the host (${HOST_COMMANDS.length} commands + their libraries)`;
}

function appletList() {
  if (applets) return applets;
  const problem = busyboxProblem();
  if (problem) throw new Error(problem);
  const r = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${BUSYBOX} --list failed (status ${r.status}): ${r.stderr}`);
  applets = r.stdout.split('\n').map((s) => s.trim()).filter((s) => s && !s.includes('/'));
  if (!applets.includes('sh')) throw new Error(`${BUSYBOX} has no sh applet: a static busybox with a shell is needed (busybox-static)`);
  return applets;
}

/** @param {string} rootfs */
function skeleton(rootfs) {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'root', 'tmp', 'var', 'run', 'mnt', 'results']) {
    fs.mkdirSync(path.join(rootfs, d), { recursive: true, mode: 0o755 });
  }
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.chmodSync(rootfs, 0o755);
  fs.writeFileSync(
    path.join(rootfs, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
}

/** @param {string} rootfs */
function busyboxRootfs(rootfs) {
  const list = appletList();
  skeleton(rootfs);
  fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const a of list) {
    if (a === 'busybox') continue;
    fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  }
}

/**
 * Find a command on the host (PATH, then the usual directories).
 * @param {string} name
 */
function hostCommand(name) {
  const dirs = [...(process.env.PATH || '').split(':'), '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return fs.realpathSync(p);
    } catch {
      // next
    }
  }
  return null;
}

/**
 * Shared libraries (and the loader) an ELF file needs, as host paths.
 * @param {string} file
 */
function libsOf(file) {
  const r = spawnSync('ldd', [file], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return []; // static, or not ELF (a script)
  const out = [];
  for (const line of r.stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) || /^\s*(\/\S+)\s+\(/.exec(line);
    if (m && m[1]) out.push(m[1]);
  }
  return out;
}

/**
 * Copy a host file into the rootfs at the same path, following the chain of
 * symlinks so that the links the loader uses exist too.
 * @param {string} rootfs
 * @param {string} hostPath
 */
function copyHostFile(rootfs, hostPath) {
  let p = hostPath;
  for (let i = 0; i < 10; i++) {
    const dest = path.join(rootfs, p);
    fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) {
      const target = fs.readlinkSync(p);
      if (!fs.existsSync(dest)) fs.symlinkSync(target, dest);
      p = path.resolve(path.dirname(p), target);
      continue;
    }
    if (!fs.existsSync(dest)) {
      fs.copyFileSync(p, dest);
      fs.chmodSync(dest, st.mode & 0o7777);
    }
    return;
  }
}

/** Build the host-assembled template once per process, under the run's temp base. */
function hostRootfsTemplate() {
  if (hostTemplate && fs.existsSync(hostTemplate)) return hostTemplate;
  const base = process.env.CONFORMANCE_TMP || fs.mkdtempSync('/tmp/tsrun-conformance-rootfs-');
  const dir = path.join(base, `.rootfs-template-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  skeleton(dir);
  const missing = [];
  for (const name of HOST_COMMANDS) {
    const p = hostCommand(name);
    if (!p) {
      missing.push(name);
      continue;
    }
    copyHostFile(dir, p);
    for (const lib of libsOf(p)) copyHostFile(dir, lib);
    const inBin = path.join(dir, 'bin', name);
    if (!fs.existsSync(inBin)) fs.symlinkSync(p, inBin);
  }
  if (!fs.existsSync(path.join(dir, 'bin', 'sh'))) throw new Error('cannot assemble a root filesystem from the host: no sh found');
  if (missing.length > 0) fs.writeFileSync(path.join(dir, '.missing-commands'), `${missing.join('\n')}\n`);
  hostTemplate = dir;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Populate `rootfs`. Throws a clear error when no root filesystem can be
 * made, which fails the case that asked for a bundle.
 * @param {string} rootfs
 */
export function makeRootfs(rootfs) {
  if (rootfsKind() === 'busybox') {
    busyboxRootfs(rootfs);
    return;
  }
  fs.cpSync(hostRootfsTemplate(), rootfs, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
}

/**
 * Write a bundle: `dir/rootfs` (unless `rootfs: false`) and
 * `dir/config.json` (unless `config` is null; a string is written as is).
 * @param {string} dir
 * @param {object | string | null} config
 * @param {{ rootfs?: boolean }} [opts]
 */
export function writeBundle(dir, config, opts = {}) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  if (opts.rootfs !== false) makeRootfs(path.join(dir, 'rootfs'));
  if (config !== null) {
    const text = typeof config === 'string' ? config : JSON.stringify(config, null, 2);
    fs.writeFileSync(path.join(dir, 'config.json'), text);
  }
  return dir;
}
