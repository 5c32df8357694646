// A program that runs an executable inside the namespaces of a running
// container process: for createContainer/startContainer hooks. The executable
// is opened first, in tsrun's mount namespace (the spec: a hook's path
// resolves in the runtime namespace), then the namespaces are joined (user
// first) and the open file is execveat()ed.
import { AT, CLONE } from '../../native/constants.js';
import { flags, ptrArray, str } from '../../native/program.js';
import { ProgramBuilder } from '../../native/program.js';
import type { NamespaceType } from '../spec/types.js';
import { JOIN_ORDER, NAMESPACES } from './namespaces.js';

export interface EnterRequest {
  readonly executable: string;
  readonly argv: readonly string[];
  readonly env: readonly string[];
  /** Host pid of the container process whose namespaces are joined. */
  readonly pid: number;
  /** Namespace kinds in which the container differs from tsrun (others are already shared). */
  readonly kinds: readonly NamespaceType[];
  /** The executable's path resolves in the container's mount namespace (startContainer hooks), not tsrun's. */
  readonly pathInContainer?: boolean;
}

/** Kinds joined by setns without forking: a PID or time namespace would only apply to children. */
const ENTERABLE = JOIN_ORDER.filter((t) => t !== 'pid' && t !== 'time');

export function buildEnterProgram(req: EnterRequest, b = new ProgramBuilder()): ProgramBuilder {
  const exe = b.reg();
  // Resolved in tsrun's mount namespace, before any setns. No O_CLOEXEC: a #! script is run
  // by its interpreter through /proc/self/fd/N.
  if (!req.pathInContainer) b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(req.executable), b.O.O_PATH, 0], { label: `open ${req.executable}`, result: exe });
  // The container's root as its process sees it (with --no-pivot it is a chroot, not the namespace's root).
  const root = req.pathInContainer ? b.reg() : undefined;
  if (root) {
    const path = `/proc/${req.pid}/root`;
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(path), b.O.O_PATH | b.O.O_DIRECTORY | b.O.O_CLOEXEC, 0], { label: `open ${path}`, result: root });
  }
  const kinds = ENTERABLE.filter((k) => req.kinds.includes(k));
  const regs = kinds.map((kind) => {
    const reg = b.reg();
    const path = `/proc/${req.pid}/ns/${NAMESPACES[kind].proc}`;
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(path), b.O.O_RDONLY | b.O.O_CLOEXEC, 0], { label: `open ${path}`, result: reg });
    return { kind, reg };
  });
  for (const { kind, reg } of regs) {
    b.syscall('setns', [reg, flags(CLONE, NAMESPACES[kind].clone)], { label: `join the container's ${kind} namespace` });
    b.syscall('close', [reg]);
  }
  if (root) {
    b.syscall('fchdir', [root], { label: "enter the container's root" });
    b.syscall('chroot', [str('.')], { label: "chroot to the container's root" });
    // By path: a #! script then gets its own path, not /dev/fd/N, which the container's
    // /proc (another PID namespace) cannot resolve for this process.
    b.syscall('execve', [str(req.executable), ptrArray(req.argv), ptrArray(req.env)], { label: `exec ${req.executable}` });
    return b;
  }
  b.syscall('execveat', [exe, str(''), ptrArray(req.argv), ptrArray(req.env), flags(AT, 'AT_EMPTY_PATH')], { label: `exec ${req.executable}` });
  return b;
}
