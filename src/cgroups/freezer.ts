// The cgroup v2 freezer: cgroup.freeze asks, cgroup.events' "frozen" says
// when the kernel is done (every task of the subtree stopped or thawed).
// Freezing is asynchronous: a task in an uninterruptible sleep freezes only
// when it wakes, so pause waits, and gives up after a while rather than
// report a half-frozen container as paused (runc does the same).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { writeCgroupFile } from './apply.js';
import { sleepSync } from '../sleep.js';

const FREEZE_TIMEOUT_MS = 10_000;

/** cgroup v2 reports the freezer state in cgroup.events as `frozen 0|1`. */
export function parseFrozen(cgroupEvents: string): boolean {
  return /^frozen 1$/m.test(cgroupEvents);
}

export function isFrozen(dir: string): boolean {
  return parseFrozen(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
}

function waitFrozen(dir: string, frozen: boolean, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    if (isFrozen(dir) === frozen) return true;
    if (Date.now() >= deadline) return false;
    sleepSync(pause);
  }
}

/** Freezes every process of the cgroup and waits until the kernel reports it frozen. */
export function freeze(dir: string, timeoutMs = FREEZE_TIMEOUT_MS): void {
  writeCgroupFile(dir, 'cgroup.freeze', '1');
  if (waitFrozen(dir, true, timeoutMs)) return;
  // Do not leave a container half frozen behind an error.
  writeCgroupFile(dir, 'cgroup.freeze', '0');
  throw new TsrunError(`cgroup ${dir} did not freeze within ${timeoutMs} ms (a process in uninterruptible sleep?); it was thawed again`);
}

/** Thaws the cgroup and waits until the kernel reports it running. */
export function thaw(dir: string, timeoutMs = FREEZE_TIMEOUT_MS): void {
  writeCgroupFile(dir, 'cgroup.freeze', '0');
  if (!waitFrozen(dir, false, timeoutMs)) throw new TsrunError(`cgroup ${dir} did not thaw within ${timeoutMs} ms`);
}
