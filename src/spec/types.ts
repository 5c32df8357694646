// TypeScript types of the OCI runtime-spec 1.3 documents tsrun reads and writes:
// the container configuration (config.md, config-linux.md), the state
// (runtime.md) and the features document (features.md, features-linux.md).
//
// Field names and optionality follow the spec text, the JSON Schemas
// (schemas/, runtime-spec 1.3) and specs-go. Integer fields are `number`:
// JSON.parse gives numbers, and the uint64/int64 values above 2^53 that
// configs use in practice (RLIM_INFINITY, "no limit") are only ever
// compared or written back, never computed with.
//
// Other platforms' sections (windows, solaris, vm, zos, freebsd) are opaque:
// tsrun is a Linux runtime and only warns that they are ignored.

// ---------------------------------------------------------------------------
// Shared pieces

/** A hook (config.md "POSIX-platform Hooks"). `path` MUST be absolute. */
export interface Hook {
  readonly path: string;
  readonly args?: readonly string[];
  readonly env?: readonly string[];
  /** Seconds before the hook is aborted; > 0 when set. */
  readonly timeout?: number;
}

export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export type Hooks = { readonly [K in HookName]?: readonly Hook[] };

/** One uid or gid range of a user namespace or an idmapped mount. */
export interface IDMapping {
  readonly containerID: number;
  readonly hostID: number;
  readonly size: number;
}

// ---------------------------------------------------------------------------
// config.md

export interface Root {
  /** Absolute, or relative to the bundle directory. */
  readonly path: string;
  readonly readonly?: boolean;
}

export interface Mount {
  /** Linux: SHOULD be absolute; a relative destination is deprecated and relative to "/". */
  readonly destination: string;
  readonly type?: string;
  /** A device, a dummy, or (bind mounts) a path absolute or relative to the bundle. */
  readonly source?: string;
  readonly options?: readonly string[];
  /** Idmapped mount (Linux 5.12+); given together with gidMappings. */
  readonly uidMappings?: readonly IDMapping[];
  readonly gidMappings?: readonly IDMapping[];
}

export interface ConsoleSize {
  readonly height: number;
  readonly width: number;
}

export interface User {
  readonly uid: number;
  readonly gid: number;
  readonly umask?: number;
  readonly additionalGids?: readonly number[];
  /** Windows only: refused on Linux. */
  readonly username?: string;
}

export type CapabilitySet = 'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient';

export type LinuxCapabilities = { readonly [K in CapabilitySet]?: readonly string[] };

export interface POSIXRlimit {
  /** RLIMIT_* name from getrlimit(2). */
  readonly type: string;
  readonly soft: number;
  readonly hard: number;
}

export type IOPriorityClass = 'IOPRIO_CLASS_RT' | 'IOPRIO_CLASS_BE' | 'IOPRIO_CLASS_IDLE';

export interface IOPriority {
  readonly class: IOPriorityClass;
  /** 0 (highest) .. 7 (lowest). */
  readonly priority?: number;
}

export type SchedulerPolicy =
  | 'SCHED_OTHER'
  | 'SCHED_FIFO'
  | 'SCHED_RR'
  | 'SCHED_BATCH'
  | 'SCHED_ISO'
  | 'SCHED_IDLE'
  | 'SCHED_DEADLINE';

export type SchedulerFlag =
  | 'SCHED_FLAG_RESET_ON_FORK'
  | 'SCHED_FLAG_RECLAIM'
  | 'SCHED_FLAG_DL_OVERRUN'
  | 'SCHED_FLAG_KEEP_POLICY'
  | 'SCHED_FLAG_KEEP_PARAMS'
  | 'SCHED_FLAG_UTIL_CLAMP_MIN'
  | 'SCHED_FLAG_UTIL_CLAMP_MAX';

export interface Scheduler {
  readonly policy: SchedulerPolicy;
  readonly nice?: number;
  readonly priority?: number;
  readonly flags?: readonly SchedulerFlag[];
  /** SCHED_DEADLINE only, nanoseconds. */
  readonly runtime?: number;
  readonly deadline?: number;
  readonly period?: number;
}

/** CPU lists in the cpuset format ("0-3,7"). Not applied to the init process. */
export interface ExecCPUAffinity {
  readonly initial?: string;
  readonly final?: string;
}

