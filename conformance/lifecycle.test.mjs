// @ts-check
// runtime.md: the create / start / kill / delete operations, their errors,
// and the status each one leaves.
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { alive } from './lib/observe.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('lifecycle');

req(
  {
    id: 'create-does-not-run-process',
    section: 'runtime.md#create',
    title: 'create does not run the user-specified program',
    quote: '"process.args MUST NOT be applied until triggered by the start operation."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'echo ran > /results/ran', results: true }));
    const marker = path.join(k.results, 'ran');
    await new Promise((r) => setTimeout(r, 300));
    t.notOk(fs.existsSync(marker), 'the program has not run after create');
    const s = await c.state();
    t.equal(s.json?.status, 'created', 'status is created');
    const r = await c.start();
    k.need(r.status === 0, 'start succeeds', r);
    await c.waitStatus('stopped');
    t.ok(fs.existsSync(marker), 'the program ran after start');
  },
);

req(
  {
    id: 'create-status-created',
    section: 'runtime.md#create',
    title: 'status is "created" after create',
    quote: '"Upon successful completion of this operation the status property of this container MUST be created."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'sleep 30' }));
    const s = await c.state();
    k.need(s.status === 0, 'state succeeds', s);
    t.equal(s.json?.status, 'created', 'status');
  },
);

req(
  {
    id: 'create-duplicate-id',
    section: 'runtime.md#create',
    title: 'create with an id already in use fails and does not touch the existing container',
    quote:
      '"If the ID provided is not unique across all containers within the scope of the runtime, or is not valid in any other way, the implementation MUST generate an error and a new container MUST NOT be created."',
  },
  async (t, k) => {
    const first = await k.mustCreate(k.config({ script: 'sleep 30' }));
    const before = await first.state();
    const other = k.bundle(k.config({ script: 'echo second > /results/second', results: true }));
    const dup = await k.rt.create(first.id, other);
    t.not(dup.status, 0, `a second create with the same id fails (${describe(dup)})`);
    const after = await first.state();
    t.equal(after.json?.pid, before.json?.pid, 'the existing container keeps its pid');
    t.equal(after.json?.bundle, before.json?.bundle, 'the existing container keeps its bundle');
    t.equal(after.json?.status, 'created', 'the existing container is still created');
    t.ok(before.json?.pid && alive(before.json.pid), 'the existing container process is alive');
    t.notOk(fs.existsSync(path.join(k.results, 'second')), 'the second config never ran');
  },
);

req(
  {
    id: 'create-without-id',
    section: 'runtime.md#create',
    title: 'create without a container id fails',
    quote: '"This operation MUST generate an error if it is not provided a path to the bundle and the container ID to associate with the container."',
  },
  async (t, k) => {
    const bundle = k.bundle(k.config({ script: 'echo ran > /results/ran', results: true }));
    const r = await k.rt.cmd(['create', '--bundle', bundle]);
    t.not(r.status, 0, `create without an id fails (${describe(r)})`);
    t.notOk(r.timedOut, 'and does not hang');
    t.notOk(fs.existsSync(path.join(k.results, 'ran')), 'nothing ran');
    // control: the same bundle with an id is fine
    const c = await k.create(bundle);
    t.equal(c.createRes.status, 0, `control: the same bundle with an id is created (${describe(c.createRes)})`);
  },
);

req(
  {
    id: 'start-runs-process',
    section: 'runtime.md#start',
    title: 'start runs the user-specified program',
    quote: '"This operation MUST run the user-specified program as specified by process."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ args: ['echo', 'hello from the container'] }));
    await c.waitStatus('stopped');
    t.equal(c.output(), 'hello from the container\n', 'the program wrote its output');
  },
);

req(
  {
    id: 'start-status-running',
    section: 'runtime.md#start',
    title: 'status is "running" after start',
    quote: '"Upon successful completion of this operation the status property of this container MUST be running."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'sleep 30' }));
    const s = await c.state();
    t.equal(s.json?.status, 'running', 'status');
  },
);

