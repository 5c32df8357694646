import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ContainerExistsError, ContainerNotExistError, IllegalStateError, InvalidIdError } from '../../src/errors.js';
import { readProcStat } from '../../src/state/proc.js';
import type { ContainerRecord, Lock, Locker } from '../../src/state/store.js';
import { StateStore, validateId } from '../../src/state/store.js';
import { withContainer } from '../../src/state/locked.js';

/** An in-process locker: enough to test the store's logic without flock. */
class FakeLocker implements Locker {
  readonly held = new Set<string>();
  lockExclusive(path: string): Lock {
    if (!existsSync(join(path, '..'))) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    if (this.held.has(path)) throw new Error(`deadlock: ${path} already held`);
    return this.take(path);
  }
  tryLockExclusive(path: string): Lock | undefined {
    return this.held.has(path) ? undefined : this.take(path);
  }
  private take(path: string): Lock {
    this.held.add(path);
    return { release: () => void this.held.delete(path) };
  }
}

const self = readProcStat(process.pid);

function record(id: string, over: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    recordVersion: 1, id, ociVersion: '1.3.0', phase: 'created', pid: 0, pidStartTime: '0',
    creatorPid: process.pid, creatorStartTime: self?.startTime ?? '0', bundle: '/b', rootfs: '/b/rootfs',
    created: '2026-11-23T10:00:00.000000000Z', owner: '', annotations: {}, config: {}, ...over,
  };
}

describe('validateId', () => {
  it('accepts runc\'s characters', () => {
    for (const id of ['a', 'abc-123_x.y+z', 'A'.repeat(64)]) expect(() => validateId(id)).not.toThrow();
  });
  it('refuses path separators, dot names, empty and other characters', () => {
    for (const id of ['', '.', '..', 'a/b', '../x', 'a b', 'a\0b', 'ä', 'a:b']) expect(() => validateId(id)).toThrow(InvalidIdError);
  });
});

