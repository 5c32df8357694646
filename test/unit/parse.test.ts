import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { COMMANDS, DEFAULT_ROOT, parseCommandLine } from '../../src/cli/parse.js';

function command(argv: string[]) {
  const r = parseCommandLine(argv);
  if (r.kind !== 'command') throw new Error(`expected a command, got ${r.kind}`);
  return r;
}

describe('parseCommandLine', () => {
  it('parses containerd\'s create invocation', () => {
    const r = command([
      '--root', '/run/containerd/runc/default', '--log', '/b/log.json', '--log-format', 'json', '--systemd-cgroup',
      'create', '--bundle', '/b', '--pid-file', '/b/init.pid', '--console-socket', '/tmp/pty.sock', '--no-pivot', '--no-new-keyring', 'c1',
    ]);
    expect(r.global).toEqual({ root: '/run/containerd/runc/default', log: '/b/log.json', logFormat: 'json', debug: false, systemdCgroup: true, rootless: 'auto' });
    expect(r.command).toEqual({
      name: 'create', id: 'c1', bundle: '/b', pidFile: '/b/init.pid', consoleSocket: '/tmp/pty.sock', preserveFds: 0, noPivot: true, noNewKeyring: true,
    });
  });

  it('parses conmon\'s create invocation with --flag=value forms', () => {
    const r = command(['--log-format=json', '--log=/p/log', 'create', '--bundle=/b', '--pid-file', '/p/pid', '--preserve-fds', '2', 'ctr']);
    expect(r.global.log).toBe('/p/log');
    expect(r.global.logFormat).toBe('json');
    expect(r.command).toMatchObject({ name: 'create', id: 'ctr', bundle: '/b', pidFile: '/p/pid', preserveFds: 2 });
  });

  it('defaults the root and the bundle like runc', () => {
    const r = command(['create', 'x']);
    expect(r.global.root).toBe(DEFAULT_ROOT);
    expect(r.command).toMatchObject({ bundle: '.' });
  });

  it('parses kill with a numeric signal and --all, and defaults to SIGTERM', () => {
    expect(command(['kill', '--all', 'c', '9']).command).toEqual({ name: 'kill', id: 'c', signal: '9', all: true });
    expect(command(['kill', 'c']).command).toEqual({ name: 'kill', id: 'c', signal: 'SIGTERM', all: false });
    expect(command(['kill', 'c', 'KILL']).command).toMatchObject({ signal: 'KILL' });
  });

  it('parses delete --force and short -f', () => {
    expect(command(['delete', '--force', 'c']).command).toEqual({ name: 'delete', id: 'c', force: true });
    expect(command(['delete', '-f', 'c']).command).toEqual({ name: 'delete', id: 'c', force: true });
  });

  it('keeps everything after the exec id for the container, flags included', () => {
    const r = command(['exec', '-t', '--env', 'A=1', '-e', 'B=2', '--user', '1000:1000', 'c', 'sh', '-c', 'echo --help -t']);
    expect(r.command).toMatchObject({ name: 'exec', id: 'c', tty: true, env: ['A=1', 'B=2'], user: '1000:1000', args: ['sh', '-c', 'echo --help -t'] });
  });

  it('takes one value per repeatable flag, so the id after it stays the id', () => {
    expect(command(['exec', '--env', 'A=1', 'c', 'id']).command).toMatchObject({ id: 'c', env: ['A=1'], args: ['id'] });
    expect(command(['exec', '--cap', 'CAP_KILL', '--cap=CAP_CHOWN', '-g', '5', 'c', 'id']).command).toMatchObject({ id: 'c', cap: ['CAP_KILL', 'CAP_CHOWN'], additionalGids: ['5'] });
  });

  it('accepts -- between the exec id and the command', () => {
    expect(command(['exec', 'c', '--', 'ls', '-l']).command).toMatchObject({ args: ['ls', '-l'] });
  });

  it('requires a command or --process for exec', () => {
    expect(() => parseCommandLine(['exec', 'c'])).toThrow(/--process or a command/);
    expect(command(['exec', '--process', '/p.json', 'c']).command).toMatchObject({ process: '/p.json', args: [] });
  });

  it('passes ps options through', () => {
    expect(command(['ps', '--format', 'json', 'c']).command).toEqual({ name: 'ps', id: 'c', format: 'json', psArgs: [] });
    expect(command(['ps', 'c', '-ef']).command).toMatchObject({ psArgs: ['-ef'] });
  });

  it('parses list, spec and features', () => {
    expect(command(['list', '-q']).command).toEqual({ name: 'list', format: 'table', quiet: true });
    expect(command(['list', '--format', 'json']).command).toMatchObject({ format: 'json' });
    expect(command(['spec', '--rootless', '--bundle', '/b']).command).toEqual({ name: 'spec', bundle: '/b', rootless: true });
    expect(command(['features']).command).toEqual({ name: 'features' });
  });

  it('collects update flags by their runc names', () => {
    expect(command(['update', '--memory', '1048576', '--pids-limit=10', 'c']).command).toEqual({
      name: 'update', id: 'c', resources: undefined, flags: { memory: '1048576', 'pids-limit': '10' },
    });
  });

  it('does not take a global flag value for the command word', () => {
    expect(command(['--root', 'state', 'list']).global.root).toBe('state');
  });

  it('refuses unknown commands, unknown flags, missing ids and bad values', () => {
    expect(() => parseCommandLine(['frobnicate'])).toThrow(UsageError);
    expect(() => parseCommandLine(['create', '--bogus', 'c'])).toThrow(UsageError);
    expect(() => parseCommandLine(['start'])).toThrow(/id/);
    expect(() => parseCommandLine(['create', '--preserve-fds', '-1', 'c'])).toThrow(/preserve-fds/);
    expect(() => parseCommandLine(['--log-format', 'xml', 'list'])).toThrow(UsageError);
    expect(() => parseCommandLine(['start', 'a', 'b'])).toThrow(/unexpected argument: b/);
  });

  it('reports usage errors in the words of Go\'s flag package, as runc', () => {
    expect(() => parseCommandLine(['create', '--bogus', 'c'])).toThrow('flag provided but not defined: -bogus');
    expect(() => parseCommandLine(['--bogus', 'list'])).toThrow('flag provided but not defined: -bogus');
    expect(() => parseCommandLine(['create', 'c', '--bundle'])).toThrow('flag needs an argument: -bundle');
    expect(() => parseCommandLine(['list', '--quiet=maybe'])).toThrow('invalid boolean value "maybe" for -quiet: parse error');
    expect(() => parseCommandLine(['create', '--preserve-fds', 'x', 'c'])).toThrow('invalid value "x" for flag -preserve-fds: parse error');
    expect(() => parseCommandLine(['list', '--format', 'yaml'])).toThrow(/invalid value "yaml" for flag -format/);
    expect(() => parseCommandLine(['list', '-qf', 'json'])).toThrow('flag provided but not defined: -qf');
    expect(() => parseCommandLine(['list', '---q'])).toThrow('bad flag syntax: ---q');
  });

  it('takes flags with one or two dashes, inline or as the next argument, and a value that looks like a flag', () => {
    expect(command(['-root', '/r', 'create', '-bundle=/b', '--b', '/b2', '-pid-file', '-p', 'c']).command).toMatchObject({ bundle: '/b2', pidFile: '-p', id: 'c' });
    expect(command(['-root', '/r', 'create', 'c']).global.root).toBe('/r');
  });

  it('reads booleans as Go does: no value, or an inline true/false', () => {
    expect(command(['delete', '--force=false', 'c']).command).toEqual({ name: 'delete', id: 'c', force: false });
    expect(command(['delete', '--force=1', 'c']).command).toMatchObject({ force: true });
    expect(command(['--debug=true', 'list']).global.debug).toBe(true);
    // a boolean never takes the next argument: `false` here is the id
    expect(command(['delete', '--force', 'false']).command).toEqual({ name: 'delete', id: 'false', force: true });
  });

  it('takes flags after the id (urfave/cli reorders them) except for exec and ps, and stops at --', () => {
    expect(command(['delete', 'c', '--force']).command).toEqual({ name: 'delete', id: 'c', force: true });
    expect(command(['kill', 'c', 'KILL', '-a']).command).toEqual({ name: 'kill', id: 'c', signal: 'KILL', all: true });
    expect(command(['delete', '--', '-f']).command).toEqual({ name: 'delete', id: '-f', force: false });
    expect(command(['exec', '--', 'c', 'ls', '-l']).command).toMatchObject({ id: 'c', args: ['ls', '-l'], tty: false });
    expect(command(['exec', 'c', 'sh', '--tty']).command).toMatchObject({ id: 'c', args: ['sh', '--tty'], tty: false });
  });

  it('keeps the last value of a repeated single-value flag', () => {
    expect(command(['create', '--bundle', '/a', '--bundle', '/b', 'c']).command).toMatchObject({ bundle: '/b' });
  });

  it('accepts global flags after the command word, unless the command has a flag of that name', () => {
    expect(command(['state', '--root', '/r', 'c']).global.root).toBe('/r');
    expect(command(['--rootless', 'true', 'spec', '--rootless']).global.rootless).toBe('true');
    expect(command(['--rootless=false', 'spec']).command).toEqual({ name: 'spec', bundle: '.', rootless: false });
  });

  it('defaults the global options and events --interval', () => {
    expect(command(['state', 'c']).global).toEqual({ root: DEFAULT_ROOT, log: undefined, logFormat: 'text', debug: false, systemdCgroup: false, rootless: 'auto' });
    expect(command(['events', 'c']).command).toEqual({ name: 'events', id: 'c', interval: '5s', stats: false });
  });

  it('returns help for --help anywhere before an exec id, and for a global --help before a command', () => {
    expect(parseCommandLine(['--help', 'kill'])).toMatchObject({ kind: 'help', text: expect.stringMatching(/kill <id> \[signal\]/) });
    expect(parseCommandLine(['delete', 'c', '-h']).kind).toBe('help');
    expect(command(['exec', 'c', 'grep', '--help']).command).toMatchObject({ args: ['grep', '--help'] });
  });

  it('returns help and version requests as values', () => {
    expect(parseCommandLine([]).kind).toBe('help');
    expect(parseCommandLine(['--help']).kind).toBe('help');
    expect(parseCommandLine(['--version']).kind).toBe('version');
    expect(parseCommandLine(['-v']).kind).toBe('version');
    const help = parseCommandLine(['create', '--help']);
    expect(help.kind === 'help' && help.text).toMatch(/--pid-file/);
  });

  it('lists every runc command in the help', () => {
    const help = parseCommandLine(['--help']);
    for (const name of Object.keys(COMMANDS)) expect(help.kind === 'help' && help.text).toContain(`  ${name} `);
  });
});
