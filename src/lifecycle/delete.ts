// `delete`: refuse a container that is not stopped (unless --force: kill it
// first), remove its cgroup and state, then run poststop hooks (runtime.md:
// after the container is deleted; a failing one is a warning).
import { SIG } from '../../native/constants.js';
import { removeCgroup } from '../cgroups/manager.js';
import { TsrunError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Spec } from '../spec/types.js';
import { withContainer } from '../state/locked.js';
import { stateOutput } from '../state/status.js';
import type { StateStore } from '../state/store.js';
import { runHooksWarning } from './hooks.js';
import { ProcessGoneError, signalAll, signalInit, waitGone } from './signal.js';

const KILL_WAIT_MS = 10_000;

export function deleteContainer(id: string, force: boolean, store: StateStore, logger: Logger): void {
  withContainer(store, id, force ? 'forceDelete' : 'delete', (record, status) => {
    if (status !== 'stopped') {
      try {
        signalAll(record, SIG.SIGKILL);
        signalInit(record, SIG.SIGKILL);
      } catch (err) {
        if (!(err instanceof ProcessGoneError)) throw err;
      }
      if (!waitGone(record, KILL_WAIT_MS)) throw new TsrunError(`container process ${record.pid} did not die after SIGKILL`);
    }
    if (record.cgroupPath !== undefined) {
      removeCgroup(record.cgroupPath, record.cgroupCreated ?? []);
    }
    store.remove(id);
    const spec = record.config as Spec;
    runHooksWarning('poststop', spec.hooks?.poststop, stateOutput(record, 'stopped'), { kind: 'runtime' }, (m) => logger.warn(m));
  });
}
