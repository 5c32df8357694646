// `tsrun features` (runtime-spec features.md, features-linux.md): what tsrun
// recognises and implements. SUPPORT is the one table to edit when a feature
// lands or is dropped; buildFeatures only turns it into the document.
//
// A list here means "recognised and implemented", never "parsed and
// ignored": callers (containerd, CRI-O, Podman) use it to decide what to
// send.

import { CAPABILITY_NAMES } from './capabilities.js';
import { SPEC_VERSION, TSRUN_VERSION } from './cli/version.js';
import type { Features, HookName, NamespaceType, SeccompAction, SeccompArch, SeccompFlag, SeccompOperator } from './spec/types.js';

export interface SupportTable {
  readonly ociVersionMin: string;
  readonly ociVersionMax: string;
  readonly hooks: readonly HookName[];
  readonly mountOptions: readonly string[];
  readonly namespaces: readonly NamespaceType[];
  readonly capabilities: readonly string[];
  readonly cgroup: { readonly v1: boolean; readonly v2: boolean; readonly systemd: boolean; readonly systemdUser: boolean; readonly rdma: boolean };
  readonly seccomp: {
    readonly enabled: boolean;
    readonly actions: readonly SeccompAction[];
    readonly operators: readonly SeccompOperator[];
    readonly archs: readonly SeccompArch[];
    readonly knownFlags: readonly SeccompFlag[];
    readonly supportedFlags: readonly SeccompFlag[];
  };
  readonly apparmor: boolean;
  readonly selinux: boolean;
  readonly intelRdt: boolean;
  readonly idmapMounts: boolean;
  readonly netDevices: boolean;
  /** Config annotations that change what tsrun does (none yet). */
  readonly potentiallyUnsafeConfigAnnotations: readonly string[];
}

export const SUPPORT: SupportTable = {
  // The spec versions whose configs tsrun reads (the newest is the one `tsrun --version` names).
  ociVersionMin: '1.0.0',
  ociVersionMax: SPEC_VERSION,

  // Lifecycle hooks: all of them, prestart included (deprecated but still sent by callers).
  hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],

  // Mount options the mount planner implements: mount(8) flags, their
  // recursive (mount_setattr) forms, propagation, bind, idmap, runc's
  // tmpcopyup. Anything else in a config is passed to mount(2) as filesystem
  // data. Not listed: mand/nomand (removed from the kernel), and remount, which
  // the planner refuses (nothing is mounted yet to remount; runc lists it).
  mountOptions: [
    'async',
    'atime',
    'bind',
    'defaults',
    'dev',
    'diratime',
    'dirsync',
    'exec',
    'idmap',
    'iversion',
    'lazytime',
    'loud',
    'noatime',
    'nodev',
    'nodiratime',
    'noexec',
    'noiversion',
    'nolazytime',
    'norelatime',
    'nostrictatime',
    'nosuid',
    'nosymfollow',
    'private',
    'ratime',
    'rbind',
    'rdev',
    'rdiratime',
    'relatime',
    'rexec',
    'ridmap',
    'rnoatime',
    'rnodev',
    'rnodiratime',
    'rnoexec',
    'rnorelatime',
    'rnostrictatime',
    'rnosuid',
    'rnosymfollow',
    'ro',
    'rprivate',
    'rrelatime',
    'rro',
    'rrw',
    'rshared',
    'rslave',
    'rstrictatime',
    'rsuid',
    'rsymfollow',
    'runbindable',
    'rw',
    'shared',
    'silent',
    'slave',
    'strictatime',
    'suid',
    'symfollow',
    'sync',
    'tmpcopyup',
    'unbindable',
  ],

  // Namespaces the plan creates and joins: every type of the spec.
  namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],

  // Capabilities: every name in src/capabilities.ts (the kernel may know fewer; see cap_last_cap).
  capabilities: CAPABILITY_NAMES,

  // cgroups: v2 through cgroupfs only; no v1, no systemd driver yet. The rdma controller is v2's.
  cgroup: { v1: false, v2: true, systemd: false, systemdUser: false, rdma: true },

  // seccomp: compiled with libseccomp in the parent, loaded by the stub. What tsrun
  // implements; `tsrun features` narrows it to what this host's libseccomp and kernel
  // can do (probeSeccompHost).
  seccomp: {
    enabled: true,
    actions: [
      'SCMP_ACT_ALLOW',
      'SCMP_ACT_ERRNO',
      'SCMP_ACT_KILL',
      'SCMP_ACT_KILL_PROCESS',
      'SCMP_ACT_KILL_THREAD',
      'SCMP_ACT_LOG',
      'SCMP_ACT_NOTIFY',
      'SCMP_ACT_TRACE',
      'SCMP_ACT_TRAP',
    ],
    operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
    // The spec's architectures; libseccomp 2.5 (Debian 12) lacks LOONGARCH64, M68K, SH and SHEB.
    archs: [
      'SCMP_ARCH_AARCH64',
      'SCMP_ARCH_ARM',
      'SCMP_ARCH_LOONGARCH64',
      'SCMP_ARCH_M68K',
      'SCMP_ARCH_MIPS',
      'SCMP_ARCH_MIPS64',
      'SCMP_ARCH_MIPS64N32',
      'SCMP_ARCH_MIPSEL',
      'SCMP_ARCH_MIPSEL64',
      'SCMP_ARCH_MIPSEL64N32',
      'SCMP_ARCH_PARISC',
      'SCMP_ARCH_PARISC64',
      'SCMP_ARCH_PPC',
      'SCMP_ARCH_PPC64',
      'SCMP_ARCH_PPC64LE',
      'SCMP_ARCH_RISCV64',
      'SCMP_ARCH_S390',
      'SCMP_ARCH_S390X',
      'SCMP_ARCH_SH',
      'SCMP_ARCH_SHEB',
      'SCMP_ARCH_X32',
      'SCMP_ARCH_X86',
      'SCMP_ARCH_X86_64',
    ],
    knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    // The stub loads the filter with seccomp(2) itself, so the flags depend on the kernel only
    // (not on libseccomp's version). TSYNC is accepted and has nothing to do: the process
    // has one thread when the filter is loaded.
    supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
  },

  // LSMs: exec labels are written where the host runs the LSM (`tsrun features` probes it).
  apparmor: true,
  selinux: true,
  // Intel RDT: not implemented.
  intelRdt: false,

  // Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP).
  idmapMounts: true,

  // Moving host network devices into the container: not implemented yet.
  netDevices: false,

  potentiallyUnsafeConfigAnnotations: [],
};

