import { describe, expect, it } from 'vitest';
import {
  type CgroupHost,
  type CgroupWrite,
  blkioWeightToIoWeight,
  checkMemoryBeforeUpdate,
  cpuSharesToWeight,
  missingControllers,
  neededControllers,
  planResourceWrites,
} from '../../src/cgroups/resources.js';
import { UnsupportedError } from '../../src/errors.js';
import type { LinuxResources } from '../../src/spec/types.js';

const ALL: CgroupHost = { controllers: new Set(['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc']) };
/** The development machine: hybrid, v2 has hugetlb only (TESTING.md). */
const HYBRID: CgroupHost = { controllers: new Set(['hugetlb']) };

function plan(resources: LinuxResources, host: CgroupHost = ALL): CgroupWrite[] {
  return planResourceWrites(resources, host);
}

/** file=value pairs, the form most assertions read best in. */
function fv(resources: LinuxResources): string[] {
  return plan(resources).map((w) => `${w.file}=${w.value}`);
}

function refusal(resources: LinuxResources, host: CgroupHost = ALL): UnsupportedError {
  try {
    planResourceWrites(resources, host);
  } catch (err) {
    expect(err).toBeInstanceOf(UnsupportedError);
    return err as UnsupportedError;
  }
  throw new Error('expected a refusal');
}

describe('planResourceWrites: nothing asked', () => {
  it('writes nothing for absent or empty resources', () => {
    expect(planResourceWrites(undefined, ALL)).toEqual([]);
    expect(plan({})).toEqual([]);
    expect(plan({ memory: {}, cpu: {}, blockIO: {}, hugepageLimits: [], rdma: {}, unified: {}, network: {} })).toEqual([]);
  });

  it('leaves device rules to the eBPF program', () => {
    expect(plan({ devices: [{ allow: false, access: 'rwm' }] })).toEqual([]);
  });
});

describe('pids', () => {
  it('writes pids.max: a number, "max" for negative, 0 as a real limit (runtime-spec 1.3)', () => {
    expect(plan({ pids: { limit: 100 } })).toEqual([{ field: '/linux/resources/pids/limit', controller: 'pids', file: 'pids.max', value: '100' }]);
    expect(fv({ pids: { limit: -1 } })).toEqual(['pids.max=max']);
    expect(fv({ pids: { limit: 0 } })).toEqual(['pids.max=0']);
  });

  it('refuses a limit that is not an integer', () => {
    expect(refusal({ pids: { limit: 1.5 } }).field).toBe('/linux/resources/pids/limit');
  });
});

