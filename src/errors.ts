// Every error tsrun reports is a TsrunError: raised where it happens with its
// context, formatted once at the top (src/cli/report.ts).

export class TsrunError extends Error {
  override readonly name: string = 'TsrunError';
  /** Process exit status when this error ends the command. */
  readonly exitCode: number = 1;
}

/** A command line that cannot be acted on (unknown flag, missing id, ...). */
export class UsageError extends TsrunError {
  override readonly name = 'UsageError';
}

/** One problem found in a config, located by its JSON path (e.g. `/linux/namespaces/2/type`). */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** A config.json that cannot be used; carries every problem, not only the first. */
export class ConfigError extends TsrunError {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `invalid configuration ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${p.path || '/'}: ${p.message}`).join('\n'),
    );
  }
}

/** A config feature that is valid for the spec but that tsrun does not do (yet). Never silently ignored. */
export class UnsupportedError extends TsrunError {
  override readonly name = 'UnsupportedError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

// runc's wording: containerd, CRI-O and Podman match on these substrings.
export const RUNC_MESSAGES = {
  notExist: 'container does not exist',
  exists: 'container with given ID already exists',
  notRunning: 'container not running',
  stillRunning: 'container still running',
  notPaused: 'container not paused',
} as const;

export class ContainerNotExistError extends TsrunError {
  override readonly name = 'ContainerNotExistError';
  constructor(readonly id: string) {
    super(RUNC_MESSAGES.notExist);
  }
}

export class ContainerExistsError extends TsrunError {
  override readonly name = 'ContainerExistsError';
  constructor(readonly id: string) {
    super(RUNC_MESSAGES.exists);
  }
}

/** An operation that the container's current status does not allow (runtime.md "Lifecycle"). */
export class IllegalStateError extends TsrunError {
  override readonly name = 'IllegalStateError';
  constructor(
    readonly operation: string,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

/** A container id that runc would refuse (path separators, `..`, characters outside [\w+-.]). */
export class InvalidIdError extends TsrunError {
  override readonly name = 'InvalidIdError';
}

/**
 * A failed system call, with its name, errno name and the path or object it was about.
 * native/ raises these; its message reads like `mount /proc: EPERM (Operation not permitted)`.
 */
export class SyscallError extends TsrunError {
  override readonly name: string = 'SyscallError';
  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly errnoName: string,
    readonly path?: string,
    readonly detail?: string,
  ) {
    super(`${syscall}${path !== undefined ? ` ${path}` : ''}: ${errnoName}${detail ? ` (${detail})` : ''}`);
  }
}
