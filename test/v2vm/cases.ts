// The cases of the cgroup v2 VM test, by title: the test inside the VM
// (cgroups.v2vm.ts) runs them, the test on the host
// (test/integration/cgroups-v2vm.test.ts) reports each one's result.
export const V2VM_SUITE = 'cgroup v2 limits in a pure v2 VM';

export const V2VM_CASES = {
  path: 'creates the cgroup at linux.cgroupsPath, enabling only the needed controllers in the parent it creates',
  firstInstruction: 'the container process is in its cgroup from its first instruction',
  limits: 'writes every limit in the kernel format (memory, cpu, cpuset, io, hugetlb, pids, unified)',
  devices: 'enforces device rules: an allowed device opens, a denied one does not',
  memory: 'enforces memory.max: an allocation past it is OOM-killed, and events reports oom',
  pids: 'enforces pids.max: a fork past it fails',
  stats: 'events --stats prints the limits and usage as runc\'s JSON',
  update: 'update changes the limits of the running container and records them',
  pause: 'pause freezes the container, state says paused, resume thaws it',
  killAll: 'kill --all signals every process of the cgroup',
  remove: 'delete removes the cgroup and the parent tsrun created',
} as const;
