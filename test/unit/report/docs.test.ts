import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportsMarkdown } from '../../../src/report/docs.js';
import { listReports } from '../../../src/report/reports.js';
import { repoRoot } from '../../helpers/datasets.js';

describe('report documentation', () => {
  it('every report says what it shows and what each column means', () => {
    for (const r of listReports()) {
      expect(r.title, r.name).not.toBe(r.name);
      expect(r.about.length, r.name).toBeGreaterThan(20);
      expect(r.columns.length, r.name).toBeGreaterThan(1);
      for (const c of r.columns) expect(c.about.length, `${r.name}.${c.name}`).toBeGreaterThan(3);
      for (const l of r.labels)
        expect(
          r.columns.map((c) => c.name),
          `${r.name} label ${l}`,
        ).toContain(l);
    }
  });

  it('approximate figures say so', () => {
    const approx = listReports().flatMap((r) => r.columns.filter((c) => /uniqCombined|t-digest|topK/.test(c.about)).map((c) => `${r.name}.${c.name}`));
    expect(approx.length).toBeGreaterThan(10);
    for (const r of listReports()) {
      const sql = r.sql.replace(/^--.*$/gm, '');
      const about = r.columns.map((c) => c.about).join(' ');
      if (/uniqCombined/.test(sql)) expect(about, r.name).toMatch(/approximate/);
      if (/quantilesTDigest/.test(sql)) expect(about, r.name).toMatch(/approximate \(t-digest\)/);
    }
  });

  it('docs/reports.md is written from the SQL headers (npm run docs:reports)', () => {
    const file = path.join(repoRoot, 'docs', 'reports.md');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(reportsMarkdown(listReports()));
  });

  it('README shows the dashboard pictures it names, and they are PNG files', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    for (const png of ['docs/dashboard.png', 'docs/dashboard-live.png']) {
      expect(readme).toContain(`](${png})`);
      expect(readFileSync(path.join(repoRoot, png)).subarray(1, 4).toString()).toBe('PNG');
    }
  });
});
