/**
 * RowBinary rows, what the processor sends a current server over HTTP and
 * what `weblog run` hands the embedded engine (chdb, through a row file), must
 * store exactly what the TabSeparated rows store: the real samples, awkward strings
 * (escapes, non-ASCII, lone surrogates, the long and very long string paths),
 * every form of address, times from 1970 to 2105, NULLs and maps; and into
 * columns an operator changed, the values the TabSeparated rows give.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { migrate } from '../../../src/schema/migrate.js';
import { ClickHouseAccessLogStore } from '../../../src/sink/access-log.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import type { ClickHouse } from '../../../src/sink/clickhouse/types.js';
import type { Provenance } from '../../../src/sink/rows.js';
import { currentTarget, serverDatabase } from '../../helpers/clickhouse.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

let folder = '';
cleanups.push(async () => rmSync(folder || path.join(os.tmpdir(), 'weblog-none'), { recursive: true, force: true })); // runs last: after the closes
/** A database of the embedded engine, in one data folder for the file (one folder per process). */
async function embeddedDatabase(prefix: string): Promise<ClickHouse> {
  folder ||= mkdtempSync(path.join(os.tmpdir(), 'weblog-row-binary-'));
  const ch = new EmbeddedClickHouse({ dir: folder, database: uniqueName(prefix) });
  cleanups.push(() => ch.close());
  return ch;
}

const targets: { name: string; database: (prefix: string) => Promise<ClickHouse> }[] = [
  { name: 'the current server', database: (prefix) => serverDatabase(prefix, cleanups, { url: currentTarget().url }) },
  { name: 'the embedded engine (chdb)', database: embeddedDatabase },
];

const prov = (i: number): Provenance => ({
  source: i % 5 === 0 ? 's3://b/a\tb' : 's3://b/k',
  sourceOffset: i % 7 === 0 ? -1 : i * 100,
  topic: 'weblog.raw',
  partition: 0,
  offset: i,
  line: i % 7,
});

async function records(): Promise<EnrichedRecord[]> {
  const real = await enrichLines([...readLines(fixture('logs', 'elastic_apache.log')), ...readLines(fixture('logs', 'basjes_hackers.log'))]);
  const line = (addr: string, t = '17/May/2015:10:05:03 +0000') => `${addr} - - [${t}] "GET /t HTTP/1.1" 200 1 "-" "curl/8.0"`;
  const addresses = [
    '2001:db8::8a2e:370:7334',
    '::ffff:1.2.3.4',
    'fe80::1%eth0',
    '64:ff9b::192.0.2.33',
    '::1',
    '::',
    'host.example',
    '-',
    '[2001:db8::1]:443',
    '10.0.0.1',
  ];
  const times = ['01/Jan/1970:00:00:00 +0000', '10/Oct/2000:13:55:36 -0700', '09/Sep/2001:01:46:40 +0000', '31/Dec/2105:23:59:59 +0000'];
  const special = await enrichLines([...addresses.map((a) => line(a)), ...times.map((t) => line('1.2.3.4', t))]);
  expect(special).toHaveLength(addresses.length + times.length);
  const awkward = [
    'tab\there',
    'new\nline',
    'back\\slash',
    'nul\u0000byte',
    'пример 例 😀',
    'lone \ud800 surrogate',
    '\\N',
    '',
    'é'.repeat(43),
    'a'.repeat(127),
    'a'.repeat(128),
    'ü'.repeat(6000),
  ];
  const base = real[0] as EnrichedRecord;
  const crafted = awkward.map((s, i) => ({
    ...base,
    user_agent: s,
    referer: `${s}|${i}`,
    path: s,
    city: s,
    browser: s,
    request_time: i % 2 === 0 ? null : i / 8,
    latitude: i % 3 === 0 ? null : 12.5,
    longitude: i % 3 === 0 ? null : -3.25,
    bytes: i % 2 === 0 ? 0 : 2 ** 52 + i,
    extra: i % 2 === 0 ? null : { [`k${s}`]: s, plain: 'v', "it's": 'a\\b' },
  }));
  return [...real, ...special, ...crafted];
}

const dump = (ch: ClickHouse) =>
  ch.query<Record<string, unknown>>('SELECT * EXCEPT ingested_at, toString(ip) AS ip_text FROM access_log ORDER BY kafka_offset, kafka_line');

