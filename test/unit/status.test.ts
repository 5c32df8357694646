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
  it('takes the fields as split(" ") does, short and odd lines included', () => {
    const viaSplit = (content: string) => {
      const close = content.lastIndexOf(')');
      if (close === -1) return undefined;
      const f = content.slice(close + 2).trim().split(' ');
      return f[0] === undefined || f[19] === undefined ? undefined : { state: f[0], startTime: f[19] };
    };
    const fields = Array.from({ length: 50 }, (_, i) => `f${i}`);
    const lines = [
      `1 (x) ${fields.join(' ')}\n`,
      `1 (x) ${fields.slice(0, 20).join(' ')}`,
      `1 (x) ${fields.slice(0, 19).join(' ')}`,
      `1 (x)  ${fields.join('  ')}`,
      '1 (x)',
      '1 (x) ',
      `1 (x)S ${fields.join(' ')}`,
      `1 (x) R${' '.repeat(19)}`,
      `1 (x) R${' '.repeat(18)}7 8`,
    ];
    for (const line of lines) expect(parseProcStat(line)).toEqual(viaSplit(line));
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
