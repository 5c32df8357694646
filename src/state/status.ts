// A container's status is derived from facts every time it is asked for, never
// trusted from the state file (runc refreshState, crun
// libcrun_get_container_state_string): the process with its recorded start
// time, the exec fifo, the cgroup freezer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isFrozen } from '../cgroups/freezer.js';
import type { Status } from './machine.js';
import { isSameLiveProcess } from './proc.js';
import type { ContainerRecord } from './store.js';
import { EXEC_FIFO } from './store.js';

export interface StatusFacts {
  /** The recorded pid is alive with the recorded start time (and is not a zombie). */
  readonly processAlive: boolean;
  /** The exec fifo still exists: `start` has not opened it yet. */
  readonly execFifoPresent: boolean;
  /** The container's cgroup is frozen. */
  readonly frozen: boolean;
}

/** Pure: the status a record has given the facts. */
export function deriveStatus(phase: ContainerRecord['phase'], facts: StatusFacts): Status {
  if (phase === 'creating') return 'creating';
  if (!facts.processAlive) return 'stopped';
  if (facts.frozen) return 'paused';
  if (facts.execFifoPresent) return 'created';
  return 'running';
}

export function gatherFacts(record: ContainerRecord, containerDir: string): StatusFacts {
  let frozen = false;
  if (record.cgroupPath !== undefined) {
    try {
      frozen = isFrozen(record.cgroupPath);
    } catch {
      frozen = false;
    }
  }
  return {
    processAlive: isSameLiveProcess(record.pid, record.pidStartTime),
    execFifoPresent: existsSync(join(containerDir, EXEC_FIFO)),
    frozen,
  };
}

export function currentStatus(record: ContainerRecord, containerDir: string): Status {
  return deriveStatus(record.phase, gatherFacts(record, containerDir));
}

/** The JSON `tsrun state` prints: runtime.md's state plus runc's rootfs, created and owner. */
export interface StateOutput {
  readonly ociVersion: string;
  readonly id: string;
  readonly pid: number;
  readonly status: Status;
  readonly bundle: string;
  readonly rootfs: string;
  readonly created: string;
  readonly owner: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export function stateOutput(record: ContainerRecord, status: Status): StateOutput {
  return {
    ociVersion: record.ociVersion,
    id: record.id,
    // runtime.md: pid is REQUIRED when created or running; runc prints 0 once stopped.
    pid: status === 'stopped' ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
    ...(Object.keys(record.annotations).length > 0 ? { annotations: record.annotations } : {}),
  };
}
