// Runs INSIDE the pure cgroup v2 VM (../shared/tools/v2vm), started by
// test/integration/cgroups-v2vm.test.ts: the limits this host's hybrid
// hierarchy cannot enforce. Every tsrun command costs seconds in the VM, so
// one container goes through the cases in order: created with every kind of
// limit, it checks its devices, allocates past memory.max, forks past
// pids.max, is inspected, updated, paused, killed and deleted.
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blkioWeightToIoWeight, cpuSharesToWeight } from '../../src/cgroups/resources.js';
import type { Spec } from '../../src/spec/types.js';
import type { Bundle } from '../helpers/bundle.js';
import { makeBundle, minimalSpec, TSRUN } from '../helpers/bundle.js';
import { V2VM_CASES as CASES, V2VM_SUITE } from './cases.js';

const CG = '/sys/fs/cgroup';
const controllers = existsSync(join(CG, 'cgroup.controllers')) ? readFileSync(join(CG, 'cgroup.controllers'), 'utf8') : '';
const inPureV2 = ['memory', 'pids', 'cpu', 'cpuset', 'io', 'hugetlb'].every((c) => controllers.split(/\s+/).includes(c));

const ID = 'big';
const PARENT = join(CG, 'tsrun-v2vm');
const DIR = join(PARENT, ID);
const MEMORY = 64 << 20;
const PIDS = 32;
const SHARES = 512;
const BLKIO_WEIGHT = 500;
const HUGE = 4 << 20;

/** Every command is slow here: minutes, not tsrun's test default of 20 s. */
const TIMEOUT_MS = 240_000;

let bundle: Bundle;
let events: ChildProcess | undefined;

