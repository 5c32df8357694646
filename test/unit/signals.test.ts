import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseSignal } from '../../src/signals.js';

describe('parseSignal', () => {
  it('takes names with and without SIG, in any case, and numbers', () => {
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('SIGKILL')).toBe(9);
    expect(parseSignal('sigterm')).toBe(15);
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('SIGRTMIN+1')).toBe(35);
  });
  it('refuses unknown names and out-of-range numbers', () => {
    expect(() => parseSignal('FOO')).toThrow(UsageError);
    expect(() => parseSignal('0')).toThrow(UsageError);
    expect(() => parseSignal('65')).toThrow(UsageError);
  });
});
