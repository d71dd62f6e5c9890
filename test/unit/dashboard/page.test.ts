import { describe, expect, it } from 'vitest';
import { dashboardLayout, layoutReports } from '../../../src/dashboard/layout.js';
import { renderPage, scriptJson } from '../../../src/dashboard/page.js';
import { reportParams } from '../../../src/dashboard/server.js';
import { listReports } from '../../../src/report/reports.js';

describe('dashboard layout', () => {
  it('shows every report exactly once, and draws only reports it shows', () => {
    const shown = layoutReports();
    expect([...shown].sort()).toEqual(
      listReports()
        .map((r) => r.name)
        .sort(),
    );
    expect(new Set(shown).size).toBe(shown.length);
    for (const c of dashboardLayout.charts) {
      expect(shown).toContain(c.report);
      if (c.hourly) expect(shown).toContain(c.hourly.report);
    }
    expect(shown).toContain(dashboardLayout.heatmap);
  });

  it('charts draw columns their reports have', () => {
    const columns = new Map(listReports().map((r) => [r.name, r.columns.map((c) => c.name)]));
    for (const c of dashboardLayout.charts) {
      for (const s of c.series) expect(columns.get(c.report), `${c.id}: ${s.column}`).toContain(s.column);
      if (c.hourly) for (const s of c.series) expect(columns.get(c.hourly.report), `${c.id} hourly: ${s.column}`).toContain(s.column);
    }
  });
});

describe('the page', () => {
  it('embeds JSON that cannot end its script element', () => {
    const text = scriptJson({ path: '</script><script>alert(1)</script><!--', sep: '\u2028\u2029' });
    expect(text).not.toMatch(/[<\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual({ path: '</script><script>alert(1)</script><!--', sep: '\u2028\u2029' });
  });

  it('is one document with everything inline: no external script, style or font', () => {
    const html = renderPage({ mode: 'live', refreshMs: 1000, limit: 20 });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?https?:/i);
    expect(html.match(/<\/script>/g)).toHaveLength(3); // uPlot, the configuration, the page script
  });
});

describe('API parameters', () => {
  const q = (s: string) => new URLSearchParams(s);
  it('reads from, to, site and limit as the CLI reads its flags', () => {
    expect(reportParams(q('from=2015-05-18&to=2015-05-19T00:00:00Z&site=a&limit=5'), 50)).toEqual({
      from: Date.UTC(2015, 4, 18),
      to: Date.UTC(2015, 4, 19),
      site: 'a',
      limit: 5,
      where: [],
    });
    expect(reportParams(q(''), 50)).toEqual({ from: undefined, to: undefined, site: '', limit: 50, where: [] });
    const filtered = reportParams(q('where=status%3D5xx&where=country!%3Dus&compare=year'), 50);
    expect(filtered.where).toEqual([
      { field: 'status', negate: false, match: 'class', value: 5 },
      { field: 'country', negate: true, match: 'eq', value: 'US' },
    ]);
    expect(filtered.compare).toBe('year');
  });

  it('refuses what it does not know, with a message that names it', () => {
    expect(() => reportParams(q('sql=SELECT+1'), 50)).toThrow('unknown parameter "sql"; parameters: from, to, site, limit');
    expect(() => reportParams(q('compare=lastweek'), 50)).toThrow('compare: expected previous or year, got "lastweek"');
    expect(() => reportParams(q('where=ip%3D1.2.3.4'), 50)).toThrow(/^where: unknown field "ip"/);
    expect(() => reportParams(q('limit=0'), 50)).toThrow('limit: expected a whole number from 1 to 10000, got "0"');
    expect(() => reportParams(q('limit=1e3'), 50)).toThrow('got "1e3"');
    expect(() => reportParams(q('from=2015-05-19&to=2015-05-18'), 50)).toThrow('from (2015-05-19) must be before to (2015-05-18)');
    expect(() => reportParams(q('from=2015-02-30'), 50)).toThrow(/^from: expected an ISO-8601 date .*"2015-02-30"$/);
  });
});
