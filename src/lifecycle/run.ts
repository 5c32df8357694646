// `run`: create + start, and in the foreground wait for the container as a
// child subreaper (its init is reparented to tsrun when the stub's fork
// parent exits), forwarding signals, returning its exit status (128+signal
// when killed), then deleting it unless --keep.
import { PR, SIG, WAIT } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { SyscallError } from '../errors.js';
import type { Logger } from '../log.js';
import { isSameLiveProcess } from '../state/proc.js';
import type { StateStore } from '../state/store.js';
import type { CreateRequest } from './create.js';
import { createContainer } from './create.js';
import { deleteContainer } from './delete.js';
import { startContainer } from './start.js';

export interface RunRequest extends CreateRequest {
  readonly detach: boolean;
  readonly keep: boolean;
  readonly noSubreaper: boolean;
}

/** Signals a foreground `run` passes on to the container, as runc's signal handler does. */
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const;
const SIGNAL_EXIT_BASE = 128;
const MAX_POLL_MS = 20;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
    const forwarders = FORWARDED.map((name) => {
      const handler = (): void => {
        try {
          libc.pidfdSendSignal(pidfd, SIG[name]);
        } catch {
          // the container is already gone: its exit is being collected
        }
      };
      process.on(name, handler);
      return () => process.off(name, handler);
    });
    let status: number;
    try {
      status = await waitForExit(pidfd, record.pid, record.pidStartTime);
    } finally {
      for (const off of forwarders) off();
    }
    if (!req.keep) deleteContainer(req.id, true, store, logger);
    return status;
  } finally {
    if (pidfd >= 0) libc.close(pidfd);
  }
}

/** The exit status of the container's init: reaped through its pidfd when tsrun is its (sub)reaper, else watched. */
async function waitForExit(pidfd: number, pid: number, startTime: string): Promise<number> {
  for (let pause = 1; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
    try {
      const s = libc.waitPidfd(pidfd, WAIT.WEXITED | WAIT.WNOHANG);
      if (s !== null) return s.exitCode ?? SIGNAL_EXIT_BASE + (s.signal ?? 0);
    } catch (err) {
      // Not our child (--no-subreaper): we can only see that it is gone, not how it ended.
      if (!(err instanceof SyscallError && err.errnoName === 'ECHILD')) throw err;
      if (!isSameLiveProcess(pid, startTime)) return 0;
    }
    await delay(pause);
  }
}
