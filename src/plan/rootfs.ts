// The root filesystem (config.md "Root", "Mounts"; config-linux.md
// "rootfsPropagation", "maskedPaths", "readonlyPaths"), as ops for the stub:
//
//   before the create hooks: propagation of "/" (slave unless the config says
//   otherwise, so nothing leaks back to the host), the rootfs bound on itself,
//   the config's mounts in order, /dev;
//   after them: pivot_root (or MS_MOVE + chroot with --no-pivot);
//   last: masked paths, read-only paths, read-only root.
//
// Bind mounts are made with open_tree + mount_setattr + move_mount: the
// attributes are set on the detached copy before it becomes visible, and only
// the ones asked for change (flags the kernel locks in a user namespace stay).
import { resolve } from 'node:path';
import { AT, MNT, MOUNT_ATTR, MS, NEW_MOUNT_API } from '../../native/constants.js';
import { fdPath, flags, flagsValue, imm, nul, regArg, str, type ProgramBuilder, type Reg } from '../../native/program.js';
import { UnsupportedError } from '../errors.js';
import type { Mount, Spec } from '../spec/types.js';
import type { PlanContext } from './context.js';
import { needsDevSetup, planDevices, type ExistingNode } from './devices.js';
import { mkdirAllInRoot, mountAttr, moveTreeInto, normalizePath, openInRoot, setMountAttr } from './in-root.js';
import { bindAttributes, newMountAttributes, parseMountOptions, PROPAGATION, type ParsedMountOptions } from './mount-options.js';
import { SYNC } from './sync.js';

/** Facts about the host the rootfs planner needs, read by the caller (src/lifecycle/probe.ts). */
export interface SourceProbe {
  /** What is at a bind mount's source: its destination is created as a file or a directory to match. */
  sourceKind(hostPath: string): 'dir' | 'file' | 'missing';
  /** The mount point of the host mount that holds `hostPath`. */
  mountPointOf(hostPath: string): string;
  /**
   * A destination with the image's symlinks resolved inside the rootfs (so a
   * dangling in-root link gets its target created, as runc's securejoin does).
   * Only a hint: the stub still resolves every path with RESOLVE_IN_ROOT.
   */
  resolveInRootfs(rootfs: string, path: string): string;
  /** SELinux is enabled: linux.mountLabel becomes the context= option of the container's own filesystems. */
  readonly selinuxEnabled?: boolean;
  /** What the image has at a container path (linux.devices must not replace something else). */
  existingNode?(rootfs: string, path: string): ExistingNode;
  /** /proc/kcore exists: /dev/core is linked to it. */
  readonly hostHasKcore: boolean;
}

/** Root propagation of the config, as mount(2) flags; runc's default is rslave. */
export function rootPropagationFlags(spec: Spec): number | undefined {
  const p = spec.linux?.rootfsPropagation;
  if (p === undefined) return undefined;
  const names = PROPAGATION[p];
  if (names === undefined) throw new UnsupportedError('/linux/rootfsPropagation', `unknown propagation ${JSON.stringify(p)}`);
  return names.reduce((v, n) => v | MS[n], 0);
}

function isDev(destination: string): boolean {
  return normalizePath(destination) === '/dev';
}

/** A read-only /dev is mounted read-write first (tsrun creates devices in it) and made read-only at the end, as runc. */
function devReadonlyLater(spec: Spec, m: Mount, parsed: ParsedMountOptions): boolean {
  return isDev(m.destination) && !parsed.bind && (parsed.flags & MS.MS_RDONLY) !== 0 && needsDevSetup(spec);
}

/** Opens a detached copy of a bind mount's source (open_tree OPEN_TREE_CLONE), into `into`. */
function planOpenTree(b: ProgramBuilder, source: string, recursive: boolean, into: Reg, field: string): void {
  const treeFlags = NEW_MOUNT_API.OPEN_TREE_CLONE | NEW_MOUNT_API.OPEN_TREE_CLOEXEC | (recursive ? AT.AT_RECURSIVE : 0);
  const treeText = recursive ? 'OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE' : 'OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC';
  b.syscall('open_tree', [flags(AT, 'AT_FDCWD'), str(source), imm(treeFlags, treeText)], { label: `open the bind source ${source} (${field})`, result: into });
}

