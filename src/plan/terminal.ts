// process.terminal: a pty from the container's own devpts instance (opened
// after pivot_root, so /dev/pts/ptmx is the container's), its slave made the
// process's controlling terminal and stdio, consoleSize applied, and the
// master sent over the console socket with SCM_RIGHTS, as runc does: conmon,
// containerd's shim, or tsrun itself (run/exec in the foreground) receive it.
// For the container's init the slave is also bound on /dev/console. Pure.
import { AT, MS, TIOC } from '../../native/constants.js';
import { bytes, fdPath, flags, imm, nul, str } from '../../native/program.js';
import type { ConsoleSize } from '../spec/types.js';
import type { PlanContext } from './context.js';

/** What the console socket's receiver gets with the fd (runc sends the master's name). */
const MASTER_NAME = '/dev/ptmx';

export interface TerminalPlan {
  /** The fd number (in the stub) of the connected console socket. */
  readonly socketFd: number;
  /** Bind the slave on /dev/console (the container's init, not exec). */
  readonly console: boolean;
  readonly size?: ConsoleSize | undefined;
}

function winsize(size: ConsoleSize): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, size.height, true);
  dv.setUint16(2, size.width, true);
  return b;
}

export function planTerminal(ctx: PlanContext, t: TerminalPlan): void {
  const { b, regs } = ctx;
  const [, , master, slave] = regs.scratch;
  b.syscall('openat', [flags(AT, 'AT_FDCWD'), str('/dev/pts/ptmx'), b.O.O_RDWR | b.O.O_NOCTTY | b.O.O_CLOEXEC, 0], {
    label: "open /dev/pts/ptmx of the container's devpts (is /dev/pts mounted with newinstance?)",
    result: master,
  });
  b.syscall('ioctl', [master, imm(TIOC.TIOCSPTLCK, 'TIOCSPTLCK'), bytes(new Uint8Array(4), '&0')], { label: 'unlock the pty' });
  b.syscall('ioctl', [master, imm(TIOC.TIOCGPTPEER, 'TIOCGPTPEER'), b.O.O_RDWR | b.O.O_NOCTTY], { label: 'open the pty slave', result: slave });
  if (t.size) b.syscall('ioctl', [slave, imm(TIOC.TIOCSWINSZ, 'TIOCSWINSZ'), bytes(winsize(t.size), `{rows=${t.size.height}, cols=${t.size.width}}`)], { label: 'set the console size' });
  if (t.console) {
    b.syscall('mount', [fdPath(slave), str('/dev/console'), nul(), flags(MS, 'MS_BIND'), nul()], { label: 'bind the pty slave on /dev/console' });
  }
  b.sendFd(t.socketFd, master, { payload: MASTER_NAME, label: 'send the pty master over the console socket' });
  b.syscall('close', [master]);
  b.syscall('close', [imm(t.socketFd)], { label: 'close the console socket' });
  b.syscall('setsid', [], { label: 'start a session for the terminal' });
  b.syscall('ioctl', [slave, imm(TIOC.TIOCSCTTY, 'TIOCSCTTY'), 0], { label: 'make the pty the controlling terminal' });
  for (const fd of [0, 1, 2]) b.syscall('dup3', [slave, fd, 0], { label: `make the pty fd ${fd}` });
  b.syscall('close', [slave]);
}
