import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Logger, formatLine, rfc3339 } from '../../src/log.js';

const T = new Date('2026-11-23T10:00:00.123Z');

describe('log lines', () => {
  it('writes logrus JSON with level, msg and an RFC 3339 time', () => {
    const line = formatLine('json', 'error', 'container does not exist', T);
    expect(JSON.parse(line)).toEqual({ level: 'error', msg: 'container does not exist', time: '2026-11-23T10:00:00Z' });
    expect(line.endsWith('\n')).toBe(true);
  });

  it('writes logrus text, quoting values with spaces', () => {
    expect(formatLine('text', 'warning', 'x', T)).toBe('time="2026-11-23T10:00:00Z" level=warning msg=x\n');
    expect(formatLine('text', 'error', 'a "b"', T)).toBe('time="2026-11-23T10:00:00Z" level=error msg="a \\"b\\""\n');
  });

  it('formats RFC 3339 without fractions', () => {
    expect(rfc3339(T)).toBe('2026-11-23T10:00:00Z');
  });

  it('formats RFC 3339 with nanoseconds (state `created`) and pads every field in UTC', () => {
    expect(rfc3339(T, 'nanoseconds')).toBe('2026-11-23T10:00:00.123000000Z');
    const early = new Date('2027-01-02T03:04:05.006Z');
    expect(rfc3339(early)).toBe('2027-01-02T03:04:05Z');
    expect(rfc3339(early, 'nanoseconds')).toBe('2027-01-02T03:04:05.006000000Z');
    for (const ms of [0, 1e12, 1.8e12 + 999]) expect(rfc3339(new Date(ms), 'nanoseconds')).toBe(new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z'));
  });

  it('writes only the error line to the --log file without --debug (Podman reads it as one JSON object)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tsrun-log-')), 'log.json');
    const logger = new Logger({ file, format: 'json', debug: false }, () => T, false);
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('boom');
    const content = readFileSync(file, 'utf8');
    expect(JSON.parse(content)).toEqual({ level: 'error', msg: 'boom', time: '2026-11-23T10:00:00Z' });
  });

  it('writes every level to the --log file with --debug, one JSON object per line', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tsrun-log-')), 'log.json');
    const logger = new Logger({ file, format: 'json', debug: true }, () => T, false);
    logger.debug('d');
    logger.warn('w');
    logger.error('e');
    const levels = readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { level: string }).level);
    expect(levels).toEqual(['debug', 'warning', 'error']);
  });
});