function bindSource(ctx: PlanContext, m: Mount, field: string): string {
  if (m.source === undefined) throw new UnsupportedError(`${field}/source`, 'a bind mount needs a source');
  return resolve(ctx.bundle, m.source);
}

/** An idmapped mount: the config's index, and the fd number (in the stub) of a user namespace with its mappings. */
export interface IdmappedMount {
  readonly index: number;
  readonly usernsFd: number;
}

/**
 * Idmapped bind mounts, before any namespace is entered: MOUNT_ATTR_IDMAP
 * needs CAP_SYS_ADMIN over the source's filesystem (the host's), which a
 * new user namespace would lose. Each detached, idmapped tree stays in a
 * register until planRootfsMounts moves it into place.
 */
export function planIdmappedTrees(ctx: PlanContext, idmapped: readonly IdmappedMount[]): Map<number, Reg> {
  const { b, spec } = ctx;
  const trees = new Map<number, Reg>();
  for (const { index, usernsFd } of idmapped) {
    const m = spec.mounts?.[index];
    if (m === undefined) continue;
    const field = `/mounts/${index}`;
    const parsed = parseMountOptions(m.options ?? [], `${field}/options`);
    if (!(parsed.bind || m.type === 'bind')) throw new UnsupportedError(`${field}/options`, 'idmap applies to bind mounts only');
    const tree = b.reg();
    planOpenTree(b, bindSource(ctx, m, field), parsed.recursiveBind, tree, field);
    setMountAttr(b, tree, mountAttr(MOUNT_ATTR.MOUNT_ATTR_IDMAP, 0, 0, usernsFd), {
      recursive: parsed.idmap === 'ridmap',
      label: `idmap the bind mount for ${m.destination} (does its filesystem support idmapped mounts?)`,
    });
    trees.set(index, tree);
  }
  for (const { usernsFd } of idmapped) b.syscall('close', [usernsFd], { label: 'close the idmap user namespace' });
  return trees;
}

function planBindMount(ctx: PlanContext, m: Mount, field: string, parsed: ParsedMountOptions, probe: SourceProbe, idmappedTree: Reg | undefined): void {
  const { b, regs } = ctx;
  const [dir, target, scratchTree] = regs.scratch;
  const source = bindSource(ctx, m, field);
  const kind = probe.sourceKind(source);
  mkdirAllInRoot(b, regs.rootfs, m.destination, dir, kind === 'file' ? 'file' : 'dir');
  const tree = idmappedTree ?? scratchTree;
  if (!idmappedTree) planOpenTree(b, source, parsed.recursiveBind, tree, field);
  const attrs = bindAttributes(parsed);
  if (attrs.set !== 0 || attrs.clear !== 0) {
    setMountAttr(b, tree, mountAttr(attrs.set, attrs.clear), { label: `set the options of the bind mount on ${m.destination}` });
  }
  if (parsed.recursive) {
    setMountAttr(b, tree, mountAttr(parsed.recursive.set, parsed.recursive.clear), { recursive: true, label: `set the recursive options of the bind mount on ${m.destination}` });
  }
  moveTreeInto(b, regs.rootfs, tree, m.destination, target, `bind mount ${source} on ${m.destination}`);
}

/** The data string with the SELinux mount label as runc formats it, when SELinux is enabled (runc ignores the label otherwise). */
export function dataWithMountLabel(data: string, label: string | undefined, selinuxEnabled: boolean): string {
  if (!label || !selinuxEnabled) return data;
  const context = `context="${label}"`;
  return data ? `${data},${context}` : context;
}

