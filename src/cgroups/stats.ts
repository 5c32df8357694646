// `events` data: runc's stats document (types.Stats in runc's types/events.go)
// read from a cgroup v2 directory, with runc's fs2 mapping of the v2 files to
// its v1-shaped fields. Pure over a file reader, so the tests feed it text.
//
// Counters are u64 in the kernel ("max" is 2^64-1 in runc's output), so
// values are BigInt and the document is serialised by jsonLine, with Go's
// encoding/json rules that callers see in runc's output: struct field order,
// `omitempty` fields left out when zero, one line.

export type Json = bigint | number | string | boolean | null | readonly Json[] | { readonly [key: string]: Json | undefined };

/** Reads a file of the cgroup directory; undefined when it does not exist (controller not enabled, older kernel). */
export type CgroupFiles = (name: string) => string | undefined;

const U64_MAX = (1n << 64n) - 1n;

/** A decimal counter, or "max" (= 2^64-1, as runc reports it). Anything else is 0, as runc's parsers leave a field they cannot read. */
export function u64(text: string | undefined): bigint {
  const t = text?.trim();
  if (t === undefined || t === '') return 0n;
  if (t === 'max') return U64_MAX;
  return /^\d+$/.test(t) ? BigInt(t) : 0n;
}

/** "key value" lines (memory.stat, cpu.stat, *.events). */
export function keyValues(text: string | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) out.set(key, u64(value));
  }
  return out;
}

/** Go's omitempty: drops zero numbers, empty strings, empty lists and undefined. */
function omitEmpty(fields: Readonly<Record<string, Json | undefined>>, omittable: readonly string[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (omittable.includes(k) && (v === 0n || v === 0 || v === '' || (Array.isArray(v) && v.length === 0))) continue;
    out[k] = v;
  }
  return out;
}

// ---- pieces ----------------------------------------------------------------

/** cpu.pressure and friends: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" (runc's PSIStats). */
export function parsePsi(text: string | undefined): Json | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, Json> = {};
  for (const line of text.split('\n')) {
    const [kind, ...pairs] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const data: Record<string, number | bigint> = { avg10: 0, avg60: 0, avg300: 0, total: 0n };
    for (const pair of pairs) {
      const [k, v = ''] = pair.split('=');
      if (k === 'total') data.total = u64(v);
      else if (k === 'avg10' || k === 'avg60' || k === 'avg300') data[k] = Number.parseFloat(v) || 0;
    }
    out[kind] = data;
  }
  return out;
}

function cpuStats(files: CgroupFiles): Json {
  const s = keyValues(files('cpu.stat'));
  const usec = (k: string): bigint => (s.get(k) ?? 0n) * 1000n;
  return omitEmpty(
    {
      usage: omitEmpty({ total: usec('usage_usec'), kernel: usec('system_usec'), user: usec('user_usec') }, ['total']),
      throttling: omitEmpty(
        { periods: s.get('nr_periods') ?? 0n, throttledPeriods: s.get('nr_throttled') ?? 0n, throttledTime: usec('throttled_usec') },
        ['periods', 'throttledPeriods', 'throttledTime'],
      ),
      psi: parsePsi(files('cpu.pressure')),
    },
    [],
  );
}

/** The cpuset list format "0-3,7" -> [0, 1, 2, 3, 7]. */
export function parseCpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const item of (text ?? '').trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item.trim());
    if (m === null) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

function cpusetStats(files: CgroupFiles): Json {
  return omitEmpty(
    {
      cpus: parseCpuList(files('cpuset.cpus.effective')),
      cpu_exclusive: 0n,
      mems: parseCpuList(files('cpuset.mems.effective')),
      mem_hardwall: 0n,
      mem_exclusive: 0n,
      memory_migrate: 0n,
      memory_spread_page: 0n,
      memory_spread_slab: 0n,
      memory_pressure: 0n,
      sched_load_balance: 0n,
      sched_relax_domain_level: 0n,
    },
    ['cpus', 'mems'],
  );
}

function memoryEntry(limit: bigint, usage: bigint, max: bigint, failcnt: bigint): Json {
  return omitEmpty({ limit, usage, max, failcnt }, ['usage', 'max']);
}

function memoryStats(files: CgroupFiles): Json {
  const raw = keyValues(files('memory.stat'));
  const limit = u64(files('memory.max'));
  const usage = u64(files('memory.current'));
  const events = keyValues(files('memory.events'));
  // v1 reported swap as memory+swap: runc adds memory to the v2 swap figures (with Go's u64 wrap-around).
  const swapLimit = u64(files('memory.swap.max'));
  const swap = memoryEntry(
    swapLimit === U64_MAX ? swapLimit : (swapLimit + limit) & U64_MAX,
    u64(files('memory.swap.current')) + usage,
    u64(files('memory.swap.peak')),
    keyValues(files('memory.swap.events')).get('fail') ?? 0n,
  );
  return omitEmpty(
    {
      cache: raw.get('file') ?? 0n,
      usage: memoryEntry(limit, usage, u64(files('memory.peak')), events.get('max') ?? 0n),
      swap,
      kernel: memoryEntry(0n, 0n, 0n, 0n),
      kernelTCP: memoryEntry(0n, 0n, 0n, 0n),
      raw: raw.size > 0 ? Object.fromEntries(raw) : undefined,
      psi: parsePsi(files('memory.pressure')),
    },
    ['cache'],
  );
}