req(
  {
    id: 'start-without-id',
    section: 'runtime.md#start',
    title: 'start without a container id fails',
    quote: '"This operation MUST generate an error if it is not provided the container ID."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'sleep 30' }));
    const r = await k.rt.cmd(['start']);
    t.not(r.status, 0, `start without an id fails (${describe(r)})`);
    t.notOk(r.timedOut, 'and does not hang');
    t.equal((await c.state()).json?.status, 'created', 'control: an existing container is still created');
    const ok = await c.start();
    t.equal(ok.status, 0, `control: start with its id works (${describe(ok)})`);
  },
);

req(
  {
    id: 'start-unknown',
    section: 'runtime.md#start',
    title: 'start of a container that does not exist fails',
    quote: '"Attempting to start a container that does not exist MUST generate an error."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'sleep 30' }));
    const r = await k.rt.start(k.id('missing'));
    t.not(r.status, 0, `start of an unknown id fails (${describe(r)})`);
    t.notOk(r.timedOut, 'and does not hang');
    t.equal((await c.state()).json?.status, 'created', 'control: an existing container is untouched');
  },
);

req(
  {
    id: 'start-running',
    section: 'runtime.md#start',
    title: 'start of a running container fails and has no effect',
    quote: '"Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'echo started >> /results/runs; sleep 30', results: true }));
    const before = await c.state();
    const r = await c.start();
    t.not(r.status, 0, `a second start fails (${describe(r)})`);
    const after = await c.state();
    t.equal(after.json?.status, 'running', 'still running');
    t.equal(after.json?.pid, before.json?.pid, 'same pid');
    await new Promise((res) => setTimeout(res, 200));
    t.equal(fs.readFileSync(path.join(k.results, 'runs'), 'utf8'), 'started\n', 'the program ran once');
  },
);

req(
  {
    id: 'start-stopped',
    section: 'runtime.md#start',
    title: 'start of a stopped container fails and has no effect',
    quote: '"Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'echo started >> /results/runs', results: true }));
    const s = await c.waitStatus('stopped');
    k.need(s.json?.status === 'stopped', 'the container stopped on its own');
    const r = await c.start();
    t.not(r.status, 0, `start of a stopped container fails (${describe(r)})`);
    const after = await c.state();
    t.equal(after.json?.status, 'stopped', 'still stopped');
    t.equal(fs.readFileSync(path.join(k.results, 'runs'), 'utf8'), 'started\n', 'the program did not run again');
  },
);

req(
  {
    id: 'stopped-after-exit',
    section: 'runtime.md#state',
    title: 'status is "stopped" once the container process has exited',
    quote: '"stopped: the container process has exited (step 10 in the lifecycle)"',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'exit 3' }));
    const s = await c.waitStatus('stopped');
    t.equal(s.json?.status, 'stopped', 'status');
  },
);

req(
  {
    id: 'kill-signal-delivered',
    section: 'runtime.md#kill',
    title: 'kill sends the given signal to the container process',
    quote: '"This operation MUST send the specified signal to the container process."',
  },
  async (t, k) => {
    // pid 1 of a pid namespace only gets signals it has a handler for
    const c = await k.mustStart(k.config({ script: "trap 'echo got USR1; exit 0' USR1; echo ready; while :; do sleep 0.05; done" }));
    k.need(await c.waitOutput('ready'), 'the container is ready');
    const r = await c.kill('USR1');
    t.equal(r.status, 0, `kill USR1 succeeds (${describe(r)})`);
    t.ok(await c.waitOutput('got USR1'), 'the process received SIGUSR1');
    const s = await c.waitStatus('stopped');
    t.equal(s.json?.status, 'stopped', 'and exited');
  },
);

