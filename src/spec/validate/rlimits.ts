// process.rlimits (config.md "POSIX process"): types getrlimit(2) knows, each
// once, soft not above hard.

import { entries, pointer, q, type Check } from './context.js';

/** The RLIMIT_* resources of getrlimit(2) on Linux. */
export const RLIMIT_NAMES: readonly string[] = [
  'RLIMIT_AS',
  'RLIMIT_CORE',
  'RLIMIT_CPU',
  'RLIMIT_DATA',
  'RLIMIT_FSIZE',
  'RLIMIT_LOCKS',
  'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_NOFILE',
  'RLIMIT_NPROC',
  'RLIMIT_RSS',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
  'RLIMIT_SIGPENDING',
  'RLIMIT_STACK',
];

const KNOWN: ReadonlySet<string> = new Set(RLIMIT_NAMES);

export const rlimits: Check = {
  name: 'rlimits',
  run(spec, _host, report) {
    const seen = new Map<string, number>();
    for (const [i, r] of entries(spec.process?.rlimits)) {
      if (!KNOWN.has(r.type)) {
        report.error(pointer('process', 'rlimits', i, 'type'), `unknown rlimit ${q(r.type)}; Linux has ${RLIMIT_NAMES.join(', ')}`);
      } else {
        const first = seen.get(r.type);
        if (first !== undefined) report.error(pointer('process', 'rlimits', i, 'type'), `rlimit ${r.type} is set twice (first at /process/rlimits/${first})`);
        else seen.set(r.type, i);
      }
      if (r.soft > r.hard) {
        report.error(pointer('process', 'rlimits', i, 'soft'), `soft limit ${r.soft} is above the hard limit ${r.hard}`);
      }
    }
  },
};