describe('memory', () => {
  const G = 1024 ** 3;

  it('limit -> memory.max, reservation -> memory.low, -1 -> "max"', () => {
    expect(plan({ memory: { limit: G } })).toEqual([{ field: '/linux/resources/memory/limit', controller: 'memory', file: 'memory.max', value: String(G) }]);
    expect(fv({ memory: { reservation: G / 2 } })).toEqual([`memory.low=${G / 2}`]);
    expect(fv({ memory: { reservation: -1 } })).toEqual(['memory.low=max']);
  });

  it('an unlimited memory without swap makes swap unlimited too (runc, v1 compatibility)', () => {
    const writes = plan({ memory: { limit: -1 } });
    expect(writes.map((w) => `${w.file}=${w.value}`)).toEqual(['memory.swap.max=max', 'memory.max=max']);
    expect(writes[0]).toMatchObject({ field: '/linux/resources/memory/limit', ifMissing: 'skip' });
  });

  it('swap is memory+swap in the spec, swap alone in memory.swap.max, written before memory.max', () => {
    expect(fv({ memory: { limit: 100 * G, swap: 300 * G } })).toEqual([`memory.swap.max=${200 * G}`, `memory.max=${100 * G}`]);
    expect(plan({ memory: { limit: G, swap: 3 * G } })[0]).toMatchObject({ field: '/linux/resources/memory/swap' });
  });

  it('swap equal to the limit disables swap: "0", skipped without swap accounting', () => {
    const [swap] = plan({ memory: { limit: G, swap: G } });
    expect(swap).toMatchObject({ file: 'memory.swap.max', value: '0', ifMissing: 'skip' });
  });

  it('swap -1 is unlimited; with an unlimited memory a swap value is taken as is', () => {
    expect(fv({ memory: { limit: G, swap: -1 } })).toEqual(['memory.swap.max=max', `memory.max=${G}`]);
    expect(fv({ memory: { limit: -1, swap: 5 * G } })).toEqual([`memory.swap.max=${5 * G}`, 'memory.max=max']);
  });

  it('a real swap limit is an error, not skipped, when the file is missing', () => {
    expect(plan({ memory: { limit: G, swap: 2 * G } })[0]?.ifMissing).toBeUndefined();
  });

  it('0 means unset, as in runc', () => {
    expect(plan({ memory: { limit: 0, reservation: 0, swap: 0 } })).toEqual([]);
  });

  it('refuses swap without a limit, swap below the limit, and negative values other than -1', () => {
    expect(refusal({ memory: { swap: G } }).message).toMatch(/^\/linux\/resources\/memory\/swap: a swap limit needs a memory limit/);
    expect(refusal({ memory: { limit: 2 * G, swap: G } }).field).toBe('/linux/resources/memory/swap');
    expect(refusal({ memory: { limit: -2 } }).field).toBe('/linux/resources/memory/limit');
    expect(refusal({ memory: { reservation: -5 } }).field).toBe('/linux/resources/memory/reservation');
  });

  it('keeps large values as digits', () => {
    expect(fv({ memory: { limit: 2 ** 62 } })).toEqual(['memory.max=4611686018427387904']);
  });

  it('refuses what only cgroup v1 can do, naming the field', () => {
    expect(refusal({ memory: { disableOOMKiller: true } }).field).toBe('/linux/resources/memory/disableOOMKiller');
    expect(refusal({ memory: { useHierarchy: false } }).field).toBe('/linux/resources/memory/useHierarchy');
    expect(refusal({ memory: { swappiness: 0 } }).field).toBe('/linux/resources/memory/swappiness');
    expect(refusal({ memory: { kernel: G } }).field).toBe('/linux/resources/memory/kernel');
    expect(refusal({ memory: { kernelTCP: G } }).field).toBe('/linux/resources/memory/kernelTCP');
  });

  it('accepts what v2 does anyway: OOM killer enabled, hierarchical accounting', () => {
    expect(fv({ memory: { limit: G, disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: true } })).toEqual([`memory.max=${G}`]);
  });
});

describe('checkMemoryBeforeUpdate', () => {
  it('does nothing unless checkBeforeUpdate is true', () => {
    expect(() => checkMemoryBeforeUpdate({ limit: 10 }, 1000)).not.toThrow();
    expect(() => checkMemoryBeforeUpdate(undefined, 1000)).not.toThrow();
  });

  it('refuses a limit or memory+swap limit at or below the current usage (runc)', () => {
    expect(() => checkMemoryBeforeUpdate({ limit: 1000, checkBeforeUpdate: true }, 1000)).toThrow(/memory\/limit.*current usage/);
    expect(() => checkMemoryBeforeUpdate({ limit: 1001, checkBeforeUpdate: true }, 1000)).not.toThrow();
    expect(() => checkMemoryBeforeUpdate({ limit: 2000, swap: 900, checkBeforeUpdate: true }, 1000)).toThrow(/memory\/swap/);
    expect(() => checkMemoryBeforeUpdate({ limit: -1, swap: -1, checkBeforeUpdate: true }, 1000)).not.toThrow();
  });
});

