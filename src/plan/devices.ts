// /dev inside the container (config-linux.md "Default Devices", "Devices"):
// the default devices plus `linux.devices`, made with mknod, or bind-mounted
// from the host when the container has a user namespace (mknod is not
// allowed there); /dev/ptmx as a symlink to pts/ptmx; the default symlinks.
// Pure: emits ops relative to the rootfs fd, before pivot_root.
import { AT, makedev, NEW_MOUNT_API, S } from '../../native/constants.js';
import { flags, type Reg } from '../../native/program.js';
import type { DeviceType, LinuxDevice, Spec } from '../spec/types.js';
import { ConfigError } from '../errors.js';
import type { PlanContext } from './context.js';
import { mkdirAllInRoot, moveTreeInto, normalizePath, openInRoot, pathComponents } from './in-root.js';

const DEFAULT_DEVICE_MODE = 0o666;

/** runc's default devices: every container has them, whatever the config says. */
export const DEFAULT_DEVICES: readonly LinuxDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: DEFAULT_DEVICE_MODE, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: DEFAULT_DEVICE_MODE, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: DEFAULT_DEVICE_MODE, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: DEFAULT_DEVICE_MODE, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: DEFAULT_DEVICE_MODE, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: DEFAULT_DEVICE_MODE, uid: 0, gid: 0 },
];

const DEV_SYMLINKS: readonly (readonly [string, string])[] = [
  ['/proc/self/fd', 'fd'],
  ['/proc/self/fd/0', 'stdin'],
  ['/proc/self/fd/1', 'stdout'],
  ['/proc/self/fd/2', 'stderr'],
];

const TYPE_BITS: Readonly<Record<DeviceType, number>> = { c: S.S_IFCHR, u: S.S_IFCHR, b: S.S_IFBLK, p: S.S_IFIFO };

/** /dev is set up by tsrun unless the config bind-mounts something over /dev itself (as runc). */
export function needsDevSetup(spec: Spec): boolean {
  return !(spec.mounts ?? []).some((m) => normalizePath(m.destination) === '/dev' && (m.options ?? []).some((o) => o === 'bind' || o === 'rbind'));
}

/** Default devices, overridden by `linux.devices` of the same path, in a stable order. */
export function devicesToCreate(spec: Spec): LinuxDevice[] {
  const byPath = new Map<string, LinuxDevice>();
  for (const d of [...DEFAULT_DEVICES, ...(spec.linux?.devices ?? [])]) byPath.set(normalizePath(d.path), d);
  return [...byPath.values()];
}

function splitParent(path: string): { parent: string; name: string } {
  const parts = pathComponents(path);
  const name = parts.pop() ?? '';
  return { parent: `/${parts.join('/')}`, name };
}

/**
 * The directory register the device nodes are made in, opened once for all the nodes of one
 * parent (every default device is in /dev): not a mkdir, an openat2 and a close per node.
 */
class HeldDirectory {
  private held: string | undefined;

  constructor(
    private readonly ctx: PlanContext,
    readonly reg: Reg,
  ) {}

  /** `reg` holds the directory `path` of the container (made when missing). */
  hold(path: string): Reg {
    if (this.held === path) return this.reg;
    this.release();
    const { b, regs } = this.ctx;
    mkdirAllInRoot(b, regs.rootfs, path, this.reg);
    openInRoot(b, regs.rootfs, path, this.reg, { directory: true });
    this.held = path;
    return this.reg;
  }

  /** Closes it: before `reg` serves as a scratch register again. */
  release(): void {
    if (this.held === undefined) return;
    this.ctx.b.syscall('close', [this.reg], { label: `close ${this.held}` });
    this.held = undefined;
  }
}

