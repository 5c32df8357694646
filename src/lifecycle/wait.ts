// Waiting for a container process in the foreground (`run`, `exec`): tsrun is
// its child subreaper, so the process becomes tsrun's child when the stub's
// fork parent exits; signals tsrun receives are passed on to it, as runc does.
import { POLL, SIG, WAIT } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { SyscallError } from '../errors.js';
import { isSameLiveProcess } from '../state/proc.js';

/** Signals a foreground `run`/`exec` passes on to the process, as runc's signal handler does. */
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const;
const SIGNAL_EXIT_BASE = 128;
/** How long one wait blocks the event loop at most: the delay of a forwarded signal. */
const SIGNAL_TURN_MS = 10;
/** The longest pause between looks while a terminal relay runs. */
const MAX_PAUSE_MS = 20;

/** Forwards tsrun's signals to the process behind `pidfd`; returns the function that stops it. */
export function forwardSignals(pidfd: number): () => void {
  const offs = FORWARDED.map((name) => {
    const handler = (): void => {
      try {
        libc.pidfdSendSignal(pidfd, SIG[name]);
      } catch {
        // the process is already gone: its exit is being collected
      }
    };
    process.on(name, handler);
    return () => process.off(name, handler);
  });
  return () => offs.forEach((off) => off());
}

/**
 * The exit status of the process (128+signal when killed): reaped through its
 * pidfd when tsrun is its (sub)reaper, else only watched until it is gone.
 * The pidfd becomes readable when the process exits: tsrun blocks on it and
 * wakes at once, giving the event loop a turn at least every SIGNAL_TURN_MS
 * for the signal handlers. With `relaying` (a terminal relay lives on the event
 * loop) it never blocks the loop, and looks again after a growing pause instead.
 */
export async function waitForExit(pidfd: number, pid: number, startTime: string, relaying = false): Promise<number> {
  for (let pause = 1; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
    try {
      const s = libc.waitPidfd(pidfd, WAIT.WEXITED | WAIT.WNOHANG);
      if (s !== null) return s.exitCode ?? SIGNAL_EXIT_BASE + (s.signal ?? 0);
    } catch (err) {
      // Not our child (--no-subreaper): we can only see that it is gone, not how it ended.
      if (!(err instanceof SyscallError && err.errnoName === 'ECHILD')) throw err;
      if (!isSameLiveProcess(pid, startTime)) return 0;
    }
    if (relaying) {
      await new Promise<void>((resolve) => setTimeout(resolve, pause));
    } else {
      libc.poll([{ fd: pidfd, events: POLL.POLLIN }], SIGNAL_TURN_MS);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
