// linux.resources -> cgroup v2 file writes: a pure translation, in the
// kernel's formats (Documentation/admin-guide/cgroup-v2.rst) with runc's fs2
// conversions from the cgroup v1 vocabulary the spec speaks. The writer, and
// the check that the host has each controller, act on the list this returns.
//
// Device rules are not here: cgroup v2 has no devices files, they become an
// eBPF program (device-filter.ts).
//
// What v2 cannot do is refused with the field's JSON path, never dropped:
// runc ignores some of these silently (disableOOMKiller, swappiness, kernel
// memory, realtime, leafWeight); crun refuses them, and so does tsrun.
import { UnsupportedError } from '../errors.js';
import type {
  LinuxBlockIO,
  LinuxCPU,
  LinuxHugepageLimit,
  LinuxMemory,
  LinuxNetwork,
  LinuxPids,
  LinuxRdma,
  LinuxResources,
  LinuxThrottleDevice,
  LinuxWeightDevice,
} from '../spec/types.js';

/** One write into the container's cgroup directory. */
export interface CgroupWrite {
  /** JSON path of the config field this write carries out, for messages. */
  readonly field: string;
  /** The v2 controller that owns the file; absent for the core `cgroup.*` files. */
  readonly controller?: string;
  /** File name inside the cgroup directory (never a path). */
  readonly file: string;
  readonly value: string;
  /**
   * When the file does not exist although the controller is enabled:
   * absent = an error; 'skip' = nothing to do; a file = write that instead.
   */
  readonly ifMissing?: 'skip' | { readonly file: string; readonly value: string };
}

/** What planResourceWrites needs to know about the host's unified hierarchy. */
export interface CgroupHost {
  /** The controllers of the hierarchy (the root's cgroup.controllers). */
  readonly controllers: ReadonlySet<string>;
}

const R = '/linux/resources';

/**
 * Controllers of cgroup v2 as of Linux 6.x. A `unified` key must name one of
 * these or one the host lists (a newer kernel may have more), or `cgroup`.
 */
const KNOWN_CONTROLLERS: ReadonlySet<string> = new Set([
  'cpu', 'cpuset', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc', 'perf_event', 'dmem',
]);

/** `cgroup.*` files tsrun manages itself: a `unified` write to them would break membership, kill, freeze or the no-internal-process rule. */
const MANAGED_CORE_FILES: ReadonlySet<string> = new Set([
  'cgroup.procs', 'cgroup.threads', 'cgroup.kill', 'cgroup.freeze', 'cgroup.subtree_control',
]);

/** The writes that apply `resources`, in runc's order (fs2 Manager.Set), `unified` last so it wins. Throws UnsupportedError, naming the field, for what v2 cannot do or a value it cannot take. */
export function planResourceWrites(resources: LinuxResources | undefined, host: CgroupHost): CgroupWrite[] {
  if (resources === undefined) return [];
  refuseNetwork(resources.network);
  return [
    ...pidsWrites(resources.pids),
    ...memoryWrites(resources.memory),
    ...ioWrites(resources.blockIO),
    ...cpuWrites(resources.cpu),
    ...cpusetWrites(resources.cpu),
    ...hugetlbWrites(resources.hugepageLimits),
    ...rdmaWrites(resources.rdma),
    ...unifiedWrites(resources.unified, host),
  ];
}

export interface MissingController {
  readonly field: string;
  readonly controller: string;
  /** e.g. `/linux/resources/memory/limit needs the cgroup v2 "memory" controller, which this host's unified hierarchy does not have` */
  readonly message: string;
}

/** The fields whose controller the host lacks (each field once), so that `create` refuses before creating anything. */
export function missingControllers(writes: readonly CgroupWrite[], available: ReadonlySet<string>): MissingController[] {
  const seen = new Set<string>();
  const missing: MissingController[] = [];
  for (const { field, controller } of writes) {
    if (controller === undefined || available.has(controller) || seen.has(`${field}\0${controller}`)) continue;
    seen.add(`${field}\0${controller}`);
    missing.push({
      field,
      controller,
      message: `${field} needs the cgroup v2 "${controller}" controller, which this host's unified hierarchy does not have`,
    });
  }
  return missing;
}

/** The controllers the writes need, to enable in every ancestor's cgroup.subtree_control. */
export function neededControllers(writes: readonly CgroupWrite[]): string[] {
  const names = new Set<string>();
  for (const w of writes) if (w.controller !== undefined) names.add(w.controller);
  return [...names].sort();
}

