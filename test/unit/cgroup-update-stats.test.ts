// `update` (runc's flags, merging) and `events` (runc's stats document from
// v2 files) as pure functions: any user.
import { describe, expect, it } from 'vitest';
import {
  blkioStats,
  buildStats,
  eventLine,
  hugePageSizeName,
  jsonText,
  keyValues,
  oomKills,
  parseCpuList,
  parseGoDuration,
  parsePsi,
  u64,
} from '../../src/cgroups/stats.js';
import { mergeResources, parseResourcesDocument, parseUpdateFlags, ramInBytes } from '../../src/cgroups/update.js';
import { UnsupportedError, UsageError } from '../../src/errors.js';

describe('update flags', () => {
  it('parses sizes as docker/go-units RAMInBytes (binary multiples)', () => {
    expect(ramInBytes('512')).toBe(512);
    expect(ramInBytes('64k')).toBe(65536);
    expect(ramInBytes('100m')).toBe(104857600);
    expect(ramInBytes('1.5g')).toBe(1610612736);
    expect(ramInBytes('2GiB')).toBe(2147483648);
    expect(ramInBytes('10 MB')).toBe(10485760);
    expect(() => ramInBytes('ten')).toThrow(/invalid size/);
  });

  it('maps each runc flag to its linux.resources field', () => {
    const { resources, warnings } = parseUpdateFlags({
      memory: '100m',
      'memory-swap': '-1',
      'memory-reservation': '50m',
      'cpu-period': '100000',
      'cpu-quota': '-1',
      'cpu-share': '512',
      'cpu-burst': '1000',
      'cpu-idle': '1',
      'cpuset-cpus': '0-1',
      'cpuset-mems': '0',
      'pids-limit': '42',
      'blkio-weight': '300',
      'cpu-rt-period': '0',
      'cpu-rt-runtime': '0',
    });
    expect(warnings).toEqual([]);
    expect(resources).toEqual({
      memory: { limit: 104857600, swap: -1, reservation: 52428800 },
      cpu: { period: 100000, quota: -1, shares: 512, burst: 1000, idle: 1, cpus: '0-1', mems: '0', realtimePeriod: 0, realtimeRuntime: 0 },
      pids: { limit: 42 },
      blockIO: { weight: 300 },
    });
  });

  it('takes 0 for --pids-limit and --blkio-weight as "not given" (runc), and nothing given as no change', () => {
    expect(parseUpdateFlags({ 'pids-limit': '0', 'blkio-weight': '0' }).resources).toEqual({});
    expect(parseUpdateFlags({}).resources).toEqual({});
  });

  it('refuses malformed values with the flag name, ignores the obsolete kernel memory flags with a warning, refuses Intel RDT', () => {
    expect(() => parseUpdateFlags({ 'cpu-period': '-5' })).toThrow(UsageError);
    expect(() => parseUpdateFlags({ 'cpu-period': '-5' })).toThrow(/--cpu-period/);
    expect(() => parseUpdateFlags({ memory: 'lots' })).toThrow(/invalid value for --memory: invalid size: 'lots'/);
    expect(parseUpdateFlags({ 'kernel-memory': '10m' })).toEqual({ resources: {}, warnings: ['Setting --kernel-memory is ignored and will be removed'] });
    expect(() => parseUpdateFlags({ 'l3-cache-schema': 'L3:0=f' })).toThrow(UnsupportedError);
  });

  it('reads a --resources document', () => {
    expect(parseResourcesDocument('{"pids":{"limit":3}}', 'f')).toEqual({ pids: { limit: 3 } });
    expect(() => parseResourcesDocument('[1]', 'f')).toThrow(/JSON object/);
    expect(() => parseResourcesDocument('{', 'f')).toThrow(/not JSON/);
  });
});

describe('mergeResources', () => {
  const current = {
    memory: { limit: 100, swap: 200, checkBeforeUpdate: true },
    cpu: { quota: 50000, period: 100000, cpus: '0' },
    pids: { limit: 10 },
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
    devices: [{ allow: false, access: 'rwm' }],
  };

  it('replaces the given scalar fields one by one and keeps the rest', () => {
    expect(mergeResources(current, { memory: { limit: 150 }, cpu: { quota: 20000 } })).toEqual({
      ...current,
      memory: { limit: 150, swap: 200, checkBeforeUpdate: true },
      cpu: { quota: 20000, period: 100000, cpus: '0' },
    });
  });

  it('replaces lists whole', () => {
    const merged = mergeResources(current, { hugepageLimits: [{ pageSize: '1GB', limit: 1 }], devices: [] });
    expect(merged.hugepageLimits).toEqual([{ pageSize: '1GB', limit: 1 }]);
    expect(merged.devices).toEqual([]);
    expect(merged.pids).toEqual({ limit: 10 });
  });

  it('makes swap unlimited with an unlimited memory limit, unless swap is given (runc)', () => {
    expect(mergeResources(current, { memory: { limit: -1 } }).memory).toMatchObject({ limit: -1, swap: -1 });
    expect(mergeResources(current, { memory: { limit: -1, swap: 300 } }).memory).toMatchObject({ limit: -1, swap: 300 });
  });

  it('starts from nothing when the container had no resources, and ignores nulls', () => {
    expect(mergeResources(undefined, { pids: { limit: 4 } })).toEqual({ pids: { limit: 4 } });
    expect(mergeResources(undefined, { pids: {} as { limit: number } })).toEqual({});
    expect(mergeResources({ pids: { limit: 2 } }, JSON.parse('{"memory":null,"pids":{}}') as object)).toEqual({ pids: { limit: 2 } });
  });
});

