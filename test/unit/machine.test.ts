import { describe, expect, it } from 'vitest';
import { IllegalStateError } from '../../src/errors.js';
import { OPERATIONS, STATUSES, assertAllowed, isAllowed } from '../../src/state/machine.js';
import type { Operation, Status } from '../../src/state/machine.js';

// The expected table, written out independently of TRANSITIONS: every (operation, status) pair.
const EXPECTED: Record<Operation, Status[]> = {
  start: ['created'],
  kill: ['created', 'running', 'paused'],
  killAll: ['created', 'running', 'paused', 'stopped'],
  delete: ['created', 'stopped'],
  forceDelete: ['created', 'running', 'paused', 'stopped'],
  pause: ['created', 'running'],
  resume: ['paused'],
  exec: ['running'],
  update: ['created', 'running', 'paused'],
  events: ['created', 'running', 'paused'],
  ps: ['created', 'running', 'paused', 'stopped'],
  state: ['creating', 'created', 'running', 'paused', 'stopped'],
};

describe('state machine', () => {
  for (const op of OPERATIONS) {
    for (const status of STATUSES) {
      const allowed = EXPECTED[op].includes(status);
      it(`${op} is ${allowed ? 'allowed' : 'refused'} when ${status}`, () => {
        expect(isAllowed(op, status)).toBe(allowed);
        if (allowed) expect(() => assertAllowed(op, status)).not.toThrow();
        else expect(() => assertAllowed(op, status)).toThrow(IllegalStateError);
      });
    }
  }

  it('uses runc\'s wording where callers match it', () => {
    expect(() => assertAllowed('kill', 'stopped')).toThrow('container not running');
    expect(() => assertAllowed('resume', 'running')).toThrow('container not paused');
    expect(() => assertAllowed('start', 'running')).toThrow('cannot start an already running container');
    expect(() => assertAllowed('start', 'stopped')).toThrow('cannot start a container that has stopped');
  });
});
