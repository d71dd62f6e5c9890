/**
 * The processor end to end on the real broker, against the ClickHouse server
 * over HTTP (18.16, legacy test schema) and against chdb (the real schema):
 * every line produced is accounted for, as a row or as a reject.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import type { ClickHouse } from '../../../src/sink/clickhouse/types.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { createTopic, deleteTopics, produceMixed, readTopic, testKafka } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { serverTargets } from '../../helpers/clickhouse.js';
import { startProcessor } from '../../helpers/processor.js';
import { waitUntil } from '../../helpers/wait.js';

const kafka = testKafka();
const topics: string[] = [];
const chdbDir = mkdtempSync(path.join(os.tmpdir(), 'weblog-process-'));
afterAll(async () => {
  await deleteTopics(kafka, topics);
  rmSync(chdbDir, { recursive: true, force: true });
});

/** The real sample plus lines that must be rejected, mixed in at seeded places. */
function mixedInput(): { lines: string[]; bad: number } {
  const lines = readLines(fixture('logs', 'elastic_apache.log')).slice(0, 4000);
  const junk = [
    '',
    'not a log line',
    '1.2.3.4 - - [31/Feb/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "x"',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" abc 1 "-" "x"',
  ];
  for (let i = 0; i < 40; i++) lines.splice((i * 97) % lines.length, 0, junk[i % junk.length] as string);
  return { lines, bad: 40 };
}

const count = async (ch: ClickHouse, sql: string) => Number((await ch.query<{ c: string | number }>(sql))[0]?.c);

async function runCase(ch: ClickHouse, dialect: 'legacy' | 'modern') {
  const topic = uniqueName('raw');
  const dlq = uniqueName('dlq');
  topics.push(topic, dlq);
  await createTopic(kafka, topic, 3);
  await createTopic(kafka, dlq, 1);
  const { lines, bad } = mixedInput();
  const messages = await produceMixed(kafka, topic, lines, 'test.log'); // one-line messages and bundles
  expect(messages).toBeLessThan(lines.length / 3);
  const run = await startProcessor(ch, topic, uniqueName('g'), { dialect, deadLetterTopic: dlq, maxInsertRows: 700 });
  await waitUntil(
    'all lines stored',
    async () => (await count(ch, 'SELECT count() AS c FROM access_log')) + (await count(ch, 'SELECT count() AS c FROM rejects')) >= lines.length,
  );
  await run.stop();
  // accepted + rejected = consumed, in one query
  const [acc] = await ch.query<{ rows: string | number; rejects: string | number }>(
    'SELECT (SELECT count() FROM access_log) AS rows, (SELECT count() FROM rejects) AS rejects',
  );
  expect(Number(acc?.rows) + Number(acc?.rejects)).toBe(lines.length);
  expect(Number(acc?.rejects)).toBe(bad);
  expect(await count(ch, 'SELECT count() - uniqExact(kafka_partition, kafka_offset, kafka_line) AS c FROM access_log')).toBe(0);
  // every line keeps its own byte offset in the source, inside bundles too
  expect(await count(ch, 'SELECT (SELECT uniqExact(source_offset) FROM access_log) + (SELECT uniqExact(source_offset) FROM rejects) AS c')).toBe(lines.length);
  expect(await count(ch, 'SELECT max(kafka_line) AS c FROM access_log')).toBeGreaterThan(10);
  const reasons = await ch.query<{ reason: string; c: string | number }>('SELECT reason, count() AS c FROM rejects GROUP BY reason ORDER BY reason');
  expect(Object.fromEntries(reasons.map((r) => [r.reason, Number(r.c)]))).toEqual({ empty_line: 10, no_match: 10, bad_time: 10, bad_status: 10 });
  const [row] = await ch.query<Record<string, unknown>>(
    "SELECT remote_addr, status, bytes, browser, country, source FROM access_log WHERE remote_addr = '83.149.9.216' AND bytes = 203023 LIMIT 1",
  );
  expect(row).toMatchObject({ remote_addr: '83.149.9.216', status: 200, browser: 'Chrome', country: 'RU', source: 'test.log' });
  expect(Number(row?.bytes)).toBe(203023);
  const dead = await readTopic(kafka, dlq, bad, 20_000);
  expect(dead).toHaveLength(bad);
  expect(JSON.parse(dead[0]?.value ?? '{}')).toMatchObject({ topic, reason: expect.any(String) as unknown, line: expect.any(String) as unknown });
  // a reject names its line: message offset and line index, in the table and in the dead-letter record
  const deadKeys = dead
    .map((d) => JSON.parse(d.value) as { partition: number; offset: number; line_index: number })
    .map((d) => `${d.partition}/${d.offset}/${d.line_index}`);
  const tableKeys = (
    await ch.query<{ k: string }>("SELECT concat(toString(kafka_partition), '/', toString(kafka_offset), '/', toString(kafka_line)) AS k FROM rejects")
  ).map((r) => r.k);
  expect(deadKeys.sort()).toEqual(tableKeys.sort());
  expect(new Set(tableKeys).size).toBe(bad);
}

