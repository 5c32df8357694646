// The runtime-spec's Linux mount options (config.md "Linux mount options")
// turned into what the kernel takes: mount(2) flags to set and clear,
// propagation changes, recursive attributes for mount_setattr(2), and the
// filesystem data string made of every option the table does not know (as
// runc: `size=64k`, `mode=755`, `newinstance` pass through). Pure.
import { MOUNT_ATTR, MS } from '../../native/constants.js';

type MsName = keyof typeof MS;
type AttrName = Exclude<keyof typeof MOUNT_ATTR, 'MOUNT_ATTR_SIZE_VER0' | 'MOUNT_ATTR__ATIME'>;

/** A plain option: flags it sets or clears on the mount. */
const FLAG_OPTIONS: Readonly<Record<string, { readonly set?: MsName; readonly clear?: MsName }>> = {
  async: { clear: 'MS_SYNCHRONOUS' },
  atime: { clear: 'MS_NOATIME' },
  defaults: {},
  dev: { clear: 'MS_NODEV' },
  diratime: { clear: 'MS_NODIRATIME' },
  dirsync: { set: 'MS_DIRSYNC' },
  exec: { clear: 'MS_NOEXEC' },
  iversion: { set: 'MS_I_VERSION' },
  lazytime: { set: 'MS_LAZYTIME' },
  loud: { clear: 'MS_SILENT' },
  mand: { set: 'MS_MANDLOCK' },
  noatime: { set: 'MS_NOATIME' },
  nodev: { set: 'MS_NODEV' },
  nodiratime: { set: 'MS_NODIRATIME' },
  noexec: { set: 'MS_NOEXEC' },
  noiversion: { clear: 'MS_I_VERSION' },
  nolazytime: { clear: 'MS_LAZYTIME' },
  nomand: { clear: 'MS_MANDLOCK' },
  norelatime: { clear: 'MS_RELATIME' },
  nostrictatime: { clear: 'MS_STRICTATIME' },
  nosuid: { set: 'MS_NOSUID' },
  nosymfollow: { set: 'MS_NOSYMFOLLOW' },
  relatime: { set: 'MS_RELATIME' },
  remount: { set: 'MS_REMOUNT' },
  ro: { set: 'MS_RDONLY' },
  rw: { clear: 'MS_RDONLY' },
  silent: { set: 'MS_SILENT' },
  strictatime: { set: 'MS_STRICTATIME' },
  suid: { clear: 'MS_NOSUID' },
  sync: { set: 'MS_SYNCHRONOUS' },
  symfollow: { clear: 'MS_NOSYMFOLLOW' },
};

/** Propagation options: applied by a mount(2) call of their own after the mount exists. */
export const PROPAGATION: Readonly<Record<string, readonly MsName[]>> = {
  private: ['MS_PRIVATE'],
  rprivate: ['MS_PRIVATE', 'MS_REC'],
  shared: ['MS_SHARED'],
  rshared: ['MS_SHARED', 'MS_REC'],
  slave: ['MS_SLAVE'],
  rslave: ['MS_SLAVE', 'MS_REC'],
  unbindable: ['MS_UNBINDABLE'],
  runbindable: ['MS_UNBINDABLE', 'MS_REC'],
};

