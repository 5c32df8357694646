#!/usr/bin/env node
// npm run test:callers -- real callers (containerd 1.6 and Podman 4.3 with conmon) driving the
// runtime on a locally built busybox image. See README.md beside this file.
//
//   RUNTIME=runc npm run test:callers     the same scenarios against another runtime
//   CALLERS_ONLY=regex                    only the scenarios whose "client: name" matches
//   CALLERS_CLIENTS=podman                only these clients (comma-separated; default both)
//   CALLERS_ARGV_OUT=file.md              also write the argv table there
//   CALLERS_KEEP=1                        keep the temp dir (logs, bundles, argv logs)
//
// The test re-executes itself in a private mount + PID namespace (unshare): there it mounts the
// pure cgroup v2 hierarchy over /sys/fs/cgroup (this machine is hybrid: the v1 hierarchies are
// the host's and are never touched) and private tmpfs over /run, /dev/shm and
// /var/lib/containers, so that nothing the daemons, shims or conmon write there reaches the host;
// when the test ends its PID namespace ends, so no daemon, shim, conmon or container outlives it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerdScenarios } from './containerd.mjs';
import { buildBusyboxImage } from './image.mjs';
import { KNOWN_GAPS } from './known-gaps.mjs';
import { knownGaps, readWrapperLog, results, subdirsDeepestFirst, summarise, writeWrapper } from './lib.mjs';
import { CGROUP_PARENT, podmanScenarios } from './podman.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const CONTAINERD_NS = 'tsrun-callers';