export interface Process {
  readonly terminal?: boolean;
  readonly consoleSize?: ConsoleSize;
  readonly user: User;
  /** At least one entry on Linux. */
  readonly args?: readonly string[];
  /** Windows only: refused on Linux. */
  readonly commandLine?: string;
  readonly env?: readonly string[];
  /** MUST be absolute. */
  readonly cwd: string;
  readonly capabilities?: LinuxCapabilities;
  readonly rlimits?: readonly POSIXRlimit[];
  readonly noNewPrivileges?: boolean;
  readonly apparmorProfile?: string;
  readonly oomScoreAdj?: number;
  readonly scheduler?: Scheduler;
  readonly selinuxLabel?: string;
  readonly ioPriority?: IOPriority;
  readonly execCPUAffinity?: ExecCPUAffinity;
}

/** The container configuration, config.json. */
export interface Spec {
  readonly ociVersion: string;
  readonly process?: Process;
  readonly root?: Root;
  readonly hostname?: string;
  readonly domainname?: string;
  readonly mounts?: readonly Mount[];
  readonly hooks?: Hooks;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly linux?: Linux;
  readonly solaris?: Readonly<Record<string, unknown>>;
  readonly windows?: Readonly<Record<string, unknown>>;
  readonly vm?: Readonly<Record<string, unknown>>;
  readonly zos?: Readonly<Record<string, unknown>>;
  readonly freebsd?: Readonly<Record<string, unknown>>;
}

// ---------------------------------------------------------------------------
// config-linux.md

export type NamespaceType = 'mount' | 'pid' | 'network' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';

export interface LinuxNamespace {
  readonly type: NamespaceType;
  /** Join this namespace (absolute path in the runtime mount namespace) instead of creating one. */
  readonly path?: string;
}

/** c: char, b: block, u: unbuffered char, p: FIFO. */
export type DeviceType = 'c' | 'b' | 'u' | 'p';

