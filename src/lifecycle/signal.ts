// Signalling a container's processes without PID-reuse races: open a pidfd,
// then check that the pid still has the start time recorded at create; the
// pidfd then names that very process whatever happens to the pid later.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SIG } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import { writeCgroupFile } from '../cgroups/apply.js';
import { cgroupPids } from '../cgroups/manager.js';
import { SyscallError, TsrunError } from '../errors.js';
import { isSameLiveProcess } from '../state/proc.js';
import type { ContainerRecord } from '../state/store.js';
import { sleepSync } from '../sleep.js';

export class ProcessGoneError extends TsrunError {
  override readonly name = 'ProcessGoneError';
}

/** Signals the container's init process; throws ProcessGoneError when it is no longer there. */
export function signalInit(record: ContainerRecord, signal: number): void {
  let pidfd: number;
  try {
    pidfd = libc.pidfdOpen(record.pid);
  } catch (err) {
    if (err instanceof SyscallError && err.errnoName === 'ESRCH') throw new ProcessGoneError('container not running');
    throw err;
  }
  try {
    if (!isSameLiveProcess(record.pid, record.pidStartTime)) throw new ProcessGoneError('container not running');
    libc.pidfdSendSignal(pidfd, signal);
  } finally {
    libc.close(pidfd);
  }
}

/** Signals every process of the container's cgroup (runc `kill --all`). */
export function signalAll(record: ContainerRecord, signal: number, initGone = false): void {
  if (record.cgroupPath === undefined) {
    if (!initGone) signalInit(record, signal);
    return;
  }
  // cgroup.kill (Linux 5.14+) SIGKILLs the whole subtree in the kernel: no process forked
  // between reading cgroup.procs and signalling escapes, and frozen ones die too.
  if (signal === SIG.SIGKILL && existsSync(join(record.cgroupPath, 'cgroup.kill'))) {
    writeCgroupFile(record.cgroupPath, 'cgroup.kill', '1');
    return;
  }
  for (const pid of cgroupPids(record.cgroupPath)) {
    try {
      libc.kill(pid, signal);
    } catch (err) {
      if (!(err instanceof SyscallError && err.errnoName === 'ESRCH')) throw err;
    }
  }
}

/** Waits until the init process is gone (or a zombie); false on timeout. */
export function waitGone(record: ContainerRecord, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 1; Date.now() < deadline; pause = Math.min(pause * 2, 50)) {
    if (!isSameLiveProcess(record.pid, record.pidStartTime)) return true;
    sleepSync(pause);
  }
  return !isSameLiveProcess(record.pid, record.pidStartTime);
}
