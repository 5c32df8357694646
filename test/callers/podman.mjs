// Podman 4.3 (Debian) with conmon, driving the runtime through `--runtime <path>`.
// Private storage (graphroot, runroot, tmpdir under the test's temp dir), cgroupfs manager,
// containers under the cgroup parent /tsrun-callers-podman, no network (netns "none": this
// machine has no CNI/netavark set up and no network is needed), events to a file.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE_PATH } from './image.mjs';
import { check, expectRun, run, scenario, Skip, until } from './lib.mjs';

export const CGROUP_PARENT = 'tsrun-callers-podman';

export async function podmanScenarios(ctx) {
  const { T, image, runtime, only } = ctx;
  const dir = join(T, 'podman');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'containers.conf');
  // pids_limit = 0: podman's default (2048) needs a pids controller, absent from this machine's
  // cgroup v2 (runc fails on it too); the --pids-limit scenario asks for it explicitly.
  writeFileSync(conf, `[containers]
netns = "none"
pids_limit = 0
[engine]
# Podman passes --log-format=json --log FILE only to the runtimes named here (and reads the error
# from FILE); its default list has runc and crun but not tsrun.
runtime_supports_json = ["crun", "runc", "kata", "runsc", "youki", "krun", "${runtime.name}"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${dir}/events.log"
tmp_dir = "${dir}/tmp"
`);
  const wrapper = ctx.wrapper('podman');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const global = ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'overlay',
    '--cgroup-manager', 'cgroupfs', '--runtime', wrapper];
  const podman = (args, opts = {}) => run('podman', [...global, ...args], { env, ...opts });
  const pmLine = ['podman', ...global].join(' ');
  const underPty = (cmd, opts = {}) => run('script', ['-qec', cmd, '/dev/null'], { env, ...opts });
  const IMG = 'localhost/busybox:latest';
  const runArgs = ['--cgroup-parent', `/${CGROUP_PARENT}`];
  const stateDir = (id) => runtime.defaultRoot && join(runtime.defaultRoot, id);

  const missing = ['podman', 'conmon'].filter((b) => !ctx.which(b) && !existsSync(`/usr/libexec/podman/${b}`));
  const need = () => { if (missing.length) throw new Skip(`not installed: ${missing.join(', ')} (apt-get install podman conmon)`); };
  let haveImage = false;
  const imported = () => { need(); if (!haveImage) throw new Skip('image not imported'); };

  const inspect = async (name, fmt) => (await podman(['inspect', '--format', fmt, name])).stdout.trim();
  /** What a removed container must not leave: runtime state dir, cgroup, podman record. */
  const leftovers = async (id) => {
    const out = [];
    if (stateDir(id) && existsSync(stateDir(id))) out.push(`runtime state ${stateDir(id)}`);
    if (existsSync(join('/sys/fs/cgroup', CGROUP_PARENT, `libpod-${id}`))) out.push(`cgroup /${CGROUP_PARENT}/libpod-${id}`);
    const ps = await podman(['ps', '-a', '-q', '--no-trunc']);
    if (ps.stdout.includes(id)) out.push('podman still lists it');
    return out;
  };

  await scenario('podman', 'image import (rootfs tar from busybox-static)', async () => {
    need();
    expectRun(await podman(['import', '--change', 'CMD ["sh"]', '--change', `ENV PATH=${IMAGE_PATH}`, image.layerTar, IMG]));
    expectRun(await podman(['images', '--format', '{{.Repository}}:{{.Tag}}']), { stdout: IMG });
    haveImage = true;
  }, { only, always: true });

  await scenario('podman', 'run --rm: output and exit code', async () => {
    imported();
    const r = await podman(['run', '--rm', ...runArgs, IMG, 'sh', '-c', 'echo hello from $(cat /proc/1/comm); echo to-stderr >&2; exit 3']);
    expectRun(r, { code: 3, stdout: 'hello from sh', stderr: 'to-stderr' });
    const ps = await podman(['ps', '-a', '-q']);
    check(ps.stdout.trim() === '', 'run --rm left a container', ps);
  }, { only });

  // The README's containers.conf route: the runtime named in [engine] runtime, found through
  // [engine.runtimes], no --runtime flag.
  await scenario('podman', 'containers.conf [engine] runtime (no --runtime flag)', async () => {
    imported();
    const conf2 = join(dir, 'containers-runtime.conf');
    writeFileSync(conf2, `${readFileSync(conf, 'utf8')}runtime = "${runtime.name}"\n[engine.runtimes]\n${runtime.name} = ["${wrapper}"]\n`);
    const noFlag = global.filter((a, i) => a !== '--runtime' && global[i - 1] !== '--runtime');
    const r = await run('podman', [...noFlag, 'run', '--rm', ...runArgs, IMG, 'sh', '-c', 'echo via-conf'], { env: { ...env, CONTAINERS_CONF: conf2 } });
    expectRun(r, { stdout: 'via-conf' });
    const log = readFileSync(ctx.argvLog('podman'), 'utf8');
    check(log.includes('create'), 'podman did not call the configured runtime', r);
  }, { only });

  await scenario('podman', 'run -d + exec + stop + rm', async () => {
    imported();
    const r = expectRun(await podman(['run', '-d', '--name', 'p-det', ...runArgs, IMG, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']));
    const id = r.stdout.trim().split('\n').pop();
    try {
      check(await inspect('p-det', '{{.State.Status}}') === 'running', 'not running after run -d', r);
      expectRun(await podman(['exec', 'p-det', 'sh', '-c', 'echo exec-out; cat /proc/1/comm; exit 4']), { code: 4, stdout: [/exec-out/, /^sh$/m] });
      expectRun(await podman(['exec', '--user', '1000', '--workdir', '/tmp', '--env', 'X=y', 'p-det', 'sh', '-c', 'echo $(id -u) $(pwd) $X']), { stdout: '1000 /tmp y' });
      const s = expectRun(await podman(['stop', '-t', '10', 'p-det']));
      check(await inspect('p-det', '{{.State.Status}}') === 'exited', 'not exited after stop', s);
      check(await inspect('p-det', '{{.State.ExitCode}}') === '0', 'exit code after a trapped SIGTERM is not 0', s);
      expectRun(await podman(['rm', 'p-det']));
      const left = await leftovers(id);
      check(!left.length, `left behind after rm: ${left.join(', ')}`);
    } finally {
      await podman(['rm', '-f', '-t', '0', 'p-det']);
    }
  }, { only });

  await scenario('podman', 'run -it under a pty', async () => {
    imported();
    const r = await underPty(`${pmLine} run --rm -it ${runArgs.join(' ')} ${IMG} sh`, { input: 'echo typed-$((1+2)) $(tty)\nexit 6\n' });
    expectRun(r, { code: 6, stdout: /typed-3 \/dev\/pts\/\d+/ });
  }, { only });

  await scenario('podman', 'exec -it under a pty', async () => {
    imported();
    expectRun(await podman(['run', '-d', '--name', 'p-tty', ...runArgs, IMG, 'sleep', '1000']));
    try {
      const r = await underPty(`${pmLine} exec -it p-tty sh -c 'tty; exit 7'`);
      expectRun(r, { code: 7, stdout: /\/dev\/pts\/\d+/ });
    } finally {
      await podman(['rm', '-f', '-t', '0', 'p-tty']);
    }
  }, { only });

  await scenario('podman', 'pause / unpause', async () => {
    imported();
    const r = expectRun(await podman(['run', '-d', '--name', 'p-pause', ...runArgs, IMG, 'sleep', '1000']));
    try {
      expectRun(await podman(['pause', 'p-pause']));
      const pid = await inspect('p-pause', '{{.State.Pid}}');
      const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
      const frozen = () => readFileSync(join('/sys/fs/cgroup', cg, 'cgroup.freeze'), 'utf8').trim();
      const st = await inspect('p-pause', '{{.State.Status}}');
      check(st === 'paused' && frozen() === '1', `after pause: status ${st}, cgroup.freeze ${frozen()}`, r);
      expectRun(await podman(['unpause', 'p-pause']));
      const st2 = await inspect('p-pause', '{{.State.Status}}');
      const events = () => readFileSync(join('/sys/fs/cgroup', cg, 'cgroup.events'), 'utf8');
      const thawed = await until(() => /^frozen 0$/m.test(events()), 5000);
      check(st2 === 'running' && frozen() === '0' && thawed, `after unpause: status ${st2}, cgroup.freeze ${frozen()}, cgroup.events ${events()}`);
    } finally {
      await podman(['rm', '-f', '-t', '0', 'p-pause']);
    }
  }, { only });

  const simple = (name, args, cmd, expect) => scenario('podman', name, async () => {
    imported();
    expectRun(await podman(['run', '--rm', ...runArgs, ...args, IMG, ...cmd]), expect);
  }, { only });

  await simple('--read-only (rootfs read-only, /tmp a writable tmpfs)', ['--read-only'],
    ['sh', '-c', 'touch /x 2>&1; echo tmp > /tmp/ok && cat /tmp/ok'],
    { stdout: [/Read-only file system/, /^tmp$/m] });
  await simple('--user 1000:1000', ['--user', '1000:1000'],
    ['sh', '-c', 'echo $(id -u):$(id -g); touch /root/x 2>&1; exit 0'], { stdout: [/^1000:1000$/m, /Permission denied/] });
  await simple('--cap-drop all', ['--cap-drop', 'all'],
    ['sh', '-c', 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status; chown 1 /tmp 2>&1; exit 0'],
    { stdout: [/CapEff:\s+0{16}/, /CapBnd:\s+0{16}/, /Operation not permitted/] });
  await simple('--hostname', ['--hostname', 'callers-host'], ['hostname'], { stdout: /^callers-host$/m });
  await simple('--env', ['--env', 'FOO=bar baz', '--env', 'EMPTY='], ['sh', '-c', 'echo "[$FOO][$EMPTY]"'], { stdout: '[bar baz][]' });
  await simple('--workdir', ['--workdir', '/home/user'], ['pwd'], { stdout: /^\/home\/user$/m });

  await scenario('podman', '-v bind volume (rw and ro)', async () => {
    imported();
    const vol = join(dir, 'vol');
    mkdirSync(vol, { recursive: true });
    writeFileSync(join(vol, 'in'), 'from-host\n');
    expectRun(await podman(['run', '--rm', ...runArgs, '-v', `${vol}:/vol`, IMG, 'sh', '-c', 'cat /vol/in; echo from-container > /vol/out']), { stdout: 'from-host' });
    check(existsSync(join(vol, 'out')) && readFileSync(join(vol, 'out'), 'utf8') === 'from-container\n', 'the container\'s write is not on the host');
    expectRun(await podman(['run', '--rm', ...runArgs, '-v', `${vol}:/vol:ro`, IMG, 'sh', '-c', 'cat /vol/in; echo x > /vol/y; exit 0']), { stdout: /from-host/, stderr: /Read-only file system/ });
  }, { only });

  // Resource limits: enforced where the controller is enabled (a pure cgroup v2 host), refused
  // with a message naming the limit where it is not (this machine: only hugetlb), with nothing
  // left behind either way.
  const limit = (name, args, controller, file, value) => scenario('podman', name, async () => {
    imported();
    const cname = `p-${controller}`;
    const r = await podman(['run', '--rm', '--name', cname, ...runArgs, ...args, IMG, 'cat', `/sys/fs/cgroup/${file}`]);
    if (ctx.controllers.has(controller)) {
      expectRun(r, { stdout: new RegExp(`^${value}$`, 'm') });
    } else {
      expectRun(r, { code: 'nonzero', stderr: new RegExp(`${controller}|${file.replace('.', '\\.')}`) });
      check(!/panic|goroutine/.test(r.stderr), 'podman crashed', r);
      const ps = await podman(['ps', '-a', '--format', '{{.ID}} {{.Names}}']);
      check(!ps.stdout.includes(cname), 'a refused run --rm left the container', ps, r);
      const cgs = libpodCgroups();
      check(!cgs.length, `a refused run left cgroups: ${cgs.join(' ')}`, r);
    }
  }, { only });
  await limit('--pids-limit 100', ['--pids-limit', '100'], 'pids', 'pids.max', '100');
  await limit('--memory 64m', ['--memory', '64m'], 'memory', 'memory.max', String(64 * 1024 * 1024));

  // Stop: remove whatever a failed scenario left (conmon exits with its container).
  if (!missing.length) {
    const left = (await podman(['ps', '-a', '-q'])).stdout.split('\n').filter(Boolean);
    if (left.length) {
      console.log(`     (cleanup: removing podman containers left by failed scenarios: ${left.join(' ')})`);
      await podman(['rm', '-f', '-t', '0', ...left]);
    }
    await until(async () => !(await podman(['ps', '-a', '-q'])).stdout.trim(), 5000);
  }
}

/** libpod-* cgroups under our parent that still exist (each must go with its container). */
function libpodCgroups() {
  try {
    return readdirSync(join('/sys/fs/cgroup', CGROUP_PARENT)).filter((n) => n.startsWith('libpod-'));
  } catch {
    return [];
  }
}
