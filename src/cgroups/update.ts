// `update`: what runc's update command does to a container's resources,
// as pure functions: its individual flags parsed into linux.resources with
// runc's value syntax, and the result merged into the recorded resources
// (runc merges too: some values only mean something together with the
// others, such as swap with the memory limit, or a quota with its period).
import { UnsupportedError, UsageError } from '../errors.js';
import type { LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxResources } from '../spec/types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** docker/go-units RAMInBytes: "512", "64k", "100m", "1.5g", "2GiB" (binary multiples), as runc parses --memory. */
export function ramInBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (m === null) throw new Error(`invalid size: '${text}'`);
  const exponent = m[2] === undefined ? 0 : 'kmgtp'.indexOf(m[2].toLowerCase()) + 1;
  return Math.trunc(Number.parseFloat(m[1] as string) * 1024 ** exponent);
}

function parseInteger(flag: string, text: string, unsigned: boolean): number {
  const ok = unsigned ? /^\+?\d+$/.test(text) : /^[+-]?\d+$/.test(text);
  const n = Number(text);
  if (!ok || !Number.isSafeInteger(n)) throw new UsageError(`invalid value for ${flag}: ${JSON.stringify(text)} is not ${unsigned ? 'an unsigned' : 'an'} integer`);
  return n;
}

export interface ParsedUpdateFlags {
  readonly resources: LinuxResources;
  /** Flags runc accepts and ignores (with a warning): so does tsrun. */
  readonly warnings: readonly string[];
}

/**
 * runc's update flags -> linux.resources (only what was given). As runc:
 * memory sizes take units and "-1"; a blkio weight or pids limit of 0 means
 * "not given"; the kernel-memory flags are obsolete and ignored with a
 * warning. Intel RDT schemas are refused: tsrun does not do Intel RDT.
 */
export function parseUpdateFlags(flags: Readonly<Record<string, string>>): ParsedUpdateFlags {
  const warnings: string[] = [];
  const memory: Mutable<LinuxMemory> = {};
  const cpu: Mutable<LinuxCPU> = {};
  const blockIO: Mutable<LinuxBlockIO> = {};
  const out: Mutable<LinuxResources> = {};
  for (const [flag, text] of Object.entries(flags)) {
    const name = `--${flag}`;
    switch (flag) {
      case 'blkio-weight': {
        const w = parseInteger(name, text, false);
        if (w !== 0) blockIO.weight = w;
        break;
      }
      case 'cpuset-cpus':
        if (text !== '') cpu.cpus = text;
        break;
      case 'cpuset-mems':
        if (text !== '') cpu.mems = text;
        break;
      case 'cpu-idle':
        cpu.idle = parseInteger(name, text, false);
        break;
      case 'cpu-burst':
        cpu.burst = parseInteger(name, text, true);
        break;
      case 'cpu-period':
        cpu.period = parseInteger(name, text, true);
        break;
      case 'cpu-rt-period':
        cpu.realtimePeriod = parseInteger(name, text, true);
        break;
      case 'cpu-share':
        cpu.shares = parseInteger(name, text, true);
        break;
      case 'cpu-quota':
        cpu.quota = parseInteger(name, text, false);
        break;
      case 'cpu-rt-runtime':
        cpu.realtimeRuntime = parseInteger(name, text, false);
        break;
      case 'memory':
      case 'memory-swap':
      case 'memory-reservation': {
        let bytes: number;
        try {
          bytes = text === '-1' ? -1 : ramInBytes(text);
        } catch (err) {
          throw new UsageError(`invalid value for ${name}: ${(err as Error).message}`);
        }
        if (flag === 'memory') memory.limit = bytes;
        else if (flag === 'memory-swap') memory.swap = bytes;
        else memory.reservation = bytes;
        break;
      }
      case 'pids-limit': {
        const n = parseInteger(name, text, false);
        if (n !== 0) out.pids = { limit: n };
        break;
      }
      case 'kernel-memory':
      case 'kernel-memory-tcp':
        warnings.push(`Setting ${name} is ignored and will be removed`);
        break;
      case 'l3-cache-schema':
      case 'mem-bw-schema':
        throw new UnsupportedError(name, 'Intel RDT is not supported');
      default:
        throw new UsageError(`update: unknown flag ${name}`);
    }
  }
  if (Object.keys(memory).length > 0) out.memory = memory;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (Object.keys(blockIO).length > 0) out.blockIO = blockIO;
  return { resources: out, warnings };
}

/** The --resources document: a JSON linux.resources object (checked against the schema later, merged into the config). */
export function parseResourcesDocument(text: string, source: string): LinuxResources {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--resources ${source}: not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`--resources ${source}: expected a JSON object (linux.resources)`);
  return doc as LinuxResources;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

/**
 * The recorded resources with an update applied: scalar fields of memory,
 * cpu, pids and blockIO given in the update replace the recorded ones, one by
 * one; lists and maps (devices, hugepageLimits, throttles, rdma, unified, ...)
 * given in the update replace the recorded ones whole. As runc: a memory
 * limit of -1 without a swap value makes swap unlimited too.
 */
export function mergeResources(current: LinuxResources | undefined, update: LinuxResources): LinuxResources {
  const base = current ?? {};
  const merged: Mutable<LinuxResources> = { ...base, ...defined(update) };
  if (update.memory) {
    const memory: Mutable<LinuxMemory> = { ...base.memory, ...defined(update.memory) };
    if (update.memory.limit === -1 && update.memory.swap === undefined) memory.swap = -1;
    merged.memory = memory;
  }
  if (update.cpu) merged.cpu = { ...base.cpu, ...defined(update.cpu) };
  // LinuxPids has the one field: a given limit replaces the recorded one (absent ones were dropped by defined()).
  if (update.pids?.limit !== undefined) merged.pids = { limit: update.pids.limit };
  else if (base.pids !== undefined) merged.pids = base.pids;
  else delete merged.pids;
  if (update.blockIO) merged.blockIO = { ...base.blockIO, ...defined(update.blockIO) };
  return merged;
}
