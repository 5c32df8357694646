// The container process (config.md "Process", config-linux.md "sysctl",
// "personality"): container-wide settings after pivot_root (hostname,
// domainname, sysctls), then the process's own attributes in runc's order:
// oom_score_adj, rlimits, I/O priority, personality, scheduler, memory
// policy, LSM exec labels, no_new_privs, the capability bounding set, the user
// (setgroups, setresgid, setresuid keeping capabilities), the exact capability
// sets, ambient capabilities, umask, cwd, and a check that process.args[0]
// resolves to an executable; finally execve. The seccomp filter goes in at one
// of three points (src/plan/seccomp.ts says which and why).
// Pure: emits ops. Fields no milestone implements yet are refused up front.
import { AT, CAPABILITY_VERSION, CLOSE_RANGE, F, IOPRIO, ioprioValue, PERSONALITY, PR, RLIMIT } from '../../native/constants.js';
import { bytes, flags, imm, ptrArray, regArg, str, type ProgramBuilder } from '../../native/program.js';
import { capabilityName, capabilityNumber } from '../capabilities.js';
import { UnsupportedError } from '../errors.js';
import type { LinuxCapabilities, Process, Spec } from '../spec/types.js';
import { normalizeSysctlKey } from '../spec/validate/sysctl.js';
import type { PlanContext } from './context.js';
import type { LsmProbe } from './lsm.js';
import { planLsmLabels } from './lsm.js';
import { planMemoryPolicy, planScheduler } from './scheduling.js';
import type { CompiledSeccomp } from './seccomp.js';
import { planSeccompLoad, seccompLoadPoint } from './seccomp.js';

/** Facts about the host the process planner needs. */
export interface HostProbe {
  /** /proc/sys/kernel/cap_last_cap. */
  readonly lastCap: number;
  /** The LSMs the host runs (src/lifecycle/lsm.ts); absent: labels are refused. */
  readonly lsm?: LsmProbe;
}

/** What the parent prepared for the process's confinement. */
export interface ProcessSecurity {
  /** linux.seccomp compiled by libseccomp (src/lifecycle/seccomp.ts); absent: no filter. */
  readonly seccomp?: CompiledSeccomp;
}

const DEFAULT_UMASK = 0o022;
/** What a $PATH candidate that is not there (or not reachable) fails with: try the next one. */
const NOT_THIS_CANDIDATE = ['ENOENT', 'ENOTDIR', 'EACCES', 'ELOOP'] as const;
const X_OK = 1;

/** Process and Linux fields that are part of the spec but not implemented yet: refused, naming the field. */
export function refuseUnsupportedProcessFields(spec: Spec): void {
  const linux = spec.linux;
  const refuse = (field: string, what: string): never => {
    throw new UnsupportedError(field, `${what} is not supported yet`);
  };
  if (linux?.intelRdt) refuse('/linux/intelRdt', 'Intel RDT');
  if (linux?.netDevices && Object.keys(linux.netDevices).length > 0) refuse('/linux/netDevices', 'moving network devices');
}

/** The env with HOME added from the container's passwd when absent (as runc). */
export function processEnv(env: readonly string[], home: string | undefined): string[] {
  const out = [...env];
  if (!out.some((e) => e.startsWith('HOME='))) out.push(`HOME=${home ?? '/'}`);
  return out;
}

/**
 * The paths execve tries for args[0], in order: args[0] itself when it has a
 * slash, else each $PATH entry of the process env (Go's LookPath, which runc
 * uses: an empty entry means the cwd).
 */
export function executableCandidates(arg0: string, env: readonly string[]): string[] {
  if (arg0.includes('/')) return [arg0];
  const path = [...env].reverse().find((e) => e.startsWith('PATH='))?.slice('PATH='.length) ?? '';
  if (path === '') return [];
  return path.split(':').map((dir) => (dir === '' ? arg0 : `${dir.replace(/\/+$/, '')}/${arg0}`));
}

