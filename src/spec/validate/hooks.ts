// hooks (config.md "POSIX-platform Hooks").

import type { HookName } from '../types.js';
import { entries, isAbsolute, pointer, q, type Check } from './context.js';

export const HOOK_NAMES: readonly HookName[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

/** A hook's path MUST be absolute; its timeout, when set, MUST be greater than zero. */
export const hooks: Check = {
  name: 'hooks',
  run(spec, _host, report) {
    for (const name of HOOK_NAMES) {
      for (const [i, hook] of entries(spec.hooks?.[name])) {
        if (!isAbsolute(hook.path)) report.error(pointer('hooks', name, i, 'path'), `hook path ${q(hook.path)} must be absolute`);
        if (hook.timeout !== undefined && hook.timeout <= 0) {
          report.error(pointer('hooks', name, i, 'timeout'), `hook timeout must be greater than zero, got ${hook.timeout}`);
        }
      }
    }
  },
};
