// `events`: runc's event stream for one container, one JSON object a line:
// {"type":"stats",...} every interval (or once with --stats), and
// {"type":"oom","id":...} whenever memory.events' oom_kill count grows.
// It takes no lock (it only reads) and ends when the container's cgroup is
// empty or gone, as runc's does when its OOM notifier closes.
import { existsSync, readdirSync, readFileSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Json } from '../cgroups/stats.js';
import { buildStats, eventLine, hugePageSizeName, oomKills, parseGoDuration } from '../cgroups/stats.js';
import { TsrunError, UsageError } from '../errors.js';
import { writeStdout } from '../log.js';
import { assertAllowed } from '../state/machine.js';
import { currentStatus } from '../state/status.js';
import type { ContainerRecord, StateStore } from '../state/store.js';

/** How often the cgroup is looked at between stats, for OOM kills and the end (inotify wakes it earlier). */
const POLL_MS = 500;

function reader(dir: string): (name: string) => string | undefined {
  return (name) => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return undefined;
    }
  };
}

function pageSizes(): string[] {
  try {
    return readdirSync('/sys/kernel/mm/hugepages').map(hugePageSizeName).filter((s): s is string => s !== undefined);
  } catch {
    return [];
  }
}

export function containerStats(dir: string): Json {
  if (!existsSync(dir)) throw new TsrunError(`cgroup ${dir} is gone`);
  return buildStats(reader(dir), pageSizes());
}

function populated(dir: string): boolean {
  const events = reader(dir)('cgroup.events');
  return events !== undefined && /^populated 1$/m.test(events);
}

export interface EventsRequest {
  readonly id: string;
  readonly interval: string;
  readonly stats: boolean;
}

function cgroupOf(record: ContainerRecord): string {
  if (record.cgroupPath === undefined) throw new TsrunError(`container ${record.id} has no cgroup`);
  return record.cgroupPath;
}

/** Prints the events; resolves when the stream ends (at once with --stats). */
export async function streamEvents(req: EventsRequest, store: StateStore): Promise<void> {
  let intervalMs: number;
  try {
    intervalMs = parseGoDuration(req.interval);
  } catch (err) {
    throw new UsageError(`invalid value ${JSON.stringify(req.interval)} for flag --interval: ${(err as Error).message}`);
  }
  if (intervalMs <= 0) throw new UsageError('duration interval must be greater than 0');
  const record = store.read(req.id);
  assertAllowed('events', currentStatus(record, store.containerDir(req.id)));
  const dir = cgroupOf(record);
  if (req.stats) {
    writeStdout(eventLine('stats', req.id, containerStats(dir)));
    return;
  }

  const read = reader(dir);
  let kills = oomKills(read('memory.events'));
  await new Promise<void>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let watcher: FSWatcher | undefined;
    const stop = (err?: unknown): void => {
      timers.forEach((t) => clearInterval(t));
      watcher?.close();
      if (err === undefined) resolve();
      else reject(err);
    };
    const check = (): void => {
      try {
        const now = oomKills(read('memory.events'));
        for (; kills < now; kills++) writeStdout(eventLine('oom', req.id));
        if (!populated(dir)) stop();
      } catch (err) {
        stop(err);
      }
    };
    const stats = (): void => {
      try {
        if (!existsSync(dir)) return stop();
        writeStdout(eventLine('stats', req.id, containerStats(dir)));
      } catch (err) {
        stop(err);
      }
    };
    try {
      // kernfs notifies inotify when memory.events changes: an OOM kill shows at once, not at the next poll.
      watcher = watch(join(dir, 'memory.events'), check);
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = undefined; // no memory controller: polling still sees the end of the container
    }
    timers.push(setInterval(check, Math.min(POLL_MS, intervalMs)), setInterval(stats, intervalMs));
    check();
  });
}
