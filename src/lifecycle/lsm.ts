// Which Linux security modules the host runs, read the way runc reads it:
// AppArmor is enabled when securityfs shows it and its module parameter says
// so; SELinux when selinuxfs is mounted. The planner (src/plan/lsm.ts) turns
// this into writes of the process's exec label, or a refusal naming the field.
import { existsSync, readFileSync } from 'node:fs';
import type { LsmProbe } from '../plan/lsm.js';

export function probeLsm(): LsmProbe {
  return { ...(apparmorEnabled() ? { apparmor: { execAttr: apparmorExecAttr() } } : {}), selinux: selinuxEnabled() };
}

function apparmorEnabled(): boolean {
  if (!existsSync('/sys/kernel/security/apparmor')) return false;
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  } catch {
    return false;
  }
}

/** Kernels with LSM stacking have per-LSM attribute directories; the legacy file is the fallback (runc's order). */
function apparmorExecAttr(): string {
  return existsSync('/proc/self/attr/apparmor/exec') ? 'apparmor/exec' : 'exec';
}

function selinuxEnabled(): boolean {
  return existsSync('/sys/fs/selinux/enforce');
}
