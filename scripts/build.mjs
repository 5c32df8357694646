#!/usr/bin/env node
// `npm install` / `npm run build`: everything tsrun needs to run, in order:
//   1. the precompiled schema validators (ajv standalone code, no schema compiled at run time)
//   2. TypeScript -> dist/
//   3. the C stub (native/stub) with the system C compiler
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

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
step('stub', process.execPath, [join(root, 'scripts/build-stub.mjs')]);
if (!existsSync(join(root, 'native/stub/tsrun-stub'))) {
  console.error('tsrun build: native/stub/tsrun-stub was not produced');
  process.exit(1);
}
