// Paths inside the container's root filesystem, resolved safely: every path
// is opened with openat2(rootfs, path, RESOLVE_IN_ROOT), so a symlink in the
// (untrusted) rootfs resolves as if the rootfs were "/" and can never lead
// outside it; mounts then target the opened fd through /proc/self/fd. Missing
// directories are created one component at a time, each mkdirat relative to
// a directory fd that openat2 resolved inside the root (mkdirat never follows
// a symlink in its last component). Pure: emits ops.
import { AT, MOUNT_ATTR, NEW_MOUNT_API, RESOLVE, S } from '../../native/constants.js';
import { bytes, flags, str, struct, type Arg, type ProgramBuilder, type Reg } from '../../native/program.js';

const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

/** struct open_how { u64 flags; u64 mode; u64 resolve; }. */
function openHow(openFlags: number, resolve: number, text: string): Arg {
  const b = new Uint8Array(RESOLVE.OPEN_HOW_SIZE_VER0);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(openFlags), true);
  dv.setBigUint64(16, BigInt(resolve), true);
  return bytes(b, `{${text}, RESOLVE_IN_ROOT}`);
}

/** struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; } for mount_setattr(2). */
export function mountAttr(set: number, clear: number, propagation = 0, usernsFd = 0): Arg {
  const b = new Uint8Array(MOUNT_ATTR.MOUNT_ATTR_SIZE_VER0);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(set), true);
  dv.setBigUint64(8, BigInt(clear), true);
  dv.setBigUint64(16, BigInt(propagation), true);
  dv.setBigUint64(24, BigInt(usernsFd), true);
  const userns = usernsFd ? `, userns_fd=${usernsFd}` : '';
  return struct(b, [], `{set=0x${set.toString(16)}, clr=0x${clear.toString(16)}${userns}}`);
}

/** "/a/../b//c" -> ["b", "c"]: components relative to the root (a leading ".." stays at the root). */
export function pathComponents(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

/** "/a/../b//c" -> "/b/c": the absolute, lexically clean form of a path inside the root. */
export function normalizePath(path: string): string {
  return `/${pathComponents(path).join('/')}`;
}

/**
 * mount_setattr(2) of the mount at `where` (a register with an fd: the mount or detached tree
 * it names, AT_EMPTY_PATH; or a path), recursively or not. Returns the op index.
 */
export function setMountAttr(
  b: ProgramBuilder,
  where: Reg | string,
  attr: Arg,
  opts: { recursive?: boolean; label: string; okErrnos?: readonly string[] },
): number {
  const byFd = typeof where !== 'string';
  const names: ('AT_EMPTY_PATH' | 'AT_RECURSIVE')[] = [...(byFd ? (['AT_EMPTY_PATH'] as const) : []), ...(opts.recursive ? (['AT_RECURSIVE'] as const) : [])];
  const dirfd = byFd ? where : flags(AT, 'AT_FDCWD');
  return b.syscall('mount_setattr', [dirfd, byFd ? '' : str(where), flags(AT, ...names), attr, MOUNT_ATTR.MOUNT_ATTR_SIZE_VER0], {
    label: opts.label,
    ...(opts.okErrnos ? { okErrnos: opts.okErrnos } : {}),
  });
}

/** Moves the detached mount `tree` onto `destination` inside the root, then closes both fds (`target` is scratch). */
export function moveTreeInto(b: ProgramBuilder, root: Reg, tree: Reg, destination: string, target: Reg, label: string): void {
  openInRoot(b, root, destination, target);
  b.syscall('move_mount', [tree, '', target, '', flags(NEW_MOUNT_API, 'MOVE_MOUNT_F_EMPTY_PATH', 'MOVE_MOUNT_T_EMPTY_PATH')], { label });
  b.syscall('close', [tree]);
  b.syscall('close', [target]);
}

/** Opens `path` inside the root held by `root` (O_PATH), into `into`. Returns the op index. */
export function openInRoot(
  b: ProgramBuilder,
  root: Reg,
  path: string,
  into: Reg,
  opts: { directory?: boolean; label?: string; okErrnos?: readonly string[] } = {},
): number {
  const rel = pathComponents(path).join('/') || '.';
  const f = b.O.O_PATH | b.O.O_CLOEXEC | (opts.directory ? b.O.O_DIRECTORY : 0);
  const text = opts.directory ? 'O_PATH|O_CLOEXEC|O_DIRECTORY' : 'O_PATH|O_CLOEXEC';
  return b.syscall('openat2', [root, rel, openHow(f, RESOLVE.RESOLVE_IN_ROOT, text), RESOLVE.OPEN_HOW_SIZE_VER0], {
    label: opts.label ?? `open ${path} in the container root`,
    result: into,
    ...(opts.okErrnos ? { okErrnos: opts.okErrnos } : {}),
  });
}

/**
 * mkdir -p of `path` inside the root, then (when `leaf` is 'file') an empty
 * regular file as the last component. Existing entries are kept (EEXIST).
 * Uses `scratch` for the parent directory fds.
 */
export function mkdirAllInRoot(b: ProgramBuilder, root: Reg, path: string, scratch: Reg, leaf: 'dir' | 'file' = 'dir'): void {
  const parts = pathComponents(path);
  // The components so far ("dev/pts"), grown one at a time rather than sliced and joined twice per component.
  let parentPath = '';
  parts.forEach((name, i) => {
    const isLeafFile = leaf === 'file' && i === parts.length - 1;
    const parent = i === 0 ? root : scratch;
    if (i > 0) openInRoot(b, root, parentPath, scratch, { directory: true, label: `open /${parentPath} in the container root` });
    const target = i === 0 ? `/${name}` : `/${parentPath}/${name}`;
    if (isLeafFile) {
      b.syscall('mknodat', [parent, name, S.S_IFREG | FILE_MODE, 0], {
        label: `create the file ${target} in the container root`,
        okErrnos: ['EEXIST'],
      });
    } else {
      b.syscall('mkdirat', [parent, name, DIR_MODE], { label: `create the directory ${target} in the container root`, okErrnos: ['EEXIST'] });
    }
    if (i > 0) b.syscall('close', [scratch], { label: `close /${parentPath}` });
    parentPath = i === 0 ? name : `${parentPath}/${name}`;
  });
}
