// Namespaces: which to join (by path) and which to create, in the order the
// kernel needs: join the user namespace first (it owns the others), create a
// new user namespace before the others (they become owned by it) and let tsrun
// write its id maps at a sync point, then join the rest, then unshare the
// rest. A PID or time namespace only applies to children: the program forks.
import { AT, CLONE } from '../../native/constants.js';
import { flags, str } from '../../native/program.js';
import type { ProgramBuilder, Reg } from '../../native/program.js';
import type { LinuxNamespace, NamespaceType, Spec } from '../spec/types.js';
import type { SyncCode } from './sync.js';
import { SYNC } from './sync.js';

type CloneName = keyof typeof CLONE & `CLONE_NEW${string}`;

export const NAMESPACES: Readonly<Record<NamespaceType, { readonly clone: CloneName; readonly proc: string }>> = {
  user: { clone: 'CLONE_NEWUSER', proc: 'user' },
  ipc: { clone: 'CLONE_NEWIPC', proc: 'ipc' },
  uts: { clone: 'CLONE_NEWUTS', proc: 'uts' },
  network: { clone: 'CLONE_NEWNET', proc: 'net' },
  pid: { clone: 'CLONE_NEWPID', proc: 'pid' },
  mount: { clone: 'CLONE_NEWNS', proc: 'mnt' },
  cgroup: { clone: 'CLONE_NEWCGROUP', proc: 'cgroup' },
  time: { clone: 'CLONE_NEWTIME', proc: 'time' },
};

/** Join order after the user namespace (runc's nsexec order; mount late so paths still resolve on the host). */
export const JOIN_ORDER: readonly NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

export interface NamespaceDecision {
  readonly join: readonly LinuxNamespace[];
  readonly create: readonly NamespaceType[];
  /**
   * Always true: a PID or time namespace only applies to children, and even without them
   * the container's init must not be tsrun's direct child (Node's child_process would reap
   * it under `run`, and `create` must leave it to the caller's subreaper).
   */
  readonly needsFork: boolean;
  readonly newUser: boolean;
  readonly hasUser: boolean;
}

/** What the config asks for; a mount namespace is always created unless one is joined. */
export function decideNamespaces(spec: Spec): NamespaceDecision {
  const list = spec.linux?.namespaces ?? [];
  const join = JOIN_ORDER.flatMap((t) => list.filter((n) => n.type === t && n.path)) as LinuxNamespace[];
  const create = JOIN_ORDER.filter((t) => list.some((n) => n.type === t && !n.path));
  if (!list.some((n) => n.type === 'mount')) create.push('mount');
  const has = (t: NamespaceType): boolean => list.some((n) => n.type === t);
  return { join, create, needsFork: true, newUser: create.includes('user'), hasUser: has('user') };
}

/**
 * Emits: open every joined namespace path (before any setns changes what paths mean),
 * setns into each (user first), unshare(CLONE_NEWUSER) + sync for the id maps,
 * unshare of the other new namespaces, time offsets, fork when needed.
 */
export function planNamespaces(b: ProgramBuilder, spec: Spec, decision: NamespaceDecision, scratch: Reg, idMapsSync: SyncCode = SYNC.ID_MAPS): void {
  const fds: { ns: LinuxNamespace; reg: Reg }[] = decision.join.map((ns) => {
    const reg = b.reg();
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(ns.path as string), b.O.O_RDONLY | b.O.O_CLOEXEC, 0], {
      label: `open ${ns.type} namespace ${ns.path}`,
      result: reg,
    });
    return { ns, reg };
  });
  const setns = (ns: LinuxNamespace, reg: Reg): void => {
    b.syscall('setns', [reg, flags(CLONE, NAMESPACES[ns.type].clone)], {
      label: `join ${ns.type} namespace ${ns.path} (is it a ${ns.type} namespace?)`,
    });
    b.syscall('close', [reg], { label: `close ${ns.path}` });
  };
  const joinedUser = fds.find((f) => f.ns.type === 'user');
  if (joinedUser) setns(joinedUser.ns, joinedUser.reg);
  if (decision.newUser) {
    b.syscall('unshare', [flags(CLONE, 'CLONE_NEWUSER')], { label: 'create user namespace' });
    // tsrun writes uid_map, setgroups and gid_map from outside, then replies.
    b.sync(idMapsSync, 0, { label: 'wait for uid/gid maps' });
  }
  if (decision.hasUser) {
    // Become the namespace's root: files created during setup must be owned by a mapped id (else EOVERFLOW).
    b.syscall('setresgid', [0, 0, 0], { label: "become gid 0 of the container's user namespace (is gid 0 mapped?)" });
    b.syscall('setresuid', [0, 0, 0], { label: "become uid 0 of the container's user namespace (is uid 0 mapped?)" });
  }
  for (const { ns, reg } of fds) if (ns.type !== 'user') setns(ns, reg);
  const others = decision.create.filter((t) => t !== 'user');
  if (others.length > 0) {
    b.syscall('unshare', [flags(CLONE, ...others.map((t) => NAMESPACES[t].clone))], { label: `create ${others.join(', ')} namespaces` });
  }
  const offsets = spec.linux?.timeOffsets;
  if (decision.create.includes('time') && offsets && Object.keys(offsets).length > 0) {
    const text = Object.entries(offsets)
      .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
      .join('');
    b.writeFile('/proc/self/timens_offsets', text, scratch, { label: 'set time namespace offsets' });
  }
  if (decision.needsFork) b.fork({ label: 'fork the container process into its PID/time namespace' });
}