req(
  {
    id: 'kill-signal-number',
    section: 'runtime.md#kill',
    title: 'kill accepts a signal number',
    quote: '"This operation MUST send the specified signal to the container process."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: "trap 'echo got USR2; exit 0' USR2; echo ready; while :; do sleep 0.05; done" }));
    k.need(await c.waitOutput('ready'), 'the container is ready');
    const r = await c.kill('12');
    t.equal(r.status, 0, `kill 12 succeeds (${describe(r)})`);
    t.ok(await c.waitOutput('got USR2'), 'the process received SIGUSR2 (12)');
  },
);

req(
  {
    id: 'kill-created',
    section: 'runtime.md#kill',
    title: 'kill of a created container signals its process',
    quote: '"Attempting to send a signal to a container that is neither created nor running MUST have no effect on the container and MUST generate an error." (a created container can be signalled)',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'echo ran > /results/ran', results: true }));
    const r = await c.kill('KILL');
    t.equal(r.status, 0, `kill of a created container succeeds (${describe(r)})`);
    const s = await c.waitStatus('stopped');
    t.equal(s.json?.status, 'stopped', 'the container is stopped');
    t.notOk(fs.existsSync(path.join(k.results, 'ran')), 'the program never ran');
  },
);

req(
  {
    id: 'kill-running-stops',
    section: 'runtime.md#kill',
    title: 'SIGKILL stops a running container',
    quote: '"stopped: the container process has exited"; kill "MUST send the specified signal to the container process."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'sleep 30' }));
    const pid = (await c.state()).json?.pid;
    const r = await c.kill('KILL');
    t.equal(r.status, 0, `kill KILL succeeds (${describe(r)})`);
    const s = await c.waitStatus('stopped');
    t.equal(s.json?.status, 'stopped', 'status is stopped');
    t.notOk(pid && alive(pid), 'the process is gone');
  },
);

req(
  {
    id: 'kill-stopped',
    section: 'runtime.md#kill',
    title: 'kill of a stopped container fails and has no effect',
    quote: '"Attempting to send a signal to a container that is neither created nor running MUST have no effect on the container and MUST generate an error."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'true' }));
    const s = await c.waitStatus('stopped');
    k.need(s.json?.status === 'stopped', 'the container stopped on its own');
    const r = await c.kill('KILL');
    t.not(r.status, 0, `kill of a stopped container fails (${describe(r)})`);
    const after = await c.state();
    t.equal(after.json?.status, 'stopped', 'still stopped (and still there)');
  },
);

req(
  {
    id: 'kill-without-id',
    section: 'runtime.md#kill',
    title: 'kill without a container id fails',
    quote: '"This operation MUST generate an error if it is not provided the container ID."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'sleep 30' }));
    const r = await k.rt.cmd(['kill']);
    t.not(r.status, 0, `kill without an id fails (${describe(r)})`);
    t.notOk(r.timedOut, 'and does not hang');
    t.equal((await c.state()).json?.status, 'running', 'control: an existing container is still running');
  },
);

req(
  {
    id: 'kill-unknown',
    section: 'runtime.md#kill',
    title: 'kill of a container that does not exist fails',
    quote: '"Attempting to send a signal to a container that is neither created nor running MUST have no effect on the container and MUST generate an error."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'sleep 30' }));
    const r = await k.rt.kill(k.id('missing'), 'KILL');
    t.not(r.status, 0, `kill of an unknown id fails (${describe(r)})`);
    t.equal((await c.state()).json?.status, 'running', 'control: an existing container is still running');
  },
);

req(
  {
    id: 'delete-stopped',
    section: 'runtime.md#delete',
    title: 'delete of a stopped container removes it and its resources',
    quote: '"Deleting a container MUST delete the resources that were created during the create step."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'sleep 30' }));
    const pid = /** @type {number} */ ((await c.state()).json?.pid);
    const cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
    k.need((await c.kill('KILL')).status === 0, 'kill succeeds');
    k.need((await c.waitStatus('stopped')).json?.status === 'stopped', 'the container stopped');
    const r = await c.delete();
    t.equal(r.status, 0, `delete succeeds (${describe(r)})`);
    const s = await c.state();
    t.not(s.status, 0, 'state fails: the container no longer exists');
    t.notOk(alive(pid), 'the process is gone');
    if (cgroup && cgroup !== '/') t.notOk(fs.existsSync(path.join('/sys/fs/cgroup', cgroup)), `its cgroup ${cgroup} is removed`);
  },
);

