// `run`: create + start, and in the foreground wait for the container as a
// child subreaper (its init is reparented to tsrun when the stub's fork
// parent exits), forwarding signals, returning its exit status (128+signal
// when killed), then deleting it unless --keep.
import { PR } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import type { Logger } from '../log.js';
import type { StateStore } from '../state/store.js';
import type { CreateRequest } from './create.js';
import { createContainer } from './create.js';
import { deleteContainer } from './delete.js';
import { startContainer } from './start.js';
import { forwardSignals, waitForExit } from './wait.js';

export interface RunRequest extends CreateRequest {
  readonly detach: boolean;
  readonly keep: boolean;
  readonly noSubreaper: boolean;
}

export async function runContainer(req: RunRequest, store: StateStore, logger: Logger): Promise<number> {
  if (!req.detach && !req.noSubreaper) libc.prctl(PR.PR_SET_CHILD_SUBREAPER, 1);
  const { record } = createContainer(req, store, logger);
  // Opened before start: the process cannot be reaped by anyone before we hold it.
  const pidfd = req.detach ? -1 : libc.pidfdOpen(record.pid);
  try {
    try {
      startContainer(req.id, store);
    } catch (err) {
      if (!req.detach) deleteContainer(req.id, true, store, logger);
      throw err;
    }
    if (req.detach) return 0;
    const stopForwarding = forwardSignals(pidfd);
    let status: number;
    try {
      status = await waitForExit(pidfd, record.pid, record.pidStartTime);
    } finally {
      stopForwarding();
    }
    if (!req.keep) deleteContainer(req.id, true, store, logger);
    return status;
  } finally {
    if (pidfd >= 0) libc.close(pidfd);
  }
}