describe('cpu', () => {
  it("converts shares to weight with runc's formula", () => {
    expect(cpuSharesToWeight(2)).toBe(1);
    expect(cpuSharesToWeight(1024)).toBe(39);
    expect(cpuSharesToWeight(262144)).toBe(10000);
    // Clamped like the v1 kernel clamps shares.
    expect(cpuSharesToWeight(1)).toBe(1);
    expect(cpuSharesToWeight(1_000_000)).toBe(10000);
    expect(plan({ cpu: { shares: 1024 } })).toEqual([{ field: '/linux/resources/cpu/shares', controller: 'cpu', file: 'cpu.weight', value: '39' }]);
    expect(plan({ cpu: { shares: 0 } })).toEqual([]);
  });

  it('quota/period -> cpu.max "QUOTA PERIOD" with the kernel default period and "max"', () => {
    expect(fv({ cpu: { quota: 50000, period: 100000 } })).toEqual(['cpu.max=50000 100000']);
    expect(fv({ cpu: { quota: 20000 } })).toEqual(['cpu.max=20000 100000']);
    expect(fv({ cpu: { period: 200000 } })).toEqual(['cpu.max=max 200000']);
    expect(fv({ cpu: { quota: -1 } })).toEqual(['cpu.max=max 100000']);
    expect(plan({ cpu: { period: 200000 } })[0]?.field).toBe('/linux/resources/cpu/period');
  });

  it('burst -> cpu.max.burst after cpu.max; idle -> cpu.idle first', () => {
    expect(fv({ cpu: { burst: 10000, quota: 50000, idle: 0, shares: 1024 } })).toEqual([
      'cpu.idle=0',
      'cpu.weight=39',
      'cpu.max=50000 100000',
      'cpu.max.burst=10000',
    ]);
  });

  it('an idle cgroup gets no weight (the kernel refuses it; runc skips it)', () => {
    expect(fv({ cpu: { idle: 1, shares: 1024 } })).toEqual(['cpu.idle=1']);
    expect(refusal({ cpu: { idle: 2 } }).field).toBe('/linux/resources/cpu/idle');
  });

  it('refuses real-time bandwidth, which v2 does not have', () => {
    expect(refusal({ cpu: { realtimeRuntime: 950000 } }).field).toBe('/linux/resources/cpu/realtimeRuntime');
    expect(refusal({ cpu: { realtimePeriod: 1000000 } }).message).toMatch(/realtimePeriod: cgroup v2 has no real-time/);
    expect(plan({ cpu: { realtimeRuntime: 0, realtimePeriod: 0 } })).toEqual([]);
  });

  it('cpus/mems -> cpuset.cpus/cpuset.mems (cpuset controller)', () => {
    expect(plan({ cpu: { cpus: '0-3,7', mems: '0' } })).toEqual([
      { field: '/linux/resources/cpu/cpus', controller: 'cpuset', file: 'cpuset.cpus', value: '0-3,7' },
      { field: '/linux/resources/cpu/mems', controller: 'cpuset', file: 'cpuset.mems', value: '0' },
    ]);
    expect(fv({ cpu: { cpus: '' } })).toEqual([]);
    expect(fv({ cpu: { cpus: ' 1, 2-3 \n' } })).toEqual(['cpuset.cpus=1, 2-3']);
    expect(refusal({ cpu: { mems: '0\n1' } }).field).toBe('/linux/resources/cpu/mems');
    expect(refusal({ cpu: { cpus: 'all' } }).field).toBe('/linux/resources/cpu/cpus');
  });
});

describe('blockIO', () => {
  it("weight -> io.bfq.weight, or io.weight with runc's conversion when BFQ is absent", () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
    expect(plan({ blockIO: { weight: 500 } })).toEqual([
      { field: '/linux/resources/blockIO/weight', controller: 'io', file: 'io.bfq.weight', value: '500', ifMissing: { file: 'io.weight', value: '4950' } },
    ]);
    expect(plan({ blockIO: { weight: 0 } })).toEqual([]);
    expect(refusal({ blockIO: { weight: 5 } }).field).toBe('/linux/resources/blockIO/weight');
  });

  it('weightDevice -> "MAJ:MIN W" lines, same fallback', () => {
    expect(plan({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 300 }] } })).toEqual([
      {
        field: '/linux/resources/blockIO/weightDevice/0/weight',
        controller: 'io',
        file: 'io.bfq.weight',
        value: '8:0 300',
        ifMissing: { file: 'io.weight', value: '8:0 2930' },
      },
    ]);
  });

  it('refuses leaf weights, which v2 does not have', () => {
    expect(refusal({ blockIO: { leafWeight: 300 } }).field).toBe('/linux/resources/blockIO/leafWeight');
    expect(refusal({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 300 }, { major: 8, minor: 16, leafWeight: 10 }] } }).field).toBe(
      '/linux/resources/blockIO/weightDevice/1/leafWeight',
    );
  });

  it('throttles -> io.max "MAJ:MIN key=N", one line per device and key; rate 0 lifts the limit', () => {
    const writes = plan({
      blockIO: {
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 0 }],
      },
    });
    expect(writes.map((w) => `${w.file}=${w.value}`)).toEqual([
      'io.max=8:0 rbps=1048576',
      'io.max=8:0 wbps=2097152',
      'io.max=8:16 riops=100',
      'io.max=8:16 wiops=max',
    ]);
    expect(writes.map((w) => w.field)).toEqual([
      '/linux/resources/blockIO/throttleReadBpsDevice/0',
      '/linux/resources/blockIO/throttleWriteBpsDevice/0',
      '/linux/resources/blockIO/throttleReadIOPSDevice/0',
      '/linux/resources/blockIO/throttleWriteIOPSDevice/0',
    ]);
    expect(writes.every((w) => w.controller === 'io')).toBe(true);
  });

  it('refuses negative device numbers', () => {
    expect(refusal({ blockIO: { throttleReadBpsDevice: [{ major: -1, minor: 0, rate: 1 }] } }).field).toBe(
      '/linux/resources/blockIO/throttleReadBpsDevice/0/major',
    );
  });
});

