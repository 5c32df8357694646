// @ts-check
// config.md#posix-platform-hooks and runtime.md#lifecycle: when each kind of
// hook runs, in which namespace, in which order, what it gets on stdin, and
// what a failing hook does.
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { alive, nsLink, sleep } from './lib/observe.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('hooks');

/**
 * A hook that records its name (in the shared order log), its stdin (the
 * state), its mount namespace, argv and one env var, into `dir` (a host
 * path, or /results for hooks that run after pivot_root).
 * @param {string} name
 * @param {{ dir: string, exit?: number, extraArgs?: string[], env?: string[], timeout?: number, sleep?: number }} o
 */
function hook(name, o) {
  const d = o.dir;
  const script = [
    `cat > ${d}/${name}.json`,
    `echo ${name} >> ${d}/order`,
    `readlink /proc/self/ns/mnt > ${d}/${name}.mnt`,
    `echo "$@" > ${d}/${name}.args`,
    `echo "$HOOK_VAR" > ${d}/${name}.env`,
    o.sleep ? `sleep ${o.sleep}; echo finished >> ${d}/${name}.finished` : '',
    `exit ${o.exit ?? 0}`,
  ]
    .filter(Boolean)
    .join('; ');
  /** @type {any} */
  const h = { path: '/bin/sh', args: ['sh', '-c', script, name, ...(o.extraArgs || [])] };
  if (o.env) h.env = o.env;
  if (o.timeout) h.timeout = o.timeout;
  return h;
}

