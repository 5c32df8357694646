// @ts-check
// config.md#process: args, env, cwd, user, umask, rlimits, capabilities,
// noNewPrivileges, oomScoreAdj, terminal, file descriptors; observed from
// inside the container (its stdout) and from outside (/proc/<pid>).
import fs from 'node:fs';
import { area } from './lib/kit.mjs';
import { capMask, setCaps } from './lib/config.mjs';
import { parseCapHex, procStatus } from './lib/observe.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('process');

/** @param {string} text @returns {Record<string, string>} */
function statusFields(text) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

req(
  {
    id: 'args',
    section: 'config.md#process',
    title: 'args are passed as argv, unchanged',
    quote: '"args (array of strings, OPTIONAL) with similar semantics to IEEE Std 1003.1-2008 execvp\'s argv."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['sh', '-c', 'for a in "$@"; do echo "[$a]"; done', 'arg0', 'two words', '', '$HOME', "quo'te"] });
    const out = await k.mustRun(cfg);
    t.equal(out, '[two words]\n[]\n[$HOME]\n[quo\'te]\n', 'each argument arrives as given');
  },
);

req(
  {
    id: 'args-path-lookup',
    section: 'config.md#process',
    title: 'args[0] is looked up like execvp, through PATH of process.env',
    quote: '"This specification extends the IEEE standard in that at least one entry is REQUIRED (non-Windows), and that entry is used with the same semantics as execvp\'s file."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['mytool', 'x'] });
    cfg.process.env = ['PATH=/opt/tools:/bin'];
    const bundle = k.bundle(cfg);
    fs.mkdirSync(`${bundle}/rootfs/opt/tools`, { recursive: true });
    fs.writeFileSync(`${bundle}/rootfs/opt/tools/mytool`, '#!/bin/sh\necho "mytool $1"\n', { mode: 0o755 });
    const out = await k.mustRun(bundle);
    t.equal(out, 'mytool x\n', 'the program was found in PATH');
  },
);

req(
  {
    id: 'args-not-found',
    section: 'runtime.md#lifecycle',
    title: 'a program that does not exist is an error, not a running container',
    quote: '"If the runtime is unable to create the environment specified in the config.json, it MUST generate an error." / start "MUST run the user-specified program"',
  },
  async (t, k) => {
    await k.mustRun(k.config({ args: ['/bin/true'] })); // control: an absolute path that exists
    const c = await k.create(k.config({ args: ['/no/such/program'] }));
    let where = 'create';
    let res = c.createRes;
    if (res.status === 0) {
      // an error may come at start, not later: a start that succeeds ran nothing
      where = 'start';
      res = await c.start();
    }
    t.not(res.status, 0, `create or start generates an error (${where}: ${describe(res)})`);
    t.notOk(res.timedOut, 'and does not hang');
  },
);

req(
  {
    id: 'env',
    section: 'config.md#process',
    title: 'env is the environment of the process',
    quote: '"env (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008\'s environ."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['env'] });
    cfg.process.env = ['PATH=/bin', 'FOO=bar', 'WITH_EQUALS=a=b=c', 'EMPTY=', 'SPACES=x y  z'];
    const out = await k.mustRun(cfg);
    const lines = out.split('\n');
    for (const e of cfg.process.env) t.ok(lines.includes(e), `${e} is set`);
  },
);

req(
  {
    id: 'cwd',
    section: 'config.md#process',
    title: 'cwd is the working directory',
    quote: '"cwd (string, REQUIRED) is the working directory that will be set for the executable."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['pwd'] });
    cfg.process.cwd = '/var';
    t.equal(await k.mustRun(cfg), '/var\n', 'pwd');
  },
);

req(
  {
    id: 'user-uid-gid',
    section: 'config.md#user',
    title: 'the process runs with user.uid and user.gid',
    quote: '"uid (int, REQUIRED) specifies the user ID in the container namespace." "gid (int, REQUIRED) specifies the group ID in the container namespace."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/proc/self/status'] });
    cfg.process.user = { uid: 1234, gid: 5678 };
    const st = statusFields(await k.mustRun(cfg));
    t.equal(st.Uid, '1234\t1234\t1234\t1234', 'real, effective, saved and fs uid');
    t.equal(st.Gid, '5678\t5678\t5678\t5678', 'real, effective, saved and fs gid');
  },
);

