// What this host can do of what tsrun implements, for `tsrun features`: is
// libseccomp there, which architectures it knows, does it support
// SCMP_ACT_NOTIFY, which seccomp filter flags the kernel accepts, which LSMs
// run. Probed each time (cheap: no filter is built or loaded).
import { SECCOMP } from '../native/constants.js';
import { kernelAcceptsFilterFlags, libseccompApiLevel, libseccompAvailable, resolveArch } from '../native/seccomp.js';
import type { HostSupport } from './features.js';
import { probeLsm } from './lifecycle/lsm.js';
import { libseccompArchName } from './plan/seccomp.js';
import type { SeccompArch, SeccompFlag } from './spec/types.js';
import { SECCOMP_ARCHS } from './spec/validate/seccomp.js';

/** The seccomp(2) flags each spec flag is loaded with (TSYNC: none, the process has one thread). */
const FLAG_PROBES: Readonly<Record<SeccompFlag, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP.SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  // The kernel accepts it only together with a listener.
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP.SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

export function probeHostSupport(): HostSupport {
  const lsm = probeLsm();
  const libseccomp = libseccompAvailable();
  const archs = new Set<SeccompArch>(libseccomp ? SECCOMP_ARCHS.filter((a) => resolveArch(libseccompArchName(a)) !== undefined) : []);
  const flags = new Set<SeccompFlag>((Object.keys(FLAG_PROBES) as SeccompFlag[]).filter((f) => kernelAcceptsFilterFlags(FLAG_PROBES[f])));
  return {
    libseccomp,
    seccompArchs: archs,
    seccompNotify: libseccomp && libseccompApiLevel() >= 6,
    seccompFlags: flags,
    apparmor: lsm.apparmor !== undefined,
    selinux: lsm.selinux,
  };
}