/** Hostname and domainname: right after the namespaces, so the create hooks see them. */
export function planUtsNames(ctx: PlanContext): void {
  const { b, spec } = ctx;
  if (spec.hostname !== undefined) b.syscall('sethostname', [str(spec.hostname), Buffer.byteLength(spec.hostname)], { label: `set the hostname ${spec.hostname}` });
  if (spec.domainname !== undefined) {
    b.syscall('setdomainname', [str(spec.domainname), Buffer.byteLength(spec.domainname)], { label: `set the domainname ${spec.domainname}` });
  }
}

/** The /proc/sys path of a key: "." separates directories, "/" stands for a "." inside one (as sysctl(8), runc). */
export function sysctlPath(key: string): string {
  return normalizeSysctlKey(key)
    .split('.')
    .map((part) => part.replace(/\//g, '.'))
    .join('/');
}

/** sysctls: after pivot_root, through the container's /proc, before readonlyPaths. */
export function planSysctls(ctx: PlanContext): void {
  const { b, spec } = ctx;
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    b.writeFile(`/proc/sys/${sysctlPath(key)}`, value, ctx.regs.scratch[0], { label: `set sysctl ${key}=${value}` });
  }
}

function capMask(names: readonly string[] | undefined, lastCap: number): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const n = capabilityNumber(name);
    // Names the running kernel does not know were warned about by validation and are skipped, as runc.
    if (n !== undefined && n <= lastCap) mask |= 1n << BigInt(n);
  }
  return mask;
}

/** struct __user_cap_header_struct + two struct __user_cap_data_struct (version 3: 64 bits per set). */
function capsetArgs(caps: LinuxCapabilities, lastCap: number): { header: Uint8Array; data: Uint8Array; text: string } {
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, CAPABILITY_VERSION.LINUX_CAPABILITY_VERSION_3, true);
  const sets = [caps.effective, caps.permitted, caps.inheritable].map((s) => capMask(s, lastCap));
  const data = new Uint8Array(24);
  const dv = new DataView(data.buffer);
  sets.forEach((mask, k) => {
    dv.setUint32(4 * k, Number(mask & 0xffffffffn), true);
    dv.setUint32(12 + 4 * k, Number(mask >> 32n), true);
  });
  const text = `{eff=0x${sets[0]?.toString(16)}, prm=0x${sets[1]?.toString(16)}, inh=0x${sets[2]?.toString(16)}}`;
  return { header, data, text };
}

function rlimitStruct(soft: number, hard: number): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  // JSON numbers above 2^53 (RLIM_INFINITY written as 18446744073709551615) round to 2^64: clamp to infinity.
  const u64 = (n: number): bigint => (n >= 2 ** 64 - 1 ? (1n << 64n) - 1n : BigInt(Math.trunc(n)));
  dv.setBigUint64(0, u64(soft), true);
  dv.setBigUint64(8, u64(hard), true);
  return b;
}

function planRlimits(b: ProgramBuilder, p: Process): void {
  (p.rlimits ?? []).forEach((r, i) => {
    const resource = RLIMIT[r.type as keyof typeof RLIMIT];
    if (resource === undefined) throw new UnsupportedError(`/process/rlimits/${i}/type`, `unknown rlimit ${JSON.stringify(r.type)}`);
    b.syscall('prlimit64', [0, imm(resource, r.type), bytes(rlimitStruct(r.soft, r.hard), `{cur=${r.soft}, max=${r.hard}}`), null], {
      label: `set ${r.type} to ${r.soft}/${r.hard}`,
    });
  });
}

function planPersonality(b: ProgramBuilder, spec: Spec): void {
  const pers = spec.linux?.personality;
  if (!pers) return;
  const domain = pers.domain === 'LINUX32' ? PERSONALITY.PER_LINUX32 : PERSONALITY.PER_LINUX;
  let value = domain;
  (pers.flags ?? []).forEach((name, i) => {
    const v = PERSONALITY[name as keyof typeof PERSONALITY];
    if (v === undefined || name.startsWith('PER_')) throw new UnsupportedError(`/linux/personality/flags/${i}`, `unknown personality flag ${JSON.stringify(name)}`);
    value |= v;
  });
  b.syscall('personality', [imm(value >>> 0, `${pers.domain}${(pers.flags ?? []).map((f) => `|${f}`).join('')}`)], { label: `set personality ${pers.domain}` });
}