req(
  {
    id: 'user-additional-gids',
    section: 'config.md#user',
    title: 'additionalGids are the supplementary groups',
    quote: '"additionalGids (array of ints, OPTIONAL) specifies additional group IDs in the container namespace to be added to the process."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/proc/self/status'] });
    cfg.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 6, 4242] };
    const st = statusFields(await k.mustRun(cfg));
    const groups = (st.Groups || '').split(/\s+/).filter(Boolean).map(Number);
    for (const g of [5, 6, 4242]) t.ok(groups.includes(g), `group ${g} is in Groups (${st.Groups})`);
  },
);

req(
  {
    id: 'umask-set',
    section: 'config.md#user',
    title: 'user.umask is the umask of the process',
    quote: '"umask (int, OPTIONAL) specifies the umask of the user."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'umask' });
    cfg.process.user.umask = 0o077;
    t.equal((await k.mustRun(cfg)).trim(), '0077', 'umask');
  },
);

req(
  {
    id: 'umask-unset',
    section: 'config.md#user',
    title: "without user.umask, the process keeps the calling process' umask",
    quote: '"If unspecified, the umask should not be changed from the calling process\' umask."',
  },
  async (t, k) => {
    const out = await k.mustRun(k.config({ script: 'umask' }), { umask: 0o027 });
    t.equal(out.trim(), '0027', 'the runtime was started with umask 0027');
  },
);

req(
  {
    id: 'rlimits',
    section: 'config.md#posix-process',
    title: 'rlimits set the soft and hard limits',
    quote: '"soft (uint64, REQUIRED) ... rlim.rlim_cur MUST match the configured value." "hard (uint64, REQUIRED) ... rlim.rlim_max MUST match the configured value."',
  },
  async (t, k) => {
    // at or under the machine's hard limits: raising one needs CAP_SYS_RESOURCE (TESTING.md)
    const cfg = k.config({ args: ['cat', '/proc/self/limits'] });
    cfg.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 1000, hard: 4000 },
      { type: 'RLIMIT_NPROC', soft: 500, hard: 600 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
    ];
    const out = await k.mustRun(cfg);
    t.match(out, /Max open files\s+1000\s+4000\s/, 'RLIMIT_NOFILE');
    t.match(out, /Max processes\s+500\s+600\s/, 'RLIMIT_NPROC');
    t.match(out, /Max core file size\s+0\s+4096\s/, 'RLIMIT_CORE');
  },
);

req(
  {
    id: 'rlimits-invalid-type',
    section: 'config.md#posix-process',
    title: 'an rlimit type the kernel does not know is an error',
    quote: '"The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel interface."',
  },
  async (t, k) => {
    const control = k.config({ script: 'true' });
    control.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1000, hard: 1000 }];
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.process.rlimits = [{ type: 'RLIMIT_NO_SUCH_LIMIT', soft: 1, hard: 1 }];
    await k.expectCreateFails(control, cfg, 'rlimit type RLIMIT_NO_SUCH_LIMIT');
  },
);

req(
  {
    id: 'rlimits-duplicate',
    section: 'config.md#posix-process',
    title: 'two rlimits of the same type are an error',
    quote: '"If rlimits contains duplicated entries with same type, the runtime MUST generate an error."',
  },
  async (t, k) => {
    const control = k.config({ script: 'true' });
    control.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1000, hard: 1000 }];
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 1000, hard: 1000 },
      { type: 'RLIMIT_NOFILE', soft: 900, hard: 900 },
    ];
    await k.expectCreateFails(control, cfg, 'two RLIMIT_NOFILE entries');
  },
);

