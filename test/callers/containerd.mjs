// containerd 1.6 (Debian) driving the runtime as the runc binary of io.containerd.runc.v2.
// The daemon gets a private config, root, state, socket and opt dir under the test's temp dir;
// /run (where the shim keeps its sockets and the runc root /run/containerd/runc/<ns>) is a
// private tmpfs of the test's mount namespace. Started and stopped here, by pid.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, expectRun, fail, run, scenario, Skip, until } from './lib.mjs';

const NS = 'tsrun-callers';

export async function containerdScenarios(ctx) {
  const { T, image, only } = ctx;
  const dir = join(T, 'containerd');
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(config, `version = 2
root = "${dir}/root"
state = "${dir}/state"
# The CRI plugin (Kubernetes) wants CNI and a sandbox image: not used by ctr.
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
`);
  const wrapper = ctx.wrapper('containerd');
  const runcRoot = `/run/containerd/runc/${NS}`;
  const ctr = (args, opts) => run('ctr', ['--address', sock, '--namespace', NS, ...args], opts);
  // ctr's default spec asks for cpu shares (cpu.weight); this machine's cgroup v2 has no cpu
  // controller, where runc fails on it as well: --cpu-shares 0 leaves linux.resources.cpu out.
  const cpuFlags = ctx.controllers.has('cpu') ? [] : ['--cpu-shares', '0'];
  const runFlags = ['--runc-binary', wrapper, ...cpuFlags];
  // ctr -t needs its own stdin to be a terminal: run it under script(1), which gives it a pty.
  const underPty = (cmd, opts) => run('script', ['-qec', cmd, '/dev/null'], opts);
  const ctrLine = `ctr --address ${sock} --namespace ${NS}`;

  let daemon;
  const missing = ['containerd', 'ctr', 'containerd-shim-runc-v2'].filter((b) => !ctx.which(b));
  const started = await (async () => {
    if (missing.length) return `not installed: ${missing.join(', ')} (apt-get install containerd)`;
    const logFd = openSync(join(dir, 'containerd.log'), 'a');
    daemon = spawn('containerd', ['--config', config], { stdio: ['ignore', logFd, logFd] });
    ctx.daemons.push(daemon);
    const up = await until(async () => (await ctr(['version'], { timeout: 5000 })).code === 0, 20_000, 200);
    return up ? null : `containerd did not come up: ${readFileSync(join(dir, 'containerd.log'), 'utf8').slice(-2000)}`;
  })();

  const need = () => { if (started) throw new Skip(started); };
  const taskInfo = async (id) => {
    const r = await ctr(['task', 'ls']);
    const line = r.stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
    if (!line) return null;
    const [, pid, status] = line.trim().split(/\s+/);
    return { pid: Number(pid), status };
  };
  const freezeOf = (pid) => {
    const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
    return { cg, frozen: readFileSync(join('/sys/fs/cgroup', cg, 'cgroup.freeze'), 'utf8').trim() };
  };

  await scenario('containerd', 'image import (OCI archive built from busybox-static)', async () => {
    need();
    expectRun(await ctr(['images', 'import', image.archive]), { stdout: image.name });
    expectRun(await ctr(['images', 'ls', '-q']), { stdout: image.name });
  }, { only, always: true });

  const imported = async () => { need(); if ((await ctr(['images', 'ls', '-q'])).stdout.includes(image.name)) return; throw new Skip('image not imported'); };

  await scenario('containerd', 'run: output and exit code', async () => {
    await imported();
    const r = await ctr(['run', '--rm', ...runFlags, image.name, 'c-run', 'sh', '-c', 'echo hello from $(cat /proc/1/comm); echo to-stderr >&2; exit 3']);
    expectRun(r, { code: 3, stdout: 'hello from sh', stderr: 'to-stderr' });
    const after = await ctr(['container', 'ls', '-q']);
    check(!after.stdout.includes('c-run'), '--rm left the container behind', after);
  }, { only });

  await scenario('containerd', 'run -t: terminal (console socket)', async () => {
    await imported();
    const r = await underPty(`${ctrLine} run --rm -t ${runFlags.join(' ')} ${image.name} c-tty sh -c 'tty; stty size; exit 2'`);
    expectRun(r, { code: 2, stdout: /\/dev\/pts\/\d+/ });
  }, { only });

  // One detached task serves exec, ps, pause/resume, metrics, kill and delete.
  const ID = 'c-det';
  let task;
  await scenario('containerd', 'run -d: detached task', async () => {
    await imported();
    const r = await ctr(['run', '-d', ...runFlags, image.name, ID, 'sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done']);
    expectRun(r);
    task = await taskInfo(ID);
    check(task?.status === 'RUNNING' && task.pid > 0, `task ls: ${JSON.stringify(task)}, expected RUNNING with a pid`, r);
  }, { only, always: true });
  const needTask = async () => { need(); if (!task) throw new Skip('no detached task (run -d failed)'); };

  await scenario('containerd', 'task exec: output and exit code', async () => {
    await needTask();
    const r = await ctr(['task', 'exec', '--exec-id', 'e1', ID, 'sh', '-c', 'echo exec-out; cat /proc/1/comm; exit 4']);
    expectRun(r, { code: 4, stdout: [/exec-out/, /^sh$/m] });
  }, { only });

  await scenario('containerd', 'task exec -t: terminal', async () => {
    await needTask();
    const r = await underPty(`${ctrLine} task exec -t --exec-id e2 ${ID} sh -c 'tty; exit 5'`);
    expectRun(r, { code: 5, stdout: /\/dev\/pts\/\d+/ });
  }, { only });

  await scenario('containerd', 'task ps', async () => {
    await needTask();
    const r = expectRun(await ctr(['task', 'ps', ID]));
    check(new RegExp(`^${task.pid}\\s`, 'm').test(r.stdout), `task ps does not list the init pid ${task.pid}`, r);
  }, { only });

  await scenario('containerd', 'task pause / resume', async () => {
    await needTask();
    expectRun(await ctr(['task', 'pause', ID]));
    const p = await taskInfo(ID);
    const f1 = freezeOf(task.pid);
    check(p?.status === 'PAUSED' && f1.frozen === '1', `after pause: task ls ${p?.status}, ${f1.cg}/cgroup.freeze=${f1.frozen}`);
    expectRun(await ctr(['task', 'resume', ID]));
    const q = await taskInfo(ID);
    const f2 = freezeOf(task.pid);
    check(q?.status === 'RUNNING' && f2.frozen === '0', `after resume: task ls ${q?.status}, cgroup.freeze=${f2.frozen}`);
    expectRun(await ctr(['task', 'exec', '--exec-id', 'e3', ID, 'true']));
  }, { only });

  await scenario('containerd', 'task metrics', async () => {
    await needTask();
    const r = expectRun(await ctr(['task', 'metrics', '--format', 'json', ID]));
    let m;
    try { m = JSON.parse(r.stdout); } catch { fail('metrics output is not JSON', r); }
    check(m && typeof m === 'object', 'metrics JSON is empty', r);
  }, { only });

  await scenario('containerd', 'task kill (SIGTERM, trapped: exit 42) and delete', async () => {
    await needTask();
    expectRun(await ctr(['task', 'kill', '-s', 'SIGTERM', ID]));
    const stopped = await until(async () => (await taskInfo(ID))?.status === 'STOPPED', 10_000);
    check(stopped, `task not STOPPED 10 s after SIGTERM: ${JSON.stringify(await taskInfo(ID))}`);
    // ctr task delete reports the exit status as a warning (and exits 0).
    expectRun(await ctr(['task', 'delete', ID]), { stderr: 'exit code 42' });
  }, { only });

  await scenario('containerd', 'delete leaves no state, cgroup, process or shim', async () => {
    await needTask();
    expectRun(await ctr(['container', 'delete', ID]));
    const leftovers = [];
    if (existsSync(join(runcRoot, ID))) leftovers.push(`runtime state ${join(runcRoot, ID)}`);
    if (existsSync(join('/sys/fs/cgroup', NS, ID))) leftovers.push(`cgroup /sys/fs/cgroup/${NS}/${ID}`);
    if (existsSync(`/proc/${task.pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${task.pid}/status`, 'utf8'))) leftovers.push(`process ${task.pid}`);
    const bundle = join(dir, 'state/io.containerd.runtime.v2.task', NS, ID);
    if (existsSync(bundle)) leftovers.push(`bundle ${bundle}`);
    await until(() => !shimOf(sock, ID), 5000);
    const shim = shimOf(sock, ID);
    if (shim) leftovers.push(`shim pid ${shim}`);
    check(!leftovers.length, `left behind: ${leftovers.join(', ')}`);
  }, { only });

  await scenario('containerd', 'task kill --all SIGKILL: exit 137', async () => {
    await imported();
    const id = 'c-kill';
    expectRun(await ctr(['run', '-d', ...runFlags, image.name, id, 'sleep', '1000']));
    try {
      expectRun(await ctr(['task', 'kill', '--all', '-s', 'SIGKILL', id]));
      const stopped = await until(async () => (await taskInfo(id))?.status === 'STOPPED', 10_000);
      check(stopped, `task not STOPPED 10 s after SIGKILL: ${JSON.stringify(await taskInfo(id))}`);
      expectRun(await ctr(['task', 'delete', id]), { stderr: 'exit code 137' });
    } finally {
      await ctr(['task', 'delete', '--force', id]);
      await ctr(['container', 'delete', id]);
    }
    check(!existsSync(join(runcRoot, id)), `runtime state ${join(runcRoot, id)} left behind`);
  }, { only });

  await scenario('containerd', 'run --seccomp (default profile) + exec', async () => {
    await imported();
    const id = 'c-seccomp';
    try {
      expectRun(await ctr(['run', '-d', '--seccomp', ...runFlags, image.name, id, 'sleep', '1000']));
      const t = await taskInfo(id);
      const status = readFileSync(`/proc/${t.pid}/status`, 'utf8');
      check(/^Seccomp:\s+2$/m.test(status), `init is not in seccomp filter mode: ${status.match(/^Seccomp.*$/m)}`);
      const r = expectRun(await ctr(['task', 'exec', '--exec-id', 's1', id, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; exit 3']), { code: 3 });
      check(/Seccomp:\s+2/.test(r.stdout), 'exec process is not in seccomp filter mode', r);
    } finally {
      await ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      await until(async () => (await taskInfo(id))?.status !== 'RUNNING', 5000);
      await ctr(['task', 'delete', '--force', id]);
      await ctr(['container', 'delete', id]);
    }
  }, { only });

  // Stop: remove whatever a failed scenario left, then the daemon (by pid), then any shim of ours.
  if (daemon) {
    const left = (await ctr(['container', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
    for (const id of left) {
      await ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      await ctr(['task', 'delete', '--force', id]);
      await ctr(['container', 'delete', id]);
    }
    if (left.length) console.log(`     (cleanup removed containerd containers left by failed scenarios: ${left.join(' ')})`);
    await ctx.stop(daemon);
    for (const pid of shimsOf(sock)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  }
}

/** Pids of containerd-shim-runc-v2 processes serving our daemon (matched by -address). */
function shimsOf(sock) {
  const out = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd;
    try { cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (cmd[0]?.endsWith('containerd-shim-runc-v2') && cmd.includes(sock)) {
      try { if (/^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'))) continue; } catch { continue; }
      out.push({ pid: Number(p), cmd });
    }
  }
  return out.map((s) => s.pid);
}

function shimOf(sock, id) {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('containerd-shim-runc-v2') && cmd.includes(sock) && cmd.includes(id) &&
          !/^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'))) return Number(p);
    } catch { /* gone */ }
  }
  return null;
}
