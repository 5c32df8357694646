// The state store: one directory per container under --root, holding
// state.json (written atomically), the exec fifo and a lock file.
//
//   <root>/<id>/state.json   the ContainerRecord
//   <root>/<id>/lock         flock()ed by every mutating command
//   <root>/<id>/exec.fifo    present from create until start
//
// The directory is created with mkdir, which is atomic: two concurrent
// creates of one id cannot both succeed. A create that died before writing
// its record leaves a directory with no state.json or a "creating" record
// whose creator is gone; both count as absent and are reclaimed, as does an
// empty state.json (a power loss: records are not fsynced).
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerExistsError, ContainerNotExistError, InvalidIdError, SyscallError, TsrunError } from '../errors.js';
import { isSameLiveProcess } from './proc.js';

export const STATE_FILE = 'state.json';
export const LOCK_FILE = 'lock';
export const EXEC_FIFO = 'exec.fifo';
const RECORD_VERSION = 1;

/** What tsrun remembers about a container between commands. */
export interface ContainerRecord {
  readonly recordVersion: typeof RECORD_VERSION;
  readonly id: string;
  readonly ociVersion: string;
  /** `creating` until create has finished; the rest of the status is derived from facts. */
  readonly phase: 'creating' | 'created';
  /** Host pid of the container process (0 while creating). */
  readonly pid: number;
  /** /proc/<pid>/stat start time of that process: guards every signal against pid reuse. */
  readonly pidStartTime: string;
  /** The tsrun process that is creating the container, to tell a live create from a crashed one. */
  readonly creatorPid: number;
  readonly creatorStartTime: string;
  readonly bundle: string;
  readonly rootfs: string;
  /** RFC 3339 with nanoseconds, as runc prints it. */
  readonly created: string;
  readonly owner: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** The config the container was created from: later commands (delete's poststop hooks, exec) read it here, not from the bundle. */
  readonly config: unknown;
  /** Absolute path of the container's cgroup in the v2 hierarchy, when it has one. */
  readonly cgroupPath?: string | undefined;
  /** Cgroup directories tsrun created for it (parents first): removed on delete when empty. */
  readonly cgroupCreated?: readonly string[] | undefined;
}

/** A held lock; release() is idempotent. */
export interface Lock {
  release(): void;
}

/** flock(2) on a file, injected so that the store runs without FFI in unit tests. */
export interface Locker {
  /** Blocks until an exclusive lock on `path` (created if missing) is held. */
  lockExclusive(path: string): Lock;
  /** Takes the lock only if free; undefined when another process holds it. */
  tryLockExclusive(path: string): Lock | undefined;
}

// runc's rule: letters, digits, `_`, `+`, `-`, `.`; never `.` or `..`.
const ID_PATTERN = /^[\w+\-.]+$/;
const MAX_ID_LENGTH = 1024;

export function validateId(id: string): void {
  if (id === '') throw new InvalidIdError('invalid container id: it must not be empty');
  if (id === '.' || id === '..') throw new InvalidIdError(`invalid container id ${JSON.stringify(id)}`);
  if (id.length > MAX_ID_LENGTH) throw new InvalidIdError(`invalid container id: longer than ${MAX_ID_LENGTH} characters`);
  if (!ID_PATTERN.test(id)) {
    throw new InvalidIdError(`invalid container id ${JSON.stringify(id)}: only letters, digits, '_', '+', '-' and '.' are allowed`);
  }
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export class StateStore {
  constructor(
    readonly root: string,
    private readonly locker: Locker,
  ) {}

  containerDir(id: string): string {
    validateId(id);
    return join(this.root, id);
  }

  execFifoPath(id: string): string {
    return join(this.containerDir(id), EXEC_FIFO);
  }

  /**
   * Claims `id` for a new container: creates its directory and returns it locked.
   * A leftover of a crashed create is reclaimed; a live container is refused.
   */
  reserve(id: string): Lock {
    const dir = this.containerDir(id);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        this.mkdirContainer(dir);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
        const lock = this.locker.tryLockExclusive(join(dir, LOCK_FILE));
        if (lock === undefined) throw new ContainerExistsError(id);
        const leftover = this.isAbandoned(this.readIfPresent(id));
        if (!leftover) {
          lock.release();
          throw new ContainerExistsError(id);
        }
        rmSync(dir, { recursive: true, force: true });
        lock.release();
        continue;
      }
      return this.locker.lockExclusive(join(dir, LOCK_FILE));
    }
    throw new ContainerExistsError(id);
  }