/**
 * The process's attributes, in the order the kernel needs: everything that
 * needs privilege first, then the user change, then the final capability sets.
 */
export function planProcessAttributes(ctx: PlanContext, host: HostProbe, security: ProcessSecurity = {}): void {
  const { b, spec } = ctx;
  const p = spec.process;
  if (!p) return;
  const seccomp = security.seccomp;
  const seccompAt = seccomp === undefined ? undefined : seccompLoadPoint(spec, seccomp);
  if (p.oomScoreAdj !== undefined) b.writeFile('/proc/self/oom_score_adj', String(p.oomScoreAdj), ctx.regs.scratch[0], { label: `set oom_score_adj ${p.oomScoreAdj}` });
  planRlimits(b, p);
  if (p.ioPriority) {
    const klass = IOPRIO[p.ioPriority.class];
    b.syscall('ioprio_set', [flags(IOPRIO, 'IOPRIO_WHO_PROCESS'), 0, imm(ioprioValue(klass, p.ioPriority.priority ?? 0), `${p.ioPriority.class}/${p.ioPriority.priority ?? 0}`)], {
      label: 'set the I/O priority',
    });
  }
  planPersonality(b, spec);
  // Real-time policies and binding memory need the privileges dropped below.
  planScheduler(ctx);
  planMemoryPolicy(ctx);
  planLsmLabels(ctx, host.lsm);
  if (p.noNewPrivileges) b.syscall('prctl', [flags(PR, 'PR_SET_NO_NEW_PRIVS'), 1, 0, 0, 0], { label: 'set no_new_privs' });
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the capabilities go.
  if (seccomp && seccompAt === 'privileged') planSeccompLoad(ctx, seccomp);

  const caps = p.capabilities ?? {};
  const bounding = capMask(caps.bounding, host.lastCap);
  for (let n = 0; n <= host.lastCap; n++) {
    if ((bounding & (1n << BigInt(n))) === 0n) {
      b.syscall('prctl', [flags(PR, 'PR_CAPBSET_DROP'), imm(n, capName(n)), 0, 0, 0], { label: `drop ${capName(n)} from the bounding set`, okErrnos: ['EINVAL'] });
    }
  }
  // Keep the permitted set across the uid change, so capset below can give exactly the config's sets.
  b.syscall('prctl', [flags(PR, 'PR_SET_KEEPCAPS'), 1, 0, 0, 0], { label: 'keep capabilities across the user change' });
  const gids = p.user.additionalGids ?? [];
  const groups = new Uint8Array(4 * gids.length);
  gids.forEach((g, i) => new DataView(groups.buffer).setUint32(4 * i, g, true));
  b.syscall('setgroups', [gids.length, gids.length ? bytes(groups, `[${gids.join(', ')}]`) : null], { label: `set the supplementary groups [${gids.join(', ')}]` });
  b.syscall('setresgid', [p.user.gid, p.user.gid, p.user.gid], { label: `set gid ${p.user.gid}` });
  b.syscall('setresuid', [p.user.uid, p.user.uid, p.user.uid], { label: `set uid ${p.user.uid}` });
  b.syscall('prctl', [flags(PR, 'PR_SET_KEEPCAPS'), 0, 0, 0, 0], { label: 'stop keeping capabilities across user changes' });
  const cs = capsetArgs(caps, host.lastCap);
  b.syscall('capset', [bytes(cs.header, '{v3, pid=0}'), bytes(cs.data, cs.text)], { label: 'set the capabilities' });
  for (const name of caps.ambient ?? []) {
    const n = capabilityNumber(name);
    if (n === undefined || n > host.lastCap) continue;
    // EPERM without the capability in the inheritable set: runc goes on, and validation has warned.
    b.syscall('prctl', [flags(PR, 'PR_CAP_AMBIENT'), flags(PR, 'PR_CAP_AMBIENT_RAISE'), imm(n, name), 0, 0], { label: `raise the ambient capability ${name}`, okErrnos: ['EPERM'] });
  }
  const umask = p.user.umask ?? DEFAULT_UMASK;
  b.syscall('umask', [imm(umask, `0${umask.toString(8)}`)], { label: 'set the umask' });
  b.syscall('chdir', [str(p.cwd)], { label: `chdir to ${p.cwd}` });
  planExecutableCheck(ctx);
  // A listener fd must reach tsrun before the sync channel closes.
  if (seccomp && seccompAt === 'before-last-sync') planSeccompLoad(ctx, seccomp);
}