/** The annotation carrying tsrun's version in the features document. */
export const VERSION_ANNOTATION = 'io.github.tsrun.version';

/** What this host can do of what SUPPORT lists: libseccomp, its architectures, the kernel's filter flags, the LSMs. */
export interface HostSupport {
  /** libseccomp can be loaded. */
  readonly libseccomp: boolean;
  /** Architectures the loaded libseccomp knows. */
  readonly seccompArchs: ReadonlySet<SeccompArch>;
  /** SCMP_ACT_NOTIFY works (libseccomp API level 6: libseccomp >= 2.5, Linux >= 5.7). */
  readonly seccompNotify: boolean;
  /** Filter flags the running kernel accepts. */
  readonly seccompFlags: ReadonlySet<SeccompFlag>;
  readonly apparmor: boolean;
  readonly selinux: boolean;
}

/** The support table narrowed to a host (the document `tsrun features` prints). */
export function forHost(support: SupportTable, host: HostSupport): SupportTable {
  const s = support.seccomp;
  return {
    ...support,
    seccomp: host.libseccomp
      ? {
          ...s,
          actions: s.actions.filter((a) => a !== 'SCMP_ACT_NOTIFY' || host.seccompNotify),
          archs: s.archs.filter((a) => host.seccompArchs.has(a)),
          supportedFlags: s.supportedFlags.filter((f) => host.seccompFlags.has(f)),
        }
      : { ...s, enabled: false },
    apparmor: support.apparmor && host.apparmor,
    selinux: support.selinux && host.selinux,
  };
}

/** The features document for a support table (fresh arrays: callers may modify it). */
export function buildFeatures(support: SupportTable = SUPPORT): Features {
  const s = support.seccomp;
  return {
    ociVersionMin: support.ociVersionMin,
    ociVersionMax: support.ociVersionMax,
    hooks: [...support.hooks],
    mountOptions: [...support.mountOptions],
    linux: {
      namespaces: [...support.namespaces],
      capabilities: [...support.capabilities],
      cgroup: { ...support.cgroup },
      // Without seccomp support the lists would promise what create refuses: runc prints only "enabled" then.
      seccomp: s.enabled
        ? {
            enabled: true,
            actions: [...s.actions],
            operators: [...s.operators],
            archs: [...s.archs],
            knownFlags: [...s.knownFlags],
            supportedFlags: [...s.supportedFlags],
          }
        : { enabled: false },
      apparmor: { enabled: support.apparmor },
      selinux: { enabled: support.selinux },
      intelRdt: { enabled: support.intelRdt },
      mountExtensions: { idmap: { enabled: support.idmapMounts } },
      netDevices: { enabled: support.netDevices },
    },
    annotations: { [VERSION_ANNOTATION]: TSRUN_VERSION },
    ...(support.potentiallyUnsafeConfigAnnotations.length > 0 ? { potentiallyUnsafeConfigAnnotations: [...support.potentiallyUnsafeConfigAnnotations] } : {}),
  };
}
