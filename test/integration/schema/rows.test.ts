/**
 * The two row encodings must store the same thing: the processor's
 * TabSeparated rows (AccessLogRowWriter into a RowBuffer) and the JSON rows
 * (accessLogRow) give identical tables on chdb, for the real samples and for
 * records full of characters that need escaping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { migrate } from '../../../src/schema/migrate.js';
import { RowBuffer } from '../../../src/sink/row-buffer.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import { AccessLogRowWriter, accessLogColumns, accessLogRow, type Provenance } from '../../../src/sink/rows.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const awkward = ['tab\there', 'new\nline', 'back\\slash', 'nul\u0000byte', 'cr\rx', 'quote \' and "', 'пример 例 😀', '\\N', '-', ''];

describe('TabSeparated and JSON rows', () => {
  it('store identical tables', async () => {
    const real = await enrichLines([...readLines(fixture('logs', 'elastic_apache.log')), ...readLines(fixture('logs', 'basjes_hackers.log'))]);
    const base = real[0] as EnrichedRecord;
    const crafted: EnrichedRecord[] = awkward.map((s, i) => ({
      ...base,
      user_agent: s,
      referer: `${s}|${i}`,
      path: s,
      query: s,
      as_org: s,
      city: s,
      remote_user: s,
      request_time: i % 2 === 0 ? null : i / 8,
      latitude: i % 3 === 0 ? null : 12.5,
      longitude: i % 3 === 0 ? null : -3.25,
      extra: i % 2 === 0 ? null : { [`k${s}`]: s, plain: 'v', "it's": 'a\\b' },
    }));
    const records = [...real, ...crafted];
    const prov = (i: number): Provenance => ({
      source: i % 5 === 0 ? 's3://b/a\tb' : 's3://b/k',
      sourceOffset: i * 100,
      topic: 'weblog.raw',
      partition: i % 3,
      offset: i,
      line: i % 7,
    });

    const json = new EmbeddedClickHouse({ dir, database: uniqueName('json') });
    const tsv = new EmbeddedClickHouse({ dir, database: uniqueName('tsv') });
    await migrate(json);
    await migrate(tsv);
    await json.insertJson('access_log', records.map((r, i) => accessLogRow(r, prov(i))).join('\n'));
    const buf = new RowBuffer(256); // small on purpose: the buffer grows many times
    const writer = new AccessLogRowWriter(); // the processor's writer; crafted records keep base's cached UA/GeoIP objects
    records.forEach((r, i) => writer.write(buf, r, prov(i)));
    expect(buf.count).toBe(records.length);
    // Two INSERTs from views into the one buffer, split mid-way.
    const mid = Math.floor(records.length / 2);
    await tsv.insertRows('access_log', accessLogColumns.modern, buf.bytes(0, mid), 'TabSeparated');
    await tsv.insertRows('access_log', accessLogColumns.modern, buf.bytes(mid, buf.count), 'TabSeparated');

    const dump = (ch: EmbeddedClickHouse) => ch.query<Record<string, unknown>>('SELECT * EXCEPT ingested_at FROM access_log ORDER BY kafka_offset');
    const a = await dump(json);
    const b = await dump(tsv);
    expect(b.length).toBe(records.length);
    expect(b).toEqual(a);
    // The awkward strings came back as they went in.
    const back = b.slice(real.length);
    expect(back.map((r) => r.user_agent)).toEqual(awkward);
    expect(back[1]?.extra).toEqual({ [`k${awkward[1]}`]: awkward[1], plain: 'v', "it's": 'a\\b' });
    await json.close();
    await tsv.close();
  });
});

describe('times: written so that every engine reads them unambiguously', () => {
  const line = (t: string) => `127.0.0.1 - - [${t}] "GET /t HTTP/1.1" 200 1 "-" "curl/8.0"`;
  // Regression: rows carried epoch ms, which chdb reads only with 13 digits (from 2001-09-09): the Apache
  // docs' own example line made `weblog run` exit 1, and 14-digit values were read as YYYYMMDDhhmmss.
  const storable = [
    '01/Jan/1970:00:00:00 +0000',
    '10/Oct/2000:13:55:36 -0700',
    '09/Sep/2001:01:46:39 +0000',
    '09/Sep/2001:01:46:40 +0000',
    '17/May/2015:10:05:03 +0200',
    '31/Dec/2105:23:59:59 +0000',
  ];
  // What the columns cannot hold (DateTime: 1970 to 2106) is rejected, not wrapped to another date.
  const outside = [
    '01/Jan/0001:00:00:00 +0000',
    '01/Jan/1900:00:00:00 +0000',
    '31/Dec/1969:23:59:59 +0000',
    '01/Jan/1970:00:30:00 +0100',
    '01/Jan/2106:00:00:00 +0000',
    '01/Jan/2300:00:00:00 +0000',
    '31/Dec/9999:23:59:59 +0000',
  ];

  it('the parser rejects times outside 1970-01-01 .. 2106-01-01 as bad_time, naming the range', async () => {
    const { createParser } = await import('../../../src/parse/scan.js');
    for (const fmt of ['combined', '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"']) {
      const parse = createParser(fmt);
      for (const t of outside) {
        const r = parse(line(t));
        expect(r.ok, t).toBe(false);
        if (!r.ok) {
          expect(r.reject.reason).toBe('bad_time');
          expect(r.reject.detail).toContain('1970-01-01T00:00:00Z to 2106-01-01T00:00:00Z');
        }
      }
    }
  });

  it('chdb stores 1970 .. 2105 to the millisecond, from TabSeparated and JSON rows', async () => {
    const records = await enrichLines(storable.map(line));
    expect(records).toHaveLength(storable.length);
    const prov = (i: number): Provenance => ({ source: 's', sourceOffset: i, topic: 't', partition: 0, offset: i, line: 0 });
    const ch = new EmbeddedClickHouse({ dir, database: uniqueName('times') });
    await migrate(ch);
    const buf = new RowBuffer(256);
    const writer = new AccessLogRowWriter();
    records.forEach((r, i) => writer.write(buf, r, prov(i)));
    await ch.insertRows('access_log', accessLogColumns.modern, buf.bytes(0, buf.count), 'TabSeparated');
    await ch.insertJson('access_log', records.map((r, i) => accessLogRow(r, prov(i + 100))).join('\n'));
    const got = await ch.query<{ o: string; ms: string }>('SELECT kafka_offset AS o, toUnixTimestamp64Milli(time) AS ms FROM access_log ORDER BY o');
    const want = records.map((r) => String(r.time));
    expect(got.map((g) => String(g.ms))).toEqual([...want, ...want]);
    await ch.close();
  });

  it('ClickHouse 18.16 over HTTP stores them to the second (legacy schema)', async () => {
    const ch = new HttpClickHouse({ url: inject('endpoints').clickhouseUrl, database: uniqueName('times') });
    await ch.createDatabase();
    try {
      await migrate(ch); // 18.16: the legacy schema
      const records = await enrichLines(storable.map(line));
      const buf = new RowBuffer(256);
      const writer = new AccessLogRowWriter({ dialect: 'legacy' });
      records.forEach((r, i) => writer.write(buf, r, { source: 's', sourceOffset: i, topic: 't', partition: 0, offset: i, line: 0 }));
      await ch.insertRows('access_log', accessLogColumns.legacy, buf.bytes(0, buf.count), 'TabSeparated');
      await ch.insertJson(
        'access_log',
        records
          .map((r, i) => accessLogRow(r, { source: 's', sourceOffset: i, topic: 't', partition: 0, offset: i + 100, line: 0 }, { dialect: 'legacy' }))
          .join('\n'),
      );
      const got = await ch.query<{ s: string | number }>('SELECT toUInt32(time) AS s FROM access_log ORDER BY kafka_offset');
      const want = records.map((r) => Math.floor(r.time / 1000));
      expect(got.map((g) => Number(g.s))).toEqual([...want, ...want]);
    } finally {
      await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
      await ch.close();
    }
  });

  it('18.16 reads a short epoch at the end of its 1 MiB read buffer', async () => {
    // Regression: 18.16 reads a DateTime as digits only while 19 bytes follow in its buffer (it reads an
    // INSERT body 1 MiB at a time); with fewer it takes exactly 10 digits or YYYY-MM-DD hh:mm:ss. Unpadded
    // epochs (1970-01-01 is "0", times before 2001-09-09 have 9 digits) were refused there: the line became
    // an insert_rejected reject whenever its time field ended just before a 1 MiB boundary of the body.
    const ch = new HttpClickHouse({ url: inject('endpoints').clickhouseUrl, database: uniqueName('times') });
    await ch.createDatabase();
    try {
      await migrate(ch);
      const timeIndex = accessLogColumns.legacy.indexOf('time');
      const rowOf = (r: EnrichedRecord, offset: number): Buffer => {
        const buf = new RowBuffer(512);
        new AccessLogRowWriter({ dialect: 'legacy' }).write(buf, r, { source: 's', sourceOffset: 0, topic: 't', partition: 0, offset, line: 0 });
        return Buffer.from(buf.bytes(0, 1));
      };
      // Rows of any length: one enriched record whose user agent (stored once) is padded.
      const model = (await enrichLines([`127.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /f HTTP/1.1" 200 1 "-" "curl/8.0"`]))[0] as EnrichedRecord;
      const filler = async (pad: number): Promise<EnrichedRecord> => ({ ...model, referer: 'r'.repeat(pad) });
      // Filler offsets keep six digits, so every filler row is base + pad bytes long.
      const base = rowOf(await filler(0), 100_000).length;
      expect(rowOf(await filler(100), 100_000).length).toBe(base + 100);
      const targets = await enrichLines(['01/Jan/1970:00:00:00 +0000', '10/Oct/2000:13:55:36 -0700'].map(line));
      let offset = 100_000;
      for (const r of targets) {
        const row = rowOf(r, 1_000_000 + offset);
        let fieldStart = 0; // where the time field begins in its row
        for (let tabs = 0; tabs < timeIndex; fieldStart++) if (row[fieldStart] === 9) tabs++;
        // Rows before it, so that the field begins 6 bytes before the end of the first 1 MiB.
        const need = 1024 * 1024 - 6 - fieldStart;
        const parts: Buffer[] = [];
        let have = 0;
        while (need - have > 2 * (base + 1000)) {
          const f = rowOf(await filler(1000), offset++);
          parts.push(f);
          have += f.length;
        }
        parts.push(rowOf(await filler(need - have - base), offset++));
        expect(Buffer.concat(parts).length).toBe(need);
        await ch.insertRows('access_log', accessLogColumns.legacy, Buffer.concat([...parts, row]), 'TabSeparated');
      }
      const got = await ch.query<{ s: string | number }>('SELECT toUInt32(time) AS s FROM access_log WHERE kafka_offset >= 1000000 ORDER BY kafka_offset');
      expect(got.map((g) => Number(g.s))).toEqual(targets.map((r) => Math.floor(r.time / 1000)));
    } finally {
      await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
      await ch.close();
    }
  });
});

describe('addresses ClickHouse must take', () => {
  it('scoped IPv6 (fe80::1%eth0) loads into the IPv6 column without the zone (20 such lines aborted weblog run)', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `fe80::${i + 1}%eth0 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`);
    const records = await enrichLines(lines);
    expect(records).toHaveLength(20);
    const ch = new EmbeddedClickHouse({ dir, database: uniqueName('ip') });
    await migrate(ch);
    const buf = new RowBuffer(256);
    const writer = new AccessLogRowWriter();
    records.forEach((r, i) => writer.write(buf, r, { source: 's', sourceOffset: i, topic: 't', partition: 0, offset: i, line: 0 }));
    await ch.insertRows('access_log', accessLogColumns.modern, buf.bytes(0, buf.count), 'TabSeparated');
    const got = await ch.query<{ a: string; ip: string }>('SELECT remote_addr AS a, toString(ip) AS ip FROM access_log ORDER BY kafka_offset LIMIT 2');
    expect(got).toEqual([
      { a: 'fe80::1%eth0', ip: 'fe80::1' },
      { a: 'fe80::2%eth0', ip: 'fe80::2' },
    ]);
    await ch.close();
  });
});
