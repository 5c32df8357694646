// Facts about host processes, read from /proc with plain fs (no FFI: `state`
// and `list` stay cheap).
import { readFileSync } from 'node:fs';
import { spaceField } from '../fields.js';

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
  const state = spaceField(rest, 0);
  const startTime = spaceField(rest, 19);
  if (state === undefined || startTime === undefined) return undefined;
  return { state, startTime };
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
