// @ts-check
// Known failures of runtimes, by case id (or a glob of ids: "seccomp/*").
// A listed case still runs: when it fails on that runtime it is reported as
// known (TAP `# TODO`, counted as failed, shown with its reason in the
// summary) and does not fail the run; when it passes, the summary says the
// entry is stale and can go. A failure that is not listed fails the run:
// that is what CI gates on.
//
// kind:
//   refused    the runtime refuses the feature with an error naming the field
//              (tsrun: until the issue that implements it lands)
//   bug        the runtime does it wrong; the reason says expected, got, and
//              the likely place in the source
//   deviation  the runtime does it differently on purpose, or as its version
//              does (runc 1.1.5 from Debian); the reason says what it does
// Every entry was checked on the development machine (see README.md).

/**
 * @typedef {{ runtime: string, kind: 'refused' | 'bug' | 'deviation', reason: string, leftovers?: boolean }} Deviation
 * `leftovers: true` also excuses what the case's cleanup finds left behind
 * (only where leaving it is the deviation itself).
 */

/** @type {Record<string, Deviation | Deviation[]>} */
export const deviations = {
  'hooks/poststart': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 runs poststart hooks during `create` (libcontainer runs them when the init process starts, for create and run alike), not after the program started in `start`; the hook sees status "created"',
  },
  'hooks/lifecycle-order': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 runs poststart hooks during `create`, so they run before startContainer and the program',
  },
  'hooks/poststart-fails': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 runs poststart hooks during `create`: a failing one fails create ("error running hook #0"), so start never gets to report it',
  },
  'hooks/state-status': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 runs poststart hooks during `create`: they see status "created", not "running" (createRuntime, createContainer, startContainer and poststop see what the case expects)',
  },
  'bundle/oci-version-invalid': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 does not check ociVersion: a config with "ociVersion": "invalid" is created and runs',
  },
  'hooks/startcontainer-fails': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 runs startContainer hooks in its init process after `start` has opened the exec fifo and returned 0; a failing hook only makes the container process exit, start does not report an error',
  },
  'hooks/poststop-fails': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 stops at the first failing poststop hook: the remaining poststop hooks do not run (delete still succeeds)',
  },
  'devices/linux-devices-existing-file': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 ignores EEXIST from mknod for linux.devices (createDeviceNode), so a regular file at the device path is kept and create succeeds',
  },
  'hostname/domainname': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 ignores `domainname`: the container keeps the "(none)" domain name of its new uts namespace',
  },
  'rootfs/propagation-shared': {
    runtime: 'runc',
    kind: 'deviation',
    reason:
      'with rootfsPropagation "shared" runc 1.1 applies the propagation to / before pivot_root; the container\'s / ends up private (no shared:N in mountinfo)',
  },
  'rootfs/propagation-slave': {
    runtime: 'runc',
    kind: 'deviation',
    reason:
      'with rootfsPropagation "slave" the container\'s / is private in runc 1.1 (no master:N in mountinfo), so a mount made on the host under the rootfs (itself on a shared mount) does not appear in the container',
  },
  'rootfs/propagation-unbindable': {
    runtime: 'runc',
    kind: 'deviation',
    reason:
      'with rootfsPropagation "unbindable" runc 1.1 makes / unbindable before bind-mounting the rootfs, and create fails: `error preparing rootfs: mount <rootfs>:<rootfs>, flags: 0x5000: invalid argument`',
  },
  'process/umask-unset': {
    runtime: 'runc',
    kind: 'deviation',
    reason: "runc 1.1 sets umask 0022 when process.user.umask is unset (rootfs_linux.go finalizeRootfs: `unix.Umask(0o022)`) instead of keeping the caller's umask",
  },
  'process/rlimits-duplicate': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 accepts two rlimits of the same type (the last one wins) instead of generating an error',
  },
  'namespaces/new-time': {
    runtime: 'runc',
    kind: 'deviation',
    reason: 'runc 1.1 does not know the time namespace (added in runc 1.2): create fails with `namespace {"time" ""} does not exist`',
  },
  'namespaces/inherit-mount': {
    runtime: 'runc',
    kind: 'deviation',
    reason:
      'without a mount namespace runc 1.1 mounts proc, /dev, devpts, ... of the config in the runtime mount namespace and `delete` does not unmount them (runtime.md#delete: "Deleting a container MUST delete the resources that were created during the create step")',
    leftovers: true,
  },
  'lifecycle/delete-created': {
    runtime: 'runc',
    kind: 'deviation',
    reason:
      'runc 1.1 `delete` without --force of a created (not started) container kills its init and deletes it (delete.go: `case libcontainer.Created: return killContainer(container)`) instead of failing',
  },
};