/**
 * memory.checkBeforeUpdate, checked by `update` before it writes: runc
 * refuses a limit (or a memory+swap limit) at or below memory.current,
 * because the kernel would reclaim or OOM-kill to meet it.
 */
export function checkMemoryBeforeUpdate(memory: LinuxMemory | undefined, memoryCurrent: number): void {
  if (memory?.checkBeforeUpdate !== true) return;
  const { limit = 0, swap = 0 } = memory;
  if (swap > 0 && swap <= memoryCurrent) {
    throw new UnsupportedError(`${R}/memory/swap`, `refusing a memory+swap limit of ${swap} at or below the current usage of ${memoryCurrent} bytes (checkBeforeUpdate)`);
  }
  if (limit > 0 && limit <= memoryCurrent) {
    throw new UnsupportedError(`${R}/memory/limit`, `refusing a memory limit of ${limit} at or below the current usage of ${memoryCurrent} bytes (checkBeforeUpdate)`);
  }
}

// ---- values ----------------------------------------------------------------

/** Decimal text of an integer: JSON numbers past 2^53 stay digits (String() would print 1e+21). */
function decimal(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/** The schema checks JSON types; this checks what the kernel file can take. */
function integer(field: string, n: number, min = -Infinity, max = Infinity): number {
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = Number.isFinite(max) ? ` from ${min} to ${max}` : Number.isFinite(min) ? ` of at least ${min}` : '';
    throw new UnsupportedError(field, `${JSON.stringify(n)} is not an integer${range}`);
  }
  return n;
}

/** v1 used -1 for "no limit"; v2 spells it "max" (runc's numToStr). */
function limitText(n: number): string {
  return n === -1 ? 'max' : decimal(n);
}

/** JSON Pointer escaping of a map key used in a field path. */
function pointerKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function write(field: string, controller: string | undefined, file: string, value: string, ifMissing?: CgroupWrite['ifMissing']): CgroupWrite {
  return {
    field,
    file,
    value,
    ...(controller !== undefined ? { controller } : {}),
    ...(ifMissing !== undefined ? { ifMissing } : {}),
  };
}

// ---- pids ------------------------------------------------------------------

/** runtime-spec 1.3 (runc 1.4): absent = leave alone, negative = no limit, 0 is a real limit. */
function pidsWrites(pids: LinuxPids | undefined): CgroupWrite[] {
  if (pids?.limit === undefined) return [];
  const limit = integer(`${R}/pids/limit`, pids.limit);
  return [write(`${R}/pids/limit`, 'pids', 'pids.max', limit < 0 ? 'max' : decimal(limit))];
}

// ---- memory ----------------------------------------------------------------

function refuseV1OnlyMemory(m: LinuxMemory): void {
  const f = `${R}/memory`;
  if (m.disableOOMKiller === true) throw new UnsupportedError(`${f}/disableOOMKiller`, 'cgroup v2 cannot disable the OOM killer (memory.oom_control is cgroup v1 only)');
  // v2 is always hierarchical: true asks for what v2 does anyway, false for what it cannot.
  if (m.useHierarchy === false) throw new UnsupportedError(`${f}/useHierarchy`, 'cgroup v2 is always hierarchical');
  if (m.swappiness !== undefined) throw new UnsupportedError(`${f}/swappiness`, 'cgroup v2 has no per-cgroup swappiness (memory.swappiness is cgroup v1 only)');
  if (m.kernel !== undefined) throw new UnsupportedError(`${f}/kernel`, 'kernel memory limits are cgroup v1 only (deprecated by the runtime-spec)');
  if (m.kernelTCP !== undefined) throw new UnsupportedError(`${f}/kernelTCP`, 'kernel TCP memory limits are cgroup v1 only');
}

/**
 * memory.swap.max from the spec's swap, which is memory+swap as in v1 while
 * v2's file is swap alone (runc's ConvertMemorySwapToCgroupV2Value). 0 and
 * absent leave it alone; undefined = no write.
 */