function planFilesystemMount(ctx: PlanContext, m: Mount, field: string, parsed: ParsedMountOptions, probe: SourceProbe): void {
  const { b, regs } = ctx;
  const [dir, target] = regs.scratch;
  if (m.type === undefined || m.type === '') throw new UnsupportedError(`${field}/type`, 'a mount that is not a bind mount needs a type');
  // cgroup v1 is never mounted: tsrun drives the unified hierarchy, as runc does on a v2 host.
  const fstype = m.type === 'cgroup' ? 'cgroup2' : m.type;
  if (fstype === 'cgroup2' && ctx.hostCgroupMount !== undefined && parsed.data === '' && !parsed.tmpcopyup) {
    planCgroupBind(ctx, m, parsed, ctx.hostCgroupMount);
    return;
  }
  const source = m.source ?? fstype;
  const mountFlags = devReadonlyLater(ctx.spec, m, parsed) ? parsed.flags & ~MS.MS_RDONLY : parsed.flags;
  mkdirAllInRoot(b, regs.rootfs, m.destination, dir);
  openInRoot(b, regs.rootfs, m.destination, target, { directory: true });
  // proc, sysfs and cgroup2 take no context=; the label is for the filesystems the container owns (tmpfs, devpts, mqueue, ...).
  const labelled = ['proc', 'sysfs', 'cgroup2'].includes(fstype) ? parsed.data : dataWithMountLabel(parsed.data, ctx.spec.linux?.mountLabel, probe.selinuxEnabled ?? false);
  b.syscall('mount', [str(source), fdPath(target), str(fstype), flagsValue(MS, mountFlags, 'MS_'), labelled ? str(labelled) : nul()], {
    label: `mount ${fstype} on ${m.destination}`,
  });
  if (parsed.tmpcopyup) {
    if (fstype !== 'tmpfs') throw new UnsupportedError(`${field}/options`, 'tmpcopyup applies to tmpfs mounts only');
    planCopyUp(ctx, m.destination, target);
  }
  b.syscall('close', [target]);
  if (parsed.recursive) {
    // Reopened: the fd from before the mount names the directory under it.
    openInRoot(b, regs.rootfs, m.destination, target, { directory: true });
    setMountAttr(b, target, mountAttr(parsed.recursive.set, parsed.recursive.clear), { recursive: true, label: `set the recursive options of the mount on ${m.destination}` });
    b.syscall('close', [target]);
  }
}

/**
 * A cgroup2 mount in tsrun's cgroup namespace shows the same tree as the host's cgroup2 mount,
 * so it is a clone of that mount with the options' flags. A new cgroup2 mount from the initial
 * cgroup namespace is worse on two counts: the kernel applies its (absent) mount options to the
 * whole hierarchy, clearing the host's nsdelegate, memory_recursiveprot and favordynmods, and it
 * takes cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period (~10 ms here).
 */
function planCgroupBind(ctx: PlanContext, m: Mount, parsed: ParsedMountOptions, hostMount: string): void {
  const { b, regs } = ctx;
  const [dir, target, tree] = regs.scratch;
  mkdirAllInRoot(b, regs.rootfs, m.destination, dir);
  planOpenTree(b, hostMount, false, tree, `cgroup2 for ${m.destination}`);
  const attrs = newMountAttributes(parsed);
  setMountAttr(b, tree, mountAttr(attrs.set, attrs.clear), { label: `set the options of the cgroup2 mount on ${m.destination}` });
  moveTreeInto(b, regs.rootfs, tree, m.destination, target, `mount the host's cgroup2 (${hostMount}) on ${m.destination}`);
}

/**
 * tmpcopyup (runc's extension, which Podman uses for every tmpfs): what the
 * image has at the destination is copied into the new tmpfs. `under` still
 * names the directory beneath the mount (opened before it); the tmpfs root is
 * opened now; both fds go to tsrun, which copies between them (a copy is no
 * job for a program without loops).
 */
function planCopyUp(ctx: PlanContext, destination: string, under: Reg): void {
  const { b, regs } = ctx;
  const tmpfs = regs.scratch[2];
  openInRoot(b, regs.rootfs, destination, tmpfs, { directory: true });
  b.sync(SYNC.COPY_UP_SOURCE, regArg(under), { sendFd: true, label: `send the image's ${destination} for tmpcopyup` });
  b.sync(SYNC.COPY_UP_TARGET, regArg(tmpfs), { sendFd: true, label: `copy the image's ${destination} into its tmpfs` });
  b.syscall('close', [tmpfs]);
}

function planPropagation(ctx: PlanContext, m: Mount, parsed: ParsedMountOptions): void {
  const { b, regs } = ctx;
  const target = regs.scratch[1];
  for (const names of parsed.propagation) {
    openInRoot(b, regs.rootfs, m.destination, target);
    b.syscall('mount', [nul(), fdPath(target), nul(), flags(MS, ...names), nul()], { label: `make ${m.destination} ${names.join('|')}` });
    b.syscall('close', [target]);
  }
}

