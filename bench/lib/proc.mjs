// Running and timing whole processes: the only place the benchmark spawns.
//
// Timing: process.hrtime.bigint() around child_process.spawnSync, stdout to
// /dev/null and stderr to a file (never a pipe: a container process inherits
// the runtime's stdio and would hold a pipe open until it exits, so create
// would seem to last as long as the container). The spawn itself costs about
// 1 ms here; the "spawn /bin/true" row measures it on the same run.
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';

/** A command that failed where it had to succeed (or the reverse): carries a one-line reason. */
export class CommandFailed extends Error {
  /**
   * @param {string} reason
   * @param {boolean} notImplemented  the runtime said "not implemented"
   */
  constructor(reason, notImplemented = false) {
    super(reason);
    this.notImplemented = notImplemented;
  }
}

/**
 * @typedef {{ ms: number, status: number | null, signal: string | null, stderr: string }} Timed
 * @typedef {{ argv0: string, args: string[], env?: NodeJS.ProcessEnv, cwd?: string }} Cmd
 */

export class Runner {
  /** @param {string} errPath  a scratch file that receives each command's stderr */
  constructor(errPath) {
    this.errPath = errPath;
    // O_APPEND: after a truncate, the child writes from offset 0 again
    this.errFd = openSync(errPath, 'a+');
  }

  close() {
    closeSync(this.errFd);
  }

  /**
   * Runs one command to its end and times it (wall clock, from before the
   * spawn to after the reap).
   * @param {Cmd} cmd
   * @returns {Timed}
   */
  time(cmd) {
    ftruncateSync(this.errFd, 0);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd.argv0, cmd.args, {
      stdio: ['ignore', 'ignore', this.errFd],
      env: cmd.env ?? process.env,
      cwd: cmd.cwd,
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error) throw new CommandFailed(`cannot run ${cmd.argv0}: ${r.error.message}`);
    return { ms, status: r.status, signal: r.signal, stderr: readFileSync(this.errPath, 'utf8') };
  }

  /**
   * Runs one command that must exit 0; returns its time.
   * @param {Cmd} cmd
   * @param {string} what  named in the failure reason
   */
  must(cmd, what) {
    const r = this.time(cmd);
    if (r.status !== 0) throw failure(what, r);
    return r;
  }

  /**
   * A command whose stdout is wanted (untimed, never for create/run: see above).
   * @param {Cmd} cmd
   */
  output(cmd) {
    const r = spawnSync(cmd.argv0, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'], env: cmd.env ?? process.env, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
  }

  /**
   * Starts every command at once and waits for all; returns the wall time
   * from before the launch to after the last exit, and each command's status
   * and stderr. The commands are started by one `sh` (a fork of dash costs a
   * fraction of a millisecond, a spawn from Node several: spawning them from
   * here would delay the last one by ~20 ms for 8 commands); the commands
   * share one environment.
   * @param {Cmd[]} cmds
   * @param {NodeJS.ProcessEnv} [env]
   */
  parallel(cmds, env) {
    const dir = `${this.errPath}.par`;
    mkdirSync(dir, { recursive: true });
    const script = [
      ...cmds.map((c, i) => `{ ${[c.argv0, ...c.args].map(shQuote).join(' ')} 2>${dir}/e${i}; echo $? >${dir}/s${i}; } &`),
      'wait',
    ].join('\n');
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/bin/sh', ['-c', script], { stdio: ['ignore', 'ignore', this.errFd], env: env ?? process.env });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error) throw new CommandFailed(`cannot run /bin/sh: ${r.error.message}`);
    const results = cmds.map((_, i) => {
      const read = (/** @type {string} */ f) => {
        try {
          return readFileSync(`${dir}/${f}${i}`, 'utf8');
        } catch {
          return '';
        }
      };
      const st = read('s').trim();
      return { status: st === '' ? null : Number(st), signal: null, stderr: read('e') };
    });
    rmSync(dir, { recursive: true, force: true });
    return { ms, results };
  }
}

/** @param {string} s */
function shQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A one-line reason from a failed command: its last error line, with runc's
 * and tsrun's `time=... level=error msg="..."` reduced to the message.
 * @param {string} what
 * @param {{ status: number | null, signal: string | null, stderr: string }} r
 */
export function failure(what, r) {
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const errorLine = [...lines].reverse().find((l) => /level=(error|fatal)|error|Error|not implemented/i.test(l)) ?? lines.at(-1) ?? '';
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(errorLine)?.[1] ?? errorLine;
  const exit = r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  const notImplemented = /not implemented/i.test(r.stderr);
  return new CommandFailed(`${what}: ${exit}${msg ? `: ${msg.slice(0, 200)}` : ''}`, notImplemented);
}

/**
 * Sleeps without yielding to the event loop (between two synchronous spawns).
 * @param {number} ms
 */
export function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Yields to the event loop, so that a SIGINT handler can run between samples. */
export function tick() {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Whether a process has exited: gone, or a zombie not yet reaped.
 * @param {number} pid
 */
export function exited(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/**
 * Waits (polling /proc, untimed by the caller) until pid has exited.
 * @param {number} pid
 * @param {number} timeoutMs
 */
export function waitExit(pid, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (!exited(pid)) {
    if (Date.now() > end) return false;
    sleepSync(0.5);
  }
  return true;
}
