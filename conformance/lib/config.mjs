// @ts-check
// The config every case starts from: a minimal valid runtime-spec 1.3 Linux
// config, and small helpers that cases use to change it.

/**
 * ociVersion of every config. CONFORMANCE_OCI_VERSION overrides it for a
 * runtime that refuses a newer version than it knows (crun 1.8.1: "unknown
 * version specified" for 1.3.0).
 */
export const SPEC_VERSION = process.env.CONFORMANCE_OCI_VERSION || '1.3.0';

/** The capability set of `runc spec` (and containerd's minimal one). */
export const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** The default mounts of config-linux.md (without a cgroup mount). */
export function defaultMounts() {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  ];
}

/**
 * @typedef {Record<string, any>} Config  a runtime-spec config.json object
 */

/**
 * A fresh minimal config: namespaces pid/ipc/uts/mount/network, the default
 * mounts, no cgroup resources, terminal false, `sh -c true`.
 * @param {{ script?: string, args?: string[] }} [opts]
 * @returns {Config}
 */
export function baseConfig(opts = {}) {
  return {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: opts.args ?? ['sh', '-c', opts.script ?? 'true'],
      env: ['PATH=/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
      },
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'conformance',
    mounts: defaultMounts(),
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
    },
  };
}

/**
 * Run `sh -c script` as the container process.
 * @param {Config} cfg
 * @param {string} script
 */
export function setScript(cfg, script) {
  cfg.process.args = ['sh', '-c', script];
  return cfg;
}

/**
 * Add (or replace) a namespace entry; path joins an existing namespace.
 * @param {Config} cfg
 * @param {string} type
 * @param {string} [nsPath]
 */
export function setNamespace(cfg, type, nsPath) {
  removeNamespace(cfg, type);
  cfg.linux.namespaces.push(nsPath ? { type, path: nsPath } : { type });
  return cfg;
}

/**
 * @param {Config} cfg
 * @param {string} type
 */
export function removeNamespace(cfg, type) {
  cfg.linux.namespaces = cfg.linux.namespaces.filter((/** @type {{type: string}} */ n) => n.type !== type);
  return cfg;
}

/**
 * A read-write bind mount of a host directory.
 * @param {string} source
 * @param {string} destination
 * @param {string[]} [extra]
 */
export function bindMount(source, destination, extra = ['rw']) {
  return { destination, type: 'bind', source, options: ['rbind', ...extra] };
}

/**
 * Give the process every capability in all of its sets but ambient and
 * inheritable, for cases that need privilege inside the container.
 * @param {Config} cfg
 * @param {string[]} caps
 */
export function setCaps(cfg, caps) {
  cfg.process.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
  return cfg;
}

/** Every capability name up to CAP_CHECKPOINT_RESTORE (40). */
export const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/**
 * The bit mask of a list of capability names, as /proc/<pid>/status prints it.
 * @param {string[]} caps
 * @returns {bigint}
 */
export function capMask(caps) {
  let m = 0n;
  for (const c of caps) {
    const i = ALL_CAPS.indexOf(c);
    if (i < 0) throw new Error(`unknown capability ${c}`);
    m |= 1n << BigInt(i);
  }
  return m;
}
