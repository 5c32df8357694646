// What the benchmark measures: one Row per measurement (see measure.mjs for
// the loop and README.md for what each row means).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CommandFailed, failure, waitExit } from './proc.mjs';
import { rtCmd } from './runtimes.mjs';

/**
 * @typedef {import('./runtimes.mjs').Runtime} Runtime
 * @typedef {import('./measure.mjs').Row} Row
 * @typedef {import('./proc.mjs').Runner} Runner
 */

/**
 * Containers, ids and fixtures of one benchmark run; everything it creates
 * is tracked here so that cleanup() can delete it, whatever happened.
 */
export class Lab {
  /**
   * @param {{ runner: Runner, base: string, trueBundle: string, sleepBundle: string, runTag: string }} o
   */
  constructor(o) {
    this.runner = o.runner;
    this.base = o.base;
    this.trueBundle = o.trueBundle;
    this.sleepBundle = o.sleepBundle;
    this.runTag = o.runTag;
    this.pidDir = join(o.base, 'pids');
    mkdirSync(this.pidDir, { recursive: true });
    this.counter = 0;
    /** @type {Map<Runtime, Set<string>>} ids that may still exist */
    this.live = new Map();
    /** @type {Map<string, { id?: string, pid?: number, error?: CommandFailed }>} */
    this.fixtures = new Map();
  }

  /** @param {Runtime} rt @param {string} what */
  newId(rt, what) {
    return `tb-${this.runTag}-${rt.name}-${what}-${++this.counter}`;
  }

  /** @param {Runtime} rt @param {string} id */
  track(rt, id) {
    let s = this.live.get(rt);
    if (!s) this.live.set(rt, (s = new Set()));
    s.add(id);
  }

  /** @param {string} id */
  pidFile(id) {
    return join(this.pidDir, `${id}.pid`);
  }

  /** @param {string} id */
  readPid(id) {
    const text = readFileSync(this.pidFile(id), 'utf8').trim();
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 0) throw new CommandFailed(`pid file of ${id} holds ${JSON.stringify(text)}`);
    return pid;
  }

  /**
   * `create --bundle B --pid-file P id`, which must succeed; timed.
   * @param {Runtime} rt @param {string} bundle @param {string} id
   */
  create(rt, bundle, id) {
    this.track(rt, id);
    const r = this.runner.time(rtCmd(rt, ['create', '--bundle', bundle, '--pid-file', this.pidFile(id), id]));
    if (r.status !== 0) throw failure('create', r);
    return { ms: r.ms, pid: this.readPid(id) };
  }

  /**
   * Untimed removal: `delete --force` when the runtime still has state for
   * the id (all three keep one directory per container under --root).
   * @param {Runtime} rt @param {string} id
   */
  remove(rt, id) {
    if (existsSync(join(rt.root, id))) this.runner.time(rtCmd(rt, ['delete', '--force', id]));
    rmSync(this.pidFile(id), { force: true });
    this.live.get(rt)?.delete(id);
  }

  /**
   * A container kept for several rows: `created` (true bundle, not started)
   * or `running` (sleep bundle, started). A failure is remembered, so that
   * an unimplemented create costs one attempt per runtime, not one per row.
   * @param {Runtime} rt @param {'created' | 'running'} kind
   */
  fixture(rt, kind) {
    const key = `${rt.name}/${kind}`;
    let f = this.fixtures.get(key);
    if (!f) {
      f = {};
      this.fixtures.set(key, f);
      const id = this.newId(rt, kind);
      try {
        const { pid } = this.create(rt, kind === 'created' ? this.trueBundle : this.sleepBundle, id);
        if (kind === 'running') this.runner.must(rtCmd(rt, ['start', id]), 'start');
        f.id = id;
        f.pid = pid;
      } catch (e) {
        this.remove(rt, id);
        f.error = e instanceof CommandFailed ? new CommandFailed(`needs a ${kind} container: ${e.message}`, e.notImplemented) : /** @type {any} */ (e);
      }
    }
    if (f.error) throw f.error;
    return /** @type {{ id: string, pid: number }} */ (f);
  }

  /** @param {Runtime} rt @param {'created' | 'running'} kind */
  dropFixture(rt, kind) {
    const key = `${rt.name}/${kind}`;
    const f = this.fixtures.get(key);
    if (f?.id) this.remove(rt, f.id);
    this.fixtures.delete(key);
  }

  /**
   * Deletes every container this run may have left, in every runtime; never throws.
   * @param {Runtime[]} runtimes
   */
  cleanup(runtimes) {
    for (const rt of runtimes) {
      if (!rt.argv0) continue;
      const ids = new Set(this.live.get(rt) ?? []);
      // and whatever the runtime itself still lists under our private root
      const listed = this.runner.output(rtCmd(rt, ['list', '-q']));
      if (listed.status === 0) for (const id of listed.stdout.split('\n').map((l) => l.trim())) if (id.startsWith(`tb-${this.runTag}-`)) ids.add(id);
      for (const id of ids) {
        try {
          this.runner.output(rtCmd(rt, ['delete', '--force', id]));
        } catch {
          /* keep going */
        }
        this.live.get(rt)?.delete(id);
      }
    }
    this.fixtures.clear();
  }
}

