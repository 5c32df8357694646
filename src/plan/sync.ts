// The sync points of a container program: one table of the messages between
// the stub and tsrun (runc's sync.go, youki's channel.rs), each with what
// tsrun does before replying.
export const SYNC = {
  // 1 was CGROUP (tsrun moved the stub into the cgroup): the process is born there now (cgroup-entry.ts).
  /** After unshare(CLONE_NEWUSER): tsrun writes uid_map, setgroups and gid_map. */
  ID_MAPS: 2,
  /** Namespaces and mounts ready, before pivot_root: prestart, createRuntime, createContainer hooks. */
  CREATE_HOOKS: 3,
  /** Everything but the exec is done: tsrun writes the state and pid file; the channel closes. */
  CREATED: 4,
  /** exec: the process is set up in the container and about to execve; tsrun writes the pid file. */
  EXEC_READY: 5,
  /** seccomp: the filter is loaded with a listener; its fd comes with the message, tsrun hands it to listenerPath. */
  SECCOMP_LISTENER: 6,
  /** tmpcopyup: the fd of the image's directory under a new tmpfs comes with the message; tsrun keeps it. */
  COPY_UP_SOURCE: 7,
  /** tmpcopyup: the fd of the new tmpfs comes with the message; tsrun copies the source into it, then replies. */
  COPY_UP_TARGET: 8,
} as const;

export type SyncCode = (typeof SYNC)[keyof typeof SYNC];
