// The two entry points: the light bundle's main runs its own commands and passes any other
// on to the whole of tsrun; bin/tsrun.js picks the light bundle for exactly its commands.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../src/cli/context.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { LIGHT_COMMANDS } from '../../src/cli/main-light.js';

describe('entry points', () => {
  it('dispatch runs a command it holds and passes the others on, with the same arguments', async () => {
    const ran: string[] = [];
    const runner: CommandRunner<never> = async () => {
      ran.push('state');
      return 7;
    };
    const passed: (readonly string[])[] = [];
    const others = async (argv: readonly string[]): Promise<number> => {
      passed.push(argv);
      return 3;
    };
    const modules = { state: async () => ({ default: runner }) };
    expect(await dispatch(['--root', '/nonexistent', 'state', 'c1'], modules, others)).toBe(7);
    expect(ran).toEqual(['state']);
    expect(await dispatch(['--root', '/nonexistent', 'spec', '--bundle', '/b'], modules, others)).toBe(3);
    expect(passed).toEqual([['--root', '/nonexistent', 'spec', '--bundle', '/b']]);
  });

  it('bin/tsrun.js sends exactly the light entry point commands to the light bundle', () => {
    const bin = readFileSync(fileURLToPath(new URL('../../bin/tsrun.js', import.meta.url)), 'utf8');
    const words = /const LIGHT_WORDS = \[([^\]]*)\]/.exec(bin)?.[1];
    expect(words).toBeDefined();
    const list = (words ?? '').split(',').map((w) => w.trim().replace(/^'|'$/g, ''));
    expect([...list].sort()).toEqual([...LIGHT_COMMANDS].sort());
  });
});
