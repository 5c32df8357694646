// Built-in modules loaded on demand (src/builtin.ts), and what a command's start-up loads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtin } from '../../src/builtin.js';
import { TsrunError } from '../../src/errors.js';

const bin = fileURLToPath(new URL('../../bin/tsrun.js', import.meta.url));

describe('builtin', () => {
  it("is Node's own module", () => {
    expect(builtin('node:os')).toBe(os);
  });

  it('names the Node it needs when process.getBuiltinModule is missing (before 20.16)', () => {
    const own = Object.getOwnPropertyDescriptor(process, 'getBuiltinModule');
    Object.defineProperty(process, 'getBuiltinModule', { value: undefined, configurable: true, writable: true });
    try {
      expect(() => builtin('node:os')).toThrow(TsrunError);
      expect(() => builtin('node:os')).toThrow(/needs Node >= 20\.16/);
    } finally {
      if (own) Object.defineProperty(process, 'getBuiltinModule', own);
    }
  });

  // createRequire would bring node:module and Node's ES module loader into every command.
  it.each([['state', 'no-such-container'], ['spec', '--help']])('`tsrun %s` loads no built-in beyond node:vm', (...args) => {
    const dir = mkdtempSync(join(os.tmpdir(), 'tsrun-builtin-'));
    try {
      const probe = join(dir, 'probe.cjs');
      writeFileSync(
        probe,
        "const before = new Set(process.moduleLoadList);\nprocess.on('exit', () => process._rawDebug('LOADED ' + process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).join(',')));\n",
      );
      const r = spawnSync(process.execPath, ['-r', probe, bin, '--root', join(dir, 'root'), ...args], { encoding: 'utf8' });
      const line = /^LOADED (.*)$/m.exec(r.stderr)?.[1];
      expect(line, r.stderr).toBeDefined();
      expect((line ?? '').split(',').filter((m) => m !== '')).toEqual(['NativeModule vm']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