/** @param {import('./lib/kit.mjs').Kit} k */
function order(k) {
  try {
    return fs.readFileSync(path.join(k.results, 'order'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** @param {import('./lib/kit.mjs').Kit} k @param {string} name */
function hookState(k, name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(k.results, `${name}.json`), 'utf8'));
  } catch {
    return null;
  }
}

/** @param {import('./lib/kit.mjs').Kit} k @param {string} name */
function hookFile(k, name) {
  try {
    return fs.readFileSync(path.join(k.results, name), 'utf8').trim();
  } catch {
    return null;
  }
}

/** A config whose process waits (so start returns while it runs) with the results dir mounted. */
/** @param {import('./lib/kit.mjs').Kit} k @param {string} [script] */
function hookConfig(k, script = 'echo process >> /results/order; sleep 30') {
  const cfg = k.config({ script, results: true });
  cfg.hooks = {};
  return cfg;
}

req(
  {
    id: 'prestart',
    section: 'config.md#prestart',
    title: 'prestart hooks run during create, in the runtime namespace, before the program',
    quote: '"The prestart hooks MUST be called as part of the create operation after the runtime environment has been created ... but before the pivot_root or any equivalent operation has been executed." "The prestart hooks MUST be executed in the runtime namespace."',
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    cfg.hooks.prestart = [hook('prestart', { dir: k.results })];
    await k.mustCreate(cfg);
    t.same(order(k), ['prestart'], 'the hook ran during create, the program did not');
    t.equal(hookFile(k, 'prestart.mnt'), nsLink('self', 'mnt'), 'in the runtime mount namespace');
  },
);

req(
  {
    id: 'create-runtime',
    section: 'config.md#createruntime-hooks',
    title: 'createRuntime hooks run during create, in the runtime namespace',
    quote: '"The createRuntime hooks MUST be called as part of the create operation after the runtime environment has been created" "The createRuntime hooks MUST be executed in the runtime namespace."',
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    cfg.hooks.createRuntime = [hook('createRuntime', { dir: k.results })];
    await k.mustCreate(cfg);
    t.same(order(k), ['createRuntime'], 'the hook ran during create, the program did not');
    t.equal(hookFile(k, 'createRuntime.mnt'), nsLink('self', 'mnt'), 'in the runtime mount namespace');
  },
);

req(
  {
    id: 'create-container',
    section: 'config.md#createcontainer-hooks',
    title: 'createContainer hooks run during create, in the container namespace, path resolved in the runtime namespace',
    quote: '"The createContainer hooks MUST be called as part of the create operation" "The value of path MUST resolve in the runtime namespace." "The createContainer hooks MUST be executed in the container namespace."',
  },
  async (t, k) => {
    // a hook executable that exists only on the host, outside the rootfs
    const exe = path.join(k.dir, 'host-only-hook');
    fs.writeFileSync(exe, `#!/bin/sh\necho createContainer >> ${k.results}/order\nreadlink /proc/self/ns/mnt > ${k.results}/createContainer.mnt\n`, { mode: 0o755 });
    const cfg = hookConfig(k);
    cfg.hooks.createContainer = [{ path: exe, args: ['host-only-hook'] }];
    const c = await k.mustCreate(cfg);
    t.same(order(k), ['createContainer'], 'the hook ran during create, the program did not');
    const pid = (await c.state()).json?.pid;
    t.equal(hookFile(k, 'createContainer.mnt'), nsLink(pid, 'mnt'), "in the container's mount namespace");
    t.not(hookFile(k, 'createContainer.mnt'), nsLink('self', 'mnt'), "not in the runtime's");
  },
);

req(
  {
    id: 'start-container',
    section: 'config.md#startcontainer-hooks',
    title: 'startContainer hooks run on start, before the program, with path and files of the container',
    quote: '"The startContainer hooks MUST be called before the user-specified process is executed as part of the start operation." "The startContainer hooks\' path MUST resolve in the container namespace."',
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    // an executable that exists only in the container's rootfs (a link to its
    // shell, run as sh), writing to /results, which only the container has
    cfg.hooks.startContainer = [{ path: '/bin/container-only-hook', args: ['sh', '-c', 'echo startContainer >> /results/order'] }];
    const bundle = k.bundle(cfg);
    fs.symlinkSync(fs.readlinkSync(path.join(bundle, 'rootfs', 'bin', 'sh')), path.join(bundle, 'rootfs', 'bin', 'container-only-hook'));
    const c = await k.mustCreate(bundle);
    t.same(order(k), [], 'nothing ran at create');
    const r = await c.start();
    k.need(r.status === 0, 'start succeeds', r);
    for (let i = 0; i < 100 && order(k).length < 2; i++) await sleep(20);
    t.same(order(k), ['startContainer', 'process'], 'the hook (found in the container) ran before the program');
  },
);

req(
  {
    id: 'start-container-script',
    section: 'config.md#posix-platform-hooks',
    title: 'a startContainer hook can be a #! script of the container',
    quote: '"path (string, REQUIRED) with similar semantics to IEEE Std 1003.1-2008 execv\'s path." (execv runs a file that starts with #! through its interpreter) "The startContainer hooks\' path MUST resolve in the container namespace."',
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    cfg.hooks.startContainer = [{ path: '/bin/container-only-script', args: ['container-only-script'] }];
    const bundle = k.bundle(cfg);
    fs.writeFileSync(path.join(bundle, 'rootfs', 'bin', 'container-only-script'), '#!/bin/sh\necho startContainer >> /results/order\n', { mode: 0o755 });
    const c = await k.mustCreate(bundle);
    const r = await c.start();
    t.equal(r.status, 0, `start succeeds (${describe(r)})`);
    for (let i = 0; i < 100 && order(k).length < 2; i++) await sleep(20);
    t.same(order(k), ['startContainer', 'process'], 'the script ran before the program');
  },
);

req(
  {
    id: 'start-container-pid-namespace',
    section: 'config.md#startcontainer-hooks',
    title: "startContainer hooks are executed in the container's namespaces, its pid namespace included",
    quote: '"The startContainer hooks MUST be executed in the container namespace."',
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    // /proc is the container's: /proc/self resolves only for a process of its pid namespace
    const script = 'for n in pid mnt uts ipc net; do echo "$n $(readlink /proc/self/ns/$n)"; done > /results/hook-ns';
    cfg.hooks.startContainer = [{ path: '/bin/sh', args: ['sh', '-c', script] }];
    const c = await k.mustStart(cfg);
    const pid = (await c.state()).json?.pid;
    /** @type {Record<string, string>} */
    const seen = {};
    for (const line of (hookFile(k, 'hook-ns') || '').split('\n')) {
      const [n, link] = line.split(' ');
      if (n) seen[n] = link || '';
    }
    for (const n of ['pid', 'mnt', 'uts', 'ipc', 'net']) {
      t.equal(seen[n] || '(unreadable: /proc/self does not resolve)', nsLink(pid, n), `the hook's ${n} namespace is the container's`);
    }
  },
);

req(
  {
    id: 'poststart',
    section: 'config.md#poststart',
    title: 'poststart hooks run after the program started, before start returns, in the runtime namespace',
    quote: '"The poststart hooks MUST be called after the user-specified process is executed but before the start operation returns." "The poststart hooks MUST be executed in the runtime namespace."',
  },
  async (t, k) => {
    const cfg = hookConfig(k, 'sleep 30');
    cfg.hooks.poststart = [hook('poststart', { dir: k.results })];
    const c = await k.mustCreate(cfg);
    t.same(order(k), [], 'not at create');
    k.need((await c.start()).status === 0, 'start succeeds');
    t.same(order(k), ['poststart'], 'the hook has run when start returns');
    t.equal(hookFile(k, 'poststart.mnt'), nsLink('self', 'mnt'), 'in the runtime mount namespace');
    t.equal(hookState(k, 'poststart')?.status, 'running', 'the state it got says running');
  },
);

req(
  {
    id: 'poststop',
    section: 'config.md#poststop',
    title: 'poststop hooks run on delete, before delete returns, in the runtime namespace',
    quote: '"The poststop hooks MUST be called after the container is deleted but before the delete operation returns." "The poststop hooks MUST be executed in the runtime namespace."',
  },
  async (t, k) => {
    const cfg = hookConfig(k, 'true');
    cfg.hooks.poststop = [hook('poststop', { dir: k.results })];
    const c = await k.mustStart(cfg);
    await c.waitStatus('stopped');
    t.same(order(k), [], 'not before delete');
    const r = await c.delete();
    k.need(r.status === 0, 'delete succeeds', r);
    t.same(order(k), ['poststop'], 'the hook has run when delete returns');
    t.equal(hookFile(k, 'poststop.mnt'), nsLink('self', 'mnt'), 'in the runtime mount namespace');
  },
);

req(
  {
    id: 'lifecycle-order',
    section: 'runtime.md#lifecycle',
    title: 'hooks of each kind run in lifecycle order',
    quote: '"The prestart hooks MUST be called before the createRuntime hooks." "The createContainer hooks MUST be called after the createRuntime hooks." (lifecycle steps 3-13)',
  },
  async (t, k) => {
    const cfg = hookConfig(k, 'echo process >> /results/order');
    cfg.hooks = {
      poststop: [hook('poststop', { dir: k.results })],
      poststart: [hook('poststart', { dir: k.results })],
      startContainer: [hook('startContainer', { dir: '/results' })],
      createContainer: [hook('createContainer', { dir: k.results })],
      createRuntime: [hook('createRuntime', { dir: k.results })],
      prestart: [hook('prestart', { dir: k.results })],
    };
    const c = await k.mustStart(cfg);
    await c.waitStatus('stopped');
    k.need((await c.delete()).status === 0, 'delete succeeds');
    const got = order(k);
    const expected = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'process', 'poststart', 'poststop'];
    // the program and poststart race; everything else is ordered
    t.same(
      got.filter((x) => x !== 'process'),
      expected.filter((x) => x !== 'process'),
      `hook order (${got.join(' ')})`,
    );
    t.ok(got.indexOf('process') > got.indexOf('startContainer'), 'the program ran after startContainer');
  },
);