describe.each(targets)('RowBinary rows on $name', (target) => {
  it('store the same table as TabSeparated rows', async () => {
    const recs = await records();
    const tsv = await target.database('rbtsv');
    const bin = await target.database('rbbin');
    for (const ch of [tsv, bin]) {
      await migrate(ch);
      await ch.detect();
    }
    // The reference: TabSeparated rows, which rows.test.ts holds equal to the JSON rows (JSON cannot carry a lone surrogate).
    const text = new ClickHouseAccessLogStore(tsv, 'modern', 'TabSeparated');
    const textWriter = text.rowWriter(undefined);
    const textRows = textWriter.newBuffer(1024);
    recs.forEach((r, i) => textWriter.write(textRows, r, prov(i)));
    await text.insertRows('weblog.raw', 0, textRows, 0, textRows.count);
    const store = new ClickHouseAccessLogStore(bin); // what the processor makes: the connection's cheapest format
    expect(store.format).toBe('RowBinary');
    const writer = store.rowWriter(undefined);
    const rows = writer.newBuffer(256); // small on purpose: it grows many times
    recs.forEach((r, i) => writer.write(rows, r, prov(i)));
    const mid = Math.floor(recs.length / 2);
    await store.insertRows('weblog.raw', 0, rows, 0, mid);
    await store.insertRows('weblog.raw', 0, rows, mid, rows.count);
    const want = await dump(tsv);
    const got = await dump(bin);
    expect(got).toHaveLength(recs.length);
    const bad = got.findIndex((g, i) => JSON.stringify(g) !== JSON.stringify(want[i]));
    expect(bad === -1 ? '' : `row ${bad}:\n${JSON.stringify(got[bad])}\nwant\n${JSON.stringify(want[bad])}`).toBe('');
    // The special addresses and the awkward strings came back as they went in.
    expect(got.map((g) => g.ip_text)).toContain('2001:db8::8a2e:370:7334');
    expect(got.map((g) => g.ip_text)).toContain('64:ff9b::c000:221');
    expect(got.map((g) => g.user_agent)).toContain('ü'.repeat(6000));
  });

  it('columns an operator changed: values are converted as text ones are, or refused, never misread', async () => {
    const all = await records();
    const recs = [...all.slice(0, 200), ...all.slice(-26)]; // some real lines, then every special address, time and string
    const tsv = await target.database('rbalt');
    const bin = await target.database('rbalb');
    for (const ch of [tsv, bin]) {
      await migrate(ch);
      await ch.detect();
      // Wider, narrower-but-enough and plain instead of LowCardinality: the server converts.
      await ch.exec('ALTER TABLE access_log MODIFY COLUMN remote_addr FixedString(40), MODIFY COLUMN status UInt32, MODIFY COLUMN browser String');
    }
    const insert = async (store: ClickHouseAccessLogStore) => {
      const writer = store.rowWriter(undefined);
      const rows = writer.newBuffer(1024);
      recs.forEach((r, i) => writer.write(rows, r, prov(i)));
      await store.insertRows('weblog.raw', 0, rows, 0, rows.count);
      return rows;
    };
    await insert(new ClickHouseAccessLogStore(tsv, 'modern', 'TabSeparated'));
    const store = new ClickHouseAccessLogStore(bin);
    expect(store.format).toBe('RowBinary');
    const rows = await insert(store);
    const want = await dump(tsv);
    expect(await dump(bin)).toEqual(want);
    expect(want).toHaveLength(recs.length);
    // Too narrow for some values: the INSERT is refused as a whole, as TabSeparated's is (the writer then narrows it down).
    const narrow = await target.database('rbnar');
    await migrate(narrow);
    await narrow.detect();
    await narrow.exec('ALTER TABLE access_log MODIFY COLUMN remote_addr FixedString(15)');
    const narrowStore = new ClickHouseAccessLogStore(narrow);
    const ipv6 = recs.findIndex((r) => r.remote_addr.length > 15);
    expect(ipv6).toBeGreaterThan(-1);
    const err = await narrowStore.insertRows('weblog.raw', 0, rows, ipv6, ipv6 + 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INSERT_REJECTED' });
    expect((err as Error).message).toMatch(/too large|FixedString/i);
    const ipv4 = recs.findIndex((r) => r.remote_addr.length <= 15);
    await narrowStore.insertRows('weblog.raw', 0, rows, ipv4, ipv4 + 1);
    const [count] = await narrow.query<{ c: string | number }>('SELECT count() AS c FROM access_log');
    expect(Number(count?.c)).toBe(1);
  });
});
