// The config `tsrun spec` writes: what runc 1.1.5 `runc spec` writes
// (libcontainer/specconv Example) and, with --rootless, what its ToRootless
// turns that into. The differences are deliberate: ociVersion is the spec
// version tsrun implements. Objects are built in runc's field order, so that
// JSON.stringify gives the same layout as runc's output.

import type { IDMapping, LinuxNamespace, Mount, Spec } from './types.js';

/** The runtime-spec version tsrun implements and writes into new configs. */
export const DEFAULT_OCI_VERSION = '1.3.0';

export interface DefaultSpecOptions {
  /** `tsrun spec --rootless`: a user namespace mapping the caller to root, no network namespace, /sys bind-mounted, no cgroup resources. */
  readonly rootless: boolean;
  /** Host uid/gid mapped to root in the rootless config; runc uses the caller's euid/egid. Defaults to this process's. */
  readonly hostUid?: number;
  readonly hostGid?: number;
  /**
   * Add a cgroup namespace. runc adds one when the host is in pure cgroup v2
   * (unified) mode; the caller decides, since this function does not look
   * at the host. Default false (what runc writes on a v1 or hybrid host).
   */
  readonly cgroupns?: boolean;
}

const CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];

const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function mounts(rootless: boolean): Mount[] {
  // runc --rootless: gid= and uid= options go (the ids may not be mapped), and
  // /sys is a read-only rbind of the host's (sysfs cannot be mounted without
  // owning the network namespace).
  const ids = (options: string[]): string[] => (rootless ? options.filter((o) => !o.startsWith('uid=') && !o.startsWith('gid=')) : options);
  const sys: Mount = rootless
    ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
    : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ids(['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']) },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    sys,
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

function namespaces(opts: DefaultSpecOptions): LinuxNamespace[] {
  const list: LinuxNamespace[] = [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (opts.cgroupns === true) list.push({ type: 'cgroup' });
  if (!opts.rootless) return list;
  // ToRootless: no network namespace (it could not be given any device), a user namespace last.
  return [...list.filter((ns) => ns.type !== 'network'), { type: 'user' }];
}

function rootMapping(hostID: number): IDMapping[] {
  return [{ containerID: 0, hostID, size: 1 }];
}

/** A fresh default config (callers may modify the result). */
export function defaultSpec(opts: DefaultSpecOptions): Spec {
  const caps = (): string[] => [...CAPABILITIES];
  const linuxCommon = {
    namespaces: namespaces(opts),
    maskedPaths: [...MASKED_PATHS],
    readonlyPaths: [...READONLY_PATHS],
  };
  const linux = opts.rootless
    ? {
        uidMappings: rootMapping(opts.hostUid ?? process.geteuid?.() ?? 0),
        gidMappings: rootMapping(opts.hostGid ?? process.getegid?.() ?? 0),
        ...linuxCommon,
      }
    : {
        resources: { devices: [{ allow: false, access: 'rwm' }] },
        ...linuxCommon,
      };
  return {
    ociVersion: DEFAULT_OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps(), effective: caps(), permitted: caps(), ambient: caps() },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: mounts(opts.rootless),
    linux,
  };
}
