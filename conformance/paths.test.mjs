// @ts-check
// config-linux.md#masked-paths and #readonly-paths.
import fs from 'node:fs';
import path from 'node:path';
import { area } from './lib/kit.mjs';
import { setCaps } from './lib/config.mjs';

const req = area('paths');

/**
 * A bundle whose rootfs has a secret file and a secret dir.
 * @param {import('./lib/kit.mjs').Kit} k
 * @param {any} cfg
 */
function bundleWithSecrets(k, cfg) {
  const bundle = k.bundle(cfg);
  const r = path.join(bundle, 'rootfs');
  fs.writeFileSync(path.join(r, 'secret.txt'), 'top secret\n');
  fs.mkdirSync(path.join(r, 'secretdir'));
  fs.writeFileSync(path.join(r, 'secretdir', 'inner.txt'), 'inner secret\n');
  fs.mkdirSync(path.join(r, 'rodir'), { mode: 0o777 });
  fs.mkdirSync(path.join(r, 'rwdir'), { mode: 0o777 });
  return bundle;
}

req(
  {
    id: 'masked-file',
    section: 'config-linux.md#masked-paths',
    title: 'a masked file cannot be read',
    quote: '"maskedPaths (array of strings, OPTIONAL) will mask over the provided paths inside the container so that they cannot be read."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'echo "[$(cat /secret.txt 2>/dev/null)]"' });
    cfg.linux.maskedPaths = ['/secret.txt'];
    t.equal(await k.mustRun(bundleWithSecrets(k, cfg)), '[]\n', 'nothing of the file can be read');
  },
);

req(
  {
    id: 'masked-dir',
    section: 'config-linux.md#masked-paths',
    title: 'a masked directory cannot be read',
    quote: '"maskedPaths (array of strings, OPTIONAL) will mask over the provided paths inside the container so that they cannot be read."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'echo "[$(ls -A /secretdir 2>/dev/null)]"; echo "[$(cat /secretdir/inner.txt 2>/dev/null)]"' });
    cfg.linux.maskedPaths = ['/secretdir'];
    t.equal(await k.mustRun(bundleWithSecrets(k, cfg)), '[]\n[]\n', 'the directory looks empty and its file is unreadable');
  },
);

req(
  {
    id: 'masked-proc',
    section: 'config-linux.md#masked-paths',
    title: 'a masked /proc file cannot be read',
    quote: '"maskedPaths ... will mask over the provided paths inside the container so that they cannot be read." (example: "/proc/kcore")',
  },
  async (t, k) => {
    const cfg = setCaps(k.config({ script: 'head -c 16 /proc/kcore 2>/dev/null | wc -c; head -c 16 /proc/timer_list 2>/dev/null | wc -c' }), [
      'CAP_SYS_RAWIO',
      'CAP_SYS_ADMIN',
    ]);
    cfg.linux.maskedPaths = ['/proc/kcore', '/proc/timer_list'];
    const [kcore, timers] = (await k.mustRun(cfg)).trim().split(/\s+/);
    t.equal(kcore, '0', '/proc/kcore reads nothing');
    t.equal(timers, '0', '/proc/timer_list reads nothing');
  },
);

req(
  {
    id: 'masked-unmasked-control',
    section: 'config-linux.md#masked-paths',
    title: 'paths that are not masked stay readable',
    quote: '"maskedPaths ... will mask over the provided paths" (only those)',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'cat /secret.txt; cat /secretdir/inner.txt' });
    cfg.linux.maskedPaths = ['/secretdir/nonexistent-masked'];
    t.equal(await k.mustRun(bundleWithSecrets(k, cfg)), 'top secret\ninner secret\n', 'unmasked files read normally');
  },
);

req(
  {
    id: 'readonly-dir',
    section: 'config-linux.md#readonly-paths',
    title: 'a readonly path cannot be written, its neighbours can',
    quote: '"readonlyPaths (array of strings, OPTIONAL) will set the provided paths as readonly inside the container."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'touch /rodir/f 2>&1; touch /rwdir/f && echo rw-ok; ls /rodir' });
    cfg.linux.readonlyPaths = ['/rodir'];
    const out = await k.mustRun(bundleWithSecrets(k, cfg));
    t.match(out, /Read-only file system/, 'writing under /rodir fails with EROFS');
    t.match(out, /rw-ok/, '/rwdir is writable');
  },
);

req(
  {
    id: 'readonly-proc-sys',
    section: 'config-linux.md#readonly-paths',
    title: 'a readonly /proc/sys cannot be written even with CAP_SYS_ADMIN',
    quote: '"readonlyPaths (array of strings, OPTIONAL) will set the provided paths as readonly inside the container." (example: "/proc/sys")',
  },
  async (t, k) => {
    const script = '(echo changed-by-proc > /proc/sys/kernel/hostname) 2>&1; cat /proc/sys/kernel/hostname';
    const control = setCaps(k.config({ script }), ['CAP_SYS_ADMIN']);
    t.equal((await k.mustRun(control)).trim(), 'changed-by-proc', 'control: without readonlyPaths the write works');
    const cfg = setCaps(k.config({ script }), ['CAP_SYS_ADMIN']);
    cfg.linux.readonlyPaths = ['/proc/sys'];
    const out = await k.mustRun(cfg);
    t.match(out, /Read-only file system/, 'the write fails with EROFS');
    t.match(out, /\nconformance\n$/, 'the hostname is unchanged');
  },
);
