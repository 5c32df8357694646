import { describe, expect, it } from 'vitest';
import { spaceField } from '../../src/fields.js';

describe('spaceField', () => {
  it('is split(" ")[n], undefined past the last field', () => {
    const s = 'S 1 2 3 last';
    for (let n = 0; n < 6; n++) expect(spaceField(s, n), String(n)).toBe(s.split(' ')[n]);
  });

  it('stays within [start, end): a line of a longer text', () => {
    const text = '1 2 3 4 /a 6\n7 8 9 10 /b 12\n13 14';
    const second = text.indexOf('\n') + 1;
    const end = text.indexOf('\n', second);
    expect(spaceField(text, 4, second, end)).toBe('/b');
    expect(spaceField(text, 5, second, end)).toBe('12');
    expect(spaceField(text, 6, second, end)).toBeUndefined();
    expect(spaceField(text, 4, end + 1)).toBeUndefined();
  });
});
