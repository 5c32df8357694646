// Where and when the process runs: process.scheduler (sched_setattr),
// linux.memoryPolicy (set_mempolicy) and process.execCPUAffinity
// (sched_setaffinity), as ops. Pure: struct bytes and bitmaps are built here,
// the stub only makes the calls.
import { MPOL, SCHED } from '../../native/constants.js';
import { bytes, imm, nul } from '../../native/program.js';
import { UnsupportedError } from '../errors.js';
import type { ExecCPUAffinity, LinuxMemoryPolicy, Scheduler } from '../spec/types.js';
import type { PlanContext } from './context.js';

/**
 * The numbers of a kernel list ("0-3,7", "0-15:2/4": of each group of 4 from 0 to 15, the
 * first 2), as bitmap_parselist reads cpuset.cpus and the like. Sorted, without duplicates.
 */
export function parseIdList(text: string, field: string): number[] {
  const out = new Set<number>();
  if (text.trim() === '') return [];
  for (const raw of text.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+)\/(\d+))?)?$/.exec(raw.trim());
    if (m === null) throw new UnsupportedError(field, `invalid list item ${JSON.stringify(raw.trim())}`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    const used = m[3] === undefined ? 1 : Number(m[3]);
    const group = m[4] === undefined ? 1 : Number(m[4]);
    if (last < first || used === 0 || group === 0 || used > group) throw new UnsupportedError(field, `invalid range ${JSON.stringify(raw.trim())}`);
    if (last > MAX_ID) throw new UnsupportedError(field, `${last} is above ${MAX_ID}`);
    for (let i = first; i <= last; i++) if ((i - first) % group < used) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** Larger than any CPU or node number a kernel supports (NR_CPUS tops at 8192). */
const MAX_ID = 8191;

/** An array of unsigned longs with the bits of `ids` set, at least `minBytes` long. */
function bitmap(ids: readonly number[], minBytes: number): Uint8Array {
  const words = Math.max(Math.ceil(minBytes / 8), Math.floor((ids.at(-1) ?? 0) / 64) + 1);
  const b = new Uint8Array(words * 8);
  for (const id of ids) b[id >> 3] = (b[id >> 3] ?? 0) | (1 << (id & 7));
  return b;
}

/** glibc's cpu_set_t: 1024 CPUs. sched_setaffinity needs at least the kernel's nr_cpu_ids bits. */
const CPU_SETSIZE_BYTES = 128;

/**
 * sched_setaffinity(0, ...) to the CPUs of execCPUAffinity.initial or .final, when given. For a
 * process entering a running container (`exec`): config.md says the setting does not apply to
 * the container's init. `initial` goes before the process joins the container's cgroup,
 * `final` after (runtime-spec: "after the transition to container's cgroup").
 */
export function planCpuAffinity(ctx: PlanContext, affinity: ExecCPUAffinity | undefined, which: 'initial' | 'final'): void {
  const list = affinity?.[which];
  if (list === undefined || list.trim() === '') return;
  const cpus = parseIdList(list, `/process/execCPUAffinity/${which}`);
  const mask = bitmap(cpus, CPU_SETSIZE_BYTES);
  ctx.b.syscall('sched_setaffinity', [0, mask.length, bytes(mask, `{${list}}`)], { label: `set the ${which} CPU affinity ${list}` });
}

const POLICIES: Readonly<Record<Scheduler['policy'], number>> = {
  SCHED_OTHER: SCHED.SCHED_OTHER,
  SCHED_FIFO: SCHED.SCHED_FIFO,
  SCHED_RR: SCHED.SCHED_RR,
  SCHED_BATCH: SCHED.SCHED_BATCH,
  // Reserved by the kernel but not implemented: sched_setattr fails with EINVAL, as with runc.
  SCHED_ISO: SCHED.SCHED_ISO,
  SCHED_IDLE: SCHED.SCHED_IDLE,
  SCHED_DEADLINE: SCHED.SCHED_DEADLINE,
};

/**
 * struct sched_attr (SCHED_ATTR_SIZE_VER1, 56 bytes, as runc): size, policy, flags, nice,
 * priority, runtime, deadline, period (ns), util_min, util_max.
 */
export function schedAttr(s: Scheduler): Uint8Array {
  const b = new Uint8Array(SCHED.SCHED_ATTR_SIZE_VER1);
  const dv = new DataView(b.buffer);
  let flagBits = 0n;
  (s.flags ?? []).forEach((name, i) => {
    const v = (SCHED as Record<string, number>)[name];
    if (v === undefined || !name.startsWith('SCHED_FLAG_')) throw new UnsupportedError(`/process/scheduler/flags/${i}`, `unknown scheduler flag ${JSON.stringify(name)}`);
    flagBits |= BigInt(v);
  });
  const ns = (n: number | undefined): bigint => BigInt(Math.max(0, Math.trunc(n ?? 0)));
  dv.setUint32(0, SCHED.SCHED_ATTR_SIZE_VER1, true);
  dv.setUint32(4, POLICIES[s.policy], true);
  dv.setBigUint64(8, flagBits, true);
  dv.setInt32(16, s.nice ?? 0, true);
  dv.setUint32(20, s.priority ?? 0, true);
  dv.setBigUint64(24, ns(s.runtime), true);
  dv.setBigUint64(32, ns(s.deadline), true);
  dv.setBigUint64(40, ns(s.period), true);
  return b;
}

/** process.scheduler: sched_setattr(0, attr, 0), while the process still has CAP_SYS_NICE for real-time policies. */
export function planScheduler(ctx: PlanContext): void {
  const s = ctx.spec.process?.scheduler;
  if (s === undefined) return;
  if (POLICIES[s.policy] === undefined) throw new UnsupportedError('/process/scheduler/policy', `unknown scheduler policy ${JSON.stringify(s.policy)}`);
  const parts = [s.policy, ...(s.nice ? [`nice=${s.nice}`] : []), ...(s.priority ? [`priority=${s.priority}`] : []), ...(s.flags ?? [])];
  if (s.policy === 'SCHED_DEADLINE') parts.push(`runtime=${s.runtime ?? 0}`, `deadline=${s.deadline ?? 0}`, `period=${s.period ?? 0}`);
  ctx.b.syscall('sched_setattr', [0, bytes(schedAttr(s), `{${parts.join(', ')}}`), 0], { label: `set the scheduler policy ${s.policy}` });
}

const MODES: Readonly<Record<LinuxMemoryPolicy['mode'], number>> = {
  MPOL_DEFAULT: MPOL.MPOL_DEFAULT,
  MPOL_PREFERRED: MPOL.MPOL_PREFERRED,
  MPOL_BIND: MPOL.MPOL_BIND,
  MPOL_INTERLEAVE: MPOL.MPOL_INTERLEAVE,
  MPOL_LOCAL: MPOL.MPOL_LOCAL,
  MPOL_PREFERRED_MANY: MPOL.MPOL_PREFERRED_MANY,
  MPOL_WEIGHTED_INTERLEAVE: MPOL.MPOL_WEIGHTED_INTERLEAVE,
};

/**
 * linux.memoryPolicy: set_mempolicy(mode | flags, nodemask, maxnode). The policy is inherited
 * by execve and by every child. maxnode is one more than the bits given: the kernel's
 * get_nodes() drops one (a historical off-by-one every caller compensates).
 */
export function planMemoryPolicy(ctx: PlanContext): void {
  const p = ctx.spec.linux?.memoryPolicy;
  if (p === undefined) return;
  const mode = MODES[p.mode];
  if (mode === undefined) throw new UnsupportedError('/linux/memoryPolicy/mode', `unknown memory policy mode ${JSON.stringify(p.mode)}`);
  let f = 0;
  (p.flags ?? []).forEach((name, i) => {
    const v = (MPOL as Record<string, number>)[name];
    if (v === undefined || !name.startsWith('MPOL_F_')) throw new UnsupportedError(`/linux/memoryPolicy/flags/${i}`, `unknown memory policy flag ${JSON.stringify(name)}`);
    f |= v;
  });
  const nodes = parseIdList(p.nodes ?? '', '/linux/memoryPolicy/nodes');
  const modeText = [p.mode, ...(p.flags ?? [])].join('|');
  if (nodes.length === 0) {
    ctx.b.syscall('set_mempolicy', [imm(mode | f, modeText), nul(), 0], { label: `set the memory policy ${p.mode}` });
    return;
  }
  const mask = bitmap(nodes, 8);
  ctx.b.syscall('set_mempolicy', [imm(mode | f, modeText), bytes(mask, `{${p.nodes}}`), mask.length * 8 + 1], { label: `set the memory policy ${p.mode} on nodes ${p.nodes}` });
}
