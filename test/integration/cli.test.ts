// The real tsrun binary (bin/tsrun.js over dist/), as callers run it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featuresSchemaProblems } from '../../src/spec/schema.js';

const TSRUN = join(import.meta.dirname, '../../bin/tsrun.js');

function tsrun(args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [TSRUN, ...args], { encoding: 'utf8', cwd: opts.cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tsrun-${prefix}-`));
}

describe('tsrun command line', () => {
  it('prints its version and help', () => {
    expect(tsrun(['--version'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^tsrun version \d+\.\d+\.\d+\nspec: 1\.3\.0\n/) });
    const help = tsrun(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/create +create a container/);
  });

  it('fails with exit 1 and a message on a usage error', () => {
    const r = tsrun(['frobnicate']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown command: frobnicate/);
  });

  it('writes a default config that tsrun itself accepts, and refuses to overwrite it', () => {
    const bundle = tempDir('spec');
    expect(tsrun(['spec', '--bundle', bundle]).status).toBe(0);
    mkdirSync(join(bundle, 'rootfs'));
    const root = tempDir('root');
    // Validation passes: what stops create now is only the missing lifecycle, not the config.
    const r = tsrun(['--root', root, 'create', '--bundle', bundle, 'c1']);
    expect(r.stderr).not.toMatch(/invalid configuration/);
    const again = tsrun(['spec', '--bundle', bundle]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/config\.json exists/);
  });

  it('prints features that validate against the features schema', () => {
    const r = tsrun(['features']);
    expect(r.status).toBe(0);
    expect(featuresSchemaProblems(JSON.parse(r.stdout))).toEqual([]);
  });

  it('reports every violation of an invalid config with its JSON path, exits 1 and leaves nothing in --root', () => {
    const bundle = tempDir('bad');
    mkdirSync(join(bundle, 'rootfs'));
    writeFileSync(
      join(bundle, 'config.json'),
      JSON.stringify({
        ociVersion: '1.3.0',
        root: { path: 'rootfs' },
        process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 } },
        hooks: { poststart: [{ path: '/bin/true', timeout: 0 }] },
        linux: { namespaces: [{ type: 'pid' }, { type: 'bogus' }] },
      }),
    );
    const root = tempDir('root');
    const r = tsrun(['--root', root, 'create', '--bundle', bundle, 'c1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/hooks/poststart/0/timeout');
    expect(r.stderr).toContain('/linux/namespaces/1/type');
    expect(readdirSync(root)).toEqual([]);
  });

  it('reports a semantic violation after the schema passes', () => {
    const bundle = tempDir('sem');
    mkdirSync(join(bundle, 'rootfs'));
    writeFileSync(
      join(bundle, 'config.json'),
      JSON.stringify({
        ociVersion: '1.3.0',
        root: { path: 'rootfs' },
        process: { cwd: 'relative', args: ['sh'], user: { uid: 0, gid: 0 } },
        linux: { namespaces: [{ type: 'pid' }, { type: 'pid' }] },
      }),
    );
    const r = tsrun(['--root', tempDir('root'), 'create', '--bundle', bundle, 'c1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/process/cwd');
    expect(r.stderr).toContain('/linux/namespaces/1');
  });

  it('says what is wrong with a missing bundle, config or malformed JSON', () => {
    const root = tempDir('root');
    expect(tsrun(['--root', root, 'create', '--bundle', '/nonexistent/b', 'c']).stderr).toMatch(/no such directory/);
    const empty = tempDir('empty');
    expect(tsrun(['--root', root, 'create', '--bundle', empty, 'c']).stderr).toMatch(/config\.json: no such file/);
    writeFileSync(join(empty, 'config.json'), '{]');
    const r = tsrun(['--root', root, 'create', '--bundle', empty, 'c']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/invalid JSON/);
  });

  it('uses runc\'s wording for an unknown container, on stderr and as one JSON error line in --log', () => {
    const dir = tempDir('log');
    const log = join(dir, 'log.json');
    const r = tsrun(['--root', dir, '--log', log, '--log-format', 'json', 'state', 'nope']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('container does not exist');
    const line = JSON.parse(readFileSync(log, 'utf8')) as Record<string, string>;
    expect(line).toMatchObject({ level: 'error', msg: 'container does not exist' });
    expect(line['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('refuses an invalid container id', () => {
    const r = tsrun(['--root', tempDir('root'), 'state', '../etc']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/invalid container id/);
  });

  it('lists no containers in an empty root, as a table and as JSON', () => {
    const root = tempDir('root');
    expect(tsrun(['--root', root, 'list']).stdout).toMatch(/^ID +PID +STATUS +BUNDLE +CREATED +OWNER\n$/);
    expect(JSON.parse(tsrun(['--root', root, 'list', '--format', 'json']).stdout)).toEqual([]);
    expect(existsSync(join(root, 'x'))).toBe(false);
  });

  it('refuses --systemd-cgroup for commands that manage cgroups', () => {
    const r = tsrun(['--systemd-cgroup', 'create', 'c']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--systemd-cgroup: the systemd cgroup driver is not supported/);
  });
});