/**
 * The destination to create and mount on: the image's symlinks resolved inside
 * the rootfs, except beneath an earlier mount of this config (the host cannot
 * see what that mount will show; the stub's RESOLVE_IN_ROOT still applies).
 */
function destinationFor(ctx: PlanContext, destination: string, earlier: readonly string[], probe: SourceProbe): string {
  const lexical = normalizePath(destination);
  const under = (d: string): boolean => d === '/' || lexical === d || lexical.startsWith(`${d}/`);
  return earlier.some(under) ? lexical : probe.resolveInRootfs(ctx.rootfs, lexical);
}

function planMount(ctx: PlanContext, mount: Mount, index: number, probe: SourceProbe, earlier: string[], trees: ReadonlyMap<number, Reg>): void {
  const field = `/mounts/${index}`;
  const m: Mount = { ...mount, destination: destinationFor(ctx, mount.destination, earlier, probe) };
  earlier.push(m.destination);
  const parsed = parseMountOptions(m.options ?? [], `${field}/options`);
  const tree = trees.get(index);
  if (tree === undefined && (parsed.idmap !== undefined || (m.uidMappings ?? []).length > 0)) {
    throw new UnsupportedError(`${field}/options`, 'an idmapped mount needs a user namespace fd (planIdmappedTrees)');
  }
  if (parsed.flags & MS.MS_REMOUNT) throw new UnsupportedError(`${field}/options`, 'remount of a mount the container does not have yet is not supported');
  if (parsed.bind || m.type === 'bind') planBindMount(ctx, m, field, parsed, probe, tree);
  else planFilesystemMount(ctx, m, field, parsed, probe);
  planPropagation(ctx, m, parsed);
}

/** Fields of config.md "Root"/"Mounts" tsrun refuses rather than ignores. */
export function refuseUnsupportedRootfsFields(spec: Spec): void {
  rootPropagationFlags(spec);
  (spec.mounts ?? []).forEach((m, i) => parseMountOptions(m.options ?? [], `/mounts/${i}/options`));
}

/** Propagation, the rootfs bound on itself and opened into regs.rootfs, the mounts, /dev, the process's cwd. */
export function planRootfsMounts(ctx: PlanContext, probe: SourceProbe, trees: ReadonlyMap<number, Reg> = new Map()): void {
  const { b, regs, spec } = ctx;
  // Devices and created files get exactly the modes the config gives.
  b.syscall('umask', [0], { label: 'clear the umask for setup' });
  const prop = rootPropagationFlags(spec) ?? MS.MS_SLAVE | MS.MS_REC;
  b.syscall('mount', [nul(), str('/'), nul(), flagsValue(MS, prop, 'MS_'), nul()], { label: 'set the propagation of / in the container mount namespace' });
  // pivot_root refuses a shared parent mount (runc: rootfsParentMountPrivate). With a
  // non-recursive rootfsPropagation ("private", "slave") the mount holding the rootfs may
  // still be shared (a bundle under a shared mount on a systemd host): always take it out of
  // its peer group: as a slave when the propagation is (r)slave, so the host's mounts still
  // show in the container; else private (an unbindable parent could not be bound from).
  const parent = probe.mountPointOf(ctx.rootfs);
  const parentFlag = prop & MS.MS_SLAVE ? 'MS_SLAVE' : 'MS_PRIVATE';
  b.syscall('mount', [nul(), str(parent), nul(), flags(MS, parentFlag), nul()], { label: `make ${parent}, the mount holding the rootfs, ${parentFlag === 'MS_PRIVATE' ? 'private' : 'a slave'}` });
  b.syscall('mount', [str(ctx.rootfs), str(ctx.rootfs), str('bind'), flags(MS, 'MS_BIND', 'MS_REC'), nul()], { label: `bind mount the rootfs ${ctx.rootfs} on itself` });
  b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(ctx.rootfs), b.O.O_PATH | b.O.O_DIRECTORY | b.O.O_CLOEXEC, 0], {
    label: `open the rootfs ${ctx.rootfs}`,
    result: regs.rootfs,
  });
  const earlier: string[] = [];
  (spec.mounts ?? []).forEach((m, i) => planMount(ctx, m, i, probe, earlier, trees));
  planDevices(ctx, { hostHasKcore: probe.hostHasKcore, mounted: earlier, existing: (path) => probe.existingNode?.(ctx.rootfs, path) ?? { kind: 'missing' } });
  const cwd = spec.process?.cwd;
  if (cwd) mkdirAllInRoot(b, regs.rootfs, cwd, regs.scratch[0]);
}

