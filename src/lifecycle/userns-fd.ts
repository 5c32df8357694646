// An fd of a user namespace with given uid/gid mappings, for idmapped mounts
// (mount_setattr MOUNT_ATTR_IDMAP takes a user namespace fd). The kernel has
// no way to make one without a process in it: a stub unshares a user
// namespace and waits at a sync point while tsrun writes its maps and opens
// /proc/<pid>/ns/user; then the stub is killed. The namespace lives on as
// long as the fd does. The id maps of a container's own user namespace are
// written the same way (writeIdMaps).
import { openSync, writeFileSync } from 'node:fs';
import { CLONE, SIG } from '../../native/constants.js';
import { flags, ProgramBuilder } from '../../native/program.js';
import { startStub } from '../../native/stub.js';
import { TsrunError } from '../errors.js';
import type { IDMapping } from '../spec/types.js';

const HOLD = 1;

function idMapText(m: readonly IDMapping[]): string {
  return m.map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join('');
}

/**
 * The id maps of the user namespace of process `pid`, written from outside: uid_map, then
 * setgroups "deny" when asked (an unprivileged writer must, before gid_map), then gid_map.
 */
export function writeIdMaps(pid: number, uid: readonly IDMapping[], gid: readonly IDMapping[], opts: { denySetgroups?: boolean } = {}): void {
  writeFileSync(`/proc/${pid}/uid_map`, idMapText(uid));
  if (opts.denySetgroups) writeFileSync(`/proc/${pid}/setgroups`, 'deny');
  writeFileSync(`/proc/${pid}/gid_map`, idMapText(gid));
}

export function userNamespaceFd(uidMappings: readonly IDMapping[], gidMappings: readonly IDMapping[]): number {
  const b = new ProgramBuilder();
  b.syscall('unshare', [flags(CLONE, 'CLONE_NEWUSER')], { label: 'create a user namespace for an idmapped mount' });
  b.sync(HOLD, 0, { label: 'hold the user namespace while tsrun opens it' });
  const program = b.encode();
  const session = startStub({ stdio: ['ignore', 'ignore', 'inherit'], program });
  try {
    const m = session.next(5000);
    if (m.kind === 'error') throw b.errorFor(m.opIndex, m.errno);
    if (m.kind !== 'sync') throw new TsrunError('the idmap helper exited before its user namespace was ready');
    writeIdMaps(session.pid, uidMappings, gidMappings);
    return openSync(`/proc/${session.pid}/ns/user`, 'r');
  } finally {
    session.kill(SIG.SIGKILL);
    session.close();
  }
}
