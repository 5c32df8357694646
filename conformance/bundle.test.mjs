// @ts-check
// bundle.md and config.md#root: loading the bundle. A bundle the runtime
// cannot use makes create fail and leaves nothing behind (the Kit's cleanup
// checks processes, cgroups, mounts; each case checks `state`).
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('bundle');

/**
 * create must fail and the container must not exist afterwards.
 * @param {any} t
 * @param {import('./lib/kit.mjs').Kit} k
 * @param {string} bundle
 * @param {string} what
 */
async function expectCreateFails(t, k, bundle, what) {
  // control: the runtime creates a valid bundle (a crashing runtime must not pass)
  const control = await k.mustCreate(k.config({ script: 'sleep 30' }));
  k.need((await control.state()).json?.status === 'created', 'control: a valid bundle is created');
  const id = k.id();
  k.ids.add(id);
  const r = await k.rt.create(id, bundle);
  t.not(r.status, 0, `create fails: ${what} (${describe(r)})`);
  t.notOk(r.timedOut, 'create does not hang');
  const s = await k.rt.state(id);
  t.not(s.status, 0, `state says the container does not exist (${describe(s)})`);
  t.notOk(fs.existsSync(path.join(k.results, 'ran')), 'nothing ran');
}

req(
  {
    id: 'config-missing',
    section: 'bundle.md',
    title: 'a bundle without config.json is refused',
    quote: '"config.json: contains configuration data. This REQUIRED file MUST reside in the root of the bundle directory and MUST be named config.json."',
  },
  async (t, k) => {
    const bundle = k.bundle(null);
    await expectCreateFails(t, k, bundle, 'no config.json');
  },
);

req(
  {
    id: 'config-misnamed',
    section: 'bundle.md',
    title: 'a config under another name is not used',
    quote: '"This REQUIRED file MUST reside in the root of the bundle directory and MUST be named config.json."',
  },
  async (t, k) => {
    const bundle = k.bundle(null);
    fs.writeFileSync(path.join(bundle, 'Config.json'), JSON.stringify(k.config({ script: 'echo ran > /results/ran', results: true })));
    await expectCreateFails(t, k, bundle, 'Config.json instead of config.json');
  },
);

req(
  {
    id: 'config-invalid-json',
    section: 'config.md',
    title: 'a config.json that is not JSON is refused',
    quote: '"If the runtime is unable to create the environment specified in the config.json, it MUST generate an error." (runtime.md#lifecycle)',
  },
  async (t, k) => {
    const good = JSON.stringify(k.config({ script: 'echo ran > /results/ran', results: true }));
    const bundle = k.bundle(good.slice(0, -5));
    await expectCreateFails(t, k, bundle, 'truncated JSON');
  },
);

req(
  {
    id: 'config-args-not-array',
    section: 'config.md#process',
    title: 'a config whose process.args is not an array is refused',
    quote: '"Runtimes MUST generate an error when invalid or unsupported values are encountered." (config.md#valid-values; process.args is an array of strings)',
  },
  async (t, k) => {
    const cfg = k.config({ results: true });
    cfg.process.args = 'echo ran > /results/ran';
    await expectCreateFails(t, k, k.bundle(cfg), 'process.args is a string');
  },
);

req(
  {
    id: 'config-unknown-namespace',
    section: 'config-linux.md#namespaces',
    title: 'a namespace of an unknown type is refused',
    quote: '"Runtimes MUST generate an error when invalid or unsupported values are encountered." (config.md#valid-values)',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.linux.namespaces.push({ type: 'no-such-namespace' });
    await expectCreateFails(t, k, k.bundle(cfg), 'namespace type "no-such-namespace"');
  },
);

req(
  {
    id: 'config-unknown-property',
    section: 'config.md#extensibility',
    title: 'unknown properties are ignored, not an error',
    quote: '"Runtimes MAY log unknown properties but MUST otherwise ignore them. That includes not generating errors if they encounter an unknown property."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['echo', 'ran'] });
    cfg.comExampleUnknown = { nested: [1, 2, 3] };
    cfg.process.comExampleUnknown = 'x';
    cfg.linux.comExampleUnknown = true;
    const c = await k.mustStart(cfg);
    await c.waitStatus('stopped');
    t.equal(c.output(), 'ran\n', 'the container ran');
  },
);

req(
  {
    id: 'root-missing',
    section: 'config.md#root',
    title: 'a root.path that does not exist is refused',
    quote: '"path (string, REQUIRED) Specifies the path to the root filesystem for the container. ... A directory MUST exist at the path declared by the field."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'true' });
    cfg.root.path = 'no-such-rootfs';
    await expectCreateFails(t, k, k.bundle(cfg), 'root.path does not exist');
  },
);

