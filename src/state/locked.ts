// The shape of every command that acts on an existing container: its lock held, its status
// derived from facts and checked against the state machine, the work done, the lock released
// whatever happens (runc: the container's state lock around each operation).
import { assertAllowed, type Operation, type Status } from './machine.js';
import { currentStatus } from './status.js';
import type { ContainerRecord, StateStore } from './store.js';

export function withContainer<T>(store: StateStore, id: string, operation: Operation, work: (record: ContainerRecord, status: Status) => T): T {
  const { lock, record } = store.lock(id);
  try {
    const status = currentStatus(record, store.containerDir(id));
    assertAllowed(operation, status);
    return work(record, status);
  } finally {
    lock.release();
  }
}
