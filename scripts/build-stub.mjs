#!/usr/bin/env node
// Builds native/stub/tsrun-stub from native/stub/*.c with the system C compiler.
// Static when the C library allows it: the stub then maps no shared library and
// starts faster; it falls back to a dynamic build otherwise.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'native/stub');
const out = join(dir, 'tsrun-stub');
const sources = readdirSync(dir).filter((f) => f.endsWith('.c')).map((f) => join(dir, f));

const cc = process.env.CC || ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!cc) {
  console.error(
    'tsrun build: no C compiler found (tried $CC, cc, gcc, clang).\n' +
      'tsrun needs one to build its stub: on Debian/Ubuntu run `apt-get install -y gcc libc6-dev`.',
  );
  process.exit(1);
}
const flags = ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', '-o', out, ...sources];
let r = spawnSync(cc, ['-static', ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
if (r.status !== 0) r = spawnSync(cc, flags, { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) {
  console.error(`tsrun build: compiling the stub with ${cc} failed`);
  process.exit(1);
}
