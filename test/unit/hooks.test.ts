import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HookError, hookArgv, hookEnv, hookFailure, runHooks } from '../../src/lifecycle/hooks.js';
import type { StateOutput } from '../../src/state/status.js';

const state: StateOutput = { ociVersion: '1.3.0', id: 'c1', pid: 42, status: 'creating', bundle: '/b', rootfs: '/b/rootfs', created: 'T', owner: '' };

function script(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-hook-'));
  const path = join(dir, 'hook.sh');
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('hooks in the runtime namespace', () => {
  it('gives the state JSON on stdin, args with argv[0] and the hook\'s env only', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tsrun-hook-out-')), 'out');
    const path = script(`cat > ${out}.state; echo "$0 $1 $FOO $HOME" > ${out}.args`);
    runHooks('createRuntime', [{ path, args: ['my-hook', 'one'], env: ['FOO=bar'] }], state, { kind: 'runtime' });
    expect(JSON.parse(readFileSync(`${out}.state`, 'utf8'))).toEqual(state);
    // argv[0] of a #! script is the script path for sh; $1 is ours; HOME is not inherited when env is given.
    expect(readFileSync(`${out}.args`, 'utf8')).toMatch(/ one bar \n$/);
  });

  it('fails with the hook kind, index, path, status and stderr', () => {
    const bad = script('echo oops >&2; exit 3');
    expect(() => runHooks('poststart', [{ path: '/bin/true' }, { path: bad }], state, { kind: 'runtime' })).toThrow(
      /poststart hook #1 \(.*hook\.sh\): exited with status 3: oops/,
    );
  });

  it('kills a hook that outlives its timeout', () => {
    const slow = script('sleep 30');
    const started = Date.now();
    expect(() => runHooks('prestart', [{ path: slow, timeout: 1 }], state, { kind: 'runtime' })).toThrow(/timed out after 1s/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports a hook that cannot be run', () => {
    expect(() => runHooks('poststop', [{ path: '/nonexistent/hook' }], state, { kind: 'runtime' })).toThrow(HookError);
  });

  it('runs nothing for absent or empty lists', () => {
    expect(() => runHooks('prestart', undefined, state, { kind: 'runtime' })).not.toThrow();
    expect(() => runHooks('prestart', [], state, { kind: 'runtime' })).not.toThrow();
  });
});

describe('hook helpers', () => {
  it('uses args[0] as argv[0] and the path when there are no args', () => {
    expect(hookArgv({ path: '/x', args: ['a', 'b'] })).toEqual({ argv0: 'a', rest: ['b'] });
    expect(hookArgv({ path: '/x' })).toEqual({ argv0: '/x', rest: [] });
  });
  it('parses env entries and inherits tsrun\'s env when the hook has none (as runc)', () => {
    expect(hookEnv({ path: '/x', env: ['A=1', 'B=x=y'] })).toEqual({ A: '1', B: 'x=y' });
    expect(hookEnv({ path: '/x' })['PATH']).toBe(process.env['PATH']);
  });
  it('words each failure', () => {
    expect(hookFailure({ status: 0, signal: null, timedOut: false, stderr: '' }, undefined)).toBeUndefined();
    expect(hookFailure({ status: null, signal: 'SIGKILL', timedOut: false, stderr: '' }, undefined)).toBe('killed by signal SIGKILL');
  });
});
