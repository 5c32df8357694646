// koffi, loaded the fast way. The package's index.js first loads its installer (which
// downloads prebuilt binaries: https, zlib, crypto, ~8 ms of Node built-ins on the
// development machine), then finds the addon of this platform. Every native/ module
// that needs koffi takes it from here: the addon of this platform is loaded directly,
// and the package itself only when that fails (another libc, an unusual architecture).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtin } from '../src/builtin.js';

type Koffi = typeof import('koffi');

let loaded: Koffi | undefined;

export function koffi(): Koffi {
  if (loaded) return loaded;
  // dist/native/*.js and dist/bundle/*.cjs sit two levels under the package root, native/*.ts
  // (vitest) one: koffi is looked for in the package's own node_modules first, without the
  // resolver's walk (~1 ms) and without the file URL (node:url, ~1 ms in the bundle).
  const here = import.meta.dirname ?? dirname(fileURLToPath(import.meta.url));
  for (const root of [join(here, '..', '..'), join(here, '..')]) {
    const addon = addonIn(join(root, 'node_modules', 'koffi'));
    if (addon) return (loaded = addon);
  }
  // node:module (and Node's ES module loader with it) only on this path.
  const require = builtin('node:module').createRequire(import.meta.filename ?? import.meta.url);
  let dir: string | undefined;
  try {
    dir = dirname(require.resolve('koffi'));
  } catch {
    // not installed where Node looks: require() below says so
  }
  return (loaded = (dir === undefined ? undefined : addonIn(dir)) ?? (require('koffi') as Koffi));
}

/** The addon of this platform in koffi's package `dir`, if it is there and of the package's version. */
function addonIn(dir: string): Koffi | undefined {
  let version: unknown;
  try {
    version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch {
    return undefined;
  }
  const module = { exports: {} as Koffi & { version?: string } };
  try {
    // What require() does for a .node file, without its resolution and module cache.
    process.dlopen(module, join(dir, 'build', 'koffi', `${process.platform}_${process.arch}`, 'koffi.node'));
  } catch {
    return undefined;
  }
  // index.js refuses a mismatched addon: so do we (then the package decides).
  return module.exports.version === version ? module.exports : undefined;
}
