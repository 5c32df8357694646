// Waiting for a container process in the foreground (`run`, `exec`): tsrun is
// its child subreaper, so the process becomes tsrun's child when the stub's
// fork parent exits; signals tsrun receives are passed on to it, as runc does.
import { SIG, WAIT } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { SyscallError } from '../errors.js';
import { isSameLiveProcess } from '../state/proc.js';

/** Signals a foreground `run`/`exec` passes on to the process, as runc's signal handler does. */
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const;
const SIGNAL_EXIT_BASE = 128;
const MAX_POLL_MS = 20;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

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
 */
export async function waitForExit(pidfd: number, pid: number, startTime: string): Promise<number> {
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
