/**
 * Verified crawlers on chdb: bot_claim and bot_verified as stored, and the
 * impostors report against plain-JS numbers over the same enriched records
 * (the real Elastic sample, whose Googlebot lines come from Google's ranges
 * and from elsewhere, plus seeded impostors on the edges of a range).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrawlerVerifier } from '../../../src/enrich/crawler-ranges.js';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { runReport } from '../../../src/report/reports.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';
import { groupBy, numericRows } from '../../helpers/plain.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-impostors-'));
let ch: EmbeddedClickHouse;
let recs: EnrichedRecord[];
const window = { from: Date.UTC(2015, 4, 18, 10), to: Date.UTC(2015, 4, 18, 14) };
const googlebot = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const timeText = (t: number) => new Date(Math.floor(t / 1000) * 1000).toISOString().replace('T', ' ').slice(0, 19);

beforeAll(async () => {
  const sample = await enrichLines(readLines(fixture('logs', 'elastic_apache.log')));
  // Seeded: one impostor just before, on and just inside the window's start and end; one real Googlebot inside.
  const [fake] = await enrichLines([`198.51.100.23 - - [18/May/2015:10:00:00 +0000] "GET /.env HTTP/1.1" 404 10 "-" "${googlebot}"`]);
  const [real] = await enrichLines([`66.249.66.1 - - [18/May/2015:10:00:00 +0000] "GET / HTTP/1.1" 200 10 "-" "${googlebot}"`]);
  const seeds = [window.from - 1, window.from, window.from + 1, window.to - 1, window.to].map((time) => ({ ...(fake as EnrichedRecord), time }));
  recs = [...sample, ...seeds, { ...(real as EnrichedRecord), time: window.from + 60_000 }];
  ch = new EmbeddedClickHouse({ dir, database: uniqueName('impostors') });
  await migrate(ch);
  await insertRecords(ch, recs, 2000);
}, 120_000);

afterAll(async () => {
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The report computed in plain JS: claimed, unverified requests by (claim, client), over [from, to). */
function expected(from: number, to: number) {
  const v = CrawlerVerifier.bundled();
  const hits = recs.filter((r) => r.time >= from && r.time < to && v.claimOf(r.user_agent) !== '' && !v.verify(r.remote_addr, v.claimOf(r.user_agent)));
  return [...groupBy(hits, (r) => `${v.claimOf(r.user_agent)}\u0000${r.remote_addr}`)]
    .map(([k, rs]) => {
      const [claim, client] = k.split('\u0000') as [string, string];
      const times = rs.map((r) => r.time);
      return {
        claim,
        client,
        hits: rs.length,
        paths: new Set(rs.map((r) => r.path)).size,
        country: rs.map((r) => r.country).sort()[0] || '(unknown)',
        first_seen: timeText(Math.min(...times)),
        last_seen: timeText(Math.max(...times)),
        user_agent: rs.map((r) => r.user_agent).sort()[0],
      };
    })
    .sort((a, b) => b.hits - a.hits || (a.claim < b.claim ? -1 : a.claim > b.claim ? 1 : 0) || (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
}

describe('verified crawlers', () => {
  it('stores the claim and the verdict of each row', async () => {
    const stored = numericRows(
      await ch.query(
        "SELECT bot_claim AS claim, bot_verified AS verified, count() AS c FROM access_log WHERE bot_claim != '' GROUP BY claim, verified ORDER BY verified",
      ),
    );
    const v = CrawlerVerifier.bundled();
    const claimed = recs.filter((r) => v.claimOf(r.user_agent) !== '');
    const verified = claimed.filter((r) => v.verify(r.remote_addr, 'google')).length;
    expect(verified).toBeGreaterThan(100); // the sample has real Googlebot traffic
    expect(claimed.length - verified).toBeGreaterThan(5); // and impostors
    expect(stored).toEqual([
      { claim: 'google', verified: false, c: claimed.length - verified },
      { claim: 'google', verified: true, c: verified },
    ]);
  });

  it('impostors: all time, and a window whose edges cut the seeded impostor', async () => {
    expect(numericRows((await runReport(ch, 'impostors', { limit: 1000 })).rows)).toEqual(expected(0, Date.UTC(2106, 0, 1)));
    const inWindow = numericRows((await runReport(ch, 'impostors', { ...window, limit: 1000 })).rows);
    expect(inWindow).toEqual(expected(window.from, window.to));
    expect(inWindow.find((r) => r.client === '198.51.100.23')).toMatchObject({ hits: 3, claim: 'google', paths: 1 });
    expect(inWindow.some((r) => r.client === '66.249.66.1')).toBe(false);
  });
});
