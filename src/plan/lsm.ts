// process.apparmorProfile and process.selinuxLabel: the label the process gets
// at execve, written to its /proc/<self>/attr exec file. Only where the LSM is
// enabled (LsmProbe, read on the host by src/lifecycle/lsm.ts); a config that
// asks for a label of an LSM the host does not run is refused, naming the
// field, as runc refuses it.
import { UnsupportedError } from '../errors.js';
import type { PlanContext } from './context.js';

/** Which LSMs the host runs, and where AppArmor takes its exec profile. */
export interface LsmProbe {
  /** AppArmor is enabled: its exec attribute, relative to /proc/self/attr ("apparmor/exec" on stacking kernels, else "exec"). */
  readonly apparmor?: { readonly execAttr: string };
  /** SELinux is enabled (selinuxfs mounted). */
  readonly selinux: boolean;
}

/**
 * Write the exec labels. Placed before no_new_privs: AppArmor refuses a change_onexec
 * request made after it (runc applies the profile first for the same reason); the kernel
 * checks the transition itself at execve.
 */
export function planLsmLabels(ctx: PlanContext, lsm: LsmProbe | undefined): void {
  const p = ctx.spec.process;
  const scratch = ctx.regs.scratch[0];
  // A caller that did not probe the host cannot know whether the label would apply.
  if (lsm === undefined) {
    if (p?.apparmorProfile) throw new UnsupportedError('/process/apparmorProfile', 'AppArmor profiles are not supported for this process yet');
    if (p?.selinuxLabel) throw new UnsupportedError('/process/selinuxLabel', 'SELinux labels are not supported for this process yet');
    return;
  }
  if (p?.apparmorProfile) {
    const attr = lsm.apparmor?.execAttr;
    if (attr === undefined) throw new UnsupportedError('/process/apparmorProfile', `AppArmor profile ${JSON.stringify(p.apparmorProfile)} is set but AppArmor is not enabled on this host`);
    ctx.b.writeFile(`/proc/self/attr/${attr}`, `exec ${p.apparmorProfile}`, scratch, { label: `set the AppArmor exec profile ${p.apparmorProfile}` });
  }
  if (p?.selinuxLabel) {
    if (!lsm.selinux) throw new UnsupportedError('/process/selinuxLabel', `SELinux label ${JSON.stringify(p.selinuxLabel)} is set but SELinux is not enabled on this host`);
    // thread-self, as runc: the label belongs to the thread that calls execve (the stub has one).
    ctx.b.writeFile('/proc/thread-self/attr/exec', p.selinuxLabel, scratch, { label: `set the SELinux exec label ${p.selinuxLabel}` });
  }
}