  /**
   * mkdir of a container's directory, and of --root first when that is missing (0711 as runc: a
   * container root mapped to another uid must reach its exec fifo). The root nearly always
   * exists: trying the container's directory first spares a recursive mkdir (mkdir + stat).
   */
  private mkdirContainer(dir: string): void {
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      mkdirSync(this.root, { recursive: true, mode: 0o711 });
      mkdirSync(dir, { mode: 0o711 });
    }
  }

  /** Locks an existing container for a mutating command; throws "container does not exist" otherwise. */
  lock(id: string): { lock: Lock; record: ContainerRecord } {
    const dir = this.containerDir(id);
    let lock: Lock;
    try {
      lock = this.locker.lockExclusive(join(dir, LOCK_FILE));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || (err instanceof SyscallError && err.errnoName === 'ENOENT')) throw new ContainerNotExistError(id);
      throw err;
    }
    // The container may have been deleted while we waited for the lock.
    const record = this.readIfPresent(id);
    if (record === undefined || this.isAbandoned(record)) {
      lock.release();
      throw new ContainerNotExistError(id);
    }
    return { lock, record };
  }

  /** Reads a container's record; "container does not exist" when there is none (or only a crashed create's leftover). */
  read(id: string): ContainerRecord {
    const record = this.readIfPresent(id);
    if (record === undefined || this.isAbandoned(record)) throw new ContainerNotExistError(id);
    return record;
  }

  readIfPresent(id: string): ContainerRecord | undefined {
    const file = join(this.containerDir(id), STATE_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
      throw err;
    }
    // Empty: written but never flushed before a power loss (write() does not fsync). Its
    // processes died with the machine: as good as no record at all.
    if (text === '') return undefined;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (err) {
      throw new TsrunError(`corrupt state file ${file}: ${(err as Error).message}`);
    }
    if (typeof record !== 'object' || record === null || (record as ContainerRecord).recordVersion !== RECORD_VERSION) {
      throw new TsrunError(`corrupt state file ${file}: unknown record version`);
    }
    return record as ContainerRecord;
  }

  /** No record, or a "creating" one whose creator is gone: the leftover of a crashed create. */
  private isAbandoned(record: ContainerRecord | undefined): boolean {
    if (record === undefined) return true;
    return record.phase === 'creating' && !isSameLiveProcess(record.creatorPid, record.creatorStartTime);
  }

  /**
   * Writes the record atomically: temp file, then rename over state.json, so that a reader or a
   * crash of tsrun finds the old record or the new one, never a torn file. Not fsynced (runc and
   * crun do not either): a record describes processes, and none survives a power loss. Its only
   * risk there, a state.json left empty on a persistent --root, is read as a crashed create's
   * leftover (readIfPresent). The default root, /run, is a tmpfs anyway, and ext4 and btrfs
   * flush a file replaced by rename before the rename commits.
   */
  write(record: ContainerRecord): void {
    const dir = this.containerDir(record.id);
    const tmp = join(dir, `.${STATE_FILE}.${process.pid}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(record));
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(tmp, join(dir, STATE_FILE));
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** Removes everything the store holds for `id` (the caller holds the lock). */
  remove(id: string): void {
    const dir = this.containerDir(id);
    // The directory holds plain files only (state.json, lock, exec.fifo): unlink what readdir
    // lists and rmdir, three or four syscalls. Node 20's rmSync is a JavaScript rimraf that tries
    // rmdir first (an ENOTEMPTY error), then lstats every entry. Anything unexpected (a
    // directory inside, a race) falls back to it.
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    try {
      for (const name of names) unlinkSync(join(dir, name));
      rmdirSync(dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Records of every container, sorted by id; leftovers of crashed creates are skipped. */
  list(): ContainerRecord[] {
    let entries: string[];
    try {
      entries = readdirSync(this.root);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    const records: ContainerRecord[] = [];
    for (const id of entries.sort()) {
      if (!ID_PATTERN.test(id) || id === '.' || id === '..') continue;
      try {
        const record = this.readIfPresent(id);
        if (record !== undefined && !this.isAbandoned(record)) records.push(record);
      } catch {
        // A corrupt record is reported by the commands that name it, not by list.
      }
    }
    return records;
  }
}
