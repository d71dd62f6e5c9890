import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../src/report/render.js';
import { ALL_TIME, type ReportResult } from '../../../src/report/reports.js';

const result = (rows: Record<string, unknown>[]): ReportResult => ({
  def: { name: 'referrers', title: 'Top referrers', about: '', columns: [], labels: [], sql: '' },
  params: { ...ALL_TIME, site: '', limit: 20, visitGap: 1800, where: [] },
  columns: Object.keys(rows[0] ?? {}),
  types: {},
  rows,
});

describe('renderTable', () => {
  it('shows control characters from log fields as escapes instead of sending them to the terminal', () => {
    const out = renderTable(
      result([
        { referrer: '\u001b[31mred\u001b]0;title\u0007', hits: 3 },
        { referrer: 'a\nb\u202ecba\u0085', hits: 2 },
      ]),
    );
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/); // only the table's own newlines remain
    expect(out).toContain('\\x1b[31mred\\x1b]0;title\\x07');
    expect(out).toContain('a\\x0ab\\u202ecba\\x85');
  });

  it('leaves ordinary text, including non-Latin scripts, as it is', () => {
    const out = renderTable(result([{ referrer: 'пример.рф 例え', hits: 1 }]));
    expect(out).toContain('пример.рф 例え');
  });
});

describe('CSV cells from hostile log fields', () => {
  it('formula starts get a leading quote, control and bidi characters are escaped, numbers stay numbers', async () => {
    const { csvField } = await import('../../../src/report/render.js');
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvField('+1+2')).toBe("'+1+2");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\tcmd')).toBe("'\\u0009cmd");
    expect(csvField('a\u001b[31mred')).toBe('a\\u001b[31mred');
    expect(csvField('evil\u202egnp.exe')).toBe('evil\\u202egnp.exe');
    expect(csvField('line\nbreak')).toBe('line\\u000abreak');
    expect(csvField(-5)).toBe('-5');
    expect(csvField('/index.html')).toBe('/index.html');
    expect(csvField('a,b')).toBe('"a,b"');
  });
});
