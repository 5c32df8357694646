// Facts about host processes, read from /proc with plain fs (no FFI: `state`
// and `list` stay cheap).
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** One-letter state from /proc/<pid>/stat (R, S, D, Z, T, ...). */
  readonly state: string;
  /** Start time in clock ticks since boot (field 22): with the pid, identifies a process across pid reuse. */
  readonly startTime: string;
}

/** Parses the content of /proc/<pid>/stat; comm may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat(content: string): ProcStat | undefined {
  const close = content.lastIndexOf(')');
  if (close === -1) return undefined;
  const rest = content.slice(close + 2).trim();
  // The space-separated fields after comm: [0] is field 3 (state); field 22 (starttime) is [19].
  // Found with indexOf, not a split into 50 strings.
  const state = nthField(rest, 0);
  const startTime = nthField(rest, 19);
  if (state === undefined || startTime === undefined) return undefined;
  return { state, startTime };
}

/** `s.split(' ')[n]`, without the split. */
function nthField(s: string, n: number): string | undefined {
  let start = 0;
  for (let k = 0; k < n; k++) {
    const sp = s.indexOf(' ', start);
    if (sp === -1) return undefined;
    start = sp + 1;
  }
  const end = s.indexOf(' ', start);
  return end === -1 ? s.slice(start) : s.slice(start, end);
}

export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** True when `pid` is the same live process that had `startTime` (a zombie counts as gone, as in runc). */
export function isSameLiveProcess(pid: number, startTime: string, procRoot = '/proc'): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const stat = readProcStat(pid, procRoot);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}
