// koffi, loaded the fast way. The package's index.js first loads its installer (which
// downloads prebuilt binaries: https, zlib, crypto, ~8 ms of Node built-ins on the
// development machine), then finds the addon of this platform. Every native/ module
// that needs koffi takes it from here: the addon of this platform is required directly,
// and the package itself only when that fails (another libc, an unusual architecture).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Koffi = typeof import('koffi');

let loaded: Koffi | undefined;

export function koffi(): Koffi {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    const dir = dirname(require.resolve('koffi'));
    const addon = require(join(dir, 'build', 'koffi', `${process.platform}_${process.arch}`, 'koffi.node')) as Koffi & { version?: string };
    const pkg = require(join(dir, 'package.json')) as { version?: string };
    // index.js refuses a mismatched addon: so do we (then the package decides).
    if (addon.version === pkg.version) return (loaded = addon);
  } catch {
    // not the usual layout: let the package find its addon
  }
  return (loaded = require('koffi') as Koffi);
}