// tsrun, measured at the commit named in README.md. Bugs are recorded here,
// not fixed from the suite; each says expected, got, and the likely place.
// (The nine bugs the first full run found are fixed; see git log.)
/** @type {Record<string, Deviation>} */
const tsrun = {
  'hooks/start-container-pid-namespace': {
    runtime: 'tsrun',
    kind: 'deviation',
    reason:
      'startContainer hooks run in the container\'s mount, uts, ipc and network namespaces but not in its pid namespace (README: "startContainer runs in the container\'s namespaces but not its PID namespace"), so /proc/self does not resolve in them. The spec says "MUST be executed in the container namespace"',
  },
  'namespaces/inherit-mount': {
    runtime: 'tsrun',
    kind: 'deviation',
    reason:
      'tsrun always gives the container a mount namespace unless one is joined (README "Deviations"): its mounts, pivot_root and masked paths must not land in the runtime\'s mount namespace. The spec says a type not listed is inherited (runc 1.1 then mounts into the host and leaves the mounts behind)',
  },
  'process/umask-unset': {
    runtime: 'tsrun',
    kind: 'deviation',
    reason: 'tsrun sets umask 0022 when process.user.umask is unset (src/plan/process.ts DEFAULT_UMASK), as runc does, instead of keeping the caller\'s umask',
  },
  'lifecycle/delete-created': {
    runtime: 'tsrun',
    kind: 'deviation',
    reason: 'delete of a created container kills and deletes it, as runc does (README "Deviations": containerd\'s shim deletes created tasks without --force)',
  },
};

for (const [id, d] of Object.entries(tsrun)) {
  const have = deviations[id];
  deviations[id] = have ? [...(Array.isArray(have) ? have : [have]), d] : d;
}

/** @param {string} glob */
function globRegExp(glob) {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * The deviation listed for a case on a runtime: an exact id first, then the
 * first glob that matches.
 * @param {string} caseId
 * @param {string} runtimeName
 * @returns {Deviation | null}
 */
export function deviationFor(caseId, runtimeName) {
  /** @param {Deviation | Deviation[] | undefined} entry */
  const pick = (entry) => (entry ? (Array.isArray(entry) ? entry : [entry]).find((d) => d.runtime === runtimeName) || null : null);
  const exact = pick(deviations[caseId]);
  if (exact) return exact;
  for (const [key, entry] of Object.entries(deviations)) {
    if (key.includes('*') && globRegExp(key).test(caseId)) {
      const d = pick(entry);
      if (d) return d;
    }
  }
  return null;
}

/**
 * Listed keys (ids or globs) for a runtime, to report entries that matched
 * no case of the run.
 * @param {string} runtimeName
 */
export function listedKeys(runtimeName) {
  return Object.entries(deviations)
    .filter(([, e]) => (Array.isArray(e) ? e : [e]).some((d) => d.runtime === runtimeName))
    .map(([k]) => k);
}

/** @param {string} key @param {string} caseId */
export function keyMatches(key, caseId) {
  return key.includes('*') ? globRegExp(key).test(caseId) : key === caseId;
}