req(
  {
    id: 'capabilities-bounding',
    section: 'config.md#linux-process',
    title: 'capabilities.bounding is the bounding set',
    quote: '"bounding (array of strings, OPTIONAL) the bounding field is an array of bounding capabilities that are kept for the process."',
  },
  async (t, k) => {
    const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID'];
    const cfg = setCaps(k.config({ args: ['cat', '/proc/self/status'] }), caps);
    const st = statusFields(await k.mustRun(cfg));
    t.equal(parseCapHex(st.CapBnd), capMask(caps), `CapBnd ${st.CapBnd}`);
  },
);

req(
  {
    id: 'capabilities-effective-root',
    section: 'config.md#linux-process',
    title: 'a root process has the configured effective and permitted capabilities',
    quote: '"effective (array of strings, OPTIONAL) the effective field is an array of effective capabilities that are kept for the process." "permitted ... kept for the process."',
  },
  async (t, k) => {
    const caps = ['CAP_CHOWN', 'CAP_FOWNER', 'CAP_KILL'];
    const cfg = setCaps(k.config({ args: ['cat', '/proc/self/status'] }), caps);
    const st = statusFields(await k.mustRun(cfg));
    t.equal(parseCapHex(st.CapEff), capMask(caps), `CapEff ${st.CapEff}`);
    t.equal(parseCapHex(st.CapPrm), capMask(caps), `CapPrm ${st.CapPrm}`);
  },
);

req(
  {
    id: 'capabilities-ambient',
    section: 'config.md#linux-process',
    title: 'a non-root process keeps its inheritable and ambient capabilities',
    quote: '"inheritable ... ambient (array of strings, OPTIONAL) the ambient field is an array of ambient capabilities that are kept for the process."',
  },
  async (t, k) => {
    const caps = ['CAP_NET_BIND_SERVICE', 'CAP_KILL'];
    const cfg = k.config({ args: ['cat', '/proc/self/status'] });
    cfg.process.user = { uid: 1000, gid: 1000 };
    cfg.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
    const st = statusFields(await k.mustRun(cfg));
    t.equal(parseCapHex(st.CapAmb), capMask(caps), `CapAmb ${st.CapAmb}`);
    t.equal(parseCapHex(st.CapInh), capMask(caps), `CapInh ${st.CapInh}`);
    t.equal(parseCapHex(st.CapEff), capMask(caps), `CapEff ${st.CapEff} (ambient survives execve of a non-root process)`);
  },
);

req(
  {
    id: 'capabilities-dropped',
    section: 'config.md#linux-process',
    title: 'a capability left out is not usable',
    quote: '"effective (array of strings, OPTIONAL) the effective field is an array of effective capabilities that are kept for the process."',
  },
  async (t, k) => {
    const script = 'touch /tmp/f; if chown 4321 /tmp/f 2>/dev/null; then echo chown-ok; else echo chown-denied; fi';
    const without = setCaps(k.config({ script }), ['CAP_KILL']);
    t.equal((await k.mustRun(without)).trim(), 'chown-denied', 'without CAP_CHOWN, chown fails');
    const withCap = setCaps(k.config({ script }), ['CAP_KILL', 'CAP_CHOWN']);
    t.equal((await k.mustRun(withCap)).trim(), 'chown-ok', 'with CAP_CHOWN, chown works');
  },
);

req(
  {
    id: 'capabilities-unknown',
    section: 'config.md#linux-process',
    title: 'an unknown capability is a warning, not a failure',
    quote: '"Any value which cannot be mapped to a relevant kernel interface, or cannot be granted otherwise MUST be logged as a warning by the runtime. Runtimes SHOULD NOT fail if the container configuration requests capabilities that cannot be granted"',
  },
  async (t, k) => {
    const cfg = setCaps(k.config({ args: ['echo', 'ran'] }), ['CAP_KILL', 'CAP_NO_SUCH_CAPABILITY']);
    const { res } = await k.run(cfg);
    t.equal(res.status, 0, `run succeeds (${describe(res)})`);
    t.equal(res.stdout, 'ran\n', 'the process ran');
  },
);

