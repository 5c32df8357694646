// The one place errors become output: a message through the logger (stderr,
// and the --log file as callers parse it) and an exit status.
import { TsrunError } from '../errors.js';
import type { Logger } from '../log.js';

export function report(err: unknown, logger: Logger): number {
  if (err instanceof TsrunError) {
    logger.error(err.message);
    if (logger.debugEnabled && err.stack) logger.debug(err.stack);
    return err.exitCode;
  }
  const error = err instanceof Error ? err : new Error(String(err));
  logger.error(`internal error: ${error.message}`);
  if (logger.debugEnabled && error.stack) logger.debug(error.stack);
  return 1;
}
