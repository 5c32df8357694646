// `pause` / `resume`: the cgroup v2 freezer on the container's cgroup, under
// the container's lock, each allowed only where the state machine says. The
// status `paused` is not recorded anywhere: `state` reads it back from
// cgroup.events, so it stays true whoever freezes or thaws the cgroup.
import { freeze, thaw } from '../cgroups/freezer.js';
import { TsrunError } from '../errors.js';
import { withContainer } from '../state/locked.js';
import type { ContainerRecord, StateStore } from '../state/store.js';

function cgroupOf(record: ContainerRecord): string {
  if (record.cgroupPath === undefined) throw new TsrunError(`container ${record.id} has no cgroup to freeze`);
  return record.cgroupPath;
}

export function pauseContainer(id: string, store: StateStore): void {
  withContainer(store, id, 'pause', (record) => freeze(cgroupOf(record)));
}

export function resumeContainer(id: string, store: StateStore): void {
  withContainer(store, id, 'resume', (record) => thaw(cgroupOf(record)));
}
