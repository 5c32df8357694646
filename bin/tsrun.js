#!/usr/bin/env node
// tsrun's executable. CommonJS on purpose (bin/package.json): Node starts a CJS
// entry faster than an ES module, and on Node 20 only code compiled through
// vm.Script can use V8's code cache (Node >= 22.1 has module.enableCompileCache,
// which this does by hand).
//
// It loads ONE file, dist/bundle/tsrun.cjs (src/ bundled by esbuild in
// scripts/build.mjs), compiled from one of two code caches the build wrote:
//   tsrun.cjs.full.cache  every function compiled: for create, run and exec,
//                         which run most of the bundle (validation, planning)
//   tsrun.cjs.cache       the top level and the common path only: for every
//                         other command, as it deserializes several times faster
// A cache starts with the identity (inode, size, mtime) of the bundle it was
// made from and is used only for that exact file; V8 itself refuses a cache of
// another Node version or other V8 flags. A missing or refused cache, or a
// wrong guess of the command below, only costs time.
// TSRUN_CODE_CACHE=off ignores the caches; =write-light and =write-full (the
// build) rewrite one after the command. Without a bundle it falls back to
// dist/src (the tsc output).
'use strict';
const { closeSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'bundle', 'tsrun.cjs');
const mode = process.env.TSRUN_CODE_CACHE;
const argv = process.argv.slice(2);

/** The command word: the first argument that is neither a global flag nor the value of one. */
function commandWord() {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return argv[i + 1];
    if (!a.startsWith('-')) return a;
    if (/^--?(root|log|log-format|rootless)$/.test(a)) i++;
  }
  return undefined;
}

const full = mode === 'write-full' || (mode !== 'write-light' && ['create', 'run', 'exec'].includes(commandWord()));
const cacheFile = `${bundle}${full ? '.full' : ''}.cache`;

function loadBundle() {
  let fd;
  try {
    fd = openSync(bundle, 'r');
  } catch {
    return undefined;
  }
  const st = fstatSync(fd, { bigint: true });
  const source = readFileSync(fd, 'utf8');
  closeSync(fd);
  const identity = Buffer.from(`${st.ino}:${st.size}:${st.mtimeNs}\n`);
  let cachedData;
  if (mode === undefined) {
    try {
      const cache = readFileSync(cacheFile);
      if (cache.subarray(0, identity.length).equals(identity)) cachedData = cache.subarray(identity.length);
    } catch {
      // no cache: compile from source
    }
  }
  const vm = require('node:vm');
  const v8 = mode === 'write-full' ? require('node:v8') : undefined;
  // Compiled eagerly for the full cache; the flag is restored before the cache is made, as
  // V8 stamps a cache with the flags of the moment and refuses it under others.
  v8?.setFlagsFromString('--no-lazy');
  // The CommonJS wrapper, as Node's own loader compiles a module.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
  v8?.setFlagsFromString('--lazy');
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require('node:module').createRequire(bundle), module, bundle, join(bundle, '..'));
  return { main: module.exports.main, script, identity };
}

function writeCache({ script, identity }) {
  const tmp = `${cacheFile}.${process.pid}`;
  writeFileSync(tmp, Buffer.concat([identity, script.createCachedData()]));
  renameSync(tmp, cacheFile);
}

const loaded = loadBundle();
const main = loaded ? Promise.resolve(loaded.main) : import('../dist/src/cli/main.js').then((m) => m.main);
main
  .then((run) => run(argv))
  .then(
    (status) => {
      if (loaded && (mode === 'write-light' || mode === 'write-full')) writeCache(loaded);
      process.exit(status);
    },
    (err) => {
      process.stderr.write(`tsrun: cannot start: ${err instanceof Error ? err.message : String(err)} (was \`npm run build\` run?)\n`);
      process.exit(1);
    },
  );