describe('StateStore', () => {
  let root: string;
  let locker: FakeLocker;
  let store: StateStore;
  beforeEach(() => {
    root = join(mkdtempSync(join(tmpdir(), 'tsrun-store-')), 'root');
    locker = new FakeLocker();
    store = new StateStore(root, locker);
  });

  it('reserves an id, writes and reads its record atomically', () => {
    const lock = store.reserve('c1');
    store.write(record('c1'));
    lock.release();
    expect(store.read('c1')).toEqual(record('c1'));
    expect(readdirSync(join(root, 'c1')).filter((f) => f.includes('tmp'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(root, 'c1', 'state.json'), 'utf8'))).toEqual(record('c1'));
  });

  it('refuses a second container with the same id', () => {
    store.reserve('c1').release();
    store.write(record('c1'));
    expect(() => store.reserve('c1')).toThrow(ContainerExistsError);
    expect(() => store.reserve('c1')).toThrow('container with given ID already exists');
  });

  it('refuses an id whose create is in progress (lock held)', () => {
    store.reserve('c1');
    expect(() => store.reserve('c1')).toThrow(ContainerExistsError);
  });

  it('reclaims the leftover of a create that died before writing its record', () => {
    mkdirSync(join(root, 'c1'), { recursive: true });
    expect(() => store.read('c1')).toThrow(ContainerNotExistError);
    store.reserve('c1').release();
    expect(existsSync(join(root, 'c1'))).toBe(true);
  });

  it('treats a creating record whose creator is dead as absent', () => {
    store.reserve('c1').release();
    store.write(record('c1', { phase: 'creating', creatorPid: 2 ** 22 + 1, creatorStartTime: '1' }));
    expect(() => store.read('c1')).toThrow(ContainerNotExistError);
    expect(store.list()).toEqual([]);
    store.reserve('c1').release();
  });

  it('treats an empty state.json (a record lost to a power loss: writes are not fsynced) as absent and reclaims it', () => {
    store.reserve('c1').release();
    store.write(record('c1'));
    writeFileSync(join(root, 'c1', 'state.json'), '');
    expect(() => store.read('c1')).toThrow(ContainerNotExistError);
    expect(() => store.lock('c1')).toThrow(ContainerNotExistError);
    expect(store.list()).toEqual([]);
    store.reserve('c1').release();
    expect(existsSync(join(root, 'c1', 'state.json'))).toBe(false);
  });

  it('keeps a creating record whose creator is alive', () => {
    store.reserve('c1').release();
    store.write(record('c1', { phase: 'creating' }));
    expect(store.read('c1').phase).toBe('creating');
  });

  it('says "container does not exist" for unknown ids and locks only existing containers', () => {
    expect(() => store.read('nope')).toThrow('container does not exist');
    expect(() => store.lock('nope')).toThrow(ContainerNotExistError);
    store.reserve('c1').release();
    store.write(record('c1'));
    const { lock, record: r } = store.lock('c1');
    expect(r.id).toBe('c1');
    lock.release();
  });

  it('lists records sorted by id and skips corrupt and foreign entries', () => {
    for (const id of ['b', 'a']) {
      store.reserve(id).release();
      store.write(record(id));
    }
    mkdirSync(join(root, 'junk'));
    writeFileSync(join(root, 'junk', 'state.json'), '{not json');
    writeFileSync(join(root, 'file'), '');
    expect(store.list().map((r) => r.id)).toEqual(['a', 'b']);
    expect(() => store.read('junk')).toThrow(/corrupt state file/);
  });

  it('lists nothing when the root does not exist', () => {
    expect(store.list()).toEqual([]);
  });

  it('removes a container completely', () => {
    store.reserve('c1').release();
    store.write(record('c1'));
    store.remove('c1');
    expect(existsSync(join(root, 'c1'))).toBe(false);
    expect(() => store.read('c1')).toThrow(ContainerNotExistError);
  });

  it('removes a directory holding more than plain files, and a missing one quietly', () => {
    store.reserve('c1').release();
    store.write(record('c1'));
    mkdirSync(join(root, 'c1', 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(root, 'c1', 'sub', 'deeper', 'f'), '');
    store.remove('c1');
    expect(existsSync(join(root, 'c1'))).toBe(false);
    expect(() => store.remove('c1')).not.toThrow();
    expect(() => store.remove('never')).not.toThrow();
  });

  it('creates a missing --root (0711) with the first container', () => {
    const nested = new StateStore(join(root, 'a', 'b'), locker);
    nested.reserve('c1').release();
    expect(existsSync(join(root, 'a', 'b', 'c1'))).toBe(true);
    expect(statSync(join(root, 'a', 'b')).mode & 0o777).toBe(0o711 & ~process.umask());
    nested.write(record('c1'));
    expect(() => nested.reserve('c1')).toThrow(ContainerExistsError);
  });
});

describe('withContainer', () => {
  let store: StateStore;
  let locker: FakeLocker;
  beforeEach(() => {
    locker = new FakeLocker();
    store = new StateStore(join(mkdtempSync(join(tmpdir(), 'tsrun-locked-')), 'root'), locker);
    store.reserve('c1').release();
    // pid 0 is never a live process: the status is `stopped`
    store.write(record('c1'));
  });

  it('runs the work under the lock with the derived status, and releases it', () => {
    const seen = withContainer(store, 'c1', 'forceDelete', (r, status) => {
      expect(locker.held.size).toBe(1);
      return `${r.id} ${status}`;
    });
    expect(seen).toBe('c1 stopped');
    expect(locker.held.size).toBe(0);
  });

  it('refuses an operation the status does not allow without running the work, and releases the lock', () => {
    let ran = false;
    expect(() => withContainer(store, 'c1', 'pause', () => (ran = true))).toThrow(IllegalStateError);
    expect(ran).toBe(false);
    expect(locker.held.size).toBe(0);
  });

  it('releases the lock when the work throws', () => {
    expect(() =>
      withContainer(store, 'c1', 'delete', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(locker.held.size).toBe(0);
  });

  it('says the container does not exist for an unknown id', () => {
    expect(() => withContainer(store, 'nope', 'kill', () => 0)).toThrow(ContainerNotExistError);
  });
});
