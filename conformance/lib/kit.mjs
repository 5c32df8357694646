// @ts-check
// One case = one requirement. `area(name)` gives a `req(meta, fn)` that
// declares a tap subtest titled with the spec section and the requirement,
// gives the case a Kit (its own temp dir, `--root`, container ids, bundle
// builder and runtime driver), always cleans up and asserts that nothing
// was left behind, applies the known-deviations table, and records the
// outcome for run.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { deviationFor } from '../deviations.mjs';
import { writeBundle } from './bundle.mjs';
import { baseConfig, bindMount } from './config.mjs';
import { containerSkipReason, resolveRuntime, runtimeIdentity, tmpBase } from './env.mjs';
import { alive, cgroupPath, fsLocation, mountsUnder, parseMountinfo, procStat, sleep } from './observe.mjs';
import { Runtime, describe } from './runtime.mjs';

export const RUNTIME_BIN = resolveRuntime();
export const RUNTIME = runtimeIdentity(RUNTIME_BIN);

/** Thrown by `need` after a failed assertion, to stop a case without a second failure. */
export class Abort extends Error {}

/**
 * @typedef {object} ReqMeta
 * @property {string} id        stable case id within the area (kebab-case)
 * @property {string} section   spec file and anchor, e.g. "runtime.md#start"
 * @property {string} title     the requirement in a few words
 * @property {string} quote     the MUST/SHOULD being tested, quoted from the spec
 * @property {string | false} [skip]  a reason to skip, or false
 * @property {boolean} [needsContainer]  default true: skipped outside the pure v2 view
 * @property {number} [timeoutMs]  tap timeout of the case (default 90 s)
 */

/**
 * @param {string} areaName  the file's area (e.g. "lifecycle")
 */
export function area(areaName) {
  /**
   * @param {ReqMeta} meta
   * @param {(t: any, k: Kit) => Promise<void>} fn
   */
  function req(meta, fn) {
    const caseId = `${areaName}/${meta.id}`;
    const title = `${meta.section}: ${meta.title} [${caseId}]`;
    const skip = meta.skip || (meta.needsContainer === false ? null : containerSkipReason());
    if (skip) {
      record({ id: caseId, area: areaName, title, status: 'skip', reason: skip });
      t.test(title, { skip }, async () => {});
      return;
    }
    const deviation = deviationFor(caseId, RUNTIME.name);
    t.test(title, { timeout: meta.timeoutMs ?? 90_000 }, async (tt) => {
      record({ id: caseId, area: areaName, title, status: 'started' });
      tt.comment(`spec: ${meta.quote}`);
      if (deviation) tt.comment(`listed in deviations.mjs for ${RUNTIME.name} (${deviation.kind}): ${deviation.reason}`);
      /** @type {string[]} */
      const failed = [];
      tt.parser.on('assert', (/** @type {any} */ r) => {
        if (!r.ok && !r.skip) failed.push(r.name);
      });
      const counter = { asserts: 0 };
      const view = assertProxy(tt, counter, deviation ? `known ${RUNTIME.name} ${deviation.kind}` : null);
      const k = new Kit(view, caseId);
      try {
        await fn(view, k);
      } catch (e) {
        if (!(e instanceof Abort)) view.fail(`case threw: ${e instanceof Error ? e.stack || e.message : String(e)}`);
      }
      // every case asserts: one that made no assertion of its own is a broken case
      const asserts = counter.asserts;
      if (asserts === 0) tt.fail('the case made no assertion');
      const problems = await k.cleanup();
      // leftovers are excused only by a deviation that says so
      const excused = Boolean(deviation && deviation.leftovers);
      (excused ? view : tt).same(problems, [], 'cleanup: no leftover container, process, mount, cgroup or temp dir');
      const leftover = problems.length > 0 && !excused;
      if (problems.length > 0 && excused) failed.push(`leftovers: ${problems.join('; ')}`);
      /** @type {Record<string, string>} */
      const rec = { id: caseId, area: areaName, title, status: '', reason: '' };
      if (leftover || (failed.length > 0 && !deviation) || asserts === 0) {
        rec.status = 'fail';
        rec.reason = leftover ? problems.join('; ') : asserts === 0 ? 'the case made no assertion' : failed.slice(0, 3).join('; ');
        rec.detail = k.lastError();
      } else if (failed.length === 0) {
        rec.status = deviation ? 'pass-listed' : 'pass';
      } else {
        // a listed case that failed: known, counted as failed, does not fail the run
        rec.status = 'known';
        rec.kind = /** @type {any} */ (deviation).kind;
        rec.reason = /** @type {any} */ (deviation).reason;
        rec.detail = failed.slice(0, 2).join('; ');
      }
      record(/** @type {any} */ (rec));
    });
  }
  return req;
}

