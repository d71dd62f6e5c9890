import { describe, expect, it } from 'vitest';
import { unescapeField } from '../../../src/parse/unescape.js';

describe('unescapeField', () => {
  it('resolves quote, backslash and byte escapes, reading bytes as UTF-8', () => {
    expect(unescapeField(String.raw`say \"hi\"`)).toBe('say "hi"');
    expect(unescapeField(String.raw`a\\b`)).toBe('a\\b');
    expect(unescapeField(String.raw`\x22quoted\x22`)).toBe('"quoted"');
    expect(unescapeField(String.raw`\xD0\xBF\xD1\x80\xD0\xB8`)).toBe('при');
    expect(unescapeField(String.raw`ü and \xC3\xBC`)).toBe('ü and ü');
  });

  it('turns invalid UTF-8 into U+FFFD instead of failing', () => {
    expect(unescapeField(String.raw`cp1251 \xEF\xF0\xE8`)).toBe('cp1251 \uFFFD\uFFFD\uFFFD');
    expect(unescapeField(String.raw`\x16\x03\x01`)).toBe('\x16\x03\x01');
  });

  it('leaves text without escapes, and malformed escapes, alone', () => {
    const s = 'plain text';
    expect(unescapeField(s)).toBe(s);
    expect(unescapeField(String.raw`\xZZ \q`)).toBe(String.raw`\xZZ \q`);
  });
});