req(
  {
    id: 'listed-order',
    section: 'config.md#posix-platform-hooks',
    title: 'hooks of one kind run in the listed order',
    quote: '"Hooks MUST be called in the listed order."',
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    cfg.hooks.createRuntime = ['third', 'first', 'second'].map((n) => hook(n, { dir: k.results }));
    await k.mustCreate(cfg);
    t.same(order(k), ['third', 'first', 'second'], 'as listed');
  },
);

req(
  {
    id: 'state-on-stdin',
    section: 'config.md#posix-platform-hooks',
    title: 'hooks get the state of the container on stdin',
    quote: '"The state of the container MUST be passed to hooks over stdin so that they may do work appropriate to the current state of the container."',
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    cfg.annotations = { 'org.example.hook': 'yes' };
    cfg.hooks.createRuntime = [hook('createRuntime', { dir: k.results })];
    cfg.hooks.poststart = [hook('poststart', { dir: k.results })];
    cfg.hooks.poststop = [hook('poststop', { dir: k.results })];
    const c = await k.mustStart(cfg);
    const pid = (await c.state()).json?.pid;
    k.need((await c.delete({ force: true })).status === 0, 'delete --force succeeds');
    for (const name of ['createRuntime', 'poststart', 'poststop']) {
      const s = hookState(k, name);
      t.ok(s, `${name} got JSON on stdin`);
      t.equal(s?.id, c.id, `${name}: id`);
      t.equal(s?.bundle, c.bundle, `${name}: bundle`);
      t.type(s?.ociVersion, 'string', `${name}: ociVersion`);
      t.type(s?.status, 'string', `${name}: status`);
      t.same(s?.annotations, cfg.annotations, `${name}: annotations`);
    }
    t.equal(hookState(k, 'poststart')?.pid, pid, 'the pid is the container process as seen by the runtime');
  },
);