/** Recursive attributes (mount_setattr with AT_RECURSIVE): set or clear, and the atime mode. */
const RECURSIVE_OPTIONS: Readonly<Record<string, { readonly set?: AttrName; readonly clear?: AttrName; readonly atime?: true }>> = {
  rro: { set: 'MOUNT_ATTR_RDONLY' },
  rrw: { clear: 'MOUNT_ATTR_RDONLY' },
  rnosuid: { set: 'MOUNT_ATTR_NOSUID' },
  rsuid: { clear: 'MOUNT_ATTR_NOSUID' },
  rnodev: { set: 'MOUNT_ATTR_NODEV' },
  rdev: { clear: 'MOUNT_ATTR_NODEV' },
  rnoexec: { set: 'MOUNT_ATTR_NOEXEC' },
  rexec: { clear: 'MOUNT_ATTR_NOEXEC' },
  rnodiratime: { set: 'MOUNT_ATTR_NODIRATIME' },
  rdiratime: { clear: 'MOUNT_ATTR_NODIRATIME' },
  rnosymfollow: { set: 'MOUNT_ATTR_NOSYMFOLLOW' },
  rsymfollow: { clear: 'MOUNT_ATTR_NOSYMFOLLOW' },
  rrelatime: { set: 'MOUNT_ATTR_RELATIME', atime: true },
  rnorelatime: { clear: 'MOUNT_ATTR_RELATIME', atime: true },
  ratime: { clear: 'MOUNT_ATTR_NOATIME', atime: true },
  rnoatime: { set: 'MOUNT_ATTR_NOATIME', atime: true },
  rstrictatime: { set: 'MOUNT_ATTR_STRICTATIME', atime: true },
  rnostrictatime: { clear: 'MOUNT_ATTR_STRICTATIME', atime: true },
};

/** Mount flags that map one to one onto mount_setattr attributes (a bind mount's flags are set that way). */
export const MS_TO_ATTR: readonly (readonly [MsName, AttrName])[] = [
  ['MS_RDONLY', 'MOUNT_ATTR_RDONLY'],
  ['MS_NOSUID', 'MOUNT_ATTR_NOSUID'],
  ['MS_NODEV', 'MOUNT_ATTR_NODEV'],
  ['MS_NOEXEC', 'MOUNT_ATTR_NOEXEC'],
  ['MS_NODIRATIME', 'MOUNT_ATTR_NODIRATIME'],
  ['MS_NOSYMFOLLOW', 'MOUNT_ATTR_NOSYMFOLLOW'],
];
const ATIME_FLAGS: readonly (readonly [MsName, AttrName])[] = [
  ['MS_NOATIME', 'MOUNT_ATTR_NOATIME'],
  ['MS_STRICTATIME', 'MOUNT_ATTR_STRICTATIME'],
  ['MS_RELATIME', 'MOUNT_ATTR_RELATIME'],
];

/** mount_setattr's struct mount_attr fields (attr_set, attr_clr). */
export interface MountAttrChange {
  readonly set: number;
  readonly clear: number;
}

export interface ParsedMountOptions {
  /** `bind` or `rbind` given. */
  readonly bind: boolean;
  /** `rbind` given: the whole tree under the source. */
  readonly recursiveBind: boolean;
  /** mount(2) flags to set (without MS_BIND/MS_REC: those follow from bind). */
  readonly flags: number;
  /** Flags the config explicitly clears (`rw`, `suid`, ...): matter for a bind mount's attributes. */
  readonly cleared: number;
  /** Propagation changes in the order given. */
  readonly propagation: readonly (readonly MsName[])[];
  /** Attributes applied with AT_RECURSIVE, when any `r*` option is given. */
  readonly recursive: MountAttrChange | undefined;
  /** The filesystem-specific data string (unknown options, comma-joined). */
  readonly data: string;
  /** runc's `tmpcopyup`: a tmpfs gets a copy of what the image has at its destination. */
  readonly tmpcopyup: boolean;
  /** `idmap` (the mount's top only) or `ridmap` (its whole tree). */
  readonly idmap: 'idmap' | 'ridmap' | undefined;
}

