// `exec`: run another process in a running container. The process is the
// --process file, or the container's own process with runc's overrides
// (args, --cwd, --env appended, --user, --additional-gids, --cap, --tty,
// --no-new-privs, --apparmor, --process-label). The stub joins the init's
// namespaces and cgroup, forks, sets the process up exactly as `create` does
// and execs; in the foreground tsrun waits as its subreaper and returns its
// exit status, with --detach it returns once the process runs.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { PR, SIG } from '../../native/constants.js';
import { usingStdioStreams } from '../../native/exit.js';
import * as libc from '../../native/libc.js';
import { startStub } from '../../native/stub.js';
import { ConfigError, TsrunError, UsageError } from '../errors.js';
import { buildExecProgram } from '../plan/exec.js';
import { processEnv, refuseUnsupportedProcessFields } from '../plan/process.js';
import { SYNC } from '../plan/sync.js';
import { configSchemaProblems } from '../spec/schema.js';
import type { Process, Spec } from '../spec/types.js';
import { readLastCap } from '../spec/validate/host.js';
import { assertAllowed } from '../state/machine.js';
import { readProcStat } from '../state/proc.js';
import { currentStatus, stateOutput } from '../state/status.js';
import type { StateStore } from '../state/store.js';
import type { Command } from '../cli/parse.js';
import type { Logger } from '../log.js';
import { writePidFile } from './create.js';
import { probeLsm } from './lsm.js';
import { compileSeccomp, handOverListener } from './seccomp.js';
import { differingNamespaces } from './enter.js';
import { homeOf } from './probe.js';
import { receivePtyMaster } from './run.js';
import { forwardSignals, waitForExit } from './wait.js';

/** The exec command line as parsed (runc's flags), without its name. */
export type ExecRequest = Omit<Extract<Command, { readonly name: 'exec' }>, 'name'>;

function decimal(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

/** The process of a --process file, checked against the config schema's process definition. */
function processFromFile(path: string): Process {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TsrunError(`read the process file ${path}: ${(err as Error).message}`);
  }
  const problems = configSchemaProblems({ ociVersion: '1.3.0', process: doc }).filter((p) => p.path.startsWith('/process'));
  if (problems.length > 0) throw new ConfigError(path, problems);
  const p = doc as Process;
  // runc's validateProcessSpec: what the schema cannot say.
  if (!isAbsolute(p.cwd)) throw new ConfigError(path, [{ path: '/process/cwd', message: `cwd ${JSON.stringify(p.cwd)} must be an absolute path` }]);
  if (!p.args || p.args.length === 0) throw new ConfigError(path, [{ path: '/process/args', message: 'args must not be empty' }]);
  return p;
}

/** runc's getProcess: the container's process with the command line's overrides. */
export function execProcess(base: Process | undefined, req: ExecRequest): Process {
  if (req.process !== undefined) return processFromFile(req.process);
  if (base === undefined) throw new TsrunError('the container has no process to take defaults from');
  let user = base.user;
  if (req.user !== undefined && req.user !== '') {
    const [uid = '', gid] = req.user.split(':', 2);
    user = { ...user, uid: decimal(uid, 'user'), ...(gid !== undefined ? { gid: decimal(gid, 'group') } : {}) };
  }
  if (req.additionalGids.length > 0) user = { ...user, additionalGids: [...(user.additionalGids ?? []), ...req.additionalGids.map((g) => decimal(g, 'additional gid'))] };
  let capabilities = base.capabilities;
  if (req.cap.length > 0) {
    const c = capabilities ?? {};
    capabilities = {
      ...c,
      bounding: [...(c.bounding ?? []), ...req.cap],
      effective: [...(c.effective ?? []), ...req.cap],
      permitted: [...(c.permitted ?? []), ...req.cap],
      // Ambient needs inheritable: runc adds it only when the config has an inheritable set.
      ...(c.inheritable ? { ambient: [...(c.ambient ?? []), ...req.cap] } : {}),
    };
  }
  return {
    ...base,
    args: req.args,
    env: [...(base.env ?? []), ...req.env],
    terminal: req.tty,
    user,
    ...(capabilities ? { capabilities } : {}),
    ...(req.cwd ? { cwd: req.cwd } : {}),
    ...(req.noNewPrivs ? { noNewPrivileges: true } : {}),
    ...(req.apparmor ? { apparmorProfile: req.apparmor } : {}),
    ...(req.processLabel ? { selinuxLabel: req.processLabel } : {}),
  };
}

/** runc's --cgroup: a sub-cgroup of the container's (v2: `path` or `:path`). */
function execCgroup(base: string, flags: readonly string[]): string {
  const paths = flags.map((f) => (f.includes(':') ? f.slice(f.indexOf(':') + 1) : f));
  const sub = paths[paths.length - 1];
  if (sub === undefined || sub === '') return base;
  const norm = normalize(sub);
  if (norm.startsWith('..') || norm.startsWith('/')) throw new UsageError(`--cgroup ${JSON.stringify(sub)} must be a path below the container's cgroup`);
  return join(base, norm);
}