req(
  {
    id: 'state-status',
    section: 'runtime.md#state',
    title: 'the state each hook gets says where the lifecycle is',
    quote: '"creating: the container is being created (step 2 in the lifecycle)" "created: the runtime has finished the create operation" "running: the container process has executed the user-specified program" "stopped: the container process has exited" — the state passed on stdin is "the state of the container"',
  },
  async (t, k) => {
    const cfg = hookConfig(k, 'echo process >> /results/order; sleep 0.3');
    cfg.hooks = {
      createRuntime: [hook('createRuntime', { dir: k.results })],
      createContainer: [hook('createContainer', { dir: k.results })],
      startContainer: [hook('startContainer', { dir: '/results' })],
      poststart: [hook('poststart', { dir: k.results })],
      poststop: [hook('poststop', { dir: k.results })],
    };
    const c = await k.mustStart(cfg);
    await c.waitStatus('stopped');
    k.need((await c.delete()).status === 0, 'delete succeeds');
    const expected = { createRuntime: 'creating', createContainer: 'creating', startContainer: 'created', poststart: 'running', poststop: 'stopped' };
    for (const [name, status] of Object.entries(expected)) {
      t.equal(hookState(k, name)?.status, status, `${name} sees status ${status}`);
    }
  },
);

req(
  {
    id: 'args-env',
    section: 'config.md#posix-platform-hooks',
    title: 'hooks get their args and env',
    quote: '"args (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008 execv\'s argv." "env (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008\'s environ."',
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    cfg.hooks.createRuntime = [hook('createRuntime', { dir: k.results, extraArgs: ['one', 'two words'], env: ['HOOK_VAR=from-config', 'PATH=/usr/bin:/bin'] })];
    await k.mustCreate(cfg);
    t.equal(hookFile(k, 'createRuntime.args'), 'one two words', 'argv after $0');
    t.equal(hookFile(k, 'createRuntime.env'), 'from-config', 'HOOK_VAR from env');
  },
);