describe('stats', () => {
  it('reads counters and key-value files, "max" as 2^64-1', () => {
    expect(u64('42\n')).toBe(42n);
    expect(u64('max\n')).toBe(18446744073709551615n);
    expect(u64(undefined)).toBe(0n);
    expect(keyValues('anon 4096\nfile 8192\n')).toEqual(new Map([['anon', 4096n], ['file', 8192n]]));
    expect(oomKills('low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n')).toBe(2n);
  });

  it('parses lists, PSI, page size names and durations', () => {
    expect(parseCpuList('0-2,5\n')).toEqual([0, 1, 2, 5]);
    expect(parsePsi('some avg10=1.50 avg60=0.00 avg300=0.00 total=12\n')).toEqual({ some: { avg10: 1.5, avg60: 0, avg300: 0, total: 12n } });
    expect(hugePageSizeName('hugepages-2048kB')).toBe('2MB');
    expect(hugePageSizeName('hugepages-1048576kB')).toBe('1GB');
    expect(hugePageSizeName('hugepages-64kB')).toBe('64KB');
    expect(parseGoDuration('5s')).toBe(5000);
    expect(parseGoDuration('1m30s')).toBe(90000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('1500\u00b5s')).toBe(1.5);
    expect(parseGoDuration('1500us')).toBe(1.5);
    expect(parseGoDuration('1.5h')).toBe(5400000);
    expect(() => parseGoDuration('5')).toThrow(/invalid duration/);
    expect(() => parseGoDuration('')).toThrow(/invalid duration/);
  });

  it('maps io.stat to runc\'s Read/Write tables', () => {
    expect(jsonText(blkioStats('8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n'))).toBe(
      '{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096},{"major":8,"op":"Write"}],' +
        '"ioServicedRecursive":[{"major":8,"op":"Read","value":1},{"major":8,"op":"Write"}]}',
    );
  });

  it('builds runc\'s stats document from v2 files, in runc\'s field order and omitempty rules', () => {
    const files: Record<string, string> = {
      'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 30\n',
      'memory.max': '10485760\n',
      'memory.current': '4096\n',
      'memory.peak': '8192\n',
      'memory.events': 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n',
      'memory.stat': 'anon 4096\nfile 0\n',
      'memory.swap.max': 'max\n',
      'memory.swap.current': '0\n',
      'pids.current': '3\n',
      'pids.max': '20\n',
      'hugetlb.2MB.current': '0\n',
      'hugetlb.2MB.events': 'max 4\n',
      'cpuset.cpus.effective': '0-1\n',
      'cpuset.mems.effective': '0\n',
    };
    const stats = buildStats((name) => files[name], ['2MB', '1GB']);
    expect(jsonText(stats)).toBe(
      '{"cpu":{"usage":{"total":1500000,"kernel":500000,"user":1000000},"throttling":{"periods":10,"throttledPeriods":2,"throttledTime":30000}},' +
        '"cpuset":{"cpus":[0,1],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},' +
        '"memory":{"usage":{"limit":10485760,"usage":4096,"max":8192,"failcnt":5},"swap":{"limit":18446744073709551615,"usage":4096,"failcnt":0},' +
        '"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},"raw":{"anon":4096,"file":0}},' +
        '"pids":{"current":3,"limit":20},"blkio":{},"hugetlb":{"2MB":{"failcnt":4}},"intel_rdt":{},"network_interfaces":null}',
    );
  });

  it('counts cgroup.procs without the pids controller, and prints events as runc', () => {
    const stats = buildStats((name) => (name === 'cgroup.procs' ? '1\n2\n' : undefined), []);
    expect(jsonText((stats as { pids: never }).pids)).toBe('{"current":2}');
    expect(eventLine('oom', 'c1')).toBe('{"type":"oom","id":"c1"}\n');
    expect(eventLine('stats', 'c1', { pids: {} })).toBe('{"type":"stats","id":"c1","data":{"pids":{}}}\n');
  });
});