/**
 * Peak RSS of a command in MB, from GNU time (wait4's ru_maxrss: the largest
 * of the process and its reaped descendants).
 * @param {Runner} runner @param {string} timeBin @param {{ argv0: string, args: string[], env?: NodeJS.ProcessEnv }} cmd
 * @param {string} outFile @param {string} what
 * @param {boolean} [mustSucceed]
 */
function peakRss(runner, timeBin, cmd, outFile, what, mustSucceed = true) {
  const r = runner.time({ argv0: timeBin, args: ['-f', '%M', '-o', outFile, cmd.argv0, ...cmd.args], env: cmd.env });
  if (mustSucceed && r.status !== 0) throw failure(what, r);
  const kb = Number(readFileSync(outFile, 'utf8').trim().split('\n').at(-1));
  if (!Number.isFinite(kb)) throw new CommandFailed(`${what}: no RSS from ${timeBin}`);
  return kb / 1024;
}

/**
 * PSS and RSS (MB) of a container's processes: every process of its cgroup
 * (v2 view), or its pid alone when it has no cgroup of its own.
 * @param {number} pid
 */
function containerMemory(pid) {
  const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
  let pids = [pid];
  const procs = join('/sys/fs/cgroup', cg, 'cgroup.procs');
  if (cg !== '/' && existsSync(procs)) {
    const listed = readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number);
    if (listed.length > 0) pids = listed;
  }
  let pss = 0;
  let rss = 0;
  for (const p of pids) {
    let text = '';
    try {
      text = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
    } catch {
      continue;
    }
    pss += Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
    rss += Number(/^Rss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
  }
  return { pss: pss / 1024, rss: rss / 1024, processes: pids.length, cgroup: cg };
}

/**
 * The tree of a tsrun run as `node <tree>/bin/tsrun.js`, else undefined (runc, crun, another wrapper).
 * @param {Runtime} rt
 */
function treeOf(rt) {
  const script = rt.baseArgs[0];
  if (!rt.name.startsWith('tsrun') || script === undefined || !/\/bin\/tsrun\.js$/.test(script)) return undefined;
  return join(script, '..', '..');
}

/**
 * @param {Lab} lab
 * @param {{ parallel: number, parallelRepeats: number, memRepeats: number, timeBin?: string, nodeEmpty: string, emptyRoot: (rt: Runtime) => string }} o
 * @returns {Row[]}
 */
