// @ts-check
// runtime.md#state and #query-state: the state JSON and its fields through
// the lifecycle.
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { nsLink, procStatus } from './lib/observe.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('state');
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

req(
  {
    id: 'query-without-id',
    section: 'runtime.md#query-state',
    title: 'state without a container id fails',
    quote: '"This operation MUST generate an error if it is not provided the ID of a container."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'sleep 30' }));
    const r = await k.rt.cmd(['state']);
    t.not(r.status, 0, `state without an id fails (${describe(r)})`);
    t.notOk(r.timedOut, 'and does not hang');
    t.equal((await c.state()).json?.id, c.id, 'control: state with an id works');
  },
);

req(
  {
    id: 'query-unknown',
    section: 'runtime.md#query-state',
    title: 'state of a container that does not exist fails',
    quote: '"Attempting to query a container that does not exist MUST generate an error."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'sleep 30' }));
    const r = await k.rt.state(k.id('missing'));
    t.not(r.status, 0, `state of an unknown id fails (${describe(r)})`);
    t.equal((await c.state()).json?.id, c.id, 'control: state of an existing container works');
  },
);

req(
  {
    id: 'json-fields',
    section: 'runtime.md#state',
    title: 'state is JSON with ociVersion, id, status, pid and bundle',
    quote:
      '"ociVersion (string, REQUIRED)", "id (string, REQUIRED)", "status (string, REQUIRED)", "pid (int, REQUIRED when status is created or running on Linux)", "bundle (string, REQUIRED) is the absolute path to the container\'s bundle directory."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'sleep 30' }));
    const s = await c.state();
    k.need(s.status === 0, 'state succeeds', s);
    t.equal(s.parseError, null, 'stdout is JSON');
    const j = s.json || {};
    t.type(j.ociVersion, 'string', 'ociVersion is a string');
    t.match(String(j.ociVersion), SEMVER, 'ociVersion is SemVer');
    t.equal(j.id, c.id, 'id is the container id');
    t.equal(j.status, 'created', 'status is created');
    t.ok(Number.isInteger(j.pid) && j.pid > 0, `pid is a positive integer (${j.pid})`);
    t.equal(j.bundle, c.bundle, 'bundle is the bundle directory');
  },
);

req(
  {
    id: 'bundle-absolute',
    section: 'runtime.md#state',
    title: 'bundle is absolute when create was given a relative path',
    quote: '"bundle (string, REQUIRED) is the absolute path to the container\'s bundle directory."',
  },
  async (t, k) => {
    const dir = k.bundle(k.config({ script: 'sleep 30' }), { name: 'relbundle' });
    const c = await k.mustCreate(dir, { cwd: k.dir, bundleArg: 'relbundle' });
    const s = await c.state();
    t.ok(path.isAbsolute(String(s.json?.bundle)), `bundle is absolute (${s.json?.bundle})`);
    t.equal(s.json?.bundle, dir, 'and names the bundle directory');
  },
);

req(
  {
    id: 'pid-created',
    section: 'runtime.md#state',
    title: 'pid of a created container is its process as seen from the host',
    quote: '"pid (int, REQUIRED when status is created or running on Linux ...) is the ID of the container process."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'sleep 30' }));
    const pid = (await c.state()).json?.pid;
    k.need(Number.isInteger(pid), 'pid is set');
    t.ok(procStatus(pid), `process ${pid} exists on the host`);
    t.not(nsLink(pid, 'pid'), nsLink('self', 'pid'), 'and is in the container pid namespace, not ours');
    t.not(nsLink(pid, 'mnt'), nsLink('self', 'mnt'), 'and is in the container mount namespace, not ours');
    t.not(nsLink(pid, 'uts'), nsLink('self', 'uts'), 'and in the container uts namespace');
  },
);

req(
  {
    id: 'pid-running',
    section: 'runtime.md#state',
    title: 'pid of a running container is the user-specified program',
    quote: '"pid (int, REQUIRED when status is created or running on Linux ...) is the ID of the container process."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ args: ['sleep', '31'] }));
    const s = await c.state();
    const pid = s.json?.pid;
    k.need(Number.isInteger(pid), 'pid is set');
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    t.same(cmdline, ['sleep', '31'], 'the pid runs process.args');
  },
);

req(
  {
    id: 'transitions',
    section: 'runtime.md#lifecycle',
    title: 'status goes created -> running -> stopped',
    quote:
      '"created: the runtime has finished the create operation"; "running: the container process has executed the user-specified program but has not exited"; "stopped: the container process has exited"',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'while [ ! -e /results/go ]; do sleep 0.05; done', results: true }));
    t.equal((await c.state()).json?.status, 'created', 'created after create');
    k.need((await c.start()).status === 0, 'start succeeds');
    t.equal((await c.state()).json?.status, 'running', 'running while the program runs');
    fs.writeFileSync(path.join(k.results, 'go'), '');
    const s = await c.waitStatus('stopped');
    t.equal(s.json?.status, 'stopped', 'stopped after it exits');
  },
);

req(
  {
    id: 'annotations',
    section: 'runtime.md#state',
    title: 'annotations of the config are in the state',
    quote: '"annotations (map, OPTIONAL) contains the list of annotations associated with the container."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'sleep 30' });
    cfg.annotations = { 'org.example.key': 'value', 'com.example.other': 'with spaces and = signs' };
    const c = await k.mustCreate(cfg);
    const s = await c.state();
    t.same(s.json?.annotations, cfg.annotations, 'state.annotations equals config.annotations');
  },
);

req(
  {
    id: 'annotations-absent',
    section: 'runtime.md#state',
    title: 'without annotations, state has none or an empty map',
    quote: '"If no annotations were provided then this property MAY either be absent or an empty map."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'sleep 30' }));
    const s = await c.state();
    k.need(s.status === 0, 'state succeeds', s);
    const a = s.json?.annotations;
    t.ok(a === undefined || (a && typeof a === 'object' && Object.keys(a).length === 0), `annotations absent or {} (${JSON.stringify(a)})`);
  },
);

req(
  {
    id: 'stopped-state-kept',
    section: 'runtime.md#state',
    title: 'a stopped container can still be queried until it is deleted',
    quote: '"stopped: the container process has exited (step 10 in the lifecycle)" — the container exists until delete (step 11).',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'true' }));
    await c.waitStatus('stopped');
    await new Promise((r) => setTimeout(r, 200));
    const s = await c.state();
    t.equal(s.status, 0, `state still succeeds (${describe(s)})`);
    t.equal(s.json?.status, 'stopped', 'and says stopped');
    t.equal(s.json?.id, c.id, 'for the same id');
  },
);

req(
  {
    id: 'independent-containers',
    section: 'runtime.md#state',
    title: 'the state of one container is its own: stopping one leaves the other running',
    quote: '"id (string, REQUIRED) is the container\'s ID. This MUST be unique across all containers on this host." "status (string, REQUIRED) is the runtime state of the container."',
  },
  async (t, k) => {
    const a = await k.mustStart(k.config({ script: 'sleep 30' }));
    const b = await k.mustStart(k.config({ script: 'sleep 30' }));
    const pb = (await b.state()).json?.pid;
    k.need((await a.kill('KILL')).status === 0, 'kill of the first succeeds');
    t.equal((await a.waitStatus('stopped')).json?.status, 'stopped', 'the first is stopped');
    const sb = (await b.state()).json;
    t.equal(sb?.status, 'running', 'the second is still running');
    t.equal(sb?.pid, pb, 'with the same pid');
    t.equal(sb?.id, b.id, 'under its own id');
  },
);
