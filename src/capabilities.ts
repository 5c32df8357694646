// The Linux capability names tsrun knows, by kernel number: the CAP table of
// native/constants.ts (include/uapi/linux/capability.h, capabilities(7)),
// which lists them in kernel order. Validation against
// /proc/sys/kernel/cap_last_cap, `tsrun features` and the plan's capset
// masks ask here.
import { CAP } from '../native/constants.js';

/** Capability names in kernel order: the index is the capability number. */
const NAMES = Object.keys(CAP) as (keyof typeof CAP)[];

export type CapabilityName = keyof typeof CAP;

/** Every capability name tsrun knows, in kernel order. */
export const CAPABILITY_NAMES: readonly CapabilityName[] = NAMES;

/** The highest capability number in this table (CAP_LAST_CAP of the newest kernel tsrun knows). */
export const LAST_KNOWN_CAPABILITY: number = NAMES.length - 1;

const BY_NAME: ReadonlyMap<string, number> = new Map(Object.entries(CAP));

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
