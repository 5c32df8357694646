// Running runtime-spec hooks (config.md "POSIX-platform Hooks", runtime.md
// "Lifecycle"): each hook gets the container's state JSON on stdin, its own
// args and env, and is killed when its timeout passes.
//
// prestart, createRuntime, poststart and poststop run in the runtime's
// namespaces: a plain spawn. createContainer and startContainer run in the
// container's namespaces: a small stub program opens the hook's executable in
// the runtime's mount namespace (the spec says the path resolves there),
// joins the container's namespaces and execveat()s it.
import { builtin } from '../builtin.js';
import { TsrunError } from '../errors.js';
import type { Hook, HookName } from '../spec/types.js';
import type { StateOutput } from '../state/status.js';
import { runInContainerNamespaces } from './enter.js';

const DEFAULT_OUTPUT_LIMIT = 64 * 1024;
const MS_PER_SECOND = 1000;

export class HookError extends TsrunError {
  override readonly name = 'HookError';
  constructor(
    readonly hookName: HookName,
    readonly index: number,
    readonly hook: Hook,
    readonly reason: string,
  ) {
    super(`${hookName} hook #${index} (${hook.path}): ${reason}`);
  }
}

export interface HookOutcome {
  readonly status: number | null;
  readonly signal: string | number | null;
  readonly timedOut: boolean;
  readonly stderr: string;
  readonly spawnError?: string | undefined;
}

/** Why a hook failed, or undefined when it succeeded (exit 0). */
export function hookFailure(o: HookOutcome, timeoutSeconds: number | undefined): string | undefined {
  if (o.timedOut) return `timed out after ${timeoutSeconds}s and was killed`;
  if (o.spawnError !== undefined) return `cannot run: ${o.spawnError}`;
  const tail = o.stderr.trim() ? `: ${o.stderr.trim().slice(-500)}` : '';
  if (o.signal !== null) return `killed by signal ${o.signal}${tail}`;
  if (o.status !== 0) return `exited with status ${o.status}${tail}`;
  return undefined;
}

/** args[0] is argv[0] (execv semantics); without args, argv[0] is the path. env absent: tsrun's own, as runc. */
export function hookArgv(hook: Hook): { argv0: string; rest: string[] } {
  const [argv0, ...rest] = hook.args ?? [hook.path];
  return { argv0: argv0 ?? hook.path, rest };
}

export function hookEnv(hook: Hook): Record<string, string> {
  if (hook.env === undefined) return { ...(process.env as Record<string, string>) };
  const env: Record<string, string> = {};
  for (const entry of hook.env) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

let childProcess: typeof import('node:child_process') | undefined;

/** node:child_process costs milliseconds to load (net, stream, ...): only when a hook runs. */
function cp(): typeof import('node:child_process') {
  return (childProcess ??= builtin('node:child_process'));
}

function runInRuntimeNamespace(hook: Hook, state: string): HookOutcome {
  const { argv0, rest } = hookArgv(hook);
  const r = cp().spawnSync(hook.path, rest, {
    argv0,
    input: state,
    env: hookEnv(hook),
    stdio: ['pipe', 'ignore', 'pipe'],
    timeout: hook.timeout === undefined ? undefined : hook.timeout * MS_PER_SECOND,
    killSignal: 'SIGKILL',
    maxBuffer: DEFAULT_OUTPUT_LIMIT,
    encoding: 'utf8',
  });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  // A hook that exits without reading its stdin is fine (EPIPE), as with runc (Go's exec ignores it).
  if (code === 'EPIPE') return { status: r.status, signal: r.signal, timedOut: false, stderr: r.stderr ?? '' };
  return {
    status: r.status,
    signal: r.signal,
    timedOut: code === 'ETIMEDOUT',
    stderr: r.stderr ?? '',
    spawnError: r.error && code !== 'ETIMEDOUT' ? r.error.message : undefined,
  };
}

/** Which namespaces a hook runs in: the runtime's, or those of the container process `pid`. */
export type HookPlace =
  | { readonly kind: 'runtime' }
  /** `pathIn`: where hook.path resolves (createContainer: the runtime's mount namespace; startContainer: the container's). */
  | { readonly kind: 'container'; readonly pid: number; readonly pathIn: 'runtime' | 'container' };

/**
 * Runs the hooks of one kind in order; the first failure throws a HookError
 * (the caller decides: fail the operation, or warn as for poststop).
 */
export function runHooks(name: HookName, hooks: readonly Hook[] | undefined, state: StateOutput, place: HookPlace): void {
  if (!hooks || hooks.length === 0) return;
  const input = JSON.stringify(state);
  hooks.forEach((hook, index) => {
    const outcome = place.kind === 'runtime' ? runInRuntimeNamespace(hook, input) : runInContainerNamespaces(hook, input, place.pid, place.pathIn);
    const failure = hookFailure(outcome, hook.timeout);
    if (failure !== undefined) throw new HookError(name, index, hook, failure);
  });
}

/**
 * Runs every hook of one kind even when some fail, reporting each failure to
 * `warn`: runtime.md for poststop ("the remaining hooks and lifecycle continue").
 */
export function runHooksWarning(name: HookName, hooks: readonly Hook[] | undefined, state: StateOutput, place: HookPlace, warn: (message: string) => void): void {
  (hooks ?? []).forEach((hook, index) => {
    try {
      runHooks(name, [hook], state, place);
    } catch (err) {
      if (!(err instanceof HookError)) throw err;
      // runHooks numbered it 0 of a one-hook list: name the hook by its place in the config.
      warn(new HookError(name, index, hook, err.reason).message);
    }
  });
}
