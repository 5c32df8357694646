// @ts-check
// The runc-compatible command line that callers (containerd, podman/conmon)
// rely on beyond the operations of runtime.md: --pid-file, --console-socket
// with terminal: true, exec, run's exit status and --detach, --preserve-fds.
// Cases that test runtime-spec requirements through these flags cite them.
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { consoleReceiver, consoleSkipReason } from './lib/console.mjs';
import { nsLink, sleep } from './lib/observe.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('cli');
const noConsole = consoleSkipReason() || false;

req(
  {
    id: 'pid-file',
    section: 'runc CLI (create --pid-file)',
    title: 'create --pid-file writes the container process id',
    quote: 'runc create: "--pid-file value  specify the file to write the process id to" (containerd and conmon read it)',
  },
  async (t, k) => {
    const pidFile = path.join(k.dir, 'container.pid');
    const c = await k.mustCreate(k.config({ script: 'sleep 30' }), { pidFile });
    const pid = (await c.state()).json?.pid;
    t.ok(fs.existsSync(pidFile), 'the pid file exists after create');
    t.equal(Number(fs.readFileSync(pidFile, 'utf8').trim()), pid, `it holds the state pid (${pid})`);
  },
);

req(
  {
    id: 'pid-file-run-detach',
    section: 'runc CLI (run --detach --pid-file)',
    title: 'run --detach returns with the container running and writes the pid file',
    quote: 'runc run: "--detach, -d  detach from the container\'s process" "--pid-file value  specify the file to write the process id to"',
  },
  async (t, k) => {
    const pidFile = path.join(k.dir, 'container.pid');
    const { id, res } = await k.run(k.config({ script: 'sleep 30' }), { detach: true, pidFile });
    k.need(res.status === 0, 'run --detach succeeds', res);
    const s = await k.rt.state(id);
    if (s.json?.pid) k.trackPid(s.json.pid);
    t.equal(s.json?.status, 'running', 'the container is running after run returned');
    t.equal(Number(fs.readFileSync(pidFile, 'utf8').trim()), s.json?.pid, 'the pid file holds the state pid');
  },
);

req(
  {
    id: 'run-exit-status',
    section: 'runc CLI (run)',
    title: "run exits with the container process's exit status",
    quote: "runc run: the exit status of `run` is the container process's (containerd shims and scripts depend on it)",
  },
  async (t, k) => {
    const { res } = await k.run(k.config({ script: 'exit 42' }));
    t.equal(res.status, 42, `run exits 42 (${describe(res)})`);
  },
);

req(
  {
    id: 'kill-default-sigterm',
    section: 'runc CLI (kill)',
    title: 'kill without a signal sends SIGTERM',
    quote: 'runc kill: "kill <container-id> [signal]" — the signal defaults to SIGTERM (runtime.md#kill leaves the default to the CLI)',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: "trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done" }));
    k.need(await c.waitOutput('ready'), 'the container is ready');
    const r = await k.rt.cmd(['kill', c.id]);
    t.equal(r.status, 0, `kill without a signal succeeds (${describe(r)})`);
    t.ok(await c.waitOutput('got TERM'), 'the process received SIGTERM');
  },
);

req(
  {
    id: 'exec-joins-namespaces',
    section: 'runc CLI (exec)',
    title: "exec runs a process in the container's namespaces",
    quote: 'runc exec: "Execute new process inside the container"',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'sleep 30' }));
    const pid = (await c.state()).json?.pid;
    const r = await c.exec(['sh', '-c', 'for n in pid mnt net uts ipc; do echo "$n $(readlink /proc/self/ns/$n)"; done']);
    k.need(r.status === 0, 'exec succeeds', r);
    for (const line of r.stdout.trim().split('\n')) {
      const [n, link] = line.split(' ');
      t.equal(link, nsLink(pid, /** @type {string} */ (n)), `${n} namespace is the container's`);
    }
  },
);

req(
  {
    id: 'exec-exit-status',
    section: 'runc CLI (exec)',
    title: "exec exits with the exec'd process's exit status",
    quote: 'runc exec: the exit status of `exec` is the process\'s (podman exec and health checks depend on it)',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'sleep 30' }));
    const r = await c.exec(['sh', '-c', 'exit 7']);
    t.equal(r.status, 7, `exec exits 7 (${describe(r)})`);
    t.equal((await c.state()).json?.status, 'running', 'the container keeps running');
  },
);

req(
  {
    id: 'exec-stopped',
    section: 'runc CLI (exec)',
    title: 'exec in a stopped container fails',
    quote: 'runc exec: "cannot exec in a stopped container"',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'true' }));
    k.need((await c.waitStatus('stopped')).json?.status === 'stopped', 'the container stopped');
    const r = await c.exec(['true']);
    t.not(r.status, 0, `exec fails (${describe(r)})`);
    t.notOk(r.timedOut, 'and does not hang');
  },
);