function capName(n: number): string {
  return capabilityName(n) ?? `capability ${n}`;
}

/**
 * runc fails `create` when args[0] does not resolve to an executable, so the
 * check runs here, as the container's user, before "created". The stub has
 * no branches: each candidate that opens is dup3()ed over one fd, last
 * candidate first, so the fd ends up on the first match of $PATH; it starts
 * as a copy of the exec fifo fd (mode 0622: never executable), so the final
 * X_OK check fails when nothing matched.
 */
function planExecutableCheck(ctx: PlanContext): void {
  const { b, regs, spec } = ctx;
  const arg0 = spec.process?.args?.[0] ?? '';
  const candidates = executableCandidates(arg0, spec.process?.env ?? []);
  const [found, cand] = regs.scratch;
  b.syscall('fcntl', [regs.execFifo, flags(F, 'F_DUPFD_CLOEXEC'), 0], { label: 'placeholder for the executable', result: found });
  for (const path of [...candidates].reverse()) {
    b.syscall('openat', [flags(AT, 'AT_FDCWD'), str(path), b.O.O_PATH | b.O.O_CLOEXEC, 0], {
      label: `look up ${path}`,
      result: cand,
      okErrnos: NOT_THIS_CANDIDATE,
    });
    b.syscall('dup3', [cand, regArg(found), b.O.O_CLOEXEC], { label: `take ${path}`, okErrnos: ['EBADF'] });
    b.syscall('close', [cand], { label: `close ${path}`, okErrnos: ['EBADF'] });
  }
  const why = arg0.includes('/') ? 'no such executable' : 'executable file not found in $PATH';
  b.syscall('faccessat2', [found, '', X_OK, flags(AT, 'AT_EMPTY_PATH', 'AT_EACCESS')], { label: `exec: ${JSON.stringify(arg0)}: ${why}` });
  b.syscall('close', [found], { label: 'close the executable check fd' });
}

/**
 * Every fd above the preserved ones becomes close-on-exec, then execve tries
 * the candidates in $PATH order (execvp's semantics); only the last failure
 * is an error.
 */
export function planExec(ctx: PlanContext, env: readonly string[], preserveFds: number, security: ProcessSecurity = {}): void {
  const { b, spec } = ctx;
  const args = spec.process?.args ?? [];
  const arg0 = args[0] ?? '';
  b.syscall('close_range', [3 + preserveFds, imm(0xffffffff, '~0U'), flags(CLOSE_RANGE, 'CLOSE_RANGE_CLOEXEC')], { label: 'mark every other fd close-on-exec' });
  // As late as possible: only execve runs under the filter.
  if (security.seccomp && seccompLoadPoint(spec, security.seccomp) === 'before-execve') planSeccompLoad(ctx, security.seccomp);
  const candidates = executableCandidates(arg0, spec.process?.env ?? []);
  candidates.forEach((path, i) => {
    const last = i === candidates.length - 1;
    b.syscall('execve', [str(path), ptrArray(args), ptrArray(env)], {
      label: last ? `exec ${path}` : `exec ${path} (trying $PATH)`,
      ...(last ? {} : { okErrnos: NOT_THIS_CANDIDATE }),
    });
  });
}

