// What every planner receives. Planners are pure: they append ops to the
// ProgramBuilder (whose op list, `describe()`, is the plan as data: unit tests
// assert on it without root) and throw UnsupportedError for a config field
// they cannot honour, naming the field. Nothing here touches the kernel.
import type { ProgramBuilder, Reg } from '../../native/program.js';
import type { Spec } from '../spec/types.js';

/** Registers with a fixed meaning for the whole container program (the stub has 16). */
export interface PlanRegisters {
  /** O_PATH|O_DIRECTORY fd of the root filesystem, opened on the host before any mount. */
  readonly rootfs: Reg;
  /** O_PATH fd of the exec fifo, opened before pivot_root so the container can reach it after. */
  readonly execFifo: Reg;
  /** Scratch registers: any planner may overwrite them; never hold a value across planners. */
  readonly scratch: readonly [Reg, Reg, Reg, Reg];
}

export interface PlanContext {
  readonly b: ProgramBuilder;
  readonly regs: PlanRegisters;
  readonly spec: Spec;
  /** Absolute host path of the bundle. */
  readonly bundle: string;
  /** Absolute host path of root.path. */
  readonly rootfs: string;
  /** --no-pivot: MS_MOVE + chroot instead of pivot_root (initramfs roots). */
  readonly noPivot: boolean;
  /** The container has a user namespace (new or joined): mknod is impossible, bind devices instead. */
  readonly userNamespace: boolean;
  /** The container has a new (not joined) mount namespace. tsrun always gives it one. */
  readonly newMountNamespace: boolean;
  /**
   * The host's cgroup v2 mount point, when the container shares tsrun's cgroup namespace: a
   * `cgroup` mount is then a bind of it (rootfs.ts), not a new cgroup2 mount.
   */
  readonly hostCgroupMount?: string | undefined;
}

/** Allocates the fixed registers; called once per program. */
export function allocateRegisters(b: ProgramBuilder): PlanRegisters {
  return { rootfs: b.reg(), execFifo: b.reg(), scratch: [b.reg(), b.reg(), b.reg(), b.reg()] };
}
