// The container state machine: which operation each status allows, in ONE
// table (runtime.md "Lifecycle" and runc's behaviour for the operations the
// spec does not cover). Every command asks `assertAllowed` before acting.
import { IllegalStateError, RUNC_MESSAGES } from '../errors.js';

export const STATUSES = ['creating', 'created', 'running', 'paused', 'stopped'] as const;
export type Status = (typeof STATUSES)[number];

export const OPERATIONS = ['start', 'kill', 'killAll', 'delete', 'forceDelete', 'pause', 'resume', 'exec', 'update', 'events', 'ps', 'state'] as const;
export type Operation = (typeof OPERATIONS)[number];

interface Rule {
  readonly allowed: readonly Status[];
  /** What to say when the status does not allow the operation; runc's wording where callers match it. */
  readonly refusal: (status: Status) => string;
}

const notRunning = (): string => RUNC_MESSAGES.notRunning;

export const TRANSITIONS: Readonly<Record<Operation, Rule>> = {
  // runtime.md: start of a container that is not `created` MUST error.
  start: {
    allowed: ['created'],
    refusal: (s) =>
      s === 'stopped' ? 'cannot start a container that has stopped' : s === 'creating' ? 'cannot start a container that is still being created' : `cannot start an already ${s} container`,
  },
  // runtime.md: kill of a container that is neither `created` nor `running` MUST error; a paused one still takes signals (runc).
  kill: { allowed: ['created', 'running', 'paused'], refusal: notRunning },
  // kill --all signals whatever is left in the cgroup: runc accepts it for a stopped container too
  // (containerd's shim sends it after the init exited, to reap the rest).
  killAll: { allowed: ['created', 'running', 'paused', 'stopped'], refusal: notRunning },
  // runtime.md: delete of a container that is not `stopped` MUST error and have no effect. Deviation, as
  // runc: a `created` container (never started) is deleted too; containerd's shim deletes created tasks
  // without --force and relies on it.
  delete: {
    allowed: ['created', 'stopped'],
    refusal: (s) => `cannot delete container that is not stopped: ${s} (use --force)`,
  },
  forceDelete: { allowed: ['created', 'running', 'paused', 'stopped'], refusal: (s) => `cannot delete a container that is ${s}` },
  pause: { allowed: ['created', 'running'], refusal: notRunning },
  resume: { allowed: ['paused'], refusal: () => RUNC_MESSAGES.notPaused },
  exec: {
    allowed: ['running'],
    refusal: (s) => (s === 'paused' ? 'cannot exec in a paused container (use --ignore-paused to override)' : `cannot exec in a ${s} container`),
  },
  update: { allowed: ['created', 'running', 'paused'], refusal: notRunning },
  events: { allowed: ['created', 'running', 'paused'], refusal: notRunning },
  ps: { allowed: ['created', 'running', 'paused', 'stopped'], refusal: notRunning },
  state: { allowed: ['creating', 'created', 'running', 'paused', 'stopped'], refusal: notRunning },
};

export function isAllowed(operation: Operation, status: Status): boolean {
  return TRANSITIONS[operation].allowed.includes(status);
}

export function assertAllowed(operation: Operation, status: Status): void {
  if (!isAllowed(operation, status)) throw new IllegalStateError(operation, status, TRANSITIONS[operation].refusal(status));
}