export function buildRows(lab, o) {
  const { runner } = lab;
  const node = process.execPath;
  const loadFloor = join(import.meta.dirname, 'load-floor.cjs');
  const nodeFloor = () => runner.must({ argv0: node, args: ['-e', '0'] }, 'node -e 0').ms;
  const rssFile = join(lab.base, 'rss.txt');
  const noTime = o.timeBin ? undefined : new CommandFailed('GNU time is missing (apt-get install -y time)');
  const nodeRss = () => {
    if (noTime) throw noTime;
    return peakRss(runner, /** @type {string} */ (o.timeBin), { argv0: node, args: ['-e', '0'] }, rssFile, 'node -e 0');
  };

  /** @type {Row[]} */
  const rows = [
    {
      id: 'node-e',
      label: 'node -e 0',
      unit: 'ms',
      what: 'Node start-up and exit with nothing to run: the floor of any Node.js command line.',
      floorOnly: true,
      floorSample: nodeFloor,
    },
    {
      id: 'node-esm',
      label: 'node empty.mjs',
      unit: 'ms',
      what: 'Node loading an empty ES module file, for comparison: bin/tsrun.js is CommonJS, which Node starts faster.',
      floorOnly: true,
      floorSample: () => runner.must({ argv0: node, args: [o.nodeEmpty] }, 'node empty.mjs').ms,
    },
    {
      id: 'spawn',
      label: 'spawn /bin/true (harness)',
      unit: 'ms',
      what: "The harness's own cost of spawning and reaping one process; it is inside every other time figure.",
      floorOnly: true,
      floorSample: () => runner.must({ argv0: '/bin/true', args: [] }, '/bin/true').ms,
    },
    {
      id: 'run',
      label: 'run busybox true',
      unit: 'ms',
      procs: 1,
      what: '`run --bundle B ID` of /bin/true in the foreground, to its exit (the runtime deletes the container itself).',
      floorSample: nodeFloor,
      sample(rt) {
        const id = lab.newId(rt, 'run');
        lab.track(rt, id);
        const r = runner.time(rtCmd(rt, ['run', '--bundle', lab.trueBundle, id]));
        lab.remove(rt, id);
        if (r.status !== 0) throw failure('run', r);
        return r.ms;
      },
    },
    {
      id: 'load',
      label: 'load tsrun, run nothing',
      unit: 'ms',
      procs: 1,
      what: "tsrun only: Node, tsrun's bundle compiled from run's code cache with its top level run, koffi and libc loaded, then _exit (bench/lib/load-floor.cjs): what every `run` pays before its own work. `run` minus this is the command's JavaScript and syscalls.",
      floorSample: nodeFloor,
      setup(rt) {
        if (treeOf(rt) === undefined) throw new CommandFailed('tsrun only (needs `node <tree>/bin/tsrun.js`): runc and crun load no JavaScript');
      },
      sample(rt) {
        return runner.must({ argv0: node, args: [loadFloor, /** @type {string} */ (treeOf(rt)), 'run'], env: rt.env }, 'load-floor').ms;
      },
    },
    {
      id: 'lifecycle',
      label: 'create+start+delete',
      unit: 'ms',
      what: '`create --pid-file`, `start`, (untimed: wait for /bin/true to exit), `delete`: the sum, and each command.',
      series: [
        { key: 'total', label: 'create+start+delete', unit: 'ms', procs: 3 },
        { key: 'create', label: '  create', unit: 'ms', procs: 1 },
        { key: 'start', label: '  start', unit: 'ms', procs: 1 },
        { key: 'delete', label: '  delete (stopped)', unit: 'ms', procs: 1 },
      ],
      floorSample: () => {
        const ms = nodeFloor();
        return { total: ms, create: ms, start: ms, delete: ms };
      },
      sample(rt) {
        const id = lab.newId(rt, 'csd');
        try {
          const c = lab.create(rt, lab.trueBundle, id);
          const s = runner.must(rtCmd(rt, ['start', id]), 'start');
          if (!waitExit(c.pid)) throw new CommandFailed(`start: /bin/true (pid ${c.pid}) still running after 10 s`);
          const d = runner.must(rtCmd(rt, ['delete', id]), 'delete');
          return { total: c.ms + s.ms + d.ms, create: c.ms, start: s.ms, delete: d.ms };
        } finally {
          lab.remove(rt, id);
        }
      },
    },
    {
      id: 'state',
      label: 'state (created container)',
      unit: 'ms',
      procs: 1,
      what: '`state ID` of a created, not started container.',
      floorSample: nodeFloor,
      setup: (rt) => void lab.fixture(rt, 'created'),
      sample: (rt) => runner.must(rtCmd(rt, ['state', lab.fixture(rt, 'created').id]), 'state').ms,
    },
    {
      id: 'state-missing',
      label: 'state (missing id, error path)',
      unit: 'ms',
      procs: 1,
      what: '`state ID` of an id that does not exist: must fail; needs no container, so it runs on every runtime today.',
      floorSample: nodeFloor,
      sample(rt) {
        const r = runner.time(rtCmd(rt, ['state', `tb-${lab.runTag}-missing`]));
        if (r.status === 0) throw new CommandFailed('state of a missing id exited 0');
        if (/not implemented/i.test(r.stderr)) throw failure('state', r);
        return r.ms;
      },
    },
    {
      id: 'list',
      label: 'list (1 created container)',
      unit: 'ms',
      procs: 1,
      what: '`list` (table) with one created container under the runtime\'s --root.',
      floorSample: nodeFloor,
      setup: (rt) => void lab.fixture(rt, 'created'),
      sample: (rt) => runner.must(rtCmd(rt, ['list']), 'list').ms,
    },
    {
      id: 'list-empty',
      label: 'list (empty root)',
      unit: 'ms',
      procs: 1,
      what: '`list` of an empty --root directory.',
      floorSample: nodeFloor,
      sample: (rt) => runner.must(rtCmd({ ...rt, root: o.emptyRoot(rt) }, ['list']), 'list').ms,
    },
    {
      id: 'kill',
      label: 'kill KILL (running container)',
      unit: 'ms',
      procs: 1,
      what: '`kill ID KILL` of a running /bin/sleep (untimed: create, start, wait for the exit, delete --force).',
      floorSample: nodeFloor,
      sample(rt) {
        const id = lab.newId(rt, 'kill');
        try {
          const c = lab.create(rt, lab.sleepBundle, id);
          runner.must(rtCmd(rt, ['start', id]), 'start');
          const k = runner.must(rtCmd(rt, ['kill', id, 'KILL']), 'kill');
          waitExit(c.pid);
          return k.ms;
        } finally {
          lab.remove(rt, id);
        }
      },
    },
    {
      id: 'exec',
      label: 'exec /bin/true (running container)',
      unit: 'ms',
      procs: 1,
      what: '`exec ID /bin/true` into a running /bin/sleep container, to its exit.',
      floorSample: nodeFloor,
      setup: (rt) => void lab.fixture(rt, 'running'),
      sample: (rt) => runner.must(rtCmd(rt, ['exec', lab.fixture(rt, 'running').id, '/bin/true']), 'exec').ms,
      teardown: (rt) => lab.dropFixture(rt, 'running'),
    },
    {
      id: 'parallel',
      label: `parallel create ×${o.parallel}`,
      unit: 'ms',
      what: `${o.parallel} \`create\` commands started at once by one sh; wall time to the last exit (untimed: delete --force of all), and containers per second. Floor: ${o.parallel} \`node -e 0\` started the same way.`,
      repeats: o.parallelRepeats,
      warmup: 1,
      series: [
        { key: 'wall', label: `parallel create ×${o.parallel} (wall)`, unit: 'ms', procs: 1 },
        { key: 'throughput', label: `  throughput (higher is better)`, unit: '/s', higherIsBetter: true },
      ],
      floorSample() {
        const r = runner.parallel(Array.from({ length: o.parallel }, () => ({ argv0: node, args: ['-e', '0'] })));
        const bad = r.results.find((x) => x.status !== 0);
        if (bad) throw failure('node -e 0', bad);
        return { wall: r.ms, throughput: o.parallel / (r.ms / 1000) };
      },
      sample(rt) {
        const ids = Array.from({ length: o.parallel }, () => lab.newId(rt, 'par'));
        for (const id of ids) lab.track(rt, id);
        try {
          const cmds = ids.map((id) => rtCmd(rt, ['create', '--bundle', lab.trueBundle, '--pid-file', lab.pidFile(id), id]));
          const r = runner.parallel(cmds, rt.env);
          const bad = r.results.find((x) => x.status !== 0);
          if (bad) throw failure('parallel create', bad);
          return { wall: r.ms, throughput: o.parallel / (r.ms / 1000) };
        } finally {
          for (const id of ids) lab.remove(rt, id);
        }
      },
    },
    {
      id: 'rss-run',
      label: 'peak RSS: run true',
      unit: 'MB',
      procs: 1,
      what: 'Peak resident memory of the `run` command (GNU time, %M: the largest of the runtime process and its reaped children); floor: `node -e 0`.',
      repeats: o.memRepeats,
      warmup: 0,
      floorSample: nodeRss,
      sample(rt) {
        if (noTime) throw noTime;
        const id = lab.newId(rt, 'rss');
        lab.track(rt, id);
        try {
          return peakRss(runner, /** @type {string} */ (o.timeBin), rtCmd(rt, ['run', '--bundle', lab.trueBundle, id]), rssFile, 'run');
        } finally {
          lab.remove(rt, id);
        }
      },
    },
    {
      id: 'rss-state',
      label: 'peak RSS: state',
      unit: 'MB',
      procs: 1,
      what: 'Peak resident memory of `state ID` of a created container.',
      repeats: o.memRepeats,
      warmup: 0,
      floorSample: nodeRss,
      setup: (rt) => void lab.fixture(rt, 'created'),
      sample(rt) {
        if (noTime) throw noTime;
        return peakRss(runner, /** @type {string} */ (o.timeBin), rtCmd(rt, ['state', lab.fixture(rt, 'created').id]), rssFile, 'state');
      },
    },
    {
      id: 'mem-created',
      label: 'memory of a created container',
      unit: 'MB',
      what: "Memory held while a container is created but not started: PSS (and RSS) summed over the processes of its cgroup, read from /proc/<pid>/smaps_rollup.",
      repeats: 1,
      warmup: 0,
      series: [
        { key: 'pss', label: 'created container: PSS', unit: 'MB' },
        { key: 'rss', label: '  RSS', unit: 'MB' },
        { key: 'processes', label: '  processes', unit: 'count' },
      ],
      setup: (rt) => void lab.fixture(rt, 'created'),
      sample(rt) {
        const m = containerMemory(lab.fixture(rt, 'created').pid);
        return { pss: m.pss, rss: m.rss, processes: m.processes };
      },
      teardown: (rt) => lab.dropFixture(rt, 'created'),
    },
  ];
  return rows;
}
