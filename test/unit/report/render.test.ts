import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../src/report/render.js';
import { ALL_TIME, type ReportResult } from '../../../src/report/reports.js';

const result = (rows: Record<string, unknown>[]): ReportResult => ({
  def: { name: 'referrers', title: 'Top referrers', about: '', columns: [], labels: [], sql: '' },
  params: { ...ALL_TIME, site: '', limit: 20 },
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
