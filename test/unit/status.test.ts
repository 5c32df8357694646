import { describe, expect, it } from 'vitest';
import { isSameLiveProcess, parseProcStat, readProcStat } from '../../src/state/proc.js';
import { parseFrozen } from '../../src/cgroups/freezer.js';
import { deriveStatus, stateOutput } from '../../src/state/status.js';
import type { ContainerRecord } from '../../src/state/store.js';

describe('deriveStatus', () => {
  const facts = { processAlive: true, execFifoPresent: false, frozen: false };
  it('derives each status from the facts', () => {
    expect(deriveStatus('creating', facts)).toBe('creating');
    expect(deriveStatus('created', { ...facts, execFifoPresent: true })).toBe('created');
    expect(deriveStatus('created', facts)).toBe('running');
    expect(deriveStatus('created', { ...facts, frozen: true })).toBe('paused');
    expect(deriveStatus('created', { ...facts, processAlive: false })).toBe('stopped');
    expect(deriveStatus('created', { processAlive: false, execFifoPresent: true, frozen: true })).toBe('stopped');
  });
});

describe('/proc facts', () => {
  it('parses stat lines whose comm holds spaces and parentheses', () => {
    const line = '1234 (a b) c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 18446744073709551615\n';
    expect(parseProcStat(line)).toEqual({ state: 'S', startTime: '987654' });
    expect(parseProcStat('garbage')).toBeUndefined();
  });
  it('recognises this very process and refuses a wrong start time or pid', () => {
    const self = readProcStat(process.pid);
    expect(self).toBeDefined();
    expect(isSameLiveProcess(process.pid, self?.startTime ?? '')).toBe(true);
    expect(isSameLiveProcess(process.pid, '1')).toBe(false);
    expect(isSameLiveProcess(0, self?.startTime ?? '')).toBe(false);
  });
  it('reads the freezer state of cgroup.events', () => {
    expect(parseFrozen('populated 1\nfrozen 1\n')).toBe(true);
    expect(parseFrozen('populated 1\nfrozen 0\n')).toBe(false);
  });
});

describe('stateOutput', () => {
  const record = {
    recordVersion: 1, id: 'c', ociVersion: '1.3.0', phase: 'created', pid: 42, pidStartTime: '1', creatorPid: 1, creatorStartTime: '1',
    bundle: '/b', rootfs: '/b/rootfs', created: 'T', owner: '', annotations: {}, config: {},
  } satisfies ContainerRecord;
  it('prints runtime.md\'s fields plus runc\'s rootfs, created and owner', () => {
    expect(stateOutput(record, 'running')).toEqual({ ociVersion: '1.3.0', id: 'c', pid: 42, status: 'running', bundle: '/b', rootfs: '/b/rootfs', created: 'T', owner: '' });
  });
  it('prints pid 0 once stopped and annotations when there are some', () => {
    expect(stateOutput({ ...record, annotations: { a: 'b' } }, 'stopped')).toMatchObject({ pid: 0, annotations: { a: 'b' } });
  });
});