function which(bin) {
  if (bin.includes('/')) return existsSync(bin) ? resolve(bin) : null;
  for (const d of [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    const p = join(d, bin);
    try { if (statSync(p).isFile()) return p; } catch { /* next */ }
  }
  return null;
}

/** The runtime under test: RUNTIME unset or "tsrun" is this repo's tsrun; else a name or path. */
function runtimeUnderTest() {
  const want = process.env.RUNTIME ?? 'tsrun';
  if (want === 'tsrun') {
    return { name: 'tsrun', real: [process.execPath, join(repo, 'bin/tsrun.js')], defaultRoot: '/run/tsrun' };
  }
  const path = which(want);
  if (!path) { console.error(`test:callers: RUNTIME=${want}: not found`); process.exit(1); }
  const name = basename(path).replace(/\.(js|mjs|sh)$/, '');
  const defaultRoot = { runc: '/run/runc', crun: '/run/crun', tsrun: '/run/tsrun' }[name];
  const real = path.endsWith('.js') ? [process.execPath, path] : [path];
  return { name, real, defaultRoot };
}

const fsType = (p) => spawnSync('stat', ['-f', '-c', '%T', p], { encoding: 'utf8' }).stdout.trim();

// --------------------------------------------------------------------------------------------
// Outer: set up the namespace, run the inner test in it, clean up what outlives the namespace.
async function outer() {
  if (process.getuid() !== 0) {
    console.error('test:callers needs root (containerd, podman and the runtime run containers)');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const runtime = runtimeUnderTest();
  if (runtime.name === 'tsrun' && !existsSync(join(repo, 'dist/src/cli/main.js'))) {
    console.error('test:callers: tsrun is not built: run `npm run build` (or `npm install`) first');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const T = mkdtempSync(join(tmpdir(), 'tsrun-callers-'));
  // /var/lib/containers: podman writes its blob-info cache there whatever --root says; the inner
  // namespace hides it under a tmpfs, which needs the mount point.
  const varLib = '/var/lib/containers';
  const madeVarLib = !existsSync(varLib);
  if (madeVarLib) mkdirSync(varLib, { recursive: true, mode: 0o700 });

  const setup = [
    'set -e',
    'if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then umount -l /sys/fs/cgroup; mount -t cgroup2 none /sys/fs/cgroup; fi',
    'mount -t tmpfs -o mode=755 tmpfs /run',
    'mount -t tmpfs -o mode=1777 tmpfs /dev/shm',
    `mount -t tmpfs -o mode=700 tmpfs ${varLib}`,
    // sh stays PID 1 of the namespace and reaps the orphans (shims, conmon) while it waits.
    `"$0" "$1" & wait $!`,
  ].join('\n');
  const cg2 = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' '))
    .find((f) => f[f.indexOf('-') + 1] === 'cgroup2')?.[4];
  // podman (cgroupfs) probes with a cgroup /podman_probe that it leaves: ours if it was not there.
  const cgroupsToRemove = [CONTAINERD_NS, CGROUP_PARENT];
  if (cg2 && !existsSync(join(cg2, 'podman_probe'))) cgroupsToRemove.push('podman_probe');
  const t0 = Date.now();
  const child = spawn('unshare', ['--mount', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private',
    'sh', '-c', setup, process.execPath, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, TSRUN_CALLERS_INNER: '1', TSRUN_CALLERS_DIR: T, TSRUN_CALLERS_T0: String(t0) },
  });
  const forward = (sig) => { try { process.kill(child.pid, sig); } catch { /* gone */ } };
  process.on('SIGINT', () => forward('SIGTERM'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  const code = await new Promise((res) => child.on('close', (c, s) => res(c ?? (s ? 128 : 1))));

  // The namespace is gone, and every process in it: remove the cgroups the callers made.
  const stuck = [];
  for (const top of cgroupsToRemove) {
    if (!cg2 || !existsSync(join(cg2, top))) continue;
    for (const d of subdirsDeepestFirst(join(cg2, top))) {
      try { rmdirSync(d); } catch (e) { stuck.push(`${d} (${e.code})`); }
    }
  }
  if (stuck.length) console.log(`warning: cgroups that could not be removed: ${stuck.join(', ')}`);
  if (madeVarLib) { try { rmdirSync(varLib); } catch { /* not empty: not ours */ } }
  if (process.env.CALLERS_KEEP === '1') console.log(`kept ${T}`);
  else rmSync(T, { recursive: true, force: true });
  process.exit(code);
}

// --------------------------------------------------------------------------------------------
// Inner: PID 1's child in the private namespace.
async function inner() {
  const T = process.env.TSRUN_CALLERS_DIR;
  const runtime = runtimeUnderTest();
  const only = process.env.CALLERS_ONLY ? new RegExp(process.env.CALLERS_ONLY) : undefined;
  if (runtime.name === 'tsrun') for (const [k, v] of Object.entries(KNOWN_GAPS)) knownGaps.set(k, v);
  const clients = (process.env.CALLERS_CLIENTS ?? 'containerd,podman').split(',');
  const controllers = new Set(readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim().split(/\s+/).filter(Boolean));
  console.log(`test:callers: runtime ${runtime.name} (${runtime.real.join(' ')})`);
  console.log(`test:callers: cgroup v2 controllers here: ${[...controllers].join(' ') || '(none)'}; temp dir ${T}`);
  for (const [b, args] of [['containerd', ['--version']], ['podman', ['--version']], ['conmon', ['--version']]]) {
    const r = spawnSync(b, args, { encoding: 'utf8' });
    console.log(`test:callers: ${r.error ? `${b}: not installed` : r.stdout.split('\n')[0]}`);
  }

  const image = buildBusyboxImage(join(T, 'image'));
  const logs = {};
  const daemons = [];
  const ctx = {
    T, image, runtime, only, controllers, daemons, which,
    argvLog: (client) => logs[client],
    wrapper(client) {
      const bin = join(T, client, 'bin');
      mkdirSync(bin, { recursive: true });
      logs[client] = join(T, client, 'argv.log');
      const path = join(bin, runtime.name);
      writeWrapper(path, runtime.real, logs[client]);
      return path;
    },
    async stop(child) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    },
  };
  const stopAll = () => { for (const d of daemons) if (d.exitCode === null) d.kill('SIGKILL'); };
  process.on('SIGTERM', () => { stopAll(); process.exit(143); });

  try {
    if (clients.includes('containerd')) await containerdScenarios(ctx);
    if (clients.includes('podman')) await podmanScenarios(ctx);
  } finally {
    stopAll();
  }

  // The argv each client sent.
  let md = `# What each client sent to ${runtime.name}\n`;
  for (const [client, log] of Object.entries(logs)) {
    const rows = summarise(readWrapperLog(log));
    md += `\n## ${client}\n\n| invocation (values generalised) | calls | exit codes | ms (median) |\n| --- | --- | --- | --- |\n`;
    for (const r of rows) {
      const ms = r.ms.sort((a, b) => a - b)[Math.floor(r.ms.length / 2)] ?? '';
      const rcs = [...r.rcs].map(([rc, n]) => `${rc ?? '?'}${n > 1 ? ` x${n}` : ''}`).join(', ');
      md += `| \`${r.text}\` | ${r.count} | ${rcs} | ${ms} |\n`;
    }
    const failed = rows.filter((r) => r.errors.size);
    if (failed.length) {
      md += `\nErrors the failed calls wrote to --log:\n\n`;
      for (const r of failed) for (const e of r.errors) md += `- \`${r.text}\`: ${e}\n`;
    }
  }
  console.log(`\n${md}`);
  writeFileSync(join(T, 'argv.md'), md);
  if (process.env.CALLERS_ARGV_OUT) writeFileSync(process.env.CALLERS_ARGV_OUT, md);

  const n = (s) => results.filter((r) => r.status === s).length;
  console.log(`\n| client | scenario | ${runtime.name} | s |\n| --- | --- | --- | --- |`);
  for (const r of results) console.log(`| ${r.client} | ${r.name} | ${r.status} | ${(r.ms / 1000).toFixed(1)} |`);
  const total = (Date.now() - Number(process.env.TSRUN_CALLERS_T0)) / 1000;
  console.log(`\ntest:callers with ${runtime.name}: ${total.toFixed(0)} s`);
  // A scenario skipped because a client is not installed is a failure in CI, where .ci/run installs them.
  const skippedAsFailed = process.env.CI === 'true' ? n('skip') : 0;
  const failed = n('fail') + skippedAsFailed;
  const skipped = n('skip') - skippedAsFailed + n('gap');
  if (n('gap')) console.log(`known gaps of ${runtime.name} (test/callers/known-gaps.mjs): ${n('gap')}`);
  if (!results.length) console.log('no scenario matched CALLERS_ONLY / CALLERS_CLIENTS');
  console.log(`${n('pass')} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed || !results.length ? 1 : 0);
}

if (process.env.TSRUN_CALLERS_INNER === '1') await inner();
else await outer();
