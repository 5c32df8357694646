// `start`: open the exec fifo's read end (the container's init is blocked
// opening the write end), read its byte: the init goes on to execve. Then the
// fifo is removed (the status becomes running) and poststart hooks run.
import { unlinkSync } from 'node:fs';
import { O, POLL, SIG } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { TsrunError } from '../errors.js';
import type { Spec } from '../spec/types.js';
import { withContainer } from '../state/locked.js';
import { isSameLiveProcess } from '../state/proc.js';
import { stateOutput } from '../state/status.js';
import type { ContainerRecord, StateStore } from '../state/store.js';
import { runHooks } from './hooks.js';
import { ProcessGoneError, signalAll, signalInit, waitGone } from './signal.js';

const POLL_INTERVAL_MS = 100;
const STOP_WAIT_MS = 10_000;

/** Reads the start byte, giving up if the init dies before it writes it. */
function releaseInit(fifo: string, record: ContainerRecord): void {
  const fd = libc.open(fifo, O.O_RDONLY | O.O_NONBLOCK | O.O_CLOEXEC);
  try {
    for (;;) {
      const ready = libc.poll([{ fd, events: POLL.POLLIN }], POLL_INTERVAL_MS);
      if (ready !== null && ready.length > 0 && libc.read(fd, 1).length === 1) return;
      if (!isSameLiveProcess(record.pid, record.pidStartTime)) throw new TsrunError('container process exited before start');
    }
  } finally {
    libc.close(fd);
  }
}

export function startContainer(id: string, store: StateStore): ContainerRecord {
  return withContainer(store, id, 'start', (record) => {
    const spec = record.config as Spec;
    // runtime.md: a failing startContainer or (1.3) poststart hook is an error, and the container
    // is stopped; `delete` then runs the poststop hooks and removes it.
    const stopOnFailure = (run: () => void): void => {
      try {
        run();
      } catch (err) {
        stopContainer(record);
        throw err;
      }
    };
    // Inside the container, after start is called and before its process runs (the init waits on the fifo).
    stopOnFailure(() => runHooks('startContainer', spec.hooks?.startContainer, stateOutput(record, 'created'), { kind: 'container', pid: record.pid, pathIn: 'container' }));
    const fifo = store.execFifoPath(id);
    releaseInit(fifo, record);
    // unlink, not rmSync: Node 20's rmSync is a JavaScript rimraf (~1 ms to load and run).
    try {
      unlinkSync(fifo);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    stopOnFailure(() => runHooks('poststart', spec.hooks?.poststart, stateOutput(record, 'running'), { kind: 'runtime' }));
    return record;
  });
}

/** Kills every process of the container and waits for the init to be gone. */
function stopContainer(record: ContainerRecord): void {
  try {
    signalAll(record, SIG.SIGKILL);
    signalInit(record, SIG.SIGKILL);
  } catch (err) {
    if (!(err instanceof ProcessGoneError)) throw err;
  }
  waitGone(record, STOP_WAIT_MS);
}
