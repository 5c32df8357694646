// A new session keyring for the container (runc does the same unless
// --no-new-keyring): otherwise the container shares tsrun's session keyring,
// and with it every key the caller's session holds. The keyring is made
// searchable by the container's user, whose uid is set later. ENOSYS (no
// keyrings in this kernel) is tolerated, as runc does.
import { KEYCTL } from '../../native/constants.js';
import { flags, imm, str } from '../../native/program.js';
import type { PlanContext } from './context.js';

/** Possessor: all; user: view, read, write, search (the default session keyring perm + runc's 0x080f0000). */
const SESSION_KEYRING_PERM = 0x3f1f0000;

export function planSessionKeyring(ctx: PlanContext, name: string): void {
  const { b, regs } = ctx;
  const ring = regs.scratch[0];
  b.syscall('keyctl', [flags(KEYCTL, 'KEYCTL_JOIN_SESSION_KEYRING'), str(name)], { label: `join a new session keyring ${name}`, result: ring, okErrnos: ['ENOSYS'] });
  b.syscall('keyctl', [flags(KEYCTL, 'KEYCTL_SETPERM'), ring, imm(SESSION_KEYRING_PERM, '0x3f1f0000')], {
    label: 'make the session keyring searchable by the container user',
    okErrnos: ['ENOSYS', 'ENOKEY'],
  });
}