function pidsStats(files: CgroupFiles): Json {
  const current = files('pids.current');
  // Without the pids controller, runc counts cgroup.procs and reports no limit.
  const count = current !== undefined ? u64(current) : BigInt((files('cgroup.procs') ?? '').split('\n').filter(Boolean).length);
  const max = u64(files('pids.max'));
  return omitEmpty({ current: count, limit: max === U64_MAX ? 0n : max }, ['current', 'limit']);
}

/** io.stat -> runc's v1-shaped tables: bytes (rbytes/wbytes) and operations (rios/wios) as Read/Write entries. */
export function blkioStats(ioStat: string | undefined, psi?: string): Json {
  const bytes: Json[] = [];
  const ios: Json[] = [];
  const lines = (ioStat ?? '').split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => p.length > 1);
  for (const [device = '', ...items] of lines) {
    const m = /^(\d+):(\d+)$/.exec(device);
    if (m === null) continue;
    const major = BigInt(m[1] as string);
    const minor = BigInt(m[2] as string);
    for (const item of items) {
      const [key, value = ''] = item.split('=');
      const table = key === 'rbytes' || key === 'wbytes' ? bytes : key === 'rios' || key === 'wios' ? ios : undefined;
      if (table === undefined) continue;
      const op = key?.startsWith('r') ? 'Read' : 'Write';
      table.push(omitEmpty({ major, minor, op, value: u64(value) }, ['major', 'minor', 'op', 'value']));
    }
  }
  return omitEmpty({ ioServiceBytesRecursive: bytes, ioServicedRecursive: ios, psi: parsePsi(psi) }, ['ioServiceBytesRecursive', 'ioServicedRecursive']);
}

/** /sys/kernel/mm/hugepages entries ("hugepages-2048kB") -> runc's page size names ("2MB"). */
export function hugePageSizeName(entry: string): string | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(entry);
  if (m === null) return undefined;
  let size = Number(m[1]);
  for (const unit of ['KB', 'MB', 'GB', 'TB']) {
    if (size < 1024 || size % 1024 !== 0 || unit === 'TB') return `${size}${unit}`;
    size /= 1024;
  }
  return undefined;
}

function hugetlbStats(files: CgroupFiles, pageSizes: readonly string[]): Json {
  const out: Record<string, Json> = {};
  for (const size of pageSizes) {
    const current = files(`hugetlb.${size}.current`);
    if (current === undefined) continue;
    out[size] = omitEmpty({ usage: u64(current), max: 0n, failcnt: keyValues(files(`hugetlb.${size}.events`)).get('max') ?? 0n }, ['usage', 'max']);
  }
  return out;
}

/** runc's types.Stats for the cgroup whose files `files` reads. */
export function buildStats(files: CgroupFiles, pageSizes: readonly string[]): Json {
  return {
    cpu: cpuStats(files),
    cpuset: cpusetStats(files),
    memory: memoryStats(files),
    pids: pidsStats(files),
    blkio: blkioStats(files('io.stat'), files('io.pressure')),
    hugetlb: hugetlbStats(files, pageSizes),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** runc's types.Event: {"type","id","data"?}. */
export function eventLine(type: 'stats' | 'oom', id: string, data?: Json): string {
  return `${jsonText({ type, id, data })}\n`;
}

/** JSON text with BigInt as plain digits (JSON.stringify refuses BigInt), keys in insertion order. */
export function jsonText(value: Json | undefined): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v: Json) => jsonText(v)).join(',')}]`;
  const fields = Object.entries(value as Readonly<Record<string, Json | undefined>>).filter(([, v]) => v !== undefined);
  return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
}

/** memory.events' oom_kill: how many processes the OOM killer killed in the cgroup (and below). */
export function oomKills(memoryEvents: string | undefined): bigint {
  return keyValues(memoryEvents).get('oom_kill') ?? 0n;
}

/** A Go duration ("5s", "100ms", "1m30s", "1.5h") in milliseconds, as `events --interval` takes it. */
export function parseGoDuration(text: string): number {
  // µ spelled \u00b5: the bundle stays ASCII, which bin/tsrun.js reads without UTF-8 decoding.
  const units: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)/gy;
  const body = text.replace(/^[+-]/, '');
  if (body === '0') return 0;
  let total = 0;
  let at = 0;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    total += Number(m[1]) * (units[m[2] as string] ?? 0);
    at = re.lastIndex;
  }
  if (body === '' || at !== body.length) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  return text.startsWith('-') ? -total : total;
}