function run(args: string[], opts: { input?: string; name?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  // Commands that leave a container behind must not hold a pipe: their output goes to files.
  const name = opts.name ?? 'cmd';
  const out = openSync(join(bundle.dir, `${name}.stdout`), 'w');
  const err = openSync(join(bundle.dir, `${name}.stderr`), 'w');
  try {
    const r = spawnSync(process.execPath, [TSRUN, '--root', bundle.root, ...args], {
      cwd: bundle.dir,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', out, err],
      input: opts.input,
      timeout: TIMEOUT_MS,
    });
    return { status: r.status, stdout: readFileSync(join(bundle.dir, `${name}.stdout`), 'utf8'), stderr: readFileSync(join(bundle.dir, `${name}.stderr`), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

function ok(args: string[], opts: { input?: string; name?: string } = {}): string {
  const r = run(args, opts);
  if (r.status !== 0) throw new Error(`tsrun ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const cg = (file: string): string => readFileSync(join(DIR, file), 'utf8').trim();
const kv = (file: string, key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(cg(file))?.[1] ?? NaN);
const output = (): string => (existsSync(join(bundle.dir, 'init.stdout')) ? readFileSync(join(bundle.dir, 'init.stdout'), 'utf8') : '');

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitFor(check: () => boolean, ms = 120_000): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    sleepMs(100);
  }
  return check();
}

/** The first block device of the VM (a loop device): io.max needs a real one. */
function blockDevice(): { major: number; minor: number } {
  for (const name of readdirSync('/sys/block').sort()) {
    const [major, minor] = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
    if (major !== undefined && minor !== undefined) return { major, minor };
  }
  throw new Error('no block device in the VM');
}

const SCRIPT = [
  'cat /proc/self/cgroup',
  // a failed redirection of `exec` ends the shell: each open is tried in a subshell
  'if (exec 3</dev/loop-control); then echo allowed-ok; fi',
  'if ! (exec 4</dev/fuse); then echo denied-ok; fi',
  // wait for the host: `events` must be watching before the OOM kill
  'while [ ! -e /tmp/go ]; do sleep 0.2; done',
  // tail keeps a line without a newline whole: 200 MiB of zeros outgrow memory.max
  'head -c 200m /dev/zero | tail >/dev/null; echo "alloc-status $?"',
  // forks until pids.max refuses one (the subshell dies with the failed fork)
  '(i=0; while [ $i -lt 64 ]; do sleep 1000 & i=$((i+1)); done; echo forked-all)',
  'echo pids-done',
  'exec sleep 1000',
].join('\n');

describe.skipIf(!inPureV2)(V2VM_SUITE, () => {
  const dev = inPureV2 ? blockDevice() : { major: 0, minor: 0 };

  beforeAll(() => {
    const spec = minimalSpec(['sh', '-c', SCRIPT]);
    spec.linux = {
      ...spec.linux,
      cgroupsPath: `/tsrun-v2vm/${ID}`,
      devices: [
        { path: '/dev/loop-control', type: 'c', major: 10, minor: 237, fileMode: 0o600 },
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600 },
      ],
      resources: {
        memory: { limit: MEMORY, reservation: MEMORY / 2, swap: MEMORY },
        pids: { limit: PIDS },
        cpu: { shares: SHARES, quota: 50000, period: 100000, cpus: '0', mems: '0' },
        blockIO: { weight: BLKIO_WEIGHT, throttleReadBpsDevice: [{ major: dev.major, minor: dev.minor, rate: 1048576 }] },
        hugepageLimits: [{ pageSize: '2MB', limit: HUGE }],
        devices: [{ allow: true, type: 'c', major: 10, minor: 237, access: 'rw' }],
        unified: { 'memory.high': String(MEMORY * 2) },
      },
    } satisfies Spec['linux'];
    bundle = makeBundle(spec);
    ok(['create', ID], { name: 'init' });
  });

  afterAll(() => {
    events?.kill('SIGKILL');
    if (bundle !== undefined) run(['delete', '--force', ID], { name: 'cleanup' });
  });

  it(CASES.path, () => {
    expect(existsSync(DIR)).toBe(true);
    // the parent tsrun created distributes exactly what the limits need
    expect(cg('../cgroup.subtree_control').split(/\s+/).sort()).toEqual(['cpu', 'cpuset', 'hugetlb', 'io', 'memory', 'pids']);
  });

  it(CASES.firstInstruction, () => {
    const state = JSON.parse(ok(['state', ID], { name: 'state' })) as { pid: number; status: string };
    expect(state.status).toBe('created');
    // before start, the only process is the container's init, waiting in the stub
    expect(cg('cgroup.procs')).toBe(String(state.pid));
    // start events first: it must have read memory.events before the OOM kill
    const out = openSync(join(bundle.dir, 'events.stdout'), 'w');
    events = spawn(process.execPath, [TSRUN, '--root', bundle.root, 'events', '--interval', '1s', ID], { cwd: bundle.dir, stdio: ['ignore', out, 'inherit'] });
    closeSync(out);
    ok(['start', ID], { name: 'start' });
    expect(waitFor(() => output().includes('\n'))).toBe(true);
    expect(output().split('\n')[0]).toBe(`0::/tsrun-v2vm/${ID}`);
  });

  it(CASES.limits, () => {
    expect(cg('memory.max')).toBe(String(MEMORY));
    expect(cg('memory.low')).toBe(String(MEMORY / 2));
    expect(cg('memory.swap.max')).toBe('0');
    expect(cg('memory.high')).toBe(String(MEMORY * 2));
    expect(cg('pids.max')).toBe(String(PIDS));
    expect(cg('cpu.weight')).toBe(String(cpuSharesToWeight(SHARES)));
    expect(cg('cpu.max')).toBe('50000 100000');
    expect(cg('cpuset.cpus')).toBe('0');
    expect(cg('cpuset.mems')).toBe('0');
    expect(cg('io.max')).toContain(`${dev.major}:${dev.minor} rbps=1048576 wbps=max riops=max wiops=max`);
    const weight = existsSync(join(DIR, 'io.bfq.weight')) ? cg('io.bfq.weight') : cg('io.weight');
    expect(weight).toMatch(new RegExp(`^default (${BLKIO_WEIGHT}|${blkioWeightToIoWeight(BLKIO_WEIGHT)})$`, 'm'));
    expect(cg('hugetlb.2MB.max')).toBe(String(HUGE));
    expect(cg('hugetlb.2MB.rsvd.max')).toBe(String(HUGE));
  });

  it(CASES.devices, () => {
    expect(waitFor(() => output().includes('denied-ok') || output().split('\n').length > 3)).toBe(true);
    expect(output()).toContain('allowed-ok\n');
    expect(output()).toContain('denied-ok\n');
    expect(readFileSync(join(bundle.dir, 'init.stderr'), 'utf8')).toMatch(/can't open '?\/dev\/fuse'?: Operation not permitted/);
  });

  it(CASES.memory, () => {
    // events prints its first stats after an interval: by then it watches memory.events
    expect(waitFor(() => existsSync(join(bundle.dir, 'events.stdout')) && readFileSync(join(bundle.dir, 'events.stdout'), 'utf8').includes('"type":"stats"'))).toBe(true);
    writeFileSync(join(bundle.rootfs, 'tmp/go'), '');
    expect(waitFor(() => output().includes('alloc-status'))).toBe(true);
    expect(output()).toContain('alloc-status 137\n');
    expect(kv('memory.events', 'oom_kill')).toBeGreaterThanOrEqual(1);
    expect(waitFor(() => readFileSync(join(bundle.dir, 'events.stdout'), 'utf8').includes(`{"type":"oom","id":"${ID}"}`), 30_000)).toBe(true);
  });

  it(CASES.pids, () => {
    expect(waitFor(() => output().includes('pids-done'))).toBe(true);
    expect(output()).not.toContain('forked-all');
    expect(kv('pids.events', 'max')).toBeGreaterThanOrEqual(1);
    expect(Number(cg('pids.current'))).toBeLessThanOrEqual(PIDS);
  });

  it(CASES.stats, () => {
    const lines = ok(['events', '--stats', ID], { name: 'stats' }).trim().split('\n');
    expect(lines).toHaveLength(1);
    const e = JSON.parse(lines[0] as string) as { type: string; id: string; data: Record<string, Record<string, unknown>> };
    expect(e).toMatchObject({ type: 'stats', id: ID });
    expect(e.data.memory?.usage).toMatchObject({ limit: MEMORY });
    expect((e.data.memory?.usage as { usage: number }).usage).toBeGreaterThan(0);
    expect(e.data.pids).toMatchObject({ limit: PIDS });
    expect((e.data.pids as { current: number }).current).toBeGreaterThan(1);
    expect((e.data.cpu?.usage as { total: number }).total).toBeGreaterThan(0);
    expect(e.data.hugetlb).toHaveProperty('2MB');
    expect(e.data.cpuset).toMatchObject({ cpus: [0], mems: [0] });
  });

  it(CASES.update, () => {
    // swap is memory+swap (v1's meaning): a larger limit needs a larger one, as with runc
    ok(['update', '--memory', '128m', '--memory-swap', '128m', '--pids-limit', '64', '--cpu-quota', '20000', ID], { name: 'update' });
    expect(cg('memory.max')).toBe(String(128 << 20));
    expect(cg('pids.max')).toBe('64');
    expect(cg('cpu.max')).toBe('20000 100000');
    // what was not updated stays
    expect(cg('cpuset.cpus')).toBe('0');
    const recorded = JSON.parse(readFileSync(join(bundle.root, ID, 'state.json'), 'utf8')) as { config: Spec };
    expect(recorded.config.linux?.resources).toMatchObject({ memory: { limit: 128 << 20, swap: 128 << 20 }, pids: { limit: 64 }, cpu: { quota: 20000, period: 100000 } });
    // a limit below the current usage is refused when checkBeforeUpdate asks
    const r = run(['update', '--resources', '-', ID], { input: JSON.stringify({ memory: { limit: 4096, swap: 4096, checkBeforeUpdate: true } }), name: 'update2' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('checkBeforeUpdate');
    expect(cg('memory.max')).toBe(String(128 << 20));
  });

  it(CASES.pause, () => {
    ok(['pause', ID], { name: 'pause' });
    expect(cg('cgroup.events')).toMatch(/^frozen 1$/m);
    expect((JSON.parse(ok(['state', ID], { name: 'state' })) as { status: string }).status).toBe('paused');
    ok(['resume', ID], { name: 'resume' });
    expect(cg('cgroup.events')).toMatch(/^frozen 0$/m);
  });

  it(CASES.killAll, async () => {
    expect(cg('cgroup.procs').split('\n').length).toBeGreaterThan(2);
    const ended = new Promise<number | null>((resolve) => {
      if (events === undefined || events.exitCode !== null) resolve(events?.exitCode ?? null);
      else events.once('exit', (code) => resolve(code));
    });
    ok(['kill', '--all', ID, 'KILL'], { name: 'kill' });
    expect(waitFor(() => cg('cgroup.procs') === '', 60_000)).toBe(true);
    // events ends by itself with the container (the event loop runs again here, so its exit is seen)
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000));
    expect(await Promise.race([ended, timeout])).toBe(0);
  });

  it(CASES.remove, () => {
    ok(['delete', ID], { name: 'delete' });
    expect(existsSync(DIR)).toBe(false);
    expect(existsSync(PARENT)).toBe(false);
  });
});
