// The bundles: one busybox-static root filesystem shared by two configs,
// `true/` (process /bin/true) and `sleep/` (a long-running /bin/sleep for
// kill and exec), both from a runtime's default `spec`.
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUSYBOX = '/bin/busybox';

/**
 * @param {string} base  scratch dir
 * @param {any} specConfig  a default config.json (from `<runtime> spec`)
 * @param {{ drop?: string[] }} [o]  drop: dotted paths removed from the config (for every runtime)
 */
export function makeBundles(base, specConfig, o = {}) {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: apt-get install -y busybox-static`);
  const rootfs = join(base, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  // mount points exist up front: root.readonly is true in the default config,
  // and parallel creates share this rootfs
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  for (const applet of ['true', 'sleep', 'sh']) symlinkSync('busybox', join(rootfs, 'bin', applet));

  /** @param {string} name @param {string[]} args */
  const bundle = (name, args) => {
    const dir = join(base, name);
    mkdirSync(dir, { recursive: true });
    const config = structuredClone(specConfig);
    config.root = { ...(config.root ?? {}), path: rootfs };
    config.process = { ...(config.process ?? {}), args, terminal: false };
    for (const path of o.drop ?? []) dropPath(config, path);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return dir;
  };
  return { rootfs, trueBundle: bundle('bundle-true', ['/bin/true']), sleepBundle: bundle('bundle-sleep', ['/bin/sleep', '86400']) };
}

/**
 * Removes `a.b.c` from obj, and the objects that this leaves empty.
 * @param {any} obj @param {string} path
 */
export function dropPath(obj, path) {
  const keys = path.split('.');
  const last = /** @type {string} */ (keys.pop());
  /** @type {any[]} */
  const chain = [obj];
  for (const k of keys) {
    const next = chain.at(-1)?.[k];
    if (next === null || typeof next !== 'object') return false;
    chain.push(next);
  }
  const parent = chain.at(-1);
  if (!(last in parent)) return false;
  delete parent[last];
  for (let i = keys.length - 1; i >= 0; i--) {
    const holder = chain[i];
    const k = /** @type {string} */ (keys[i]);
    if (Object.keys(holder[k]).length === 0) delete holder[k];
    else break;
  }
  return true;
}