describe('hugepageLimits', () => {
  it('-> hugetlb.<size>.max and .rsvd.max (skipped where the kernel lacks it)', () => {
    expect(plan({ hugepageLimits: [{ pageSize: '2MB', limit: 1073741824 }, { pageSize: '1GB', limit: 0 }] })).toEqual([
      { field: '/linux/resources/hugepageLimits/0', controller: 'hugetlb', file: 'hugetlb.2MB.max', value: '1073741824' },
      { field: '/linux/resources/hugepageLimits/0', controller: 'hugetlb', file: 'hugetlb.2MB.rsvd.max', value: '1073741824', ifMissing: 'skip' },
      { field: '/linux/resources/hugepageLimits/1', controller: 'hugetlb', file: 'hugetlb.1GB.max', value: '0' },
      { field: '/linux/resources/hugepageLimits/1', controller: 'hugetlb', file: 'hugetlb.1GB.rsvd.max', value: '0', ifMissing: 'skip' },
    ]);
  });

  it('refuses a page size that is not "<n><K|M|G>B" (it becomes part of a file name)', () => {
    expect(refusal({ hugepageLimits: [{ pageSize: '2MB.max/../x', limit: 1 }] }).field).toBe('/linux/resources/hugepageLimits/0/pageSize');
    expect(refusal({ hugepageLimits: [{ pageSize: '2mb', limit: 1 }] }).field).toBe('/linux/resources/hugepageLimits/0/pageSize');
  });
});

describe('rdma', () => {
  it('-> rdma.max "DEVICE hca_handle=N hca_object=M"', () => {
    expect(plan({ rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 1000 } } })).toEqual([
      { field: '/linux/resources/rdma/mlx5_1', controller: 'rdma', file: 'rdma.max', value: 'mlx5_1 hca_handle=3 hca_object=10000' },
      { field: '/linux/resources/rdma/mlx4_0', controller: 'rdma', file: 'rdma.max', value: 'mlx4_0 hca_object=1000' },
    ]);
  });

  it('refuses an entry with no limit and a device name with whitespace', () => {
    expect(refusal({ rdma: { mlx5_1: {} } }).field).toBe('/linux/resources/rdma/mlx5_1');
    expect(refusal({ rdma: { 'mlx5 1': { hcaHandles: 1 } } }).field).toBe('/linux/resources/rdma/mlx5 1');
  });
});

describe('network', () => {
  it('is refused: v2 has no net_cls or net_prio controller', () => {
    expect(refusal({ network: { classID: 1048577 } }).field).toBe('/linux/resources/network');
    expect(refusal({ network: { priorities: [{ name: 'eth0', priority: 500 }] } }).message).toMatch(/net_cls or net_prio/);
    expect(plan({ network: { priorities: [] } })).toEqual([]);
  });
});

