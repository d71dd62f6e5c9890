/**
 * A peer measured in the same run: ClickHouse's own Kafka engine reading the
 * same raw topic, with a regex materialized view that parses each line into
 * nine columns (no enrichment, no exactly-once, no rejects). The server is
 * one of the stack's ClickHouse servers; the engine reads messages of one line or bundles
 * (TabSeparated: one row per line of a message).
 */
import type { Kafka } from 'kafkajs';
import { HttpClickHouse } from '../src/sink/clickhouse/http.js';
import { cpuPerItem, cpuSnapshot, type BenchServer } from './cpu.js';

/** The nine columns, by regular expression, as a user of the engine writes them. */
const parseSql = (src: string) => `
SELECT
  extract(line, '^(\\\\S+)') AS ip,
  parseDateTimeBestEffortOrZero(replaceRegexpOne(extract(line, '\\\\[([^\\\\]]+)\\\\]'), '^(\\\\d+)/(\\\\w+)/(\\\\d+):', '\\\\1 \\\\2 \\\\3 ')) AS time,
  extract(line, '"(\\\\S+) ') AS method,
  extract(line, '"\\\\S+ ([^ ?"]*)') AS path,
  toUInt16OrZero(extract(line, '" (\\\\d{3}) ')) AS status,
  toUInt64OrZero(extract(line, '" \\\\d{3} (\\\\d+)')) AS bytes,
  extract(line, '" \\\\d{3} \\\\S+ "([^"]*)"') AS referer,
  extract(line, '" \\\\d{3} \\\\S+ "[^"]*" "([^"]*)"') AS user_agent,
  extract(line, '"\\\\S+ \\\\S+ (HTTP/[0-9.]+)"') AS protocol
FROM ${src}`;

export interface PeerResult {
  seconds: number;
  cpu: ReturnType<typeof cpuPerItem>;
  rows: number;
}

/**
 * Consumes `topic` (`lines` lines) from offset 0 with the Kafka engine into a
 * MergeTree table, and reports wall time and the CPU of every process.
 */
export async function kafkaEngine(
  chUrl: string,
  kafka: Kafka,
  brokers: string[],
  topic: string,
  lines: number,
  opts: { oneLinePerMessage: boolean; timeoutMs?: number; server?: BenchServer },
): Promise<PeerResult> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const db = `bench_ke_${Date.now().toString(36)}`;
  const group = `${db}_group`;
  const ch = new HttpClickHouse({ url: chUrl, database: db });
  await ch.createDatabase();
  try {
    // A new group of the engine starts at the latest offset: commit offset 0 for it first.
    const admin = kafka.admin();
    await admin.connect();
    const parts = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({ groupId: group, topic, partitions: parts.map((p) => ({ partition: p.partition, offset: '0' })) });
    await admin.disconnect();
    await ch.exec(
      'CREATE TABLE parsed (ip String, time DateTime, method String, path String, status UInt16, bytes UInt64, referer String, user_agent String, protocol String) ENGINE = MergeTree ORDER BY tuple()',
    );
    const c0 = cpuSnapshot(opts.server);
    const t0 = performance.now();
    // Messages of one line without LF need the engine's row delimiter (or they run together); bundles end in LF.
    const delimiter = opts.oneLinePerMessage ? ", '\\n'" : '';
    await ch.exec(`CREATE TABLE queue (line String) ENGINE = Kafka('${brokers.join(',')}', '${topic}', '${group}', 'TabSeparated'${delimiter})`);
    await ch.exec(`CREATE MATERIALIZED VIEW mv TO parsed AS ${parseSql('queue')}`);
    let rows = 0;
    let t1 = t0;
    let grew = t0;
    while (performance.now() - t0 < timeoutMs && performance.now() - grew < 30_000) {
      const [r] = await ch.query<{ c: string | number }>('SELECT count() AS c FROM parsed');
      const now = Number(r?.c ?? 0);
      t1 = performance.now();
      if (now > rows) grew = t1;
      rows = now;
      if (rows >= lines) break;
      await new Promise((r2) => setTimeout(r2, 100));
    }
    const c1 = cpuSnapshot(opts.server);
    await ch.exec('DROP TABLE mv');
    await ch.exec('DROP TABLE queue');
    return { seconds: (t1 - t0) / 1000, cpu: cpuPerItem(c0, c1, lines), rows };
  } finally {
    await ch.exec(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
    await ch.close();
  }
}