function swapMaxValue(swap: number, limit: number): string | undefined {
  const field = `${R}/memory/swap`;
  // v1 compatibility: an unlimited memory without a swap value means both unlimited.
  if (limit === -1 && swap === 0) return 'max';
  if (swap === 0) return undefined;
  if (swap === -1) return 'max';
  if (limit === -1) return decimal(swap);
  if (limit === 0) throw new UnsupportedError(field, 'a swap limit needs a memory limit (swap is memory+swap, as in cgroup v1)');
  if (swap < limit) throw new UnsupportedError(field, `the memory+swap limit ${swap} is below the memory limit ${limit}`);
  // swap == limit: memory+swap equal to memory means no swap at all.
  return decimal(swap - limit);
}

function memoryWrites(memory: LinuxMemory | undefined): CgroupWrite[] {
  if (memory === undefined) return [];
  refuseV1OnlyMemory(memory);
  const f = `${R}/memory`;
  const limit = integer(`${f}/limit`, memory.limit ?? 0, -1);
  const swap = integer(`${f}/swap`, memory.swap ?? 0, -1);
  const reservation = integer(`${f}/reservation`, memory.reservation ?? 0, -1);
  const writes: CgroupWrite[] = [];
  const swapMax = swapMaxValue(swap, limit);
  if (swapMax !== undefined) {
    // Without swap accounting the file is absent; "no limit" and "no swap" then hold already (runc does the same).
    const ifMissing = swapMax === 'max' || swapMax === '0' ? 'skip' : undefined;
    writes.push(write(swap !== 0 ? `${f}/swap` : `${f}/limit`, 'memory', 'memory.swap.max', swapMax, ifMissing));
  }
  // 0 means unset in runc (a memory.max of 0 would OOM-kill the container at once).
  if (limit !== 0) writes.push(write(`${f}/limit`, 'memory', 'memory.max', limitText(limit)));
  if (reservation !== 0) writes.push(write(`${f}/reservation`, 'memory', 'memory.low', limitText(reservation)));
  return writes;
}

// ---- cpu -------------------------------------------------------------------

const CFS_DEFAULT_PERIOD_US = 100000;
const MIN_SHARES = 2;
const MAX_SHARES = 262144;

/**
 * runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] -> [1, 10000] linearly.
 * Out-of-range shares are clamped first, as the v1 kernel clamps them.
 */
export function cpuSharesToWeight(shares: number): number {
  const s = Math.min(Math.max(shares, MIN_SHARES), MAX_SHARES);
  return 1 + Math.floor(((s - MIN_SHARES) * 9999) / (MAX_SHARES - MIN_SHARES));
}

function refuseRealtime(cpu: LinuxCPU): void {
  for (const key of ['realtimeRuntime', 'realtimePeriod'] as const) {
    const v = cpu[key];
    if (v !== undefined && v !== 0) {
      throw new UnsupportedError(`${R}/cpu/${key}`, 'cgroup v2 has no real-time CPU bandwidth control (cpu.rt_* files are cgroup v1 only)');
    }
  }
}

function cpuWrites(cpu: LinuxCPU | undefined): CgroupWrite[] {
  if (cpu === undefined) return [];
  refuseRealtime(cpu);
  const f = `${R}/cpu`;
  const writes: CgroupWrite[] = [];
  if (cpu.idle !== undefined) writes.push(write(`${f}/idle`, 'cpu', 'cpu.idle', String(integer(`${f}/idle`, cpu.idle, 0, 1))));
  // An idle cgroup has the minimum weight by definition and the kernel refuses cpu.weight there (runc skips it too).
  if (cpu.shares !== undefined && cpu.shares !== 0 && cpu.idle !== 1) {
    writes.push(write(`${f}/shares`, 'cpu', 'cpu.weight', String(cpuSharesToWeight(integer(`${f}/shares`, cpu.shares, 0)))));
  }
  const quota = cpu.quota ?? 0;
  const period = cpu.period ?? 0;
  if (quota !== 0 || period !== 0) {
    integer(`${f}/quota`, quota);
    integer(`${f}/period`, period, 0);
    const value = `${quota > 0 ? decimal(quota) : 'max'} ${decimal(period !== 0 ? period : CFS_DEFAULT_PERIOD_US)}`;
    writes.push(write(cpu.quota !== undefined ? `${f}/quota` : `${f}/period`, 'cpu', 'cpu.max', value));
  }
  // After cpu.max: the kernel refuses a burst above the quota in force.
  if (cpu.burst !== undefined) writes.push(write(`${f}/burst`, 'cpu', 'cpu.max.burst', decimal(integer(`${f}/burst`, cpu.burst, 0))));
  return writes;
}

