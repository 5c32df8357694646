// The Linux capability names tsrun knows, with their kernel numbers
// (include/uapi/linux/capability.h, capabilities(7)).
//
// Project rule: no kernel numbers outside native/. This table is the one
// exception in src/: capability numbers are needed by pure code (validation
// against /proc/sys/kernel/cap_last_cap, `tsrun features`, the plan's capset
// masks) and this is the single place they live. Anything else that needs a
// capability number asks `capabilityNumber()`.

/** Capability names in kernel order: the index is the capability number. */
const NAMES = [
  'CAP_CHOWN', // 0
  'CAP_DAC_OVERRIDE', // 1
  'CAP_DAC_READ_SEARCH', // 2
  'CAP_FOWNER', // 3
  'CAP_FSETID', // 4
  'CAP_KILL', // 5
  'CAP_SETGID', // 6
  'CAP_SETUID', // 7
  'CAP_SETPCAP', // 8
  'CAP_LINUX_IMMUTABLE', // 9
  'CAP_NET_BIND_SERVICE', // 10
  'CAP_NET_BROADCAST', // 11
  'CAP_NET_ADMIN', // 12
  'CAP_NET_RAW', // 13
  'CAP_IPC_LOCK', // 14
  'CAP_IPC_OWNER', // 15
  'CAP_SYS_MODULE', // 16
  'CAP_SYS_RAWIO', // 17
  'CAP_SYS_CHROOT', // 18
  'CAP_SYS_PTRACE', // 19
  'CAP_SYS_PACCT', // 20
  'CAP_SYS_ADMIN', // 21
  'CAP_SYS_BOOT', // 22
  'CAP_SYS_NICE', // 23
  'CAP_SYS_RESOURCE', // 24
  'CAP_SYS_TIME', // 25
  'CAP_SYS_TTY_CONFIG', // 26
  'CAP_MKNOD', // 27
  'CAP_LEASE', // 28
  'CAP_AUDIT_WRITE', // 29
  'CAP_AUDIT_CONTROL', // 30
  'CAP_SETFCAP', // 31
  'CAP_MAC_OVERRIDE', // 32
  'CAP_MAC_ADMIN', // 33
  'CAP_SYSLOG', // 34
  'CAP_WAKE_ALARM', // 35
  'CAP_BLOCK_SUSPEND', // 36
  'CAP_AUDIT_READ', // 37
  'CAP_PERFMON', // 38 (Linux 5.8)
  'CAP_BPF', // 39 (Linux 5.8)
  'CAP_CHECKPOINT_RESTORE', // 40 (Linux 5.9)
] as const;

export type CapabilityName = (typeof NAMES)[number];

/** Every capability name tsrun knows, in kernel order. */
export const CAPABILITY_NAMES: readonly CapabilityName[] = NAMES;

/** The highest capability number in this table (CAP_LAST_CAP of the newest kernel tsrun knows). */
export const LAST_KNOWN_CAPABILITY: number = NAMES.length - 1;

const BY_NAME: ReadonlyMap<string, number> = new Map(NAMES.map((name, number) => [name, number]));

/** True if `name` (e.g. "CAP_SYS_ADMIN") is in the table. Names are case-sensitive, as in the spec. */
export function isCapabilityName(name: string): name is CapabilityName {
  return BY_NAME.has(name);
}

/** The kernel number of a capability, or undefined for a name tsrun does not know. */
export function capabilityNumber(name: string): number | undefined {
  return BY_NAME.get(name);
}

/** The name of a capability number, or undefined outside the table. */
export function capabilityName(number: number): CapabilityName | undefined {
  return Number.isInteger(number) ? NAMES[number] : undefined;
}

/** The known capabilities a kernel with this cap_last_cap supports, in kernel order. */
export function capabilitiesUpTo(lastCap: number): readonly CapabilityName[] {
  return NAMES.slice(0, Math.max(0, Math.min(lastCap, LAST_KNOWN_CAPABILITY) + 1));
}
