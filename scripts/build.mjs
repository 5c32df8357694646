#!/usr/bin/env node
// `npm install` / `npm run build`: everything tsrun needs to run, in order:
//   1. the precompiled schema validators (ajv standalone code, no schema compiled at run time)
//   2. TypeScript -> dist/ (also the type check)
//   3. one bundle of everything bin/tsrun.js runs: dist/bundle/tsrun.cjs (esbuild), and
//      V8's code cache for it (see bin/tsrun.js and README, "Performance")
//   4. the C stub (native/stub) with the system C compiler
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The head of dist/bundle/tsrun.cjs; bin/tsrun.js checks for it (the same text). */
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {';

function step(name, cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) {
    console.error(`tsrun build: ${name}: cannot run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`tsrun build: ${name} failed (${cmd} exited ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

step('schema validators', process.execPath, [join(root, 'scripts/build-schemas.mjs')]);
step('typescript', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
await bundle();
step('stub', process.execPath, [join(root, 'scripts/build-stub.mjs')]);
if (!existsSync(join(root, 'native/stub/tsrun-stub'))) {
  console.error('tsrun build: native/stub/tsrun-stub was not produced');
  process.exit(1);
}

/**
 * dist/bundle/tsrun.cjs: src/cli/main.ts and everything it imports, in one CommonJS function
 * expression (not a module: bin/tsrun.js compiles it and calls it as Node would a module);
 * dist/bundle/tsrun-light.cjs: the same of src/cli/main-light.ts, the commands that only read,
 * signal or remove a container (a fifth of the size: less to read at every `state`).
 * Command modules stay lazy (esbuild turns each `import()` into a deferred init), koffi
 * stays outside (a native addon, required at its first use). The bundles live two levels
 * under the package root, as dist/native/*.js do: native/stub.ts finds the stub from there.
 */
async function bundle() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    console.error('tsrun build: esbuild is not installed (a devDependency): bin/tsrun.js falls back to dist/src, which starts slower');
    return;
  }
  for (const [entry, name] of [
    ['src/cli/main.ts', 'tsrun.cjs'],
    ['src/cli/main-light.ts', 'tsrun-light.cjs'],
  ]) {
    await bundleOne(esbuild, entry, join(root, 'dist/bundle', name));
  }
  // The build's code caches (bin/tsrun.js): tsrun runs a harmless command with TSRUN_CODE_CACHE set.
  // `list` of a root that does not exist prints an empty table and touches nothing (the light
  // bundle's cache); `features` prints JSON (the full bundle's light cache, where create, run and
  // exec start to write their own); `--help` loads the full bundle (its full cache).
  const scratch = mkdtempSync(join(tmpdir(), 'tsrun-build-'));
  try {
    for (const [mode, args] of [
      ['write-light', ['--root', join(scratch, 'none'), 'list']],
      ['write-light', ['features']],
      ['write-full', ['--help']],
    ]) {
      const r = spawnSync(process.execPath, [join(root, 'bin/tsrun.js'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TSRUN_CODE_CACHE: mode } });
      if (r.status !== 0) console.error(`tsrun build: could not write the code cache (${mode}): tsrun still works, it starts slower`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** One entry point's bundle, written aside and renamed over the old one. */
async function bundleOne(esbuild, entry, out) {
  // A tsrun started during a build (other tests running) finds either bundle, never none. Its
  // caches then no longer match until rewritten below: slower for a moment, never wrong.
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await esbuild.build({
      entryPoints: [join(root, entry)],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['koffi'],
      // import.meta does not exist in CommonJS: native/ finds koffi and the stub from its dirname,
      // and a lazy require names its module by filename; the url, for the fallbacks, is computed
      // when asked (no node:url, no URL at start-up).
      define: { 'import.meta': '__tsrun_import_meta' },
      // The file is already the CommonJS wrapper that bin/tsrun.js compiles (as Node's loader wraps
      // a module): concatenating it at run time made V8 flatten a second copy of the whole string (~200 page
      // faults, ~1 ms). "use strict" first in the body: esbuild's own comes after the banner,
      // where it is no directive.
      banner: {
        js: `${WRAPPER}"use strict";\nvar __tsrun_import_meta = { get url() { return require("node:url").pathToFileURL(__filename).href; }, dirname: __dirname, filename: __filename };`,
      },
      footer: { js: '})' },
      legalComments: 'none',
      // Minified: V8 reads (as a string) and deserializes less. run -3 ms of CPU and -190 page
      // faults (bench/README.md, Round 3). Error messages are written out in the source, so
      // none changes; a --debug stack names minified functions. The map (not read at run
      // time) lets bench:phases attribute a profile's frames to modules and functions.
      minify: true,
      sourcemap: 'external',
      sourcesContent: false,
      logLevel: 'warning',
    });
    // ASCII only: V8 then holds the source one byte a character (a single non-ASCII character
    // would double it). esbuild escapes strings but not regex literals; spell those \uXXXX.
    const nonAscii = readFileSync(tmp).findIndex((byte) => byte > 0x7f);
    if (nonAscii >= 0) {
      rmSync(tmp, { force: true });
      console.error(`tsrun build: ${entry}'s bundle has a non-ASCII byte at offset ${nonAscii}: escape it in the source (\\uXXXX)`);
      process.exit(1);
    }
    renameSync(`${tmp}.map`, `${out}.map`);
    renameSync(tmp, out);
    // The caches that create, run and exec write for themselves (bin/tsrun.js) belong to the old
    // bundle: their identity check would refuse them anyway; removed so that none lingers.
    for (const cmd of ['create', 'run', 'exec']) rmSync(`${out}.${cmd}.cache`, { force: true });
  } catch {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.map`, { force: true });
    console.error(`tsrun build: bundling ${entry} with esbuild failed`);
    process.exit(1);
  }
}
