// The container process: what config.md requires of it on Linux, and what the
// kernel would refuse when tsrun applies it (runc: validateProcessSpec, the
// scheduler and ioPriority checks, prepareEnv).

import { entries, isAbsolute, pointer, q, type Check } from './context.js';
import { listFormatProblem } from './lists.js';

/** process.args needs at least one entry (config.md, non-Windows); cwd MUST be absolute; no NUL bytes anywhere execve would see them. */
export const processArgsAndCwd: Check = {
  name: 'processArgsAndCwd',
  run(spec, _host, report) {
    const p = spec.process;
    if (p === undefined) return;
    if (p.args === undefined || p.args.length === 0) {
      report.error('/process/args', 'process.args must have at least one entry (the program to run)');
    } else if (p.args[0] === '') {
      report.error('/process/args/0', 'the program to run must not be empty');
    }
    for (const [i, arg] of entries(p.args)) {
      if (arg.includes('\0')) report.error(pointer('process', 'args', i), 'argument contains a NUL byte');
    }
    if (p.cwd === '') {
      report.error('/process/cwd', 'process.cwd must not be empty');
    } else if (!isAbsolute(p.cwd)) {
      report.error('/process/cwd', `process.cwd ${q(p.cwd)} must be an absolute path`);
    }
  },
};

/** Environment entries are NAME=value with a non-empty name and no NUL byte (runc prepareEnv). */
export const processEnv: Check = {
  name: 'processEnv',
  run(spec, _host, report) {
    for (const [i, pair] of entries(spec.process?.env)) {
      const at = pointer('process', 'env', i);
      const eq = pair.indexOf('=');
      if (eq < 0) report.error(at, `environment entry ${q(pair)} has no "="; use NAME=value`);
      else if (eq === 0) report.error(at, `environment entry ${q(pair)} has an empty name`);
      else if (pair.includes('\0')) report.error(at, 'environment entry contains a NUL byte');
    }
  },
};

/** Fields that exist for Windows only: on Linux there is nothing to map them to, so refuse them rather than ignore them. */
export const windowsOnlyProcessFields: Check = {
  name: 'windowsOnlyProcessFields',
  run(spec, _host, report) {
    const p = spec.process;
    if (p === undefined) return;
    if (p.commandLine !== undefined && p.commandLine !== '') {
      report.error('/process/commandLine', 'process.commandLine is for Windows only; use process.args on Linux');
    }
    if (p.user.username !== undefined && p.user.username !== '') {
      report.error('/process/user/username', 'process.user.username is for Windows only; use process.user.uid and gid on Linux');
    }
  },
};

/** The kernel's range for /proc/<pid>/oom_score_adj. */
const OOM_SCORE_ADJ = { min: -1000, max: 1000 } as const;
/** ioprio_set(2): levels 0 (highest) .. 7 (lowest). */
const IOPRIO_LEVEL = { min: 0, max: 7 } as const;

export const processOomAndIoPriority: Check = {
  name: 'processOomAndIoPriority',
  run(spec, _host, report) {
    const p = spec.process;
    if (p === undefined) return;
    if (p.oomScoreAdj !== undefined && (p.oomScoreAdj < OOM_SCORE_ADJ.min || p.oomScoreAdj > OOM_SCORE_ADJ.max)) {
      report.error('/process/oomScoreAdj', `oomScoreAdj ${p.oomScoreAdj} is outside ${OOM_SCORE_ADJ.min}..${OOM_SCORE_ADJ.max}`);
    }
    const prio = p.ioPriority?.priority;
    if (prio !== undefined && (prio < IOPRIO_LEVEL.min || prio > IOPRIO_LEVEL.max)) {
      report.error('/process/ioPriority/priority', `I/O priority ${prio} is outside ${IOPRIO_LEVEL.min} (highest)..${IOPRIO_LEVEL.max} (lowest)`);
    }
  },
};

/** sched_setattr(2) ranges. */
const NICE = { min: -20, max: 19 } as const;
const RT_PRIORITY = { min: 1, max: 99 } as const;

/**
 * The scheduler attributes sched_setattr(2) accepts (runc's `scheduler`
 * check, plus the real-time priority range and the deadline ordering).
 */
export const processScheduler: Check = {
  name: 'processScheduler',
  run(spec, _host, report) {
    const s = spec.process?.scheduler;
    if (s === undefined) return;
    const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
    const deadline = s.policy === 'SCHED_DEADLINE';
    if (s.nice !== undefined && (s.nice < NICE.min || s.nice > NICE.max)) {
      report.error('/process/scheduler/nice', `nice ${s.nice} is outside ${NICE.min}..${NICE.max}`);
    }
    const priority = s.priority ?? 0;
    if (realtime && (priority < RT_PRIORITY.min || priority > RT_PRIORITY.max)) {
      report.error('/process/scheduler/priority', `${s.policy} needs a priority in ${RT_PRIORITY.min}..${RT_PRIORITY.max}, got ${priority}`);
    } else if (!realtime && priority !== 0) {
      report.error('/process/scheduler/priority', `priority can only be set for SCHED_FIFO or SCHED_RR, not ${s.policy}`);
    }
    const runtime = s.runtime ?? 0;
    const dl = s.deadline ?? 0;
    const period = s.period ?? 0;
    if (!deadline) {
      for (const field of ['runtime', 'deadline', 'period'] as const) {
        if ((s[field] ?? 0) !== 0) report.error(`/process/scheduler/${field}`, `${field} can only be set for SCHED_DEADLINE, not ${s.policy}`);
      }
    } else {
      if (runtime > dl) report.error('/process/scheduler/runtime', `runtime ${runtime} must not exceed deadline ${dl}`);
      if (period !== 0 && dl > period) report.error('/process/scheduler/deadline', `deadline ${dl} must not exceed period ${period}`);
    }
  },
};

/** execCPUAffinity lists use the kernel's CPU list format. */
export const processExecCPUAffinity: Check = {
  name: 'processExecCPUAffinity',
  run(spec, _host, report) {
    const a = spec.process?.execCPUAffinity;
    if (a === undefined) return;
    for (const field of ['initial', 'final'] as const) {
      const value = a[field];
      if (value === undefined) continue;
      const problem = listFormatProblem(value);
      if (problem !== undefined) report.error(`/process/execCPUAffinity/${field}`, `invalid CPU list ${q(value)}: ${problem}`);
    }
  },
};
