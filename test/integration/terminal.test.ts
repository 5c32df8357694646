// Terminals: the console socket round trip (as conmon and containerd's shim
// receive the pty master), consoleSize, exec --tty, and run relaying its own
// terminal under a real pty (`script`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bundle, TestSpec } from '../helpers/bundle.js';
import { hasBusybox, isRoot, makeBundle, minimalSpec, TSRUN, tsrun, tsrunToFiles } from '../helpers/bundle.js';

const RECEIVER = join(import.meta.dirname, '../helpers/console-receiver.py');
const hasPython = spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status === 0;
const hasScript = existsSync('/usr/bin/script');
const made: { bundle: Bundle; id: string }[] = [];

afterEach(() => {
  for (const { bundle, id } of made.splice(0)) tsrun(bundle, ['delete', '--force', id]);
});

function bundleFor(spec: TestSpec, id: string): Bundle {
  const b = makeBundle(spec);
  made.push({ bundle: b, id });
  return b;
}

interface Received {
  name: string;
  isatty: boolean;
  output: string;
}

/** Starts the receiver on a socket in the bundle; resolves once it listens, then with what it got. */
async function receiver(b: Bundle, input: string, after: string): Promise<{ socket: string; result: Promise<Received> }> {
  const socket = join(b.dir, 'console.sock');
  const child = spawn('python3', [RECEIVER, socket, '--input', input, '--after', after], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.value !== 'listening') throw new Error(`receiver did not start: ${String(first.value)}`);
  const result = it.next().then((r) => JSON.parse(String(r.value)) as Received);
  return { socket, result };
}

describe.skipIf(!isRoot || !hasBusybox || !hasPython)('terminals (root, busybox-static, python3)', () => {
  it('create --console-socket sends the pty master; the slave is the init\'s stdio, controlling tty and /dev/console', async () => {
    const spec = minimalSpec(['sh', '-c', 'tty; stty size; ls -l /dev/console | grep -c "136,"; echo ready; read x; echo got:$x']);
    spec.process = { ...spec.process!, terminal: true, consoleSize: { height: 33, width: 101 } };
    const b = bundleFor(spec, 'tty1');
    const { socket, result } = await receiver(b, 'hello\n', 'ready');
    const c = tsrunToFiles(b, ['create', '--console-socket', socket, 'tty1']);
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    expect(tsrun(b, ['start', 'tty1']).status).toBe(0);
    const got = await result;
    expect(got.isatty).toBe(true);
    expect(got.name).toBe('/dev/ptmx');
    expect(got.output.split('\r\n')).toEqual(['/dev/pts/0', '33 101', '1', 'ready', 'hello', 'got:hello', '']);
  });

  it('refuses a terminal without a console socket when detached, as runc', () => {
    const spec = minimalSpec(['true']);
    spec.process = { ...spec.process!, terminal: true };
    const b = bundleFor(spec, 'tty2');
    const r = tsrunToFiles(b, ['create', 'tty2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot allocate tty if tsrun will detach without setting console socket/);
    expect(tsrun(b, ['state', 'tty2']).stderr).toMatch(/does not exist/);
  });

  it('exec --tty --console-socket gives the exec\'d process its own pty', async () => {
    const b = bundleFor(minimalSpec(['sleep', '60']), 'tty3');
    expect(tsrunToFiles(b, ['run', '-d', 'tty3']).status).toBe(0);
    const { socket, result } = await receiver(b, 'abc\n', 'ready');
    const r = tsrunToFiles(b, ['exec', '--tty', '--console-socket', socket, '-d', 'tty3', 'sh', '-c', 'tty; echo ready; read x; echo got:$x'], 'exec');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const got = await result;
    expect(got.output).toMatch(/^\/dev\/pts\/\d+\r\nready\r\nabc\r\ngot:abc\r\n$/);
  });

  it.skipIf(!hasScript)('run relays its own terminal: raw input, window size, exit status', () => {
    const spec = minimalSpec(['sh', '-c', 'tty; stty size; read x; echo got:$x; exit 5']);
    spec.process = { ...spec.process!, terminal: true };
    const b = bundleFor(spec, 'tty4');
    const cmd = `stty rows 40 cols 120; ${process.execPath} ${TSRUN} --root ${b.root} run --bundle ${b.dir} tty4; echo rc=\\$?`;
    // `script` gives tsrun a real pty; the input arrives after the container is up.
    const r = spawnSync('sh', ['-c', `(sleep 2; printf 'hello\\r'; sleep 3) | script -qec "${cmd}" /dev/null`], { encoding: 'utf8', timeout: 20_000 });
    const lines = r.stdout.split('\n').map((l) => l.replace(/\r/g, ''));
    expect(lines).toContain('40 120');
    expect(lines).toContain('got:hello');
    expect(lines).toContain('rc=5');
    expect(lines.some((l) => /^\/dev\/pts\/\d+$/.test(l))).toBe(true);
  });
});