function planDevice(ctx: PlanContext, dev: LinuxDevice, parents: HeldDirectory): void {
  const { b, regs } = ctx;
  const [, target, tree] = regs.scratch;
  const { parent, name } = splitParent(dev.path);
  if (ctx.userNamespace) {
    // mknod is refused in a user namespace: bind the host's device node of the same path over an empty file.
    parents.release();
    mkdirAllInRoot(b, regs.rootfs, parent, parents.reg);
    mkdirAllInRoot(b, regs.rootfs, dev.path, parents.reg, 'file');
    b.syscall('open_tree', [flags(AT, 'AT_FDCWD'), dev.path, flags(NEW_MOUNT_API, 'OPEN_TREE_CLONE', 'OPEN_TREE_CLOEXEC')], { label: `open the host device ${dev.path}`, result: tree });
    moveTreeInto(b, regs.rootfs, tree, dev.path, target, `bind the host device ${dev.path} on ${dev.path}`);
    return;
  }
  const dir = parents.hold(parent);
  b.syscall('unlinkat', [dir, name, 0], { label: `remove what is at ${dev.path}`, okErrnos: ['ENOENT'] });
  const mode = TYPE_BITS[dev.type] | ((dev.fileMode ?? DEFAULT_DEVICE_MODE) & 0o7777);
  const devt = dev.type === 'p' ? 0n : makedev(dev.major ?? 0, dev.minor ?? 0);
  b.syscall('mknodat', [dir, name, mode, devt], { label: `create the device ${dev.path} (${dev.type} ${dev.major ?? 0}:${dev.minor ?? 0})` });
  b.syscall('fchownat', [dir, name, dev.uid ?? 0, dev.gid ?? 0, flags(AT, 'AT_SYMLINK_NOFOLLOW')], { label: `chown the device ${dev.path}` });
}

/** What the image has at a path: nothing, a device node, or something else. */
export type ExistingNode = { readonly kind: 'missing' } | { readonly kind: 'device'; readonly type: 'c' | 'b' | 'p'; readonly major: number; readonly minor: number } | { readonly kind: 'other' };

export interface DevicePlanOptions {
  readonly hostHasKcore: boolean;
  /** Destinations of the config's mounts: a device below one lands on that fresh mount, not on the image. */
  readonly mounted: readonly string[];
  /** What the image has at a container path (symlinks resolved inside the rootfs). */
  readonly existing: (path: string) => ExistingNode;
}

/**
 * config-linux.md: "If a file already exists at path that does not match the requested
 * device, the runtime MUST generate an error." Checked against the image before anything
 * is created; a device below a mount of the config (the usual tmpfs /dev) lands on that.
 */
function checkExisting(dev: LinuxDevice, index: number, opts: DevicePlanOptions): void {
  const path = normalizePath(dev.path);
  if (opts.mounted.some((m) => m === '/' || path.startsWith(`${m}/`))) return;
  const found = opts.existing(path);
  if (found.kind === 'missing') return;
  const want = dev.type === 'u' ? 'c' : dev.type;
  const same = found.kind === 'device' && found.type === want && (want === 'p' || (found.major === (dev.major ?? 0) && found.minor === (dev.minor ?? 0)));
  if (!same) throw new ConfigError('config.json', [{ path: `/linux/devices/${index}/path`, message: `${dev.path} already exists in the rootfs and is not that device` }]);
}

/** Emits the device nodes, /dev/ptmx and the /dev symlinks. Call after the config's mounts. */
export function planDevices(ctx: PlanContext, opts: DevicePlanOptions): void {
  if (!needsDevSetup(ctx.spec)) return;
  (ctx.spec.linux?.devices ?? []).forEach((dev, i) => checkExisting(dev, i, opts));
  const { b, regs } = ctx;
  const parents = new HeldDirectory(ctx, regs.scratch[0]);
  for (const dev of devicesToCreate(ctx.spec)) planDevice(ctx, dev, parents);
  if (ctx.spec.process?.terminal) {
    // The pty slave is bound here after pivot_root (planTerminal).
    parents.release();
    mkdirAllInRoot(b, regs.rootfs, '/dev/console', parents.reg, 'file');
  }
  const dir = parents.hold('/dev');
  // The container's own devpts instance provides ptmx (runc: setupPtmx).
  b.syscall('unlinkat', [dir, 'ptmx', 0], { label: 'remove /dev/ptmx', okErrnos: ['ENOENT'] });
  b.syscall('symlinkat', ['pts/ptmx', dir, 'ptmx'], { label: 'symlink /dev/ptmx -> pts/ptmx' });
  const links = opts.hostHasKcore ? [...DEV_SYMLINKS, ['/proc/kcore', 'core'] as const] : DEV_SYMLINKS;
  for (const [to, name] of links) {
    b.syscall('symlinkat', [to, dir, name], { label: `symlink /dev/${name} -> ${to}`, okErrnos: ['EEXIST'] });
  }
  parents.release();
}

