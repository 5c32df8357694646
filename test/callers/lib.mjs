// Small helpers for the caller tests: run a command with a time limit, assertions that say what
// was run and what came back, the scenario registry, the argv-logging runtime wrapper.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const tail = (s, n = 1500) => (s.length > n ? `...${s.slice(-n)}` : s);

/**
 * Run `cmd args` (no shell), collect stdout/stderr, kill its whole process group after
 * `timeout` ms. Never throws for a non-zero exit: the result says what happened.
 */
export function run(cmd, args, { timeout = 60_000, input, env, cwd } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { env: env ?? process.env, cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {});
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ cmd, args, code: 127, signal: null, stdout, stderr: `${stderr}${e.message}`, ms: Date.now() - t0, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ cmd, args, code: code ?? 128, signal, stdout, stderr, ms: Date.now() - t0, timedOut });
    });
  });
}

/** A shell-like rendering of a command for messages. */
export const show = (cmd, args) => [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');

export function describe(r) {
  return `$ ${show(r.cmd, r.args)}\n  -> exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' (TIMED OUT, killed)' : ''} in ${r.ms} ms` +
    (r.stdout.trim() ? `\n  stdout: ${tail(r.stdout.trim()).replace(/\n/g, '\n          ')}` : '') +
    (r.stderr.trim() ? `\n  stderr: ${tail(r.stderr.trim()).replace(/\n/g, '\n          ')}` : '');
}

export class Skip extends Error {}

export class Failure extends Error {}

/** Throw a Failure naming `what` with the command result(s) attached. */
export function fail(what, ...results) {
  throw new Failure([what, ...results.map(describe)].join('\n'));
}

/** Assert a command's exit code and, optionally, stdout/stderr patterns. Returns r. */
export function expectRun(r, { code = 0, stdout, stderr, notStderr } = {}) {
  const codes = Array.isArray(code) ? code : [code];
  const bad = [];
  if (code !== 'nonzero' && !codes.includes(r.code)) bad.push(`exit ${r.code}, expected ${codes.join(' or ')}`);
  if (code === 'nonzero' && r.code === 0) bad.push('exit 0, expected a failure');
  for (const [name, pat, text] of [['stdout', stdout, r.stdout], ['stderr', stderr, r.stderr]]) {
    for (const p of pat === undefined ? [] : Array.isArray(pat) ? pat : [pat]) {
      if (!(typeof p === 'string' ? text.includes(p) : p.test(text))) bad.push(`${name} does not match ${p}`);
    }
  }
  if (notStderr && notStderr.test(r.stderr)) bad.push(`stderr matches ${notStderr}`);
  if (bad.length) fail(bad.join('; '), r);
  return r;
}

export function check(cond, what, ...results) {
  if (!cond) fail(what, ...results);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or `ms` pass; returns the last value. */
export async function until(fn, ms = 10_000, step = 100) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(step);
  }
}

/** Scenario registry: results in order, one line each as they finish. */
export const results = [];

export async function scenario(client, name, fn, { only, always = false } = {}) {
  const full = `${client}: ${name}`;
  if (only && !always && !only.test(full)) return;
  const t0 = Date.now();
  let status = 'pass';
  let detail = '';
  try {
    await fn();
  } catch (e) {
    if (e instanceof Skip) { status = 'skip'; detail = e.message; }
    else { status = 'fail'; detail = e instanceof Failure ? e.message : (e?.stack ?? String(e)); }
  }
  const gap = knownGaps.get(full);
  if (gap && status === 'fail') status = 'gap';
  const ms = Date.now() - t0;
  results.push({ client, name, status, detail, ms, gap });
  const mark = { pass: 'ok  ', fail: 'FAIL', skip: 'skip', gap: 'GAP ' }[status];
  const why = status === 'skip' ? ` -- ${detail}` : status === 'gap' ? ` -- known gap: ${gap}` : '';
  console.log(`${mark} ${full} (${(ms / 1000).toFixed(1)} s)${why}`);
  if (status === 'pass' && gap) console.log(`     now passes: remove it from test/callers/known-gaps.mjs`);
  if (status === 'fail' || status === 'gap') console.log(`     ${detail.replace(/\n/g, '\n     ')}`);
}

/** "client: scenario" -> why it fails today; such a failure is reported, not counted as failed. */
export const knownGaps = new Map();

/**
 * The runtime wrapper that the shim / conmon execute: logs every invocation (argv, exit code,
 * and the tail of the --log file when it failed) to `log`, one record per line with fields
 * separated by \x1f, then runs the real runtime (not exec: the exit code is logged too).
 */
export function writeWrapper(path, real, log) {
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `#!/bin/sh
# tsrun test/callers: logs the argv a caller sent to the runtime, then runs it.
log=${q(log)}
{ printf 'S\\037%s\\037%s' "$$" "$(date +%s.%N)"; for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\n'; } >>"$log"
logf=; prev=
for a in "$@"; do
  case "$prev" in --log) logf=$a ;; esac
  case "$a" in --log=*) logf=\${a#--log=} ;; esac
  prev=$a
done
size0=0
[ -n "$logf" ] && [ -f "$logf" ] && size0=$(stat -c %s "$logf")
${real.map(q).join(' ')} "$@"
rc=$?
printf 'E\\037%s\\037%s\\037%s\\n' "$$" "$(date +%s.%N)" "$rc" >>"$log"
if [ "$rc" != 0 ] && [ -n "$logf" ] && [ -f "$logf" ]; then
  # what this call added to the --log file
  printf 'L\\037%s\\037%s\\n' "$$" "$(tail -c +$((size0 + 1)) "$logf" | tail -c 1500 | tr '\\n' ' ')" >>"$log"
fi
exit "$rc"
`;
  writeFileSync(path, script);
  chmodSync(path, 0o755);
}

