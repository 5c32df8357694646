// `update`: new resource limits for a created, running or paused container,
// as runc's update: the given values are merged into the recorded config,
// the whole result is translated and written to the container's cgroup, and
// the recorded config is replaced (atomically) only once the kernel took it.
// Device rules are replaced too when the update names them (runc skips them;
// tsrun can replace its own program and keep everyone else's).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyWrites, enableControllers } from '../cgroups/apply.js';
import { installDeviceFilter } from '../cgroups/devices.js';
import { planResources, unifiedMount } from '../cgroups/manager.js';
import { checkMemoryBeforeUpdate } from '../cgroups/resources.js';
import { mergeResources, parseResourcesDocument, parseUpdateFlags } from '../cgroups/update.js';
import { ConfigError, TsrunError } from '../errors.js';
import type { Logger } from '../log.js';
import { configSchemaProblems } from '../spec/schema.js';
import type { LinuxResources, Spec } from '../spec/types.js';
import { withContainer } from '../state/locked.js';
import type { StateStore } from '../state/store.js';

export interface UpdateRequest {
  readonly id: string;
  /** A file with linux.resources, or "-" for stdin; the flags are ignored then (runc). */
  readonly resources?: string | undefined;
  readonly flags: Readonly<Record<string, string>>;
}

function readUpdate(req: UpdateRequest, logger: Logger): LinuxResources {
  if (req.resources !== undefined) {
    const ignored = Object.keys(req.flags);
    if (ignored.length > 0) logger.warn(`--resources given: ${ignored.map((f) => `--${f}`).join(', ')} ignored (as runc)`);
    const text = req.resources === '-' ? readFileSync(0, 'utf8') : readFileSync(req.resources, 'utf8');
    return parseResourcesDocument(text, req.resources === '-' ? '(stdin)' : req.resources);
  }
  const parsed = parseUpdateFlags(req.flags);
  parsed.warnings.forEach((w) => logger.warn(w));
  return parsed.resources;
}

function memoryCurrent(dir: string): number {
  try {
    return Number(readFileSync(join(dir, 'memory.current'), 'utf8').trim());
  } catch {
    return 0;
  }
}

export function updateContainer(req: UpdateRequest, store: StateStore, logger: Logger): void {
  const update = readUpdate(req, logger);
  withContainer(store, req.id, 'update', (record) => {
    const dir = record.cgroupPath;
    if (dir === undefined) throw new TsrunError(`container ${req.id} has no cgroup to update`);
    const spec = record.config as Spec;
    const resources = mergeResources(spec.linux?.resources, update);
    const config: Spec = { ...spec, linux: { ...spec.linux, resources } };
    const problems = configSchemaProblems(config).filter((p) => p.path.startsWith('/linux/resources'));
    if (problems.length > 0) throw new ConfigError(`update of ${req.id}`, problems);

    const mount = unifiedMount();
    const plan = planResources(resources, mount);
    if (resources.memory?.checkBeforeUpdate === true) checkMemoryBeforeUpdate(resources.memory, memoryCurrent(dir));
    enableControllers(mount, dir, plan.controllers);
    applyWrites(dir, plan.writes);
    if (update.devices !== undefined) installDeviceFilter(dir, plan.devices);
    store.write({ ...record, config });
  });
}