/** pivot_root into the rootfs and detach the old root, or MS_MOVE + chroot with --no-pivot. */
export function planPivotRoot(ctx: PlanContext): void {
  const { b, regs, spec } = ctx;
  if (ctx.noPivot) {
    b.syscall('fchdir', [regs.rootfs], { label: 'enter the rootfs' });
    b.syscall('mount', [str('.'), str('/'), nul(), flags(MS, 'MS_MOVE'), nul()], { label: 'move the rootfs mount to / (--no-pivot)' });
    b.syscall('chroot', [str('.')], { label: 'chroot into the rootfs (--no-pivot)' });
  } else {
    const oldRoot = regs.scratch[0];
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str('/'), b.O.O_PATH | b.O.O_DIRECTORY | b.O.O_CLOEXEC, 0], { label: 'open the old root', result: oldRoot });
    b.syscall('fchdir', [regs.rootfs], { label: 'enter the rootfs' });
    // pivot_root(".", "."): the old root ends up stacked on the new one, then is detached.
    b.syscall('pivot_root', [str('.'), str('.')], { label: 'pivot_root into the rootfs' });
    b.syscall('fchdir', [oldRoot], { label: 'enter the old root' });
    b.syscall('mount', [nul(), str('.'), nul(), flags(MS, 'MS_SLAVE', 'MS_REC'), nul()], { label: 'make the old root a slave so its unmount stays here' });
    b.syscall('umount2', [str('.'), flags(MNT, 'MNT_DETACH')], { label: 'detach the old root' });
    b.syscall('close', [oldRoot]);
  }
  b.syscall('chdir', [str('/')], { label: 'chdir to the new /' });
  const prop = rootPropagationFlags(spec);
  if (prop !== undefined) b.syscall('mount', [nul(), str('/'), nul(), flagsValue(MS, prop, 'MS_'), nul()], { label: `set rootfsPropagation ${spec.linux?.rootfsPropagation ?? ''}` });
}

/** After pivot_root and the container settings: masked paths, read-only paths, read-only /dev and root. */
export function planFinalizeRootfs(ctx: PlanContext): void {
  const { b, spec } = ctx;
  const missingOk = ['ENOENT'];
  for (const path of spec.linux?.maskedPaths ?? []) {
    // A file gets /dev/null, a directory an empty read-only tmpfs; the op for the wrong kind fails with ENOTDIR.
    b.syscall('mount', [str('/dev/null'), str(path), nul(), flags(MS, 'MS_BIND'), nul()], { label: `mask ${path}`, okErrnos: ['ENOENT', 'ENOTDIR'] });
    b.syscall('mount', [str('tmpfs'), str(path), str('tmpfs'), flags(MS, 'MS_RDONLY'), nul()], { label: `mask the directory ${path}`, okErrnos: ['ENOENT', 'ENOTDIR'] });
  }
  for (const path of spec.linux?.readonlyPaths ?? []) {
    b.syscall('mount', [str(path), str(path), nul(), flags(MS, 'MS_BIND', 'MS_REC'), nul()], { label: `bind ${path} on itself`, okErrnos: missingOk });
    planReadonly(b, path, { recursive: true, okErrnos: missingOk });
  }
  if ((spec.mounts ?? []).some((m, i) => devReadonlyLater(spec, m, parseMountOptions(m.options ?? [], `/mounts/${i}/options`)))) planReadonly(b, '/dev');
  if (spec.root?.readonly) planReadonly(b, '/');
}

function planReadonly(b: ProgramBuilder, path: string, opts: { recursive?: boolean; okErrnos?: readonly string[] } = {}): void {
  setMountAttr(b, path, mountAttr(MOUNT_ATTR.MOUNT_ATTR_RDONLY, 0), { ...opts, label: `make ${path} read-only` });
}