/** The cpuset list format: "0-3,7" (whitespace around items tolerated, as the kernel does). */
const CPU_LIST = /^\s*\d+(-\d+)?(\s*,\s*\d+(-\d+)?)*\s*$/;

function cpusetWrites(cpu: LinuxCPU | undefined): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  for (const [key, file] of [['cpus', 'cpuset.cpus'], ['mems', 'cpuset.mems']] as const) {
    const list = cpu?.[key];
    if (list === undefined || list === '') continue;
    if (!CPU_LIST.test(list)) throw new UnsupportedError(`${R}/cpu/${key}`, `${JSON.stringify(list)} is not a list like "0-3,7"`);
    writes.push(write(`${R}/cpu/${key}`, 'cpuset', file, list.trim()));
  }
  return writes;
}

// ---- io --------------------------------------------------------------------

const MIN_BLKIO_WEIGHT = 10;
const MAX_BLKIO_WEIGHT = 1000;

/** runc's ConvertBlkIOToIOWeightValue: v1 (and BFQ) weight [10, 1000] -> io.weight [1, 10000] linearly. */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - MIN_BLKIO_WEIGHT) * 9999) / (MAX_BLKIO_WEIGHT - MIN_BLKIO_WEIGHT));
}

function blkioWeight(field: string, w: number): number {
  return integer(field, w, MIN_BLKIO_WEIGHT, MAX_BLKIO_WEIGHT);
}

function deviceNumbers(field: string, d: { readonly major: number; readonly minor: number }): string {
  return `${integer(`${field}/major`, d.major, 0)}:${integer(`${field}/minor`, d.minor, 0)}`;
}

/** BFQ takes the v1 weight as it is; without BFQ io.weight takes the converted one (runc and crun do the same). */
function weightWrite(field: string, prefix: string, weight: number): CgroupWrite {
  return write(field, 'io', 'io.bfq.weight', `${prefix}${weight}`, { file: 'io.weight', value: `${prefix}${blkioWeightToIoWeight(weight)}` });
}

function weightDeviceWrites(devices: readonly LinuxWeightDevice[]): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  devices.forEach((d, i) => {
    const f = `${R}/blockIO/weightDevice/${i}`;
    if (d.leafWeight !== undefined) throw new UnsupportedError(`${f}/leafWeight`, 'cgroup v2 has no leaf weights (blkio.leaf_weight_device is cgroup v1 only)');
    if (d.weight !== undefined) writes.push(weightWrite(`${f}/weight`, `${deviceNumbers(f, d)} `, blkioWeight(`${f}/weight`, d.weight)));
  });
  return writes;
}

const THROTTLES = [
  ['throttleReadBpsDevice', 'rbps'],
  ['throttleWriteBpsDevice', 'wbps'],
  ['throttleReadIOPSDevice', 'riops'],
  ['throttleWriteIOPSDevice', 'wiops'],
] as const;

/**
 * io.max lines "MAJ:MIN rbps=N". A rate of 0 removed the v1 limit; io.max
 * refuses 0, so it becomes "max" (no limit). Each line changes only its key.
 */
function throttleWrites(kind: (typeof THROTTLES)[number][0], key: string, devices: readonly LinuxThrottleDevice[]): CgroupWrite[] {
  return devices.map((d, i) => {
    const f = `${R}/blockIO/${kind}/${i}`;
    const rate = integer(`${f}/rate`, d.rate ?? 0, 0);
    return write(f, 'io', 'io.max', `${deviceNumbers(f, d)} ${key}=${rate > 0 ? decimal(rate) : 'max'}`);
  });
}

function ioWrites(blockIO: LinuxBlockIO | undefined): CgroupWrite[] {
  if (blockIO === undefined) return [];
  const f = `${R}/blockIO`;
  if (blockIO.leafWeight !== undefined) throw new UnsupportedError(`${f}/leafWeight`, 'cgroup v2 has no leaf weights (blkio.leaf_weight is cgroup v1 only)');
  const writes: CgroupWrite[] = [];
  // 0 means unset, as in runc and crun.
  if (blockIO.weight !== undefined && blockIO.weight !== 0) writes.push(weightWrite(`${f}/weight`, '', blkioWeight(`${f}/weight`, blockIO.weight)));
  writes.push(...weightDeviceWrites(blockIO.weightDevice ?? []));
  for (const [kind, key] of THROTTLES) writes.push(...throttleWrites(kind, key, blockIO[kind] ?? []));
  return writes;
}

