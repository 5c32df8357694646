// The bench's `load` row: what a tsrun `run` pays before its first line of work, and nothing
// else. Node starts; tsrun's bundle is compiled from run's own code cache and its top level runs
// (as bin/tsrun.js does it); koffi and libc are loaded; then _exit(2), as tsrun itself exits.
// Subtracted from `run`, it leaves what the command's own work costs: its JavaScript and its
// syscalls. Usage: node load-floor.cjs <tsrun tree> [command whose cache to use, default run]
'use strict';
const { readFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const [tree, word = 'run'] = process.argv.slice(2);
if (!tree) {
  process.stderr.write('usage: node load-floor.cjs <tsrun tree> [command]\n');
  process.exit(2);
}
const root = resolve(tree);
const dir = join(root, 'dist', 'bundle');
const bundle = join(dir, 'tsrun.cjs');
const source = readFileSync(bundle, 'utf8');
let cache;
try {
  cache = readFileSync(`${bundle}.${word}.cache`);
} catch {
  process.stderr.write(`load-floor: no ${word} cache beside ${bundle} yet: run \`tsrun ${word}\` once first\n`);
  process.exit(1);
}
// A cache starts with one line naming the bundle it was made from (bin/tsrun.js checks it).
const vm = require('node:vm');
const script = new vm.Script(source, { filename: bundle, cachedData: cache.subarray(cache.indexOf(10) + 1) });
if (script.cachedDataRejected) {
  process.stderr.write(`load-floor: V8 refused ${bundle}.${word}.cache (another build or Node)\n`);
  process.exit(1);
}
const bundled = { exports: {} };
script.runInThisContext()(bundled.exports, require('node:module').createRequire(bundle), bundled, bundle, dir);
const koffi = { exports: {} };
process.dlopen(koffi, join(root, 'node_modules', 'koffi', 'build', 'koffi', `linux_${process.arch}`, 'koffi.node'));
koffi.exports.load('libc.so.6').func('void _exit(int status)')(0);