/** The hourly rollup holds every raw row, hour by hour. */
async function expectRollupsWhole(ch: ClickHouse) {
  const raw = await ch.query<{ h: string; c: string | number }>('SELECT toStartOfHour(time) AS h, count() AS c FROM access_log GROUP BY h ORDER BY h');
  const rolled = await ch.query<{ h: string; c: string | number }>('SELECT hour AS h, countMerge(hits) AS c FROM traffic_hourly GROUP BY h ORDER BY h');
  expect(rolled.map((r) => [r.h, Number(r.c)])).toEqual(raw.map((r) => [r.h, Number(r.c)]));
  expect(raw.length).toBeGreaterThan(10);
}

describe('processor: produce N lines, N accounted for', () => {
  it.each(serverTargets())('over HTTP into $label', async ({ url, dialect }) => {
    const ch = new HttpClickHouse({ url, database: uniqueName('p') });
    await ch.createDatabase();
    await migrate(ch);
    try {
      expect(ch.dialect).toBe(dialect);
      await runCase(ch, dialect);
      if (dialect === 'modern') await expectRollupsWhole(ch);
    } finally {
      await ch.exec(`DROP DATABASE ${ch.database}`);
      await ch.close();
    }
  });

  it('into chdb with the real schema (rollups fed too)', async () => {
    const ch = new EmbeddedClickHouse({ dir: chdbDir, database: uniqueName('p') });
    await migrate(ch);
    await runCase(ch, 'modern');
    await expectRollupsWhole(ch);
    await ch.close();
  });
});

describe('processor: permanent insert errors', () => {
  it.each(serverTargets())(
    'narrows a rejected batch down to the bad rows ($label): they reach the dead-letter topic and rejects, the rest is stored',
    async ({ url }) => {
      const ch = new HttpClickHouse({ url, database: uniqueName('n') });
      await ch.createDatabase();
      await migrate(ch);
      // remote_addr too narrow for IPv6 clients: ClickHouse refuses exactly those rows.
      await ch.exec('ALTER TABLE access_log MODIFY COLUMN remote_addr FixedString(15)');
      const topic = uniqueName('raw');
      const dlq = uniqueName('dlq');
      topics.push(topic, dlq);
      await createTopic(kafka, topic, 2);
      await createTopic(kafka, dlq, 1);
      const lines = readLines(fixture('logs', 'basjes_hackers.log'));
      const ipv6 = lines.filter((l) => (l.split(' ')[0] ?? '').length > 15);
      expect(ipv6).toHaveLength(12);
      await produceMixed(kafka, topic, lines); // the bad rows sit inside bundles too
      const run = await startProcessor(ch, topic, uniqueName('g'), { dialect: ch.isLegacy ? 'legacy' : 'modern', deadLetterTopic: dlq });
      try {
        await waitUntil(
          'all lines stored',
          async () => (await count(ch, 'SELECT count() AS c FROM access_log')) + (await count(ch, 'SELECT count() AS c FROM rejects')) >= lines.length,
        );
        expect(await count(ch, 'SELECT count() AS c FROM access_log')).toBe(lines.length - 12);
        const rejected = await ch.query<{ line: string; reason: string }>('SELECT line, reason FROM rejects ORDER BY line');
        expect(rejected.map((r) => r.reason)).toEqual(new Array(12).fill('insert_rejected'));
        expect(rejected.map((r) => r.line).sort()).toEqual([...ipv6].sort());
        const dead = await readTopic(kafka, dlq, 12, 20_000);
        expect(dead.map((d) => (JSON.parse(d.value) as { reason: string }).reason)).toEqual(new Array(12).fill('insert_rejected'));
      } finally {
        await run.stop();
        await ch.exec(`DROP DATABASE ${ch.database}`);
        await ch.close();
      }
    },
  );
});
