// The real state store: locks are flock(2) on <root>/<id>/lock, held by an
// open fd, so the kernel releases them if tsrun dies.
import { close, flock, open } from '../../native/libc.js';
import { LOCK, O } from '../../native/constants.js';
import type { Lock, Locker } from './store.js';
import { StateStore } from './store.js';

const LOCK_FILE_MODE = 0o600;

function takeLock(path: string, nonBlocking: boolean): Lock | undefined {
  const fd = open(path, O.O_RDWR | O.O_CREAT | O.O_CLOEXEC, LOCK_FILE_MODE);
  let held = false;
  try {
    held = flock(fd, LOCK.LOCK_EX | (nonBlocking ? LOCK.LOCK_NB : 0), path);
  } finally {
    if (!held) close(fd);
  }
  if (!held) return undefined;
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      close(fd);
    },
  };
}

export const flockLocker: Locker = {
  lockExclusive: (path) => takeLock(path, false) as Lock,
  tryLockExclusive: (path) => takeLock(path, true),
};

export function openStore(root: string): StateStore {
  return new StateStore(root, flockLocker);
}
