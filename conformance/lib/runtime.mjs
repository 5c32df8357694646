// @ts-check
// The runtime driver: runs the runtime's command line only, always with its
// own `--root`, with stdout/stderr captured in files (a container created by
// `create` inherits them, so a pipe would never close) and a timeout that
// kills the runtime's whole process group, so a hung runtime fails the case
// instead of hanging the suite.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runtimeCommand } from './env.mjs';

export const DEFAULT_TIMEOUT_MS = Number(process.env.CONFORMANCE_CMD_TIMEOUT_MS || 15_000);

/**
 * @typedef {object} CmdResult
 * @property {string[]} argv        the full command line
 * @property {number | null} status exit status (null when killed by a signal)
 * @property {string | null} signal
 * @property {string} stdout
 * @property {string} stderr
 * @property {boolean} timedOut
 * @property {string} stdoutPath    file that received stdout (and a created container's stdout)
 * @property {string} stderrPath
 * @property {number} ms
 * @property {string | null} spawnError
 */

/**
 * @typedef {object} CmdOptions
 * @property {number} [timeoutMs]
 * @property {string} [cwd]
 * @property {string | null} [stdin]    text written to stdin (default: /dev/null)
 * @property {number[]} [extraFds]      fds passed as 3, 4, ... (for --preserve-fds)
 * @property {string} [label]           file name stem of the captured output
 * @property {number} [umask]           umask the runtime is started with
 */

export class Runtime {
  /**
   * @param {string} bin   absolute path of the runtime
   * @param {string} root  the `--root` directory of this case
   * @param {string} ioDir where captured output goes
   */
  constructor(bin, root, ioDir) {
    this.bin = bin;
    this.root = root;
    this.ioDir = ioDir;
    this.seq = 0;
    /** @type {CmdResult[]} */
    this.history = [];
    fs.mkdirSync(ioDir, { recursive: true });
  }

