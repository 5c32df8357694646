// bench/lib/sourcemap.mjs: bench:phases attributes a minified bundle's profile frames to
// modules and functions through esbuild's source map. Checked against a real esbuild build.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the bench, without types
import { SourceMap } from '../../bench/lib/sourcemap.mjs';

interface Hit {
  source: string;
  name: string | undefined;
}
interface Lookup {
  lookup(line: number, column: number): Hit | undefined;
}

function minifiedPair(): { code: string; map: Lookup } {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-sourcemap-'));
  writeFileSync(join(dir, 'alpha.ts'), 'export function planAlphaMounts(n: number): number {\n  return n * 2 + 1;\n}\n');
  writeFileSync(join(dir, 'beta.ts'), "import { planAlphaMounts } from './alpha.js';\nexport function waitForBeta(x: number): string {\n  return `beta ${planAlphaMounts(x)}`;\n}\n");
  writeFileSync(join(dir, 'main.ts'), "import { waitForBeta } from './beta.js';\nexport const main = (): string => waitForBeta(20);\n");
  const out = join(dir, 'out.cjs');
  buildSync({ entryPoints: [join(dir, 'main.ts')], outfile: out, bundle: true, format: 'cjs', minify: true, sourcemap: 'external', sourcesContent: false, logLevel: 'silent' });
  return { code: readFileSync(out, 'utf8'), map: new SourceMap(JSON.parse(readFileSync(`${out}.map`, 'utf8'))) as Lookup };
}

/** 0-based line and column of a function's parameter list (where V8's profile puts a function). */
function paramsOf(code: string, marker: RegExp): [number, number] {
  const m = marker.exec(code);
  if (!m) throw new Error(`${marker} not in the bundle`);
  const offset = m.index + m[0].length - 1;
  const before = code.slice(0, offset).split('\n');
  return [before.length - 1, (before.at(-1) ?? '').length];
}

describe('bench source maps', () => {
  it('maps positions of a minified esbuild bundle to their source file and original function name', () => {
    const { code, map } = minifiedPair();
    // minified: the original names are gone from the code
    expect(code).not.toMatch(/planAlphaMounts|waitForBeta/);
    // the function whose body computes `*2+1` is alpha's, the one that builds `beta ` is beta's
    const alpha = map.lookup(...paramsOf(code, /function \w+\((?=\w+\)\{return \w+\*2\+1)/));
    expect(alpha?.source).toMatch(/alpha\.ts$/);
    expect(alpha?.name).toBe('planAlphaMounts');
    const beta = map.lookup(...paramsOf(code, /function \w+\((?=\w+\)\{return`beta )/));
    expect(beta?.source).toMatch(/beta\.ts$/);
    expect(beta?.name).toBe('waitForBeta');
  });

  it('finds nothing past the last line', () => {
    const { map } = minifiedPair();
    expect(map.lookup(10_000, 0)).toBeUndefined();
  });

  it('refuses a mapping that is not base64 VLQ', () => {
    expect(() => new SourceMap({ sources: ['a.ts'], names: [], mappings: 'AAAA,!' })).toThrow(/bad character/);
  });
});
