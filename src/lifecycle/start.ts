// `start`: open the exec fifo's read end (the container's init is blocked
// opening the write end), read its byte: the init goes on to execve. Then the
// fifo is removed (the status becomes running) and poststart hooks run.
import { rmSync } from 'node:fs';
import { O, POLL } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { TsrunError } from '../errors.js';
import type { Spec } from '../spec/types.js';
import { assertAllowed } from '../state/machine.js';
import { isSameLiveProcess } from '../state/proc.js';
import { currentStatus, stateOutput } from '../state/status.js';
import type { ContainerRecord, StateStore } from '../state/store.js';
import { runHooks } from './hooks.js';

const POLL_INTERVAL_MS = 100;

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
  const { lock, record } = store.lock(id);
  try {
    assertAllowed('start', currentStatus(record, store.containerDir(id)));
    const spec = record.config as Spec;
    // Inside the container, after start is called and before its process runs (the init waits on the fifo).
    runHooks('startContainer', spec.hooks?.startContainer, stateOutput(record, 'created'), { kind: 'container', pid: record.pid, pathIn: 'container' });
    const fifo = store.execFifoPath(id);
    releaseInit(fifo, record);
    rmSync(fifo, { force: true });
    // runtime-spec 1.3: a failing poststart hook fails start (the container keeps running; the caller decides).
    runHooks('poststart', spec.hooks?.poststart, stateOutput(record, 'running'), { kind: 'runtime' });
    return record;
  } finally {
    lock.release();
  }
}