req(
  {
    id: 'delete-running',
    section: 'runtime.md#delete',
    title: 'delete of a running container fails and has no effect',
    quote: '"Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'sleep 30' }));
    const before = await c.state();
    const r = await c.delete();
    t.not(r.status, 0, `delete without --force fails (${describe(r)})`);
    const after = await c.state();
    t.equal(after.json?.status, 'running', 'still running');
    t.equal(after.json?.pid, before.json?.pid, 'same pid');
    t.ok(before.json?.pid && alive(before.json.pid), 'the process is alive');
  },
);

req(
  {
    id: 'delete-created',
    section: 'runtime.md#delete',
    title: 'delete of a created container fails and has no effect',
    quote: '"Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error."',
  },
  async (t, k) => {
    const c = await k.mustCreate(k.config({ script: 'echo ran > /results/ran', results: true }));
    const before = await c.state();
    const r = await c.delete();
    t.not(r.status, 0, `delete of a created container fails (${describe(r)})`);
    const after = await c.state();
    t.equal(after.json?.status, 'created', 'still created');
    t.ok(before.json?.pid && alive(before.json.pid), 'the container process is alive');
  },
);

req(
  {
    id: 'delete-without-id',
    section: 'runtime.md#delete',
    title: 'delete without a container id fails',
    quote: '"This operation MUST generate an error if it is not provided the container ID."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'true' }));
    k.need((await c.waitStatus('stopped')).json?.status === 'stopped', 'a container stopped');
    const r = await k.rt.cmd(['delete']);
    t.not(r.status, 0, `delete without an id fails (${describe(r)})`);
    t.notOk(r.timedOut, 'and does not hang');
    t.equal((await c.state()).json?.status, 'stopped', 'control: the stopped container still exists');
  },
);

req(
  {
    id: 'delete-unknown',
    section: 'runtime.md#delete',
    title: 'delete of a container that does not exist fails',
    quote: '"Attempting to delete a container that does not exist MUST generate an error."',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'true' }));
    k.need((await c.waitStatus('stopped')).json?.status === 'stopped', 'a container stopped');
    const r = await k.rt.delete(k.id('missing'));
    t.not(r.status, 0, `delete of an unknown id fails (${describe(r)})`);
    t.equal((await c.state()).json?.status, 'stopped', 'control: the stopped container still exists');
  },
);

req(
  {
    id: 'delete-force-running',
    section: 'runc CLI (delete --force)',
    title: 'delete --force of a running container kills and removes it',
    quote: 'runc delete --force: "Forcibly deletes the container if it is still running (uses SIGKILL)"; callers (containerd, podman) rely on it.',
  },
  async (t, k) => {
    const c = await k.mustStart(k.config({ script: 'sleep 30' }));
    const pid = /** @type {number} */ ((await c.state()).json?.pid);
    const r = await c.delete({ force: true });
    t.equal(r.status, 0, `delete --force succeeds (${describe(r)})`);
    t.not((await c.state()).status, 0, 'the container no longer exists');
    await new Promise((res) => setTimeout(res, 100));
    t.notOk(alive(pid), 'its process is gone');
  },
);

req(
  {
    id: 'id-reuse-after-delete',
    section: 'runtime.md#delete',
    title: 'the id of a deleted container can be used again',
    quote: '"Once a container is deleted its ID MAY be used by a subsequent container." (every runtime callers use allows it)',
  },
  async (t, k) => {
    const id = k.id();
    const c = await k.mustStart(k.config({ script: 'true' }), { id });
    await c.waitStatus('stopped');
    k.need((await c.delete()).status === 0, 'delete succeeds');
    const again = await k.create(k.config({ script: 'true' }), { id });
    t.equal(again.createRes.status, 0, `create with the same id succeeds (${describe(again.createRes)})`);
  },
);