req(
  {
    id: 'preserve-fds',
    section: 'runtime-linux.md#file-descriptors',
    title: 'create --preserve-fds passes extra file descriptors to the process',
    quote: '"The runtime MAY pass additional file descriptors to the application to support features such as socket activation." (runc: --preserve-fds N passes fds 3..3+N-1)',
  },
  async (t, k) => {
    const target = path.join(k.dir, 'fd3-target');
    const fd = fs.openSync(target, 'w');
    try {
      const c = await k.mustCreate(k.config({ script: 'echo via-fd3 >&3' }), { preserveFds: 1, extraFds: [fd] });
      k.need((await c.start()).status === 0, 'start succeeds');
      await c.waitStatus('stopped');
    } finally {
      fs.closeSync(fd);
    }
    t.equal(fs.readFileSync(target, 'utf8'), 'via-fd3\n', 'the process wrote to the inherited fd 3');
  },
);

req(
  {
    id: 'console-socket',
    section: 'config.md#process',
    title: 'terminal true: the pty master goes to --console-socket and the process runs on the pty',
    quote: '"terminal (bool, OPTIONAL) ... if set to true on Linux a pseudoterminal pair is allocated for the process and the pseudoterminal pty is duplicated on the process\'s standard streams." (runc: the master is sent over --console-socket with SCM_RIGHTS)',
    skip: noConsole,
  },
  async (t, k) => {
    const rx = await consoleReceiver(k);
    k.need(rx.ready, `the console receiver listens (${rx.stderr()})`);
    const cfg = k.config({ script: 'if [ -t 0 ] && [ -t 1 ] && [ -t 2 ]; then echo all-tty; fi; tty; echo hello-over-pty' });
    cfg.process.terminal = true;
    const c = await k.mustCreate(cfg, { consoleSocket: rx.socket });
    k.need((await c.start()).status === 0, 'start succeeds');
    await c.waitStatus('stopped');
    await Promise.race([rx.exited, sleep(5000)]);
    const meta = rx.meta();
    t.equal(meta?.fds, 1, 'the receiver got one fd');
    t.equal(meta?.isatty, true, 'it is a terminal');
    const out = rx.output().replace(/\r/g, '');
    t.match(out, /all-tty/, 'stdin, stdout and stderr are the terminal');
    t.match(out, new RegExp(`/dev/pts/${meta?.ptn}\\n`), `the process's tty is /dev/pts/${meta?.ptn}, the received master's slave`);
    t.match(out, /hello-over-pty/, 'its output came through the master');
  },
);

req(
  {
    id: 'console-input',
    section: 'config.md#process',
    title: 'terminal true: what is written to the master is the process input',
    quote: '"the pseudoterminal pty is duplicated on the process\'s standard streams"',
    skip: noConsole,
  },
  async (t, k) => {
    const rx = await consoleReceiver(k, { input: 'typed-line\n' });
    k.need(rx.ready, 'the console receiver listens');
    const cfg = k.config({ script: 'read line; echo "got [$line]"' });
    cfg.process.terminal = true;
    const c = await k.mustStart(cfg, { consoleSocket: rx.socket });
    await c.waitStatus('stopped');
    await Promise.race([rx.exited, sleep(5000)]);
    t.match(rx.output().replace(/\r/g, ''), /got \[typed-line\]/, 'the process read the typed line');
  },
);

req(
  {
    id: 'dev-console',
    section: 'config-linux.md#default-devices',
    title: 'terminal true: /dev/console is the pty, bind-mounted',
    quote: '"/dev/console is set up if terminal is enabled in the config by bind mounting the pseudoterminal pty to /dev/console."',
    skip: noConsole,
  },
  async (t, k) => {
    const rx = await consoleReceiver(k);
    k.need(rx.ready, 'the console receiver listens');
    const cfg = k.config({ script: 'stat -c "console %t:%T" /dev/console; stat -L -c "tty %t:%T" $(tty); grep -c " /dev/console " /proc/self/mountinfo' });
    cfg.process.terminal = true;
    const c = await k.mustStart(cfg, { consoleSocket: rx.socket });
    await c.waitStatus('stopped');
    await Promise.race([rx.exited, sleep(5000)]);
    const out = rx.output().replace(/\r/g, '');
    const con = /console (\S+)/.exec(out)?.[1];
    const tty = /tty (\S+)/.exec(out)?.[1];
    t.ok(con && con === tty, `/dev/console (${con}) is the process's pty (${tty})`);
    t.match(out, /\n1\n/, '/dev/console is a mount point');
  },
);

req(
  {
    id: 'console-size',
    section: 'config.md#process',
    title: 'consoleSize is the size of the terminal',
    quote: '"consoleSize (object, OPTIONAL) specifies the console size in characters of the terminal."',
    skip: noConsole,
  },
  async (t, k) => {
    const rx = await consoleReceiver(k);
    k.need(rx.ready, 'the console receiver listens');
    const cfg = k.config({ script: 'stty size' });
    cfg.process.terminal = true;
    cfg.process.consoleSize = { height: 33, width: 111 };
    const c = await k.mustStart(cfg, { consoleSocket: rx.socket });
    await c.waitStatus('stopped');
    await Promise.race([rx.exited, sleep(5000)]);
    t.match(rx.output(), /33 111/, 'stty size reports 33 rows, 111 columns');
  },
);
