// `run`: create + start, and in the foreground wait for the container as a
// child subreaper (its init is reparented to tsrun when the stub's fork
// parent exits), forwarding signals, returning its exit status (128+signal
// when killed), then deleting it unless --keep.
import { PR } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { TsrunError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Spec } from '../spec/types.js';
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
  // In the foreground without a console socket, a terminal's pty master comes to tsrun itself.
  const pair = !req.detach && req.consoleSocket === undefined ? libc.socketpair() : undefined;
  let master: number | undefined;
  let record;
  try {
    ({ record } = createContainer(pair ? { ...req, consoleSocketFd: pair[1] } : req, store, logger));
    if (pair && (record.config as Spec).process?.terminal) master = receivePtyMaster(pair[0]);
  } finally {
    if (pair) pair.forEach((fd) => libc.close(fd));
  }
  // Opened before start: the process cannot be reaped by anyone before we hold it.
  const pidfd = req.detach ? -1 : libc.pidfdOpen(record.pid);
  // Before start: the process finds the right window size from its first instruction.
  // node:tty (and the stream modules it brings) only when there is a terminal to relay.
  const relay = master === undefined ? undefined : (await import('./tty-relay.js')).relayTerminal(master);
  try {
    try {
      startContainer(req.id, store);
    } catch (err) {
      await relay?.finish();
      if (!req.detach) deleteContainer(req.id, true, store, logger);
      throw err;
    }
    if (req.detach) return 0;
    const stopForwarding = forwardSignals(pidfd);
    let status: number;
    try {
      status = await waitForExit(pidfd, record.pid, record.pidStartTime, relay !== undefined);
    } finally {
      stopForwarding();
      await relay?.finish();
    }
    if (!req.keep) deleteContainer(req.id, true, store, logger);
    return status;
  } finally {
    if (pidfd >= 0) libc.close(pidfd);
  }
}

/** The pty master the container's init sent over the console socket pair (already sent by the time create returns). */
export function receivePtyMaster(sock: number): number {
  const got = libc.recvWithFd(sock, 256, 'the console socket');
  if (got.fd === null) throw new TsrunError('the container sent no pty master over the console socket');
  return got.fd;
}
