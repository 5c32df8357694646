// linux.resources: what the schema cannot say about cgroup v2 settings.

import { entries, mapEntries, pointer, q, type Check } from './context.js';
import { listFormatProblem } from './lists.js';

/** cgroup v2 controllers with interface files (cgroup-v2.rst). */
const CONTROLLERS: ReadonlySet<string> = new Set(['cpu', 'cpuset', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc']);

/**
 * The cgroup.* core files a config may set: the two hierarchy limits. The
 * others would fight the runtime's own management of the cgroup (procs,
 * threads, subtree_control, type, freeze, kill) or are read-only.
 */
const CGROUP_CORE_ALLOWED: ReadonlySet<string> = new Set(['cgroup.max.descendants', 'cgroup.max.depth']);

/**
 * Keys of linux.resources.unified name a file of the container's cgroup:
 * "<controller>.<file>", never a path (runc: "must be a file name (no
 * slashes)", "must be in the form CONTROLLER.PARAMETER").
 */
export const unifiedKeys: Check = {
  name: 'unifiedKeys',
  run(spec, _host, report) {
    for (const [key, value] of mapEntries(spec.linux?.resources?.unified)) {
      const at = pointer('linux', 'resources', 'unified', key);
      if (key.includes('/') || key.includes('\0')) {
        report.error(at, `unified key ${q(key)} must be a file name of the cgroup, without "/"`);
        continue;
      }
      const dot = key.indexOf('.');
      if (dot <= 0 || dot === key.length - 1) {
        report.error(at, `unified key ${q(key)} must have the form <controller>.<file>, like "memory.high"`);
        continue;
      }
      const controller = key.slice(0, dot);
      if (controller === 'cgroup') {
        if (!CGROUP_CORE_ALLOWED.has(key)) {
          report.error(at, `unified key ${q(key)} is a cgroup core file the runtime manages; only ${[...CGROUP_CORE_ALLOWED].join(' and ')} may be set`);
        }
      } else if (!CONTROLLERS.has(controller)) {
        report.warn(at, `unified key ${q(key)}: ${q(controller)} is not a cgroup v2 controller tsrun knows (${[...CONTROLLERS].join(', ')}); it is written as is`);
      }
      if (value.includes('\0')) report.error(at, 'unified value contains a NUL byte');
    }
  },
};

/**
 * memory.swap is memory+swap (the cgroup v1 meaning); on v2 it becomes
 * memory.swap.max = swap - limit, so it needs a limit and must not be below
 * it (runc ConvertMemorySwapToCgroupV2Value). swappiness is 0..100.
 */
export const memoryLimits: Check = {
  name: 'memoryLimits',
  run(spec, _host, report) {
    const m = spec.linux?.resources?.memory;
    if (m === undefined) return;
    const swap = m.swap ?? 0;
    const limit = m.limit ?? 0;
    if (swap !== 0 && swap !== -1) {
      if (limit === 0 || limit === -1) {
        report.error('/linux/resources/memory/swap', 'a swap limit needs a memory limit (/linux/resources/memory/limit)');
      } else if (swap < limit) {
        report.error('/linux/resources/memory/swap', `swap ${swap} is memory+swap and must not be below the memory limit ${limit}`);
      }
    }
    if (m.swappiness !== undefined && m.swappiness > 100) {
      report.error('/linux/resources/memory/swappiness', `swappiness ${m.swappiness} is outside 0..100`);
    }
  },
};

/** cpu.idle is 0 or 1; cpus and mems use the kernel's list format. */
export const cpuSettings: Check = {
  name: 'cpuSettings',
  run(spec, _host, report) {
    const c = spec.linux?.resources?.cpu;
    if (c === undefined) return;
    if (c.idle !== undefined && c.idle !== 0 && c.idle !== 1) {
      report.error('/linux/resources/cpu/idle', `idle must be 0 or 1, got ${c.idle}`);
    }
    for (const field of ['cpus', 'mems'] as const) {
      const value = c[field];
      if (value === undefined) continue;
      const problem = listFormatProblem(value);
      if (problem !== undefined) report.error(`/linux/resources/cpu/${field}`, `invalid list ${q(value)}: ${problem}`);
    }
  },
};

/** Each weightDevice entry MUST set weight or leafWeight (config-linux.md "Block IO"). */
export const blockIOWeights: Check = {
  name: 'blockIOWeights',
  run(spec, _host, report) {
    for (const [i, d] of entries(spec.linux?.resources?.blockIO?.weightDevice)) {
      if (d.weight === undefined && d.leafWeight === undefined) {
        report.error(pointer('linux', 'resources', 'blockIO', 'weightDevice', i), `device ${d.major}:${d.minor} needs weight or leafWeight`);
      }
    }
  },
};