for (const kind of ['prestart', 'createRuntime', 'createContainer']) {
  req(
    {
      id: `${kind.toLowerCase()}-fails`,
      section: 'runtime.md#lifecycle',
      title: `a failing ${kind} hook fails create and leaves nothing`,
      quote: `"If any ${kind} hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12." (12: "The container MUST be destroyed")`,
    },
    async (t, k) => {
      // control: a succeeding hook of the same kind
      const control = k.config({ script: 'true' });
      control.hooks = { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/null; exit 0'] }] };
      await k.mustRun(control);
      const cfg = hookConfig(k);
      cfg.hooks[kind] = [hook(kind, { dir: k.results, exit: 3 })];
      const c = await k.create(cfg);
      t.not(c.createRes.status, 0, `create fails (${describe(c.createRes)})`);
      t.same(order(k), [kind], 'the hook ran, the program did not');
      t.not((await c.state()).status, 0, 'no container exists');
    },
  );

  req(
    {
      id: `${kind.toLowerCase()}-fails-poststop`,
      section: 'runtime.md#lifecycle',
      title: `after a failing ${kind} hook the poststop hooks run`,
      quote: `"If any ${kind} hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12." (13: "The poststop hooks MUST be invoked by the runtime.")`,
    },
    async (t, k) => {
      const cfg = hookConfig(k);
      cfg.hooks[kind] = [hook(kind, { dir: k.results, exit: 3 })];
      cfg.hooks.poststop = [hook('poststop', { dir: k.results })];
      const c = await k.create(cfg);
      t.not(c.createRes.status, 0, `create fails (${describe(c.createRes)})`);
      t.same(order(k), [kind, 'poststop'], 'the poststop hook ran after the failure');
    },
  );
}

req(
  {
    id: 'startcontainer-fails',
    section: 'runtime.md#lifecycle',
    title: 'a failing startContainer hook fails start, and the program does not run',
    quote: '"If any startContainer hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12."',
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    cfg.hooks.startContainer = [hook('startContainer', { dir: '/results', exit: 3 })];
    const c = await k.mustCreate(cfg);
    const pid = (await c.state()).json?.pid;
    const r = await c.start();
    t.not(r.status, 0, `start fails (${describe(r)})`);
    await sleep(200);
    t.same(order(k), ['startContainer'], 'the program did not run');
    t.notOk(pid && alive(pid), 'the container process is stopped');
  },
);

req(
  {
    id: 'poststart-fails',
    section: 'runtime.md#lifecycle',
    title: 'a failing poststart hook fails start and stops the container',
    quote: '"If any poststart hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12." (runtime-spec 1.3; before opencontainers/runtime-spec#1262 it was a warning)',
  },
  async (t, k) => {
    const cfg = hookConfig(k, 'sleep 30');
    cfg.hooks.poststart = [hook('failing', { dir: k.results, exit: 3 })];
    const c = await k.mustCreate(cfg);
    const pid = (await c.state()).json?.pid;
    const r = await c.start();
    t.not(r.status, 0, `start fails (${describe(r)})`);
    t.same(order(k), ['failing'], 'the hook ran');
    let gone = false;
    for (let i = 0; i < 60 && !gone; i++) {
      gone = !(pid && alive(pid));
      if (!gone) await sleep(50);
    }
    t.ok(gone, 'the container process is stopped');
  },
);

req(
  {
    id: 'poststop-fails',
    section: 'runtime.md#lifecycle',
    title: 'a failing poststop hook is a warning: delete succeeds and later hooks run',
    quote: '"If any poststop hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had succeeded."',
  },
  async (t, k) => {
    const cfg = hookConfig(k, 'true');
    cfg.hooks.poststop = [hook('failing', { dir: k.results, exit: 3 }), hook('after', { dir: k.results })];
    const c = await k.mustStart(cfg);
    await c.waitStatus('stopped');
    const r = await c.delete();
    t.equal(r.status, 0, `delete succeeds (${describe(r)})`);
    t.same(order(k), ['failing', 'after'], 'the next poststop hook ran');
    t.not((await c.state()).status, 0, 'the container is gone');
  },
);

req(
  {
    id: 'timeout',
    section: 'config.md#posix-platform-hooks',
    title: 'a hook that outlives its timeout is aborted and fails create',
    quote: '"timeout (int, OPTIONAL) is the number of seconds before aborting the hook. If set, timeout MUST be greater than zero."',
    timeoutMs: 60_000,
  },
  async (t, k) => {
    const cfg = hookConfig(k);
    cfg.hooks.createRuntime = [hook('slow', { dir: k.results, sleep: 3, timeout: 1 })];
    const c = await k.create(cfg);
    t.not(c.createRes.status, 0, `create fails (${describe(c.createRes)})`);
    t.same(order(k), ['slow'], 'the hook started');
    await sleep(3500);
    t.equal(hookFile(k, 'slow.finished'), null, 'the hook was aborted before it finished');
    t.not((await c.state()).status, 0, 'no container exists');
  },
);