/**
 * A view of `t` that counts assertions (synchronously: tap's own counts
 * follow its parser) and, for a listed deviation, makes every assertion TODO:
 * failures are printed as `not ok ... # TODO known runc deviation`.
 * @param {any} tt
 * @param {{ asserts: number }} counter
 * @param {string | null} todo
 */
function assertProxy(tt, counter, todo) {
  /** @type {Record<string, number>} number of value arguments before message/extra */
  const arity = {
    pass: 0, fail: 0, ok: 1, notOk: 1, error: 1, equal: 2, not: 2, same: 2, notSame: 2, strictSame: 2,
    strictNotSame: 2, match: 2, notMatch: 2, has: 2, hasStrict: 2, notHas: 2, hasProp: 2, hasProps: 2, type: 2,
  };
  return new Proxy(tt, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (typeof prop === 'string' && prop in arity && typeof v === 'function') {
        const n = /** @type {number} */ (arity[prop]);
        return (/** @type {any[]} */ ...args) => {
          counter.asserts++;
          if (!todo) return v.apply(target, args);
          const values = args.slice(0, n);
          let msg = args[n];
          let extra = args[n + 1];
          if (msg && typeof msg === 'object') {
            extra = msg;
            msg = undefined;
          }
          return v.apply(target, [...values, msg, { ...(extra || {}), todo }]);
        };
      }
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/**
 * Append one line to the results file that run.mjs reads. status: started,
 * pass, fail, skip, known (a listed deviation that failed), pass-listed (a
 * listed deviation that passed: the entry is stale).
 * @param {{ id: string, area: string, title: string, status: string, reason?: string, kind?: string, detail?: string }} rec
 */
function record(rec) {
  const file = process.env.CONFORMANCE_RESULTS;
  if (!file) return;
  fs.appendFileSync(file, `${JSON.stringify({ ...rec, file: path.basename(process.argv[1] || '') })}\n`);
}

let seq = 0;

export class Kit {
  /**
   * @param {any} t
   * @param {string} caseId
   */
  constructor(t, caseId) {
    this.t = t;
    this.caseId = caseId;
    const slug = caseId.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
    this.dir = fs.mkdtempSync(path.join(tmpBase(), `${slug}-`));
    fs.chmodSync(this.dir, 0o755);
    this.root = path.join(this.dir, 'root');
    this.results = path.join(this.dir, 'results');
    fs.mkdirSync(this.results, { mode: 0o777 });
    fs.chmodSync(this.results, 0o777);
    this.rt = new Runtime(RUNTIME_BIN, this.root, path.join(this.dir, 'io'));
    /** @type {Set<string>} */
    this.ids = new Set();
    /** @type {Map<number, string>} pid -> start time */
    this.pids = new Map();
    /** @type {Set<string>} */
    this.cgroups = new Set();
    /** @type {(() => void | Promise<void>)[]} */
    this.cleanups = [];
    this.bundles = 0;
    this.tag = Math.random().toString(36).slice(2, 7);
  }

  /**
   * A fresh container id, unique on the host (it names the default cgroup).
   * @param {string} [suffix]
   */
  id(suffix = '') {
    // c<run tag>-: run.mjs sweeps cgroups with its run's prefix
    const name = (this.caseId.split('/')[1] || 'x').slice(0, 24);
    return `c${process.env.CONFORMANCE_RUN_TAG || 'x'}-${name}-${this.tag}${++seq}${suffix ? `-${suffix}` : ''}`;
  }

  /**
   * A fresh base config (see lib/config.mjs).
   * @param {{ script?: string, args?: string[], results?: boolean }} [opts]
   */
  config(opts = {}) {
    const cfg = baseConfig(opts);
    if (opts.results) cfg.mounts.push(bindMount(this.results, '/results'));
    return cfg;
  }

  /**
   * Write a bundle for `cfg` and return its directory.
   * @param {object | string | null} cfg
   * @param {{ rootfs?: boolean, name?: string }} [opts]
   */
  bundle(cfg, opts = {}) {
    const dir = path.join(this.dir, opts.name || `bundle${++this.bundles}`);
    try {
      writeBundle(dir, cfg, opts);
    } catch (e) {
      const msg = `cannot make the bundle: ${e instanceof Error ? e.message : String(e)}`;
      this.t.fail(msg);
      throw new Abort(msg);
    }
    return dir;
  }

  /**
   * `create` a container from `cfg` (a config object, or a bundle dir).
   * @param {object | string} cfgOrBundle
   * @param {{ id?: string, pidFile?: string, consoleSocket?: string, preserveFds?: number, extraFds?: number[], cwd?: string, bundleArg?: string, umask?: number, timeoutMs?: number }} [opts]
   */
  async create(cfgOrBundle, opts = {}) {
    const bundle = typeof cfgOrBundle === 'string' ? cfgOrBundle : this.bundle(cfgOrBundle);
    const id = opts.id || this.id();
    this.ids.add(id);
    const res = await this.rt.create(id, opts.bundleArg || bundle, opts);
    const c = new Container(this, id, bundle, res);
    if (res.status === 0) await c.state(); // learn the pid for the leftover checks
    return c;
  }

  /**
   * `create`, asserting that it succeeds (aborts the case otherwise).
   * @param {object | string} cfgOrBundle
   * @param {Parameters<Kit['create']>[1]} [opts]
   */
  async mustCreate(cfgOrBundle, opts = {}) {
    const c = await this.create(cfgOrBundle, opts);
    this.need(c.createRes.status === 0, 'create succeeds', c.createRes);
    return c;
  }

  /**
   * `create` + `start`, asserting both succeed.
   * @param {object | string} cfgOrBundle
   * @param {Parameters<Kit['create']>[1]} [opts]
   */
  async mustStart(cfgOrBundle, opts = {}) {
    const c = await this.mustCreate(cfgOrBundle, opts);
    const r = await c.start();
    this.need(r.status === 0, 'start succeeds', r);
    return c;
  }

  /**
   * `run` in the foreground; the container's stdout is `res.stdout`.
   * @param {object | string} cfgOrBundle
   * @param {{ id?: string, timeoutMs?: number, detach?: boolean, pidFile?: string, consoleSocket?: string, umask?: number, cwd?: string }} [opts]
   */
  async run(cfgOrBundle, opts = {}) {
    const bundle = typeof cfgOrBundle === 'string' ? cfgOrBundle : this.bundle(cfgOrBundle);
    const id = opts.id || this.id();
    this.ids.add(id);
    const res = await this.rt.run(id, bundle, opts);
    return { id, bundle, res };
  }

  /**
   * `run` and assert a zero exit; returns the container's stdout.
   * @param {object | string} cfgOrBundle
   * @param {{ id?: string, timeoutMs?: number, umask?: number, cwd?: string }} [opts]
   */
  async mustRun(cfgOrBundle, opts = {}) {
    const { res } = await this.run(cfgOrBundle, opts);
    this.need(res.status === 0, 'the container runs and exits 0', res);
    return res.stdout;
  }

  /**
   * Assert `cond`; on failure, print the command's diagnostics and stop the case.
   * @param {boolean} cond
   * @param {string} msg
   * @param {import('./runtime.mjs').CmdResult} [res]
   */
  need(cond, msg, res) {
    if (cond) {
      this.t.pass(msg);
      return;
    }
    this.t.fail(res ? `${msg}: ${describe(res)}` : msg);
    throw new Abort(msg);
  }

  /**
   * A negative case done right: first `control` (the same feature with a
   * valid value) must run, so that a runtime that refuses the whole feature
   * fails the case instead of passing it; then `create` of `bad` must fail,
   * not hang, and leave no container (runtime.md#errors: "generating an error
   * MUST leave the state of the environment as if the operation were never
   * attempted"). `bad` should write /results/ran if it ever runs (config from
   * `k.config({ results: true, ... })`): that is checked too.
   * @param {object | string} control  config (or bundle) that must run and exit 0
   * @param {object | string} bad      config (or bundle) that create must refuse
   * @param {string} what              what is wrong with `bad`
   */
  async expectCreateFails(control, bad, what) {
    await this.mustRun(control);
    this.t.pass('control: the same feature with a valid value works');
    const c = await this.create(bad);
    const r = c.createRes;
    this.t.not(r.status, 0, `create fails: ${what} (${describe(r)})`);
    this.t.notOk(r.timedOut, 'create does not hang');
    if (r.status === 0) {
      // a runtime that accepted it: let the process run to see what happens
      await c.start();
      await c.waitStatus('stopped', 3000);
    }
    const s = await this.rt.state(c.id);
    this.t.not(s.status, 0, 'afterwards no container of that id exists');
    this.t.notOk(fs.existsSync(path.join(this.results, 'ran')), 'the process never ran');
    return c;
  }

  /** The diagnostics of the last runtime command that failed, or ''. */
  lastError() {
    const r = [...this.rt.history].reverse().find((h) => h.status !== 0 && !h.argv.includes('state') && !h.argv.includes('delete'));
    return r ? describe(r) : '';
  }

  /**
   * Remember a container process for the leftover checks.
   * @param {number} pid
   */
  trackPid(pid) {
    if (!pid || this.pids.has(pid)) return;
    const st = procStat(pid);
    if (!st) return;
    this.pids.set(pid, st.starttime);
    const cg = cgroupPath(pid);
    if (cg && cg !== '/' && cg !== cgroupPath(process.pid)) this.cgroups.add(cg);
  }

  /** @param {() => void | Promise<void>} fn */
  onCleanup(fn) {
    this.cleanups.push(fn);
  }

  /**
   * Force-delete every container of the case, then check that nothing is
   * left: no state, no process, no cgroup, no mount; remove the temp dir.
   * @returns {Promise<string[]>} the problems found
   */
  async cleanup() {
    /** @type {string[]} */
    const problems = [];
    for (const id of this.ids) {
      await this.rt.delete(id, { force: true, timeoutMs: 10_000 });
      const st = await this.rt.state(id, { timeoutMs: 10_000 });
      if (st.status === 0) problems.push(`container ${id} still exists after delete --force`);
    }
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
    // processes: the ones we saw, and any process whose root is in our dir
    const deadline = Date.now() + 3000;
    /** @type {number[]} */
    let living = [];
    for (;;) {
      living = [...this.pids].filter(([pid, start]) => alive(pid, start)).map(([pid]) => pid);
      for (const pid of rootedUnder(this.dir)) if (!living.includes(pid)) living.push(pid);
      if (living.length === 0 || Date.now() > deadline) break;
      await sleep(50);
    }
    for (const pid of living) {
      problems.push(`process ${pid} (${comm(pid)}) still alive after delete --force`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    // cgroups
    for (const cg of this.cgroups) {
      const dir = path.join('/sys/fs/cgroup', cg);
      let gone = false;
      for (let i = 0; i < 20 && !gone; i++) {
        gone = !fs.existsSync(dir);
        if (!gone) await sleep(50);
      }
      if (!gone) {
        problems.push(`cgroup ${cg} still exists after delete --force`);
        try {
          fs.rmdirSync(dir);
        } catch {
          // leave it visible
        }
      }
    }
    // mounts in our namespace under the case dir
    const mounts = mountsUnder(this.dir);
    if (mounts.length > 0) {
      problems.push(`mounts left under the case dir: ${mounts.join(', ')}`);
      for (const m of mounts.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
    }
    if (mountsUnder(this.dir).length === 0) {
      try {
        fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
      } catch (e) {
        problems.push(`could not remove ${this.dir}: ${e}`);
      }
    }
    return problems;
  }
}

export class Container {
  /**
   * @param {Kit} k
   * @param {string} id
   * @param {string} bundle
   * @param {import('./runtime.mjs').CmdResult} createRes
   */
  constructor(k, id, bundle, createRes) {
    this.k = k;
    this.id = id;
    this.bundle = bundle;
    this.createRes = createRes;
    /** @type {number | null} */
    this.pid = null;
  }

  /** What the container process wrote to its stdout so far. */
  output() {
    return readText(this.createRes.stdoutPath);
  }

  /** What the container process (and create) wrote to stderr so far. */
  errors() {
    return readText(this.createRes.stderrPath);
  }

  start() {
    return this.k.rt.start(this.id);
  }

  async state() {
    const s = await this.k.rt.state(this.id);
    if (s.json && typeof s.json.pid === 'number' && s.json.pid > 0 && s.json.status !== 'stopped') {
      this.pid = s.json.pid;
      this.k.trackPid(s.json.pid);
    }
    return s;
  }

  /**
   * @param {string} [signal]
   * @param {{ all?: boolean }} [o]
   */
  kill(signal = 'KILL', o = {}) {
    return this.k.rt.kill(this.id, signal, o);
  }

  /** @param {{ force?: boolean }} [o] */
  delete(o = {}) {
    return this.k.rt.delete(this.id, o);
  }

  /**
   * @param {string[]} args
   * @param {{ extra?: string[] }} [o]
   */
  exec(args, o = {}) {
    return this.k.rt.exec(this.id, args, o);
  }

  /**
   * Poll `state` until `status` (default "stopped"); returns the last state.
   * @param {string} [status]
   * @param {number} [timeoutMs]
   */
  async waitStatus(status = 'stopped', timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.state();
      if ((s.json && s.json.status === status) || Date.now() > deadline || s.status !== 0) return s;
      await sleep(40);
    }
  }

  /**
   * Poll until the container's stdout contains `text`.
   * @param {string} text
   * @param {number} [timeoutMs]
   */
  async waitOutput(text, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.output().includes(text)) return true;
      await sleep(25);
    }
    return this.output().includes(text);
  }
}

/** @param {string} p */
export function readText(p) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** @param {number} pid */
function comm(pid) {
  return readText(`/proc/${pid}/comm`).trim() || '?';
}

/**
 * Pids of processes whose root directory is a mount of something under
 * `dir` (container processes of this case, seen through their mountinfo).
 * @param {string} dir
 * @returns {number[]}
 */
export function rootedUnder(dir) {
  /** @type {number[]} */
  const out = [];
  let entries = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  const { dev, rel } = fsLocation(dir);
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const text = readText(`/proc/${pid}/mountinfo`);
    if (!text || !text.includes(rel)) continue;
    const rootMount = parseMountinfo(text).find((m) => m.mountPoint === '/');
    if (rootMount && rootMount.dev === dev && (rootMount.root === rel || rootMount.root.startsWith(`${rel}/`)) && alive(pid)) out.push(pid);
  }
  return out;
}

export { t };