export async function execInContainer(req: ExecRequest, store: StateStore, logger: Logger): Promise<number> {
  const { lock, record } = store.lock(req.id);
  const status = currentStatus(record, store.containerDir(req.id));
  lock.release();
  if (!(status === 'paused' && req.ignorePaused)) assertAllowed('exec', status);
  const config = record.config as Spec;
  const proc = execProcess(config.process, req);
  const spec: Spec = { ...config, process: proc };
  refuseUnsupportedProcessFields(spec);
  if (req.consoleSocket !== undefined && !proc.terminal) throw new TsrunError('--console-socket given but the process has no terminal (use --tty)');
  if (proc.terminal && req.consoleSocket === undefined && req.detach) throw new TsrunError('cannot allocate tty if tsrun will detach without setting console socket');
  // The console socket: the caller's, or in the foreground a pair whose other end tsrun keeps to relay the pty.
  const pair = proc.terminal && req.consoleSocket === undefined ? libc.socketpair() : undefined;
  const consoleFd = !proc.terminal ? undefined : pair ? pair[1] : libc.connectUnix(req.consoleSocket as string);
  const cgroupDir = record.cgroupPath === undefined ? undefined : execCgroup(record.cgroupPath, req.cgroup);

  // The container's filter applies to exec'd processes too (compiled here, in the parent, as for create).
  const seccomp = spec.linux?.seccomp === undefined ? undefined : compileSeccomp(spec.linux.seccomp);
  for (const note of seccomp?.notes ?? []) logger.debug(note);
  const env = processEnv(proc.env ?? [], homeOf(record.rootfs, proc.user.uid));
  // Relaying our own terminal: the pty starts with its size, so the process never sees a wrong one.
  const relaysOwnTerminal = pair !== undefined && !proc.consoleSize;
  if (relaysOwnTerminal) usingStdioStreams();
  const size = relaysOwnTerminal && process.stdout.isTTY ? { height: process.stdout.rows, width: process.stdout.columns } : undefined;
  const program = buildExecProgram({
    spec: size ? { ...spec, process: { ...proc, consoleSize: size } } : spec,
    pid: record.pid,
    kinds: differingNamespaces(record.pid),
    env,
    preserveFds: req.preserveFds,
    consoleSocketFd: consoleFd === undefined ? undefined : 3 + req.preserveFds,
    cgroupDir,
    host: { lastCap: readLastCap(), lsm: probeLsm() },
    security: seccomp ? { seccomp: seccomp.compiled } : {},
  });
  if (!req.detach) libc.prctl(PR.PR_SET_CHILD_SUBREAPER, 1);
  const preserved = Array.from({ length: req.preserveFds }, (_, i) => 3 + i);
  if (consoleFd !== undefined) preserved.push(consoleFd);
  const session = startStub({ stdio: ['inherit', 'inherit', 'inherit'], preservedFds: preserved, program: program.encode() });
  if (consoleFd !== undefined) libc.close(consoleFd);
  let master: number | undefined;
  let pid = 0;
  let pidfd = -1;
  try {
    for (;;) {
      const m = session.next();
      if (m.kind === 'error') throw program.errorFor(m.opIndex, m.errno);
      if (m.kind === 'eof' || m.kind === 'done') throw new TsrunError('the exec process exited before it was ready');
      if (m.kind === 'child-pid') {
        // The last fork's child is the process (the first only entered the cgroup); the session
        // holds a pidfd to each child from its report on, and reaps each parent side.
        pid = m.pid;
        continue;
      }
      if (m.code === SYNC.SECCOMP_LISTENER) {
        handOverListener(spec.linux?.seccomp, m.fd, stateOutput(record, 'running'));
      } else if (m.code === SYNC.EXEC_READY) {
        // Held since the fork reported it, before the process could exit: its pid cannot be reused under us.
        if (!req.detach) pidfd = session.takeChildPidfd();
        if (pair) master = receivePtyMaster(pair[0]);
        if (req.pidFile !== undefined) writePidFile(req.pidFile, pid);
        session.reply();
        break;
      } else {
        throw new TsrunError(`unexpected sync point ${m.code} from the exec process`);
      }
      session.reply();
    }
  } catch (err) {
    session.kill(SIG.SIGKILL);
    if (pid > 0) libc.kill(pid, SIG.SIGKILL);
    if (pidfd >= 0) libc.close(pidfd);
    throw err;
  } finally {
    session.close();
    if (pair) libc.close(pair[0]);
  }
  if (req.detach) return 0;
  // node:tty (and the stream modules it brings) only when there is a terminal to relay.
  const relay = master === undefined ? undefined : (await import('./tty-relay.js')).relayTerminal(master);
  const stopForwarding = forwardSignals(pidfd);
  try {
    return await waitForExit(pidfd, pid, readProcStat(pid)?.startTime ?? '', relay !== undefined);
  } finally {
    stopForwarding();
    await relay?.finish();
    libc.close(pidfd);
  }
}
