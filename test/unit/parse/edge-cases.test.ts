/**
 * The parser edge cases collected from other projects' test suites
 * (../shared/datasets/parser_edge_cases; mixed licenses incl. MPL and GPL, so
 * read from ../shared, never vendored). Upstream verdicts are compared with
 * ours; the few places where we choose differently are listed with the reason.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createParser } from '../../../src/parse/scan.js';
import { sharedFile } from '../../helpers/datasets.js';

const { file, present, skipped } = sharedFile('parser_edge_cases', 'edge_cases.jsonl');

interface EdgeCase {
  id: string;
  format: string;
  line: string;
  expect: 'ok' | 'error' | 'malformed';
  log_format?: string;
  fields?: Record<string, unknown>;
}

const formats: Record<string, string> = {
  common: 'common',
  combined: 'combined',
  apache_common: 'common',
  apache_combined: 'combined',
  apache_vhost_combined: 'vhost_combined',
  nginx_combined: 'nginx',
  nginx_main: 'nginx',
};

/** Upstream accepts, we reject: each with our reason. */
const deliberate: Record<string, string> = {
  '002': 'no_match', // "- - - - - - -": no bracketed time at all; we need a time to place a hit
  '003': 'missing_time', // [-]: same
  '004': 'bad_time', // ISO time inside [] where %t is CLF; VRL takes a timestamp_format argument
  '014': 'no_match',
  '015': 'missing_time',
  '074': 'no_match', // Filebeat's vhost_combined variant has no :port
  '079': 'bad_time', // %{strftime}t custom time layouts are not supported (only CLF in %t)
  '080': 'bad_status', // unquoted %r with spaces: ambiguous; upstream notes its own odd output
};

describe.skipIf(!present)(`parser edge cases from other projects${skipped}`, () => {
  const cases: EdgeCase[] = present
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as EdgeCase)
    : [];
  const ours = cases.filter((c) => formats[c.format] !== undefined || c.format === 'custom');

  it('never throws, on any line of any case, in any named format', () => {
    for (const c of cases) for (const f of Object.values(formats)) expect(() => createParser(f)(c.line)).not.toThrow();
  });

  it('agrees with upstream verdicts except for the listed deliberate differences', () => {
    expect(ours.length).toBeGreaterThan(40);
    for (const c of ours) {
      const r = createParser(c.format === 'custom' ? (c.log_format as string) : (formats[c.format] as string))(c.line);
      const mine = deliberate[c.id];
      if (mine) expect(r.ok ? 'accepted' : r.reject.reason, `case ${c.id}`).toBe(mine);
      else if (c.expect === 'ok') expect(r.ok ? 'accepted' : `${r.reject.reason}: ${r.reject.detail}`, `case ${c.id}`).toBe('accepted');
      else if (c.expect === 'error') expect(r.ok, `case ${c.id} should be rejected`).toBe(false);
    }
  });

  it('matches upstream field values for status, bytes and time where given', () => {
    let compared = 0;
    for (const c of ours) {
      if (c.expect !== 'ok' || deliberate[c.id] || !c.fields) continue;
      const r = createParser(c.format === 'custom' ? (c.log_format as string) : (formats[c.format] as string))(c.line);
      if (!r.ok) continue;
      const f = c.fields;
      const status = f.status ?? f['http.response.status_code'];
      if (typeof status === 'number') {
        expect(r.record.status, `case ${c.id} status`).toBe(status);
        compared++;
      }
      const size = f.size ?? f['http.response.body.bytes'];
      if (typeof size === 'number') expect(r.record.bytes, `case ${c.id} bytes`).toBe(size);
      const ts = f.timestamp ?? f['@timestamp'];
      if (typeof ts === 'string') expect(new Date(r.record.time).toISOString(), `case ${c.id} time`).toBe(new Date(ts).toISOString());
    }
    expect(compared).toBeGreaterThan(10);
  });
});
