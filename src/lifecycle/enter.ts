// Runs a hook inside a container's namespaces through the stub, with the
// state on stdin, stderr captured in an unlinked temp file (no pipe to fill
// up), and the hook's timeout enforced by killing it.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SIG } from '../../native/constants.js';
import { builtin } from '../builtin.js';
import * as libc from '../../native/libc.js';
import { startStub } from '../../native/stub.js';
import { buildEnterProgram } from '../plan/enter.js';
import { NAMESPACES } from '../plan/namespaces.js';
import type { Hook, NamespaceType } from '../spec/types.js';
import type { HookOutcome } from './hooks.js';
import { hookArgv, hookEnv } from './hooks.js';

const STDERR_LIMIT = 64 * 1024;
const MS_PER_SECOND = 1000;

/** Namespace kinds in which process `pid` differs from tsrun. */
export function differingNamespaces(pid: number): NamespaceType[] {
  const kinds = Object.keys(NAMESPACES) as NamespaceType[];
  return kinds.filter((kind) => {
    const proc = NAMESPACES[kind].proc;
    try {
      const theirs = statSync(`/proc/${pid}/ns/${proc}`);
      const ours = statSync(`/proc/self/ns/${proc}`);
      return theirs.ino !== ours.ino || theirs.dev !== ours.dev;
    } catch {
      return false;
    }
  });
}

/** node:os is not in Node's start-up snapshot (~0.5 ms to load): only when a hook runs. */
function tmpdir(): string {
  return builtin('node:os').tmpdir();
}

function stderrFile(): number {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-hook-'));
  const fd = openSync(join(dir, 'stderr'), 'w+', 0o600);
  rmSync(dir, { recursive: true, force: true });
  return fd;
}

function readBack(fd: number): string {
  const buf = Buffer.alloc(STDERR_LIMIT);
  const n = readSync(fd, buf, 0, STDERR_LIMIT, 0);
  return buf.subarray(0, n).toString('utf8');
}

export function runInContainerNamespaces(hook: Hook, state: string, pid: number, pathIn: 'runtime' | 'container'): HookOutcome {
  const { argv0, rest } = hookArgv(hook);
  const env = Object.entries(hookEnv(hook)).map(([k, v]) => `${k}=${v}`);
  const program = buildEnterProgram({ executable: hook.path, argv: [argv0, ...rest], env, pid, kinds: differingNamespaces(pid), pathInContainer: pathIn === 'container' });
  const [stdinRead, stdinWrite] = libc.pipe();
  const errFd = stderrFile();
  const deadline = hook.timeout === undefined ? Infinity : Date.now() + hook.timeout * MS_PER_SECOND;
  const left = (): number => (deadline === Infinity ? -1 : Math.max(0, deadline - Date.now()));
  let session;
  try {
    // The state is small (well under a pipe's capacity): write it all before the hook starts.
    writeSync(stdinWrite, state);
    libc.close(stdinWrite);
    session = startStub({ stdio: [stdinRead, 'ignore', errFd], program: program.encode() });
  } catch (err) {
    libc.close(stdinRead);
    closeSync(errFd);
    return { status: null, signal: null, timedOut: false, stderr: '', spawnError: (err as Error).message };
  }
  libc.close(stdinRead);
  try {
    const m = session.next(left());
    if (m.kind === 'error') {
      return { status: null, signal: null, timedOut: false, stderr: '', spawnError: program.errorFor(m.opIndex, m.errno).message };
    }
    const exit = session.wait(left());
    if (exit === null) {
      session.kill(SIG.SIGKILL);
      return { status: null, signal: null, timedOut: true, stderr: readBack(errFd) };
    }
    return { status: exit.exitCode, signal: exit.signal, timedOut: false, stderr: readBack(errFd) };
  } catch (err) {
    session.kill(SIG.SIGKILL);
    const timedOut = (err as Error).name === 'StubTimeoutError';
    return { status: null, signal: null, timedOut, stderr: readBack(errFd), spawnError: timedOut ? undefined : (err as Error).message };
  } finally {
    session.close();
    closeSync(errFd);
  }
}
