import { NotImplementedError } from '../../errors.js';
import type { CommandRunner } from '../context.js';

/** The runner of a runc command that a later milestone implements: a clear error, exit 1, never a pretence. */
export function notImplemented(name: string): CommandRunner<never> {
  return async () => {
    throw new NotImplementedError(name);
  };
}
