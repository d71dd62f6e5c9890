/**
 * Raw-row retention (`weblog migrate --raw-ttl`): the TTL on access_log and
 * rejects deletes old raw rows while the rollups keep them; it can be changed
 * and removed; raw-table reports say when their range reaches past it. On
 * chdb through the CLI, on the current server over HTTP, and refused on 18.16.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { runReport } from '../../../src/report/reports.js';
import { parseRawTtl, rawRetentionDays, setRawTtl } from '../../../src/schema/retention.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import type { ClickHouse } from '../../../src/sink/clickhouse/types.js';
import { lastLine, weblog } from '../../helpers/cli.js';
import { currentTarget, serverDatabase, serverTargets } from '../../helpers/clickhouse.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';

const DAY = 86_400_000;
const line =
  '198.51.100.4 - - [18/May/2015:10:05:03 +0000] "GET /kept HTTP/1.1" 200 100 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"';
const cleanups: (() => Promise<void>)[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-retention-'));
afterAll(async () => {
  for (const c of cleanups) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** 3 rows 40 days old and 2 rows 2 days old (whole hours, so the rollup hours are clear of the edge). */
async function seed(ch: ClickHouse): Promise<{ old: number; recent: number }> {
  const [rec] = await enrichLines([line]);
  const hour = (t: number) => Math.floor(t / 3_600_000) * 3_600_000;
  const old = hour(Date.now() - 40 * DAY);
  const recent = hour(Date.now() - 2 * DAY);
  const recs = [old, old + 1000, old + 2000, recent, recent + 1000].map((time) => ({ ...(rec as EnrichedRecord), time }));
  await insertRecords(ch, recs, recs.length, 'r');
  return { old, recent };
}

const rawCount = async (ch: ClickHouse) => Number((await ch.query<{ c: string | number }>('SELECT count() AS c FROM access_log'))[0]?.c);
const hourlyHits = async (ch: ClickHouse) => Number((await ch.query<{ c: string | number }>('SELECT countMerge(hits) AS c FROM traffic_hourly'))[0]?.c);

describe('raw-row retention', () => {
  it('--raw-ttl: expected forms, and a clear refusal of the rest', () => {
    expect(parseRawTtl('30d')).toBe(30);
    expect(parseRawTtl('30')).toBe(30);
    expect(parseRawTtl('12w')).toBe(84);
    expect(parseRawTtl('off')).toBe(0);
    for (const bad of ['3x', '-1d', '0.5d', '', '100000d'])
      expect(() => parseRawTtl(bad), bad).toThrow(`--raw-ttl: expected days (30d), weeks (12w) or off, from 1 day to 100 years; got "${bad}"`);
  });

  it('weblog migrate --raw-ttl on embedded: old raw rows go, the rollups keep them, reports say so; changed, then removed', async () => {
    const db = uniqueName('ttl');
    const folder = path.join(dir, 'embedded');
    const set = await weblog(['migrate', '--embedded', folder, '--database', db, '--raw-ttl', '30d']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('raw rows (access_log, rejects) kept 30 days; rollups kept');
    const ch = new EmbeddedClickHouse({ dir: folder, database: db });
    try {
      expect(await rawRetentionDays(ch)).toBe(30);
      await seed(ch);
      await ch.exec('OPTIMIZE TABLE access_log FINAL');
      expect(await rawCount(ch)).toBe(2);
      expect(await hourlyHits(ch)).toBe(5);

      const status = await runReport(ch, 'status');
      expect(status.retention?.days).toBe(30);
      expect(status.retention?.note).toMatch(
        /^raw rows are kept 30 days \(since \d{4}-\d\d-\d\dT\d\d:\d\dZ\); this report reads them, so it holds nothing before that$/,
      );
      const inside = await runReport(ch, 'status', { from: Date.now() - 5 * DAY });
      expect(inside.retention?.note).toBeUndefined();
      expect((await runReport(ch, 'traffic-daily')).retention).toBeUndefined(); // a rollup report keeps the whole history
      expect((await runReport(ch, 'traffic-daily')).rows.reduce((s, r) => s + Number(r.hits), 0)).toBe(5);
    } finally {
      await ch.close();
    }

    const report = await weblog(['report', 'status', '--embedded', folder, '--database', db]);
    expect(report.code).toBe(0);
    expect(report.stdout.split('\n')[1]).toMatch(/^note: raw rows are kept 30 days/);
    const json = await weblog(['report', 'status', '--embedded', folder, '--database', db, '--output', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ raw_retention_days: 30, note: expect.stringContaining('kept 30 days') });

    const longer = await weblog(['migrate', '--embedded', folder, '--database', db, '--raw-ttl', '12w']);
    expect(longer.code).toBe(0);
    const off = await weblog(['migrate', '--embedded', folder, '--database', db, '--raw-ttl', 'off']);
    expect(off.stdout).toContain('raw rows kept without limit');
    const after = new EmbeddedClickHouse({ dir: folder, database: db });
    try {
      expect(await rawRetentionDays(after)).toBeUndefined();
      expect((await runReport(after, 'status')).retention).toBeUndefined();
    } finally {
      await after.close();
    }
  }, 120_000);

  it('a wrong --raw-ttl exits 2 with one line naming it', async () => {
    const r = await weblog(['migrate', '--embedded', path.join(dir, 'never'), '--raw-ttl', '30days']);
    expect(r.code).toBe(2);
    expect(lastLine(r.stderr)).toBe(
      'weblog migrate: CONFIG_INVALID: --raw-ttl: expected days (30d), weeks (12w) or off, from 1 day to 100 years; got "30days"',
    );
  });

  it('on the current server over HTTP: set, applied by a merge, changed', async () => {
    const ch = await serverDatabase('ttl', cleanups, { url: currentTarget().url });
    await setRawTtl(ch, 30);
    await seed(ch);
    await ch.exec('OPTIMIZE TABLE access_log FINAL');
    expect(await rawCount(ch)).toBe(2);
    expect(await hourlyHits(ch)).toBe(5);
    await setRawTtl(ch, 90);
    expect(await rawRetentionDays(ch)).toBe(90);
    const [rejects] = await ch.query<{ e: string }>("SELECT engine_full AS e FROM system.tables WHERE database = currentDatabase() AND name = 'rejects'");
    expect(rejects?.e).toMatch(/TTL toDateTime\(received_at\) \+ toIntervalDay\(90\)/);
  });

  it('ClickHouse 18.16 (no table TTLs) is refused with a message naming the version it needs', async () => {
    const legacy = serverTargets().find((t) => t.dialect === 'legacy');
    const ch = await serverDatabase('ttl', cleanups, { url: legacy?.url });
    await expect(setRawTtl(ch, 30)).rejects.toThrow(/is ClickHouse 18\.16[\d.]*: --raw-ttl needs table TTLs \(ClickHouse 19\.6 or newer\)/);
  });
});
