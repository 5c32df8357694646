#!/usr/bin/env node
// tsrun's executable. CommonJS on purpose (bin/package.json): Node starts a CJS
// entry faster than an ES module, and on Node 20 only code compiled through
// vm.Script can use V8's code cache (Node >= 22.1 has module.enableCompileCache,
// which this does by hand).
//
// It loads one of two bundles (src/ bundled by esbuild in scripts/build.mjs, each one CommonJS
// wrapper function), chosen by the command word:
//   tsrun-light.cjs  src/cli/main-light.ts: start, state, kill, delete, list, ps, pause, resume,
//                    events (~80 KB minified: no validators, planners or seccomp to read)
//   tsrun.cjs        src/cli/main.ts: everything (the light bundle passes on what it lacks)
// Each is compiled from one of these code caches:
//   <bundle>.<cmd>.cache  for create, run and exec: only the functions that command ran,
//                         written by the first one that succeeded after a build (below)
//   <bundle>.full.cache   every function compiled (the build): for create, run and exec
//                         until their own cache exists, or when it cannot be written
//   <bundle>.cache        the top level and the common path only (the build): for every
//                         other command, as it deserializes several times faster
// A command's own cache is made as Node 22's compile cache is: the build cannot run a
// container, so the first create/run/exec that exits 0 with a writable dist/bundle starts from
// the light cache, compiles the rest lazily and saves what it compiled (~40 ms more, once).
// It is 40-60% smaller than the full one (run ~530 KB, exec ~340 KB, full ~900 KB), and V8
// deserializes it in proportion: run -5 ms of CPU and -480 page faults, exec -8 to -12 ms.
// A cache starts with the identity (inode, size, mtime) of the bundle it was
// made from and is used only for that exact file; V8 itself refuses a cache of
// another Node version or other V8 flags. A missing or refused cache, or a
// wrong guess of the command below, only costs time.
// TSRUN_CODE_CACHE=off ignores the caches (and writes none); =write-light and
// =write-full (the build) rewrite one after the command. Without a bundle it
// falls back to dist/src (the tsc output).
'use strict';
const { accessSync, closeSync, constants, fstatSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = join(__dirname, '..', 'dist', 'bundle');
const FULL = join(dir, 'tsrun.cjs');
const LIGHT = join(dir, 'tsrun-light.cjs');
// The commands of src/cli/main-light.ts (a unit test holds the two lists equal).
const LIGHT_WORDS = ['start', 'state', 'kill', 'delete', 'list', 'ps', 'pause', 'resume', 'events'];
const mode = process.env.TSRUN_CODE_CACHE;
const argv = process.argv.slice(2);
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {';

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

const word = commandWord();
const heavy = ['create', 'run', 'exec'].includes(word);
// Not for help or version: they exit 0 without the command's path, and would leave a cache that misses it.
const asksHelp = argv.some((a) => /^(-h|--help|-v|--version)$/.test(a));

/** The cache's payload if it was made from this very bundle, else undefined. */
function readCache(file, identity) {
  try {
    const cache = readFileSync(file);
    if (cache.subarray(0, identity.length).equals(identity)) return cache.subarray(identity.length);
  } catch {
    // no cache
  }
  return undefined;
}

/** Whether this process may write a cache beside the bundle (root, or an install it owns). */
function writable() {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Compiles `bundle` from the best cache it has, runs its top level and returns its main.
 * `fullCode`: the heavy commands' full cache (and their own); else the light one.
 */
function loadBundle(bundle, fullCode) {
  let fd;
  try {
    fd = openSync(bundle, 'r');
  } catch {
    return undefined;
  }
  const st = fstatSync(fd, { bigint: true });
  // 'utf8' takes Node's C++ reader (no JS Buffer of the whole file: ~0.7 ms less than 'latin1'
  // in a fresh process); the bundle is ASCII (the build checks it), which V8 keeps one byte a character.
  const source = readFileSync(fd, 'utf8');
  closeSync(fd);
  const identity = Buffer.from(`${st.ino}:${st.size}:${st.mtimeNs}\n`);
  const full = mode === 'write-full' || (mode !== 'write-light' && fullCode);
  const fullCache = `${bundle}${full ? '.full' : ''}.cache`;
  const ownCache = mode === undefined && fullCode && heavy && !asksHelp ? `${bundle}.${word}.cache` : undefined;
  let cachedData = ownCache === undefined ? undefined : readCache(ownCache, identity);
  const own = cachedData !== undefined;
  // The command's own cache to write if it succeeds. Training starts from the light cache and
  // compiles the rest lazily: after the full one, the cache would hold every function again.
  let train = !own && ownCache !== undefined && writable() ? ownCache : undefined;
  if (mode === undefined && !own) cachedData = readCache(train === undefined ? fullCache : `${bundle}.cache`, identity);
  const vm = require('node:vm');
  const v8 = mode === 'write-full' ? require('node:v8') : undefined;
  // Compiled eagerly for the full cache; the flag is restored before the cache is made, as
  // V8 stamps a cache with the flags of the moment and refuses it under others.
  v8?.setFlagsFromString('--no-lazy');
  // The bundle is already the CommonJS wrapper (scripts/build.mjs): compiled as it was read, with
  // no copy. An older bundle without it is wrapped here, as Node's own loader wraps a module.
  const code = source.startsWith(WRAPPER) ? source : `${WRAPPER}${source}\n})`;
  const script = new vm.Script(code, { filename: bundle, cachedData });
  v8?.setFlagsFromString('--lazy');
  const module = { exports: {} };
  // This file's own require(): the bundle asks it for built-ins and ajv's runtime helpers, which
  // resolve the same from bin/ as from dist/bundle/ (one package), and node:module stays unloaded.
  script.runInThisContext()(module.exports, require, module, bundle, dir);
  // An own cache that V8 refused (another Node, other flags) is made again: this compile was lazy.
  if (own && script.cachedDataRejected === true && writable()) train = ownCache;
  return { main: module.exports.main, exit: module.exports.exit, script, identity, train, cacheFile: fullCache };
}

/** Written aside and renamed: concurrent tsruns (parallel creates) each find a whole cache or none. */
function writeCache({ script, identity }, file) {
  const tmp = `${file}.${process.pid}`;
  try {
    writeFileSync(tmp, Buffer.concat([identity, script.createCachedData()]));
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // not written
    }
    if (mode !== undefined) throw err; // the build says it could not; a command only starts slower next time
  }
}

/** The whole of tsrun: the full bundle, else the tsc output (no bundle built). */
function fullMain() {
  const loaded = loadBundle(FULL, true);
  return { loaded, main: loaded ? Promise.resolve(loaded.main) : import('../dist/src/cli/main.js').then((m) => m.main) };
}

// The commands that only read, signal or remove a container run from the light bundle; a
// command it does not hold (a wrong guess of the word) is passed on to the full one.
const light = LIGHT_WORDS.includes(word) ? loadBundle(LIGHT, false) : undefined;
const chosen = light ? { loaded: light, main: Promise.resolve((args) => light.main(args, (again) => fullMain().main.then((run) => run(again)))) } : fullMain();
chosen.main
  .then((run) => run(argv))
  .then(
    (status) => {
      const { loaded } = chosen;
      if (loaded && (mode === 'write-light' || mode === 'write-full')) writeCache(loaded, loaded.cacheFile);
      // Only a success: a failed create stops early, and its cache would miss most of the path.
      else if (loaded?.train !== undefined && status === 0) writeCache(loaded, loaded.train);
      // The bundle's exit: _exit(2) when Node has nothing left to finish (native/exit.ts).
      (loaded?.exit ?? process.exit)(status);
    },
    (err) => {
      process.stderr.write(`tsrun: cannot start: ${err instanceof Error ? err.message : String(err)} (was \`npm run build\` run?)\n`);
      process.exit(1);
    },
  );