// ---- hugetlb ---------------------------------------------------------------

/** "<size><K|M|G>B": also what keeps the file name a plain name. */
const PAGE_SIZE = /^[1-9][0-9]*[KMG]B$/;

/**
 * hugetlb.<size>.max, and .rsvd.max (Linux 5.7+) as runc 1.2 does: pages
 * reserved by mmap are charged there, so a limit on .max alone would let a
 * reservation exceed it. Kernels without the file skip it.
 */
function hugetlbWrites(limits: readonly LinuxHugepageLimit[] | undefined): CgroupWrite[] {
  return (limits ?? []).flatMap((l, i) => {
    const f = `${R}/hugepageLimits/${i}`;
    if (!PAGE_SIZE.test(l.pageSize)) throw new UnsupportedError(`${f}/pageSize`, `${JSON.stringify(l.pageSize)} is not a page size like "2MB"`);
    const value = decimal(integer(`${f}/limit`, l.limit, 0));
    return [
      write(f, 'hugetlb', `hugetlb.${l.pageSize}.max`, value),
      write(f, 'hugetlb', `hugetlb.${l.pageSize}.rsvd.max`, value, 'skip'),
    ];
  });
}

// ---- rdma ------------------------------------------------------------------

const MAX_U32 = 0xffffffff;

function rdmaWrites(rdma: Readonly<Record<string, LinuxRdma>> | undefined): CgroupWrite[] {
  return Object.entries(rdma ?? {}).map(([device, limits]) => {
    const f = `${R}/rdma/${pointerKey(device)}`;
    // The device name is the first word of the line: no whitespace in it.
    if (!/^[^\s/]+$/.test(device)) throw new UnsupportedError(f, `${JSON.stringify(device)} is not an RDMA device name`);
    const parts = [device];
    if (limits.hcaHandles !== undefined) parts.push(`hca_handle=${integer(`${f}/hcaHandles`, limits.hcaHandles, 0, MAX_U32)}`);
    if (limits.hcaObjects !== undefined) parts.push(`hca_object=${integer(`${f}/hcaObjects`, limits.hcaObjects, 0, MAX_U32)}`);
    if (parts.length === 1) throw new UnsupportedError(f, 'an RDMA limit needs hcaHandles or hcaObjects');
    return write(f, 'rdma', 'rdma.max', parts.join(' '));
  });
}

// ---- network ---------------------------------------------------------------

function refuseNetwork(network: LinuxNetwork | undefined): void {
  if (network === undefined) return;
  if (network.classID !== undefined || (network.priorities?.length ?? 0) > 0) {
    throw new UnsupportedError(`${R}/network`, 'cgroup v2 has no net_cls or net_prio controller (classify or prioritise traffic with eBPF or nftables instead)');
  }
}

// ---- unified ---------------------------------------------------------------

/** "<controller>.<name>", a plain file name: no '/', no '..', no NUL. Returns the controller, or undefined for core `cgroup.*` files. */
function unifiedController(field: string, key: string, host: CgroupHost): string | undefined {
  const dot = key.indexOf('.');
  if (key.includes('/') || key.includes('..') || key.includes('\0') || dot <= 0 || dot === key.length - 1) {
    throw new UnsupportedError(field, `${JSON.stringify(key)} is not a cgroup v2 file name of the form CONTROLLER.NAME`);
  }
  const prefix = key.slice(0, dot);
  if (prefix === 'cgroup') {
    if (MANAGED_CORE_FILES.has(key)) throw new UnsupportedError(field, `${key} is managed by tsrun itself`);
    return undefined;
  }
  if (!KNOWN_CONTROLLERS.has(prefix) && !host.controllers.has(prefix)) {
    throw new UnsupportedError(field, `"${prefix}" is not a cgroup v2 controller`);
  }
  return prefix;
}

/** Written as given, one write per line (runc's WriteFileByLine): files such as io.max take one entry per write. */
function unifiedWrites(unified: Readonly<Record<string, string>> | undefined, host: CgroupHost): CgroupWrite[] {
  return Object.entries(unified ?? {}).flatMap(([key, value]) => {
    const field = `${R}/unified/${pointerKey(key)}`;
    const controller = unifiedController(field, key, host);
    return value
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => write(field, controller, key, line));
  });
}