/** Parse a wrapper log into invocations: { pid, argv, rc, ms, logTail }. */
export function readWrapperLog(log) {
  if (!existsSync(log)) return [];
  const byPid = new Map();
  const out = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line) continue;
    const f = line.split('\x1f');
    if (f[0] === 'S') {
      const inv = { pid: f[1], start: Number(f[2]), argv: f.slice(3), rc: null, ms: null, logTail: '' };
      byPid.set(f[1], inv);
      out.push(inv);
    } else if (f[0] === 'E' && byPid.has(f[1])) {
      const inv = byPid.get(f[1]);
      inv.rc = Number(f[3]);
      inv.ms = Math.round((Number(f[2]) - inv.start) * 1000);
    } else if (f[0] === 'L' && byPid.has(f[1])) {
      byPid.get(f[1]).logTail = f[2];
    }
  }
  return out;
}

// Flags whose value is kept verbatim in a signature (the rest become <placeholders>).
const KEEP_VALUE = new Set(['--log-format', '--format', '-f', '--signal', '-s']);
// runc global flags that take a value.
const GLOBAL_VALUE = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);
// Per-command flags that take a value (runc 1.1).
const CMD_VALUE = new Set(['--bundle', '-b', '--pid-file', '--console-socket', '--preserve-fds', '--process', '-p',
  '--format', '-f', '--cwd', '--env', '-e', '--user', '-u', '--additional-gids', '-g', '--cap', '-c',
  '--apparmor', '--process-label', '--cgroup', '--signal', '-s', '--interval', '--resources', '-r',
  '--blkio-weight', '--cpu-period', '--cpu-quota', '--cpu-share', '--cpu-rt-period', '--cpu-rt-runtime',
  '--cpuset-cpus', '--cpuset-mems', '--memory', '--memory-reservation', '--memory-swap', '--pids-limit',
  '--l3-cache-schema', '--mem-bw-schema', '--image-path', '--work-path', '--parent-path', '--page-server',
  '--manage-cgroups-mode', '--empty-ns', '--status-fd', '--lazy-pages']);

function placeholder(flag, value) {
  if (KEEP_VALUE.has(flag)) return value;
  if (flag === '--process' || flag === '-p') return '<process.json>';
  if (/pid-file/.test(flag)) return '<file>';
  if (flag === '--log') return '<file>';
  if (flag === '--console-socket') return '<socket>';
  if (flag === '--bundle' || flag === '-b' || flag === '--root') return '<dir>';
  return '<value>';
}

/**
 * One signature per invocation: the runtime's global flags, subcommand and flags with values
 * generalised (`--bundle <dir>`), the container id as <id>; a kill's signal kept.
 */
export function signature(argv) {
  const out = [];
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    if (inline !== undefined) out.push(`${flag}=${placeholder(flag, inline)}`);
    else if (GLOBAL_VALUE.has(flag)) { out.push(flag, placeholder(flag, argv[i + 1])); i++; }
    else out.push(flag);
  }
  const sub = argv[i++] ?? '<none>';
  out.push(sub);
  let positional = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { out.push('--', '<args...>'); break; }
    if (a.startsWith('-') && positional === 0) {
      const [flag, inline] = a.split(/=(.*)/s);
      if (inline !== undefined) out.push(`${flag}=${placeholder(flag, inline)}`);
      else if (CMD_VALUE.has(flag)) { out.push(flag, placeholder(flag, argv[i + 1])); i++; }
      else out.push(flag);
    } else {
      positional++;
      if (positional === 1) out.push('<id>');
      else if (sub === 'kill' && positional === 2) out.push(a);
      else if (positional === 2) out.push('<args...>');
    }
  }
  return { sub, text: out.join(' ') };
}

/** The "msg" of each JSON error line in a --log tail (the raw tail when it is not JSON lines). */
function errorLines(tail) {
  const msgs = [];
  for (const m of tail.matchAll(/\{[^{}]*\}/g)) {
    try {
      const j = JSON.parse(m[0]);
      if (j.level === 'error' && j.msg) msgs.push(j.msg.replace(/[0-9a-f]{64}/g, '<id>').replace(/\/tmp\/tsrun-callers-\w+/g, '<tmp>'));
    } catch { /* not JSON */ }
  }
  return msgs.length ? msgs : [tail.trim().slice(-400)];
}

/** Summarise invocations: one row per distinct signature with count and exit codes. */
export function summarise(invocations) {
  const rows = new Map();
  for (const inv of invocations) {
    const s = signature(inv.argv);
    const row = rows.get(s.text) ?? { sub: s.sub, text: s.text, count: 0, rcs: new Map(), ms: [], example: inv.argv, errors: new Set() };
    row.count++;
    row.rcs.set(inv.rc, (row.rcs.get(inv.rc) ?? 0) + 1);
    if (inv.ms !== null) row.ms.push(inv.ms);
    if (inv.rc !== 0 && inv.logTail) for (const e of errorLines(inv.logTail)) row.errors.add(e);
    rows.set(s.text, row);
  }
  return [...rows.values()];
}

/** Directories under `dir` (recursive), deepest first. */
export function subdirsDeepestFirst(dir) {
  const out = [];
  const walk = (d) => {
    let entries;
    try { entries = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
    out.push(d);
  };
  walk(dir);
  return out;
}