req(
  {
    id: 'no-new-privileges-true',
    section: 'config.md#linux-process',
    title: 'noNewPrivileges true sets no_new_privs',
    quote: '"noNewPrivileges (bool, OPTIONAL) setting noNewPrivileges to true prevents the process from gaining additional privileges."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/proc/self/status'] });
    cfg.process.noNewPrivileges = true;
    t.equal(statusFields(await k.mustRun(cfg)).NoNewPrivs, '1', 'NoNewPrivs');
  },
);

req(
  {
    id: 'no-new-privileges-false',
    section: 'config.md#linux-process',
    title: 'noNewPrivileges false leaves no_new_privs unset',
    quote: '"noNewPrivileges (bool, OPTIONAL) setting noNewPrivileges to true prevents the process from gaining additional privileges."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/proc/self/status'] });
    cfg.process.noNewPrivileges = false;
    t.equal(statusFields(await k.mustRun(cfg)).NoNewPrivs, '0', 'NoNewPrivs');
  },
);

req(
  {
    id: 'oom-score-adj-set',
    section: 'config.md#linux-process',
    title: 'oomScoreAdj is written to oom_score_adj',
    quote: '"If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/proc/self/oom_score_adj'] });
    cfg.process.oomScoreAdj = 345;
    t.equal((await k.mustRun(cfg)).trim(), '345', 'oom_score_adj');
  },
);

req(
  {
    id: 'oom-score-adj-unset',
    section: 'config.md#linux-process',
    title: 'without oomScoreAdj, oom_score_adj is not changed',
    quote: '"If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj."',
  },
  async (t, k) => {
    const mine = fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
    const out = await k.mustRun(k.config({ args: ['cat', '/proc/self/oom_score_adj'] }));
    t.equal(out.trim(), mine, `the value the runtime inherited (${mine})`);
  },
);

req(
  {
    id: 'oom-score-adj-observed-outside',
    section: 'config.md#linux-process',
    title: 'oomScoreAdj is visible on the container process from the host',
    quote: '"adjusts the oom-killer score in [pid]/oom_score_adj for the process\'s [pid] in a proc pseudo-filesystem."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['sleep', '30'] });
    cfg.process.oomScoreAdj = 222;
    const c = await k.mustStart(cfg);
    const pid = (await c.state()).json?.pid;
    k.need(Number.isInteger(pid), 'the container has a pid');
    t.equal(fs.readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), '222', `/proc/${pid}/oom_score_adj`);
  },
);

req(
  {
    id: 'terminal-false',
    section: 'config.md#process',
    title: 'with terminal false the process has no terminal',
    quote: '"terminal (bool, OPTIONAL) specifies whether a terminal is attached to the process, defaults to false."',
  },
  async (t, k) => {
    const out = await k.mustRun(k.config({ script: 'if [ -t 0 ] || [ -t 1 ] || [ -t 2 ]; then echo tty; else echo no-tty; fi' }));
    t.equal(out.trim(), 'no-tty', 'stdin, stdout and stderr are not terminals');
  },
);

req(
  {
    id: 'file-descriptors',
    section: 'runtime-linux.md#file-descriptors',
    title: 'only stdin, stdout and stderr are open in the process',
    quote: '"By default, only the stdin, stdout and stderr file descriptors are kept open for the application by the runtime."',
  },
  async (t, k) => {
    const out = await k.mustRun(k.config({ script: 'ls /proc/$$/fd; exit 0' })); // two commands: sh forks ls
    t.same(out.trim().split(/\s+/), ['0', '1', '2'], `open fds of the process: ${out.trim()}`);
  },
);

req(
  {
    id: 'host-view-of-user',
    section: 'config.md#user',
    title: 'the host sees the container process with user.uid (no user namespace)',
    quote: '"uid (int, REQUIRED) specifies the user ID in the container namespace." (without a user namespace, the container namespace ids are the host ids)',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['sleep', '30'] });
    cfg.process.user = { uid: 2345, gid: 3456 };
    const c = await k.mustStart(cfg);
    const pid = (await c.state()).json?.pid;
    const st = procStatus(pid);
    t.equal(st?.Uid?.split('\t')[0], '2345', 'host uid');
    t.equal(st?.Gid?.split('\t')[0], '3456', 'host gid');
  },
);