describe('unified', () => {
  it('is written verbatim, one write per line, naming the key\'s controller', () => {
    expect(plan({ unified: { 'memory.high': '1073741824', 'io.max': '8:0 rbps=1\n8:16 wbps=2\n' } })).toEqual([
      { field: '/linux/resources/unified/memory.high', controller: 'memory', file: 'memory.high', value: '1073741824' },
      { field: '/linux/resources/unified/io.max', controller: 'io', file: 'io.max', value: '8:0 rbps=1' },
      { field: '/linux/resources/unified/io.max', controller: 'io', file: 'io.max', value: '8:16 wbps=2' },
    ]);
  });

  it('core cgroup.* files need no controller, except those tsrun manages', () => {
    expect(plan({ unified: { 'cgroup.max.depth': '3' } })).toEqual([{ field: '/linux/resources/unified/cgroup.max.depth', file: 'cgroup.max.depth', value: '3' }]);
    for (const key of ['cgroup.procs', 'cgroup.threads', 'cgroup.kill', 'cgroup.freeze', 'cgroup.subtree_control']) {
      expect(refusal({ unified: { [key]: '1' } }).message).toMatch(/managed by tsrun/);
    }
  });

  it('refuses keys that are not plain CONTROLLER.NAME file names', () => {
    for (const key of ['../memory.max', 'memory.max/x', 'a/b', 'nodot', '.hidden', 'memory.', 'memory..max']) {
      expect(refusal({ unified: { [key]: '1' } }).message).toMatch(/not a cgroup v2 file name/);
    }
    expect(refusal({ unified: { 'a/b.c': '1' } }).field).toBe('/linux/resources/unified/a~1b.c');
  });

  it('refuses a prefix that is no controller, unless the host has it', () => {
    expect(refusal({ unified: { 'foo.bar': '1' } }).message).toMatch(/"foo" is not a cgroup v2 controller/);
    expect(planResourceWrites({ unified: { 'foo.bar': '1' } }, { controllers: new Set(['foo']) })).toEqual([
      { field: '/linux/resources/unified/foo.bar', controller: 'foo', file: 'foo.bar', value: '1' },
    ]);
  });

  it('comes last, so that it overrides the translated fields', () => {
    expect(fv({ unified: { 'memory.max': '2000' }, memory: { limit: 1000 } })).toEqual(['memory.max=1000', 'memory.max=2000']);
  });
});

describe("runc's order", () => {
  it('pids, memory, io, cpu, cpuset, hugetlb, rdma, unified', () => {
    const files = plan({
      unified: { 'memory.high': '1' },
      rdma: { mlx5_1: { hcaHandles: 1 } },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      cpu: { cpus: '0', shares: 2 },
      blockIO: { weight: 100 },
      memory: { limit: 1 },
      pids: { limit: 1 },
    }).map((w) => w.file);
    expect(files).toEqual(['pids.max', 'memory.max', 'io.bfq.weight', 'cpu.weight', 'cpuset.cpus', 'hugetlb.2MB.max', 'hugetlb.2MB.rsvd.max', 'rdma.max', 'memory.high']);
  });
});

describe('missingControllers', () => {
  const resources: LinuxResources = {
    memory: { limit: 1 << 20, swap: 2 << 20 },
    cpu: { shares: 1024 },
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
    unified: { 'cgroup.max.depth': '2', 'pids.max': '10' },
  };

  it('names each field whose controller the hybrid host lacks, once, with the controller', () => {
    const missing = missingControllers(plan(resources, HYBRID), HYBRID.controllers);
    expect(missing.map((m) => [m.field, m.controller])).toEqual([
      ['/linux/resources/memory/swap', 'memory'],
      ['/linux/resources/memory/limit', 'memory'],
      ['/linux/resources/cpu/shares', 'cpu'],
      ['/linux/resources/unified/pids.max', 'pids'],
    ]);
    expect(missing[1]?.message).toBe(
      '/linux/resources/memory/limit needs the cgroup v2 "memory" controller, which this host\'s unified hierarchy does not have',
    );
  });

  it('finds nothing missing when the host has every controller', () => {
    expect(missingControllers(plan(resources), ALL.controllers)).toEqual([]);
  });

  it('lists the controllers to enable in the ancestors, once each', () => {
    expect(neededControllers(plan(resources))).toEqual(['cpu', 'hugetlb', 'memory', 'pids']);
  });
});
