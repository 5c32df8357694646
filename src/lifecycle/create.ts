// `create`: validate, reserve the id, create the cgroup and the exec fifo,
// spawn the stub with the container's program and walk its sync points. When
// the stub reports "created", write the state and the pid file and return:
// the container's process waits in the stub on the exec fifo, and tsrun keeps
// no process of its own. Any failure undoes everything done so far.
import { chmodSync, chownSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SIG } from '../../native/constants.js';
import * as libc from '../../native/libc.js';
import type { StubSession } from '../../native/stub.js';
import { startStub } from '../../native/stub.js';
import { applyCgroup, createCgroup, planCgroup, removeCgroup } from '../cgroups/manager.js';
import { TsrunError, UnsupportedError } from '../errors.js';
import { rfc3339, type Logger } from '../log.js';
import { buildContainerProgram } from '../plan/container.js';
import { processEnv, refuseUnsupportedProcessFields } from '../plan/process.js';
import { refuseUnsupportedRootfsFields } from '../plan/rootfs.js';
import { SYNC } from '../plan/sync.js';
import { formatWarning, loadBundle } from '../spec/load.js';
import type { HookName, IDMapping, Process, Spec } from '../spec/types.js';
import { readLastCap } from '../spec/validate/host.js';
import { readProcStat } from '../state/proc.js';
import type { ContainerRecord, Lock, StateStore } from '../state/store.js';
import { stateOutput, type StateOutput } from '../state/status.js';
import { HookError, runHooks, runHooksWarning } from './hooks.js';
import { probeLsm } from './lsm.js';
import { copyUp } from './copy-up.js';
import { homeOf, sourceProbe } from './probe.js';
import { userNamespaceFd, writeIdMaps } from './userns-fd.js';
import { compileSeccomp, handOverListener } from './seccomp.js';

export interface CreateRequest {
  readonly id: string;
  readonly bundle: string;
  readonly pidFile?: string | undefined;
  readonly consoleSocket?: string | undefined;
  /** A connected console socket fd instead of a path (run/exec in the foreground relay the pty themselves). */
  readonly consoleSocketFd?: number | undefined;
  readonly preserveFds: number;
  readonly noPivot: boolean;
  readonly noNewKeyring: boolean;
  readonly rootless: boolean;
}

export interface Created {
  readonly record: ContainerRecord;
}

const EXEC_FIFO_MODE = 0o622;
const CREATE_HOOKS: readonly HookName[] = ['prestart', 'createRuntime', 'createContainer'];
const STATE_OCI_VERSION_FALLBACK = '1.3.0';

