/**
 * The two row encodings must store the same thing: the processor's
 * TabSeparated rows (AccessLogTsvWriter into a RowBuffer) and the JSON rows
 * (accessLogRow) give identical tables on chdb, for the real samples and for
 * records full of characters that need escaping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { migrate } from '../../../src/schema/migrate.js';
import { RowBuffer } from '../../../src/sink/batch.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { AccessLogTsvWriter, accessLogColumns, accessLogRow, type Provenance } from '../../../src/sink/rows.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const awkward = ['tab\there', 'new\nline', 'back\\slash', 'nul\u0000byte', 'cr\rx', "quote ' and \"", 'пример 例 😀', '\\N', '-', ''];

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
    const prov = (i: number): Provenance => ({ source: i % 5 === 0 ? 's3://b/a\tb' : 's3://b/k', sourceOffset: i * 100, topic: 'weblog.raw', partition: i % 3, offset: i });

    const json = new EmbeddedClickHouse({ dir, database: uniqueName('json') });
    const tsv = new EmbeddedClickHouse({ dir, database: uniqueName('tsv') });
    await migrate(json);
    await migrate(tsv);
    await json.insertJson('access_log', records.map((r, i) => accessLogRow(r, prov(i))).join('\n'));
    const buf = new RowBuffer(256); // small on purpose: the buffer grows many times
    const writer = new AccessLogTsvWriter(); // the processor's writer; crafted records keep base's cached UA/GeoIP objects
    records.forEach((r, i) => writer.write(buf, r, prov(i)));
    expect(buf.count).toBe(records.length);
    // Two INSERTs from views into the one buffer, split mid-way.
    const mid = Math.floor(records.length / 2);
    await tsv.insertTsv('access_log', accessLogColumns.modern, buf.bytes(0, mid));
    await tsv.insertTsv('access_log', accessLogColumns.modern, buf.bytes(mid, buf.count));

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