  /**
   * Run `runtime --root R ...args`.
   * @param {string[]} args
   * @param {CmdOptions} [opts]
   * @returns {Promise<CmdResult>}
   */
  cmd(args, opts = {}) {
    const [file, ...pre] = runtimeCommand(this.bin);
    const argv = [/** @type {string} */ (file), ...pre, '--root', this.root, ...args];
    const stem = `${String(++this.seq).padStart(3, '0')}-${opts.label || args[0] || 'cmd'}`;
    const stdoutPath = path.join(this.ioDir, `${stem}.out`);
    const stderrPath = path.join(this.ioDir, `${stem}.err`);
    const outFd = fs.openSync(stdoutPath, 'a');
    const errFd = fs.openSync(stderrPath, 'a');
    /** @type {any[]} */
    const stdio = [opts.stdin == null ? 'ignore' : 'pipe', outFd, errFd, ...(opts.extraFds || [])];
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = Date.now();
    return new Promise((resolve) => {
      let timedOut = false;
      /** @type {string | null} */
      let spawnError = null;
      // the child inherits the umask at spawn time; restore ours right after
      const savedMask = opts.umask != null ? process.umask(opts.umask) : null;
      /** @type {import('node:child_process').ChildProcess} */
      let child;
      try {
        child = spawn(argv[0], argv.slice(1), {
          cwd: opts.cwd,
          stdio,
          detached: true, // own process group: the timeout kills all of it
          env: process.env,
        });
      } finally {
        if (savedMask != null) process.umask(savedMask);
      }
      fs.closeSync(outFd);
      fs.closeSync(errFd);
      if (opts.stdin != null && child.stdin) {
        child.stdin.on('error', () => {});
        child.stdin.end(opts.stdin);
      }
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }, timeoutMs);
      const finish = (/** @type {number | null} */ status, /** @type {string | null} */ signal) => {
        clearTimeout(timer);
        /** @type {CmdResult} */
        const res = {
          argv,
          status,
          signal,
          stdout: readText(stdoutPath),
          stderr: readText(stderrPath),
          timedOut,
          stdoutPath,
          stderrPath,
          ms: Date.now() - started,
          spawnError,
        };
        this.history.push(res);
        resolve(res);
      };
      child.on('error', (err) => {
        spawnError = String(err);
        finish(null, null);
      });
      child.on('exit', (status, signal) => finish(status, signal));
    });
  }

  /**
   * @param {string} id
   * @param {string} bundle
   * @param {{ pidFile?: string, consoleSocket?: string, preserveFds?: number, extra?: string[] } & CmdOptions} [o]
   */
  create(id, bundle, o = {}) {
    const args = ['create', '--bundle', bundle];
    if (o.pidFile) args.push('--pid-file', o.pidFile);
    if (o.consoleSocket) args.push('--console-socket', o.consoleSocket);
    if (o.preserveFds) args.push('--preserve-fds', String(o.preserveFds));
    args.push(...(o.extra || []), id);
    return this.cmd(args, { label: `create-${id}`, ...o });
  }

  /** @param {string} id @param {CmdOptions} [o] */
  start(id, o = {}) {
    return this.cmd(['start', id], { label: `start-${id}`, ...o });
  }

  /** @param {string} id @param {CmdOptions} [o] */
  async state(id, o = {}) {
    const res = await this.cmd(['state', id], { label: `state-${id}`, ...o });
    /** @type {any} */
    let json = null;
    /** @type {string | null} */
    let parseError = null;
    if (res.status === 0) {
      try {
        json = JSON.parse(res.stdout);
      } catch (e) {
        parseError = String(e);
      }
    }
    return { ...res, json, parseError };
  }

  /**
   * @param {string} id
   * @param {string} [signal]
   * @param {{ all?: boolean } & CmdOptions} [o]
   */
  kill(id, signal = 'KILL', o = {}) {
    const args = ['kill'];
    if (o.all) args.push('--all');
    args.push(id, signal);
    return this.cmd(args, { label: `kill-${id}`, ...o });
  }

  /** @param {string} id @param {{ force?: boolean } & CmdOptions} [o] */
  delete(id, o = {}) {
    const args = ['delete'];
    if (o.force) args.push('--force');
    args.push(id);
    return this.cmd(args, { label: `delete-${id}`, ...o });
  }

  /**
   * `run` in the foreground (or `--detach`): create + start (+ wait).
   * @param {string} id
   * @param {string} bundle
   * @param {{ detach?: boolean, pidFile?: string, consoleSocket?: string, extra?: string[] } & CmdOptions} [o]
   */
  run(id, bundle, o = {}) {
    const args = ['run', '--bundle', bundle];
    if (o.detach) args.push('--detach');
    if (o.pidFile) args.push('--pid-file', o.pidFile);
    if (o.consoleSocket) args.push('--console-socket', o.consoleSocket);
    args.push(...(o.extra || []), id);
    return this.cmd(args, { label: `run-${id}`, ...o });
  }

  /**
   * `exec` a process in a running container (runc command line).
   * @param {string} id
   * @param {string[]} processArgs
   * @param {{ extra?: string[] } & CmdOptions} [o]
   */
  exec(id, processArgs, o = {}) {
    return this.cmd(['exec', ...(o.extra || []), id, ...processArgs], { label: `exec-${id}`, ...o });
  }
}

/** @param {string} p */
function readText(p) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/**
 * A one-line description of a command result, for assertion messages.
 * @param {CmdResult} r
 */
export function describe(r) {
  const how = r.spawnError
    ? `could not be started: ${r.spawnError}`
    : r.timedOut
      ? `timed out after ${r.ms} ms (killed)`
      : r.signal
        ? `was killed by ${r.signal}`
        : `exited ${r.status}`;
  const lines = r.stderr.trim().split('\n').filter((l) => l.trim());
  const errorLines = lines.filter((l) => /error/i.test(l) && !/level=warn/i.test(l));
  const picked = errorLines.length > 0 ? errorLines.slice(-2) : lines.length > 3 ? [...lines.slice(0, 2), '...', ...lines.slice(-1)] : lines;
  const err = picked.join(' | ');
  const i = r.argv.indexOf('--root');
  const shown = (i >= 0 ? r.argv.slice(i + 2) : r.argv).map((a) => shorten(a));
  return `\`${shown.join(' ')}\` ${how}${err ? `; stderr: ${shorten(err).slice(0, 600)}` : ''}`;
}

/** @param {string} s */
function shorten(s) {
  const base = process.env.CONFORMANCE_TMP;
  return base ? s.split(base).join('$TMP') : s;
}