export interface LinuxDevice {
  readonly type: DeviceType;
  /** Absolute path inside the container. */
  readonly path: string;
  /** Required unless type is 'p'. */
  readonly major?: number;
  readonly minor?: number;
  /** Permission bits (decimal in JSON). */
  readonly fileMode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface LinuxNetDevice {
  /** Name inside the container; the host name (the map key) when absent. */
  readonly name?: string;
}

/** A device cgroup rule. type: 'a' | 'b' | 'c' (absent = all); access: letters of "rwm". */
export interface LinuxDeviceCgroup {
  readonly allow: boolean;
  readonly type?: string;
  readonly major?: number;
  readonly minor?: number;
  readonly access?: string;
}

export interface LinuxMemory {
  readonly limit?: number;
  readonly reservation?: number;
  readonly swap?: number;
  /** Deprecated (cgroup v1 only). */
  readonly kernel?: number;
  readonly kernelTCP?: number;
  readonly swappiness?: number;
  readonly disableOOMKiller?: boolean;
  readonly useHierarchy?: boolean;
  readonly checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  readonly shares?: number;
  readonly quota?: number;
  readonly burst?: number;
  readonly period?: number;
  readonly realtimeRuntime?: number;
  readonly realtimePeriod?: number;
  readonly cpus?: string;
  readonly mems?: string;
  /** 0 or 1 (cgroup v2 cpu.idle). */
  readonly idle?: number;
}

export interface LinuxPids {
  readonly limit: number;
}

export interface LinuxBlockIODevice {
  readonly major: number;
  readonly minor: number;
}

export interface LinuxWeightDevice extends LinuxBlockIODevice {
  readonly weight?: number;
  readonly leafWeight?: number;
}

export interface LinuxThrottleDevice extends LinuxBlockIODevice {
  readonly rate?: number;
}

export interface LinuxBlockIO {
  readonly weight?: number;
  readonly leafWeight?: number;
  readonly weightDevice?: readonly LinuxWeightDevice[];
  readonly throttleReadBpsDevice?: readonly LinuxThrottleDevice[];
  readonly throttleWriteBpsDevice?: readonly LinuxThrottleDevice[];
  readonly throttleReadIOPSDevice?: readonly LinuxThrottleDevice[];
  readonly throttleWriteIOPSDevice?: readonly LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  /** "<size><K|M|G>B", e.g. "2MB". */
  readonly pageSize: string;
  readonly limit: number;
}

export interface LinuxInterfacePriority {
  readonly name: string;
  readonly priority: number;
}

export interface LinuxNetwork {
  readonly classID?: number;
  readonly priorities?: readonly LinuxInterfacePriority[];
}

export interface LinuxRdma {
  readonly hcaHandles?: number;
  readonly hcaObjects?: number;
}

export interface LinuxResources {
  readonly devices?: readonly LinuxDeviceCgroup[];
  readonly memory?: LinuxMemory;
  readonly cpu?: LinuxCPU;
  readonly pids?: LinuxPids;
  readonly blockIO?: LinuxBlockIO;
  readonly hugepageLimits?: readonly LinuxHugepageLimit[];
  readonly network?: LinuxNetwork;
  /** Keyed by RDMA device name. */
  readonly rdma?: Readonly<Record<string, LinuxRdma>>;
  /** cgroup v2 files: "<controller>.<file>" -> value. */
  readonly unified?: Readonly<Record<string, string>>;
}

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompArch =
  | 'SCMP_ARCH_X86'
  | 'SCMP_ARCH_X86_64'
  | 'SCMP_ARCH_X32'
  | 'SCMP_ARCH_ARM'
  | 'SCMP_ARCH_AARCH64'
  | 'SCMP_ARCH_LOONGARCH64'
  | 'SCMP_ARCH_M68K'
  | 'SCMP_ARCH_MIPS'
  | 'SCMP_ARCH_MIPS64'
  | 'SCMP_ARCH_MIPS64N32'
  | 'SCMP_ARCH_MIPSEL'
  | 'SCMP_ARCH_MIPSEL64'
  | 'SCMP_ARCH_MIPSEL64N32'
  | 'SCMP_ARCH_PPC'
  | 'SCMP_ARCH_PPC64'
  | 'SCMP_ARCH_PPC64LE'
  | 'SCMP_ARCH_S390'
  | 'SCMP_ARCH_S390X'
  | 'SCMP_ARCH_SH'
  | 'SCMP_ARCH_SHEB'
  | 'SCMP_ARCH_PARISC'
  | 'SCMP_ARCH_PARISC64'
  | 'SCMP_ARCH_RISCV64';

export type SeccompFlag =
  | 'SECCOMP_FILTER_FLAG_TSYNC'
  | 'SECCOMP_FILTER_FLAG_LOG'
  | 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'
  | 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface LinuxSeccompArg {
  /** Syscall argument index, 0..5. */
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: SeccompOperator;
}

export interface LinuxSyscall {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  /** Only with SCMP_ACT_ERRNO and SCMP_ACT_TRACE. */
  readonly errnoRet?: number;
  readonly args?: readonly LinuxSeccompArg[];
}

export interface LinuxSeccomp {
  readonly defaultAction: SeccompAction;
  /** Only with a defaultAction of SCMP_ACT_ERRNO or SCMP_ACT_TRACE. */
  readonly defaultErrnoRet?: number;
  readonly architectures?: readonly SeccompArch[];
  readonly flags?: readonly SeccompFlag[];
  /** Unix socket that receives the seccomp notify fd and the state (SCMP_ACT_NOTIFY). */
  readonly listenerPath?: string;
  readonly listenerMetadata?: string;
  readonly syscalls?: readonly LinuxSyscall[];
}

export type RootfsPropagation = 'private' | 'shared' | 'slave' | 'unbindable';

export interface LinuxIntelRdt {
  readonly closID?: string;
  /** Lines written to the resctrl schemata file. */
  readonly schemata?: readonly string[];
  readonly l3CacheSchema?: string;
  /** "MB:..." */
  readonly memBwSchema?: string;
  readonly enableMonitoring?: boolean;
}

export type MemoryPolicyMode =
  | 'MPOL_DEFAULT'
  | 'MPOL_BIND'
  | 'MPOL_INTERLEAVE'
  | 'MPOL_WEIGHTED_INTERLEAVE'
  | 'MPOL_PREFERRED'
  | 'MPOL_PREFERRED_MANY'
  | 'MPOL_LOCAL';

export type MemoryPolicyFlag = 'MPOL_F_NUMA_BALANCING' | 'MPOL_F_RELATIVE_NODES' | 'MPOL_F_STATIC_NODES';

export interface LinuxMemoryPolicy {
  readonly mode: MemoryPolicyMode;
  /** NUMA node list in the cpuset format ("0-3,7"). */
  readonly nodes?: string;
  readonly flags?: readonly MemoryPolicyFlag[];
}

export type PersonalityDomain = 'LINUX' | 'LINUX32';

export interface LinuxPersonality {
  readonly domain: PersonalityDomain;
  readonly flags?: readonly string[];
}

export interface LinuxTimeOffset {
  readonly secs?: number;
  /** < 1e9. */
  readonly nanosecs?: number;
}

export type TimeOffsetClock = 'boottime' | 'monotonic';

export interface Linux {
  readonly devices?: readonly LinuxDevice[];
  /** Host network devices to move into the container's network namespace, keyed by host name. */
  readonly netDevices?: Readonly<Record<string, LinuxNetDevice>>;
  readonly uidMappings?: readonly IDMapping[];
  readonly gidMappings?: readonly IDMapping[];
  readonly namespaces?: readonly LinuxNamespace[];
  readonly resources?: LinuxResources;
  readonly cgroupsPath?: string;
  readonly rootfsPropagation?: RootfsPropagation;
  readonly seccomp?: LinuxSeccomp;
  readonly sysctl?: Readonly<Record<string, string>>;
  readonly maskedPaths?: readonly string[];
  readonly readonlyPaths?: readonly string[];
  readonly mountLabel?: string;
  readonly intelRdt?: LinuxIntelRdt;
  readonly memoryPolicy?: LinuxMemoryPolicy;
  readonly personality?: LinuxPersonality;
  /** Keys: 'boottime' and 'monotonic'. */
  readonly timeOffsets?: Readonly<Record<string, LinuxTimeOffset>>;
}

// ---------------------------------------------------------------------------
// runtime.md "State"

/** runtime.md lists creating/created/running/stopped; `paused` is what every Linux runtime reports when frozen. */
export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped' | 'paused';

export interface State {
  readonly ociVersion: string;
  readonly id: string;
  readonly status: ContainerStatus;
  /** Present (on Linux) when the status is created or running (and paused). */
  readonly pid?: number;
  /** Absolute path of the bundle directory. */
  readonly bundle: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------
// features.md, features-linux.md
//
// Absent fields mean "unknown", not "unsupported".

export interface FeaturesCgroup {
  readonly v1?: boolean;
  readonly v2?: boolean;
  readonly systemd?: boolean;
  readonly systemdUser?: boolean;
  readonly rdma?: boolean;
}

export interface FeaturesSeccomp {
  readonly enabled?: boolean;
  readonly actions?: readonly SeccompAction[];
  readonly operators?: readonly SeccompOperator[];
  readonly archs?: readonly SeccompArch[];
  readonly knownFlags?: readonly SeccompFlag[];
  readonly supportedFlags?: readonly SeccompFlag[];
}

export interface FeaturesEnabled {
  readonly enabled?: boolean;
}

export interface FeaturesIntelRdt {
  readonly enabled?: boolean;
  /** true if linux.intelRdt.schemata is implemented. */
  readonly schemata?: boolean;
  /** true if linux.intelRdt.enableMonitoring is implemented. */
  readonly monitoring?: boolean;
}

export interface FeaturesMountExtensions {
  readonly idmap?: FeaturesEnabled;
}

export interface FeaturesLinux {
  readonly namespaces?: readonly NamespaceType[];
  readonly capabilities?: readonly string[];
  readonly cgroup?: FeaturesCgroup;
  readonly seccomp?: FeaturesSeccomp;
  readonly apparmor?: FeaturesEnabled;
  readonly selinux?: FeaturesEnabled;
  readonly intelRdt?: FeaturesIntelRdt;
  readonly mountExtensions?: FeaturesMountExtensions;
  readonly netDevices?: FeaturesEnabled;
}

/** The output of `tsrun features`. */
export interface Features {
  readonly ociVersionMin: string;
  readonly ociVersionMax: string;
  readonly hooks?: readonly HookName[];
  readonly mountOptions?: readonly string[];
  readonly linux?: FeaturesLinux;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Annotations (or prefixes ending in ".") that may change the runtime's behaviour unsafely. */
  readonly potentiallyUnsafeConfigAnnotations?: readonly string[];
}