export function parseMountOptions(options: readonly string[], field: string): ParsedMountOptions {
  let flags = 0;
  let cleared = 0;
  let bind = false;
  let recursiveBind = false;
  const propagation: (readonly MsName[])[] = [];
  let rset = 0;
  let rclr = 0;
  let anyRecursive = false;
  let idmap: 'idmap' | 'ridmap' | undefined;
  let tmpcopyup = false;
  const data: string[] = [];
  options.forEach((option, i) => {
    if (option === 'tmpcopyup') {
      tmpcopyup = true;
      return;
    }
    if (option === 'idmap' || option === 'ridmap') {
      idmap = option;
      return;
    }
    if (option === 'bind' || option === 'rbind') {
      bind = true;
      recursiveBind ||= option === 'rbind';
      return;
    }
    const plain = FLAG_OPTIONS[option];
    if (plain !== undefined) {
      if (plain.set) {
        flags |= MS[plain.set];
        cleared &= ~MS[plain.set];
      }
      if (plain.clear) {
        flags &= ~MS[plain.clear];
        cleared |= MS[plain.clear];
      }
      return;
    }
    const prop = PROPAGATION[option];
    if (prop !== undefined) {
      propagation.push(prop);
      return;
    }
    const rec = RECURSIVE_OPTIONS[option];
    if (rec !== undefined) {
      anyRecursive = true;
      if (rec.atime) {
        // One atime mode at a time: clear the mode field, set the chosen one (relatime is 0).
        rclr |= MOUNT_ATTR.MOUNT_ATTR__ATIME;
        rset = (rset & ~MOUNT_ATTR.MOUNT_ATTR__ATIME) | (rec.set ? MOUNT_ATTR[rec.set] : 0);
      } else if (rec.set) {
        rset |= MOUNT_ATTR[rec.set];
        rclr &= ~MOUNT_ATTR[rec.set];
      } else if (rec.clear) {
        rclr |= MOUNT_ATTR[rec.clear];
        rset &= ~MOUNT_ATTR[rec.clear];
      }
      return;
    }
    data.push(option);
  });
  return {
    bind,
    recursiveBind,
    flags: flags >>> 0,
    cleared: cleared >>> 0,
    propagation,
    recursive: anyRecursive ? { set: rset, clear: rclr } : undefined,
    data: data.join(','),
    tmpcopyup,
    idmap,
  };
}

/** The flags every kernel with mount_setattr (5.12) knows: a bind standing in for a new mount clears these when the options do not set them. */
const NEW_MOUNT_DEFAULT_CLEAR: readonly AttrName[] = ['MOUNT_ATTR_RDONLY', 'MOUNT_ATTR_NOSUID', 'MOUNT_ATTR_NODEV', 'MOUNT_ATTR_NOEXEC'];

/**
 * The attributes of a new mount with these options, for a bind mount that stands in for one (a
 * clone of the host's cgroup2 mount): what the options set, the classic flags they do not set
 * cleared, and their atime mode or relatime (a new mount's default).
 */
export function newMountAttributes(parsed: ParsedMountOptions): MountAttrChange {
  let set = 0;
  let clear = 0;
  for (const [ms, attr] of MS_TO_ATTR) {
    if (parsed.flags & MS[ms]) set |= MOUNT_ATTR[attr];
    else if (NEW_MOUNT_DEFAULT_CLEAR.includes(attr)) clear |= MOUNT_ATTR[attr];
  }
  const atime = ATIME_FLAGS.find(([ms]) => parsed.flags & MS[ms]);
  set |= atime ? MOUNT_ATTR[atime[1]] : MOUNT_ATTR.MOUNT_ATTR_RELATIME;
  clear |= MOUNT_ATTR.MOUNT_ATTR__ATIME;
  return { set, clear };
}

/**
 * The mount_setattr change that gives a bind mount the flags of its options:
 * set what is asked, clear what is explicitly cleared, and leave everything
 * else alone (so flags the kernel locks in a user namespace are kept).
 */
export function bindAttributes(parsed: ParsedMountOptions): MountAttrChange {
  let set = 0;
  let clear = 0;
  for (const [ms, attr] of MS_TO_ATTR) {
    if (parsed.flags & MS[ms]) set |= MOUNT_ATTR[attr];
    if (parsed.cleared & MS[ms]) clear |= MOUNT_ATTR[attr];
  }
  const atime = ATIME_FLAGS.find(([ms]) => parsed.flags & MS[ms]);
  if (atime) {
    set |= MOUNT_ATTR[atime[1]];
    clear |= MOUNT_ATTR.MOUNT_ATTR__ATIME;
  }
  return { set, clear };
}