/** Writes the pid file atomically (temp name + rename), decimal with no newline, as runc. */
export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.tmp`);
  writeFileSync(tmp, String(pid), { mode: 0o644 });
  renameSync(tmp, abs);
}

/** Host uid/gid that container root maps to (the owner the exec fifo needs), or 0 without a mapping. */
function hostIdOfRoot(mappings: readonly IDMapping[] | undefined): number {
  const m = (mappings ?? []).find((x) => x.containerID <= 0 && 0 < x.containerID + x.size);
  return m === undefined ? 0 : m.hostID - m.containerID;
}

/** Mounts asking for an idmap, with the mappings to use: their own, else the container's (config.md). */
function idmappedMounts(spec: Spec): { index: number; uid: readonly IDMapping[]; gid: readonly IDMapping[] }[] {
  return (spec.mounts ?? []).flatMap((m, index) => {
    const asked = (m.options ?? []).some((o) => o === 'idmap' || o === 'ridmap') || (m.uidMappings ?? []).length > 0;
    if (!asked) return [];
    const own = (m.uidMappings ?? []).length > 0;
    return [{ index, uid: (own ? m.uidMappings : spec.linux?.uidMappings) ?? [], gid: (own ? m.gidMappings : spec.linux?.gidMappings) ?? [] }];
  });
}

/** Fds passed by systemd socket activation to this process (LISTEN_FDS for our pid), else 0. */
function listenFds(): number {
  const n = Number.parseInt(process.env.LISTEN_FDS ?? '', 10);
  return Number.isInteger(n) && n > 0 && process.env.LISTEN_PID === String(process.pid) ? n : 0;
}

/** Config fields that no milestone so far implements: refused before anything is created. Returns the process to run. */
function refuseUnsupported(spec: Spec, req: CreateRequest): Process {
  if (spec.process === undefined) throw new UnsupportedError('/process', 'create needs a process to run');
  if (req.consoleSocket !== undefined && spec.process.terminal !== true) {
    throw new TsrunError('--console-socket given but process.terminal is not true');
  }
  if (spec.process.terminal === true && req.consoleSocket === undefined && req.consoleSocketFd === undefined) {
    throw new TsrunError('cannot allocate tty if tsrun will detach without setting console socket');
  }
  refuseUnsupportedProcessFields(spec);
  refuseUnsupportedRootfsFields(spec);
  if (req.rootless) throw new UnsupportedError('--rootless', 'rootless containers are not supported yet');
  return spec.process;
}

export function createContainer(req: CreateRequest, store: StateStore, logger: Logger): Created {
  const loaded = loadBundle(req.bundle, { rootless: req.rootless });
  for (const w of loaded.warnings) logger.warn(formatWarning(w));
  const { spec, bundle, rootfs } = loaded;
  const process_ = refuseUnsupported(spec, req);
  if (spec.linux?.mountLabel && !sourceProbe.selinuxEnabled) logger.warn('/linux/mountLabel is ignored: SELinux is not enabled on this host (as runc)');
  // Resources are translated and checked against the host's controllers here, before anything exists.
  const cgroupPlan = planCgroup(spec, req.id);
  // Compiled before anything exists: a profile libseccomp refuses, or no libseccomp, fails cleanly.
  const seccomp = spec.linux?.seccomp === undefined ? undefined : compileSeccomp(spec.linux.seccomp);
  for (const note of seccomp?.notes ?? []) logger.debug(note);
  const listen = listenFds();
  let env = processEnv(process_.env ?? [], homeOf(rootfs, process_.user.uid));
  // Socket activation passes through (runc): the fds come first, LISTEN_PID is the container's init.
  if (listen > 0) env = [...env.filter((e) => !/^LISTEN_(FDS|PID)=/.test(e)), `LISTEN_FDS=${listen}`, 'LISTEN_PID=1'];
  const preserveFds = listen + req.preserveFds;

  const lock = store.reserve(req.id);
  let hookState: StateOutput | undefined;
  const undo: (() => void)[] = [() => store.remove(req.id)];
  let session: StubSession | undefined;
  let containerPid = 0;
  try {
    const self = readProcStat(process.pid);
    const base: Omit<ContainerRecord, 'phase' | 'pid' | 'pidStartTime'> = {
      recordVersion: 1,
      id: req.id,
      ociVersion: spec.ociVersion ?? STATE_OCI_VERSION_FALLBACK,
      creatorPid: process.pid,
      creatorStartTime: self?.startTime ?? '',
      bundle,
      rootfs,
      created: rfc3339(new Date(), 'nanoseconds'),
      owner: '',
      annotations: spec.annotations ?? {},
      config: spec,
    };
    const cgroup = cgroupPlan.location;
    let record: ContainerRecord = { ...base, phase: 'creating', pid: 0, pidStartTime: '', cgroupPath: cgroup.dir };
    store.write(record);

    const fifo = store.execFifoPath(req.id);
    libc.mkfifo(fifo, EXEC_FIFO_MODE);
    // umask may have trimmed the mode; the container's root (maybe a mapped uid) must be able to write it.
    chmodSync(fifo, EXEC_FIFO_MODE);
    chownSync(fifo, hostIdOfRoot(spec.linux?.uidMappings), hostIdOfRoot(spec.linux?.gidMappings));

    const createdParents = createCgroup(cgroup);
    undo.push(() => {
      removeCgroup(cgroup.dir, createdParents);
    });
    record = { ...record, cgroupCreated: createdParents };
    // Limits and the device program are in place before the stub exists, so before any process is in it.
    applyCgroup(cgroupPlan);

    const idmapFds = idmappedMounts(spec).map(({ index, uid, gid }) => ({ index, fd: userNamespaceFd(uid, gid) }));
    undo.push(() => idmapFds.forEach(({ fd }) => libc.close(fd)));
    const ownConsoleFd = req.consoleSocket !== undefined && process_.terminal === true;
    const consoleFd = ownConsoleFd ? libc.connectUnix(req.consoleSocket as string) : process_.terminal ? req.consoleSocketFd : undefined;
    const { builder } = buildContainerProgram({
      spec,
      bundle,
      rootfs,
      execFifo: fifo,
      cgroupDir: cgroup.dir,
      hostCgroupMount: cgroup.mount,
      env,
      noPivot: req.noPivot,
      keyringName: req.noNewKeyring ? undefined : `_ses.${req.id}`,
      preserveFds,
      consoleSocketFd: consoleFd === undefined ? undefined : 3 + preserveFds,
      idmapped: idmapFds.map(({ index }, k) => ({ index, usernsFd: 3 + preserveFds + (consoleFd === undefined ? 0 : 1) + k })),
      host: { lastCap: readLastCap(), lsm: probeLsm(), ...sourceProbe },
      seccomp: seccomp?.compiled,
    });
    const preserved = Array.from({ length: preserveFds }, (_, i) => 3 + i);
    // The console socket follows the preserved fds; the program closes it after sending the pty master.
    if (consoleFd !== undefined) preserved.push(consoleFd);
    // Then the idmapped mounts' user namespaces, closed by the program once used.
    preserved.push(...idmapFds.map(({ fd }) => fd));
    session = startStub({ stdio: ['inherit', 'inherit', 'inherit'], preservedFds: preserved, program: builder.encode() });
    if (ownConsoleFd && consoleFd !== undefined) libc.close(consoleFd);
    for (const { fd } of idmapFds.splice(0)) libc.close(fd);
    const stub = session;
    undo.push(() => {
      stub.kill(SIG.SIGKILL);
      if (containerPid > 0 && containerPid !== stub.pid) {
        try {
          libc.kill(containerPid, SIG.SIGKILL);
        } catch {
          // already gone
        }
      }
      stub.close();
    });
    containerPid = session.pid;

    let copyUpSource: number | undefined;
    for (;;) {
      const m = session.next();
      if (m.kind === 'error') throw builder.errorFor(m.opIndex, m.errno);
      if (m.kind === 'eof' || m.kind === 'done') {
        const exit = session.wait(1000);
        throw new TsrunError(`container init exited before it was created${exit ? ` (status ${exit.exitCode ?? `signal ${exit.signal}`})` : ''}`);
      }
      if (m.kind === 'child-pid') {
        // The session reaps the parent side; the child goes on with the program.
        containerPid = m.pid;
        continue;
      }
      switch (m.code) {
        case SYNC.ID_MAPS:
          writeIdMaps(containerPid, spec.linux?.uidMappings ?? [], spec.linux?.gidMappings ?? [], { denySetgroups: req.rootless });
          break;
        case SYNC.CREATE_HOOKS: {
          const state = stateOutput({ ...record, pid: containerPid }, 'creating');
          hookState = state;
          runHooks('prestart', spec.hooks?.prestart, state, { kind: 'runtime' });
          runHooks('createRuntime', spec.hooks?.createRuntime, state, { kind: 'runtime' });
          runHooks('createContainer', spec.hooks?.createContainer, state, { kind: 'container', pid: containerPid, pathIn: 'runtime' });
          break;
        }
        case SYNC.SECCOMP_LISTENER:
          handOverListener(spec.linux?.seccomp, m.fd, stateOutput({ ...record, pid: containerPid }, 'creating'));
          break;
        case SYNC.COPY_UP_SOURCE:
          if (m.fd === null) throw new TsrunError('tmpcopyup: the container init sent no directory');
          copyUpSource = m.fd;
          break;
        case SYNC.COPY_UP_TARGET: {
          const source = copyUpSource;
          copyUpSource = undefined;
          if (m.fd === null || source === undefined) throw new TsrunError('tmpcopyup: the container init sent no tmpfs');
          try {
            copyUp(source, m.fd);
          } finally {
            libc.close(source);
            libc.close(m.fd);
          }
          break;
        }
        case SYNC.CREATED: {
          const stat = readProcStat(containerPid);
          if (stat === undefined) throw new TsrunError(`container process ${containerPid} vanished during create`);
          record = { ...record, phase: 'created', pid: containerPid, pidStartTime: stat.startTime };
          store.write(record);
          if (req.pidFile !== undefined) writePidFile(req.pidFile, containerPid);
          session.reply();
          session.close();
          lock.release();
          return { record };
        }
        default:
          throw new TsrunError(`unexpected sync point ${m.code} from the container init`);
      }
      session.reply();
    }
  } catch (err) {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch (cleanupErr) {
        logger.warn(`cleanup after a failed create: ${(cleanupErr as Error).message}`);
      }
    }
    lock.release();
    // runtime.md: when a prestart, createRuntime or createContainer hook fails, the container is
    // stopped and the lifecycle goes on to the poststop hooks (their failures are warnings).
    if (err instanceof HookError && CREATE_HOOKS.includes(err.hookName) && hookState !== undefined) {
      runHooksWarning('poststop', spec.hooks?.poststop, { ...hookState, status: 'stopped' }, { kind: 'runtime' }, (m) => logger.warn(m));
    }
    throw err;
  }
}
