// linux.timeOffsets: the clocks of a time namespace.

import { findNamespace, hasNewNamespace, mapEntries, pointer, q, type Check } from './context.js';

const CLOCKS: ReadonlySet<string> = new Set(['boottime', 'monotonic']);
const NANOSECONDS_PER_SECOND = 1_000_000_000;

/**
 * Offsets can only be written into a new time namespace, before any process
 * is in it (runc: "time namespace offsets specified, but time namespace
 * isn't enabled"); joining one by path cannot change its offsets. Clocks are
 * boottime and monotonic; nanosecs stays below one second (timens_offsets).
 */
export const timeOffsets: Check = {
  name: 'timeOffsets',
  run(spec, _host, report) {
    const offsets = mapEntries(spec.linux?.timeOffsets);
    if (offsets.length === 0) return;
    if (findNamespace(spec, 'time') === undefined) {
      report.error('/linux/timeOffsets', 'time offsets need a time namespace: add {"type": "time"} to /linux/namespaces');
    } else if (!hasNewNamespace(spec, 'time')) {
      report.error('/linux/timeOffsets', 'time offsets can only be set in a new time namespace, not one joined by path');
    }
    for (const [clock, offset] of offsets) {
      if (!CLOCKS.has(clock)) {
        report.error(pointer('linux', 'timeOffsets', clock), `unknown clock ${q(clock)}; allowed: boottime, monotonic`);
        continue;
      }
      if (offset.nanosecs !== undefined && offset.nanosecs >= NANOSECONDS_PER_SECOND) {
        report.error(pointer('linux', 'timeOffsets', clock, 'nanosecs'), `nanosecs ${offset.nanosecs} must be below ${NANOSECONDS_PER_SECOND}`);
      }
    }
  },
};
