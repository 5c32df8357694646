// Bundles for integration tests: a busybox root filesystem (Debian's
// busybox-static) and a minimal runtime-spec config that tests adjust.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types.js';

export const BUSYBOX = '/bin/busybox';
export const TSRUN = join(import.meta.dirname, '../../bin/tsrun.js');

export const isRoot = process.getuid?.() === 0;
export const hasBusybox = existsSync(BUSYBOX);

let applets: string[] | undefined;

/** A root filesystem with busybox and its applets linked in /bin. */
export function busyboxRootfs(rootfs: string): void {
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  applets ??= spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** A Spec whose top-level fields a test may replace. */
export type TestSpec = { -readonly [K in keyof Spec]: Spec[K] };

export function minimalSpec(args: string[]): TestSpec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/bin', 'HOME=/root'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE'],
        effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE'],
        permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE'],
      },
      noNewPrivileges: true,
    },
    hostname: 'tsrun-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
  };
}

export interface Bundle {
  readonly dir: string;
  readonly rootfs: string;
  readonly root: string;
}

/** A bundle dir with a busybox rootfs and `spec` as config.json, plus a private --root. */
export function makeBundle(spec: Spec): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-it-'));
  const rootfs = join(dir, 'rootfs');
  busyboxRootfs(rootfs);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  const root = join(dir, 'state');
  return { dir, rootfs, root };
}

export function writeSpec(bundle: Bundle, spec: Spec): void {
  writeFileSync(join(bundle.dir, 'config.json'), JSON.stringify(spec));
}

export interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function tsrun(bundle: Bundle, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Result {
  const r = spawnSync(process.execPath, [TSRUN, '--root', bundle.root, ...args], {
    cwd: bundle.dir,
    encoding: 'utf8',
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * For commands that leave a container behind (create, run -d): the container inherits tsrun's
 * stdout and stderr, so they go to files (a pipe would stay open as long as the container lives).
 */
export function tsrunToFiles(bundle: Bundle, args: string[], name = 'out'): Result {
  const outPath = join(bundle.dir, `${name}.stdout`);
  const errPath = join(bundle.dir, `${name}.stderr`);
  const out = openSync(outPath, 'w');
  const err = openSync(errPath, 'w');
  try {
    const r = spawnSync(process.execPath, [TSRUN, '--root', bundle.root, ...args], { cwd: bundle.dir, stdio: ['ignore', out, err], timeout: 20_000 });
    return { status: r.status, stdout: readFileSync(outPath, 'utf8'), stderr: readFileSync(errPath, 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

export function readOutput(bundle: Bundle, name = 'out'): string {
  return readFileSync(join(bundle.dir, `${name}.stdout`), 'utf8');
}