req(
  {
    id: 'root-not-directory',
    section: 'config.md#root',
    title: 'a root.path that is a file is refused',
    quote: '"A directory MUST exist at the path declared by the field."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'true' });
    cfg.root.path = 'rootfile';
    const bundle = k.bundle(cfg);
    fs.writeFileSync(path.join(bundle, 'rootfile'), 'not a directory\n');
    await expectCreateFails(t, k, bundle, 'root.path is a regular file');
  },
);

req(
  {
    id: 'bundle-missing',
    section: 'runtime.md#create',
    title: 'create with a bundle path that does not exist fails',
    quote: '"create <container-id> <path-to-bundle>" — "If the runtime is unable to create the environment specified in the config.json, it MUST generate an error."',
  },
  async (t, k) => {
    await expectCreateFails(t, k, path.join(k.dir, 'no-such-bundle'), 'the bundle directory does not exist');
  },
);

req(
  {
    id: 'root-relative-to-bundle',
    section: 'config.md#root',
    title: 'a relative root.path is relative to the bundle, not to the cwd',
    quote: '"On POSIX platforms, path is either an absolute path or a relative path to the bundle."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'cat /marker' });
    cfg.root.path = 'myroot';
    const bundle = k.bundle(cfg, { rootfs: false });
    // build the rootfs under the name the config uses
    const { makeRootfs } = await import('./lib/bundle.mjs');
    makeRootfs(path.join(bundle, 'myroot'));
    fs.writeFileSync(path.join(bundle, 'myroot', 'marker'), 'the bundle rootfs\n');
    const c = await k.mustStart(bundle, { cwd: '/' });
    await c.waitStatus('stopped');
    t.equal(c.output(), 'the bundle rootfs\n', 'the container sees the rootfs of the bundle');
  },
);

req(
  {
    id: 'root-absolute',
    section: 'config.md#root',
    title: 'an absolute root.path outside the bundle is used',
    quote: '"On POSIX platforms, path is either an absolute path or a relative path to the bundle."',
  },
  async (t, k) => {
    const { makeRootfs } = await import('./lib/bundle.mjs');
    const elsewhere = path.join(k.dir, 'elsewhere-rootfs');
    makeRootfs(elsewhere);
    fs.writeFileSync(path.join(elsewhere, 'marker'), 'absolute rootfs\n');
    const cfg = k.config({ script: 'cat /marker' });
    cfg.root.path = elsewhere;
    const c = await k.mustStart(k.bundle(cfg, { rootfs: false }));
    await c.waitStatus('stopped');
    t.equal(c.output(), 'absolute rootfs\n', 'the container sees the absolute rootfs');
  },
);

req(
  {
    id: 'config-changes-after-create',
    section: 'runtime.md#lifecycle',
    title: 'changing config.json after create does not affect the container',
    quote: '"Any updates to config.json after this step MUST NOT affect the container."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['echo', 'original'] });
    const bundle = k.bundle(cfg);
    const c = await k.mustCreate(bundle);
    cfg.process.args = ['echo', 'changed'];
    cfg.hostname = 'changed';
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(cfg));
    k.need((await c.start()).status === 0, 'start succeeds');
    await c.waitStatus('stopped');
    t.equal(c.output(), 'original\n', 'the process of the original config ran');
  },
);

req(
  {
    id: 'config-deleted-after-create',
    section: 'runtime.md#lifecycle',
    title: 'removing config.json after create does not affect the container',
    quote: '"Any updates to config.json after this step MUST NOT affect the container."',
  },
  async (t, k) => {
    const bundle = k.bundle(k.config({ args: ['echo', 'still here'] }));
    const c = await k.mustCreate(bundle);
    fs.rmSync(path.join(bundle, 'config.json'));
    const r = await c.start();
    t.equal(r.status, 0, `start succeeds without config.json (${describe(r)})`);
    await c.waitStatus('stopped');
    t.equal(c.output(), 'still here\n', 'the process ran');
  },
);

req(
  {
    id: 'oci-version-invalid',
    section: 'config.md#specification-version',
    title: 'an ociVersion that is not SemVer is refused',
    quote: '"ociVersion (string, REQUIRED) MUST be in SemVer v2.0.0 format and specifies the version of the Open Container Initiative Runtime Specification with which the bundle complies." "Runtimes MUST generate an error when invalid or unsupported values are encountered."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.ociVersion = 'invalid';
    await k.expectCreateFails(k.config({ script: 'true' }), cfg, 'ociVersion "invalid"');
  },
);

req(
  {
    id: 'annotations-unknown-key',
    section: 'config.md#annotations',
    title: 'an unknown annotation key is not an error',
    quote: '"Implementations that are reading/processing this configuration file MUST NOT generate an error if they encounter an unknown annotation key."',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['echo', 'ran'] });
    cfg.annotations = { 'org.example.unknown-to-every-runtime': '', 'com.example.other': 'x' };
    const c = await k.mustStart(cfg);
    await c.waitStatus('stopped');
    t.equal(c.output(), 'ran\n', 'the container ran');
  },
);
