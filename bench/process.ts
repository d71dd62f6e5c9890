/**
 * Question: how many lines per second does one processor replica move from
 * Kafka into ClickHouse, at what CPU cost per line in every process (worker,
 * broker, ClickHouse server), with one line per message and with bundles,
 * how fresh are rows at a steady 50k lines/s, and does memory stay flat?
 * Baselines and peers in the same run: a plain kafkajs consume of the same
 * topic (no processing, stock kafkajs in a child process), ClickHouse (chdb)
 * ingesting the same raw lines itself, and ClickHouse's Kafka engine with a
 * regex materialized view on the same topics (kafka-engine.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { silentLogger } from '../src/observe/log.js';
import { Registry } from '../src/observe/metrics.js';
import { Processor } from '../src/pipeline/process.js';
import { migrate } from '../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../src/sink/clickhouse/http.js';
import type { ClickHouse, QueryTable } from '../src/sink/clickhouse/types.js';
import { createKafka } from '../src/transport/kafka.js';
import { KafkaLogConsumer } from '../src/transport/kafka-consumer.js';
import { requestsOf } from '../src/transport/kafka-producers.js';
import type { OutboundMessage } from '../src/transport/types.js';
import { shipDefaults } from '../src/pipeline/ship.js';
import { cpuPerItem, cpuSnapshot, type CpuSnapshot } from './cpu.js';
import { kafkaEngine } from './kafka-engine.js';
import { buildKafkaStreams, kafkaStreams, streamsLine } from './kafka-streams.js';
import { plainConsume } from './consume-baseline.js';
import { benchEndpoints, percentile } from './stack.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sample = readFileSync(path.join(root, 'data/sample/elastic_apache.log'), 'utf8').split('\n').filter(Boolean);
const id = () => `bench_${Date.now().toString(36)}`;

async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
}

async function produce(kafka: Kafka, topic: string, n: number, partitions: number): Promise<void> {
  await createTopic(kafka, topic, partitions);
  const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await p.connect();
  const step = 10_000; // 4 partitions x 2,500 lines stays under the broker's 1 MB batch limit
  for (let i = 0; i < n; i += step) {
    const msgs = Array.from({ length: Math.min(step, n - i) }, (_, j) => ({
      value: sample[(i + j) % sample.length] as string,
      headers: { 'weblog-source': 'bench.log', 'weblog-offset': String(i + j) },
    }));
    await p.send({ topic, messages: msgs });
    if (n >= 1_000_000 && (i / step) % 50 === 0) process.stderr.write(`\rproduced ${i.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} lines`);
  }
  if (n >= 1_000_000) process.stderr.write('\n');
  await p.disconnect();
}

/**
 * The same lines as `produce`, the way `weblog ship` sends them: bundles of
 * up to 1,000 consecutive lines / 64 KiB per message, headers once. Returns
 * the number of messages.
 */
async function produceBundles(kafka: Kafka, topic: string, n: number, partitions: number): Promise<number> {
  await createTopic(kafka, topic, partitions);
  const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await p.connect();
  let pending: OutboundMessage[] = [];
  let pendingBytes = 0;
  let count = 0;
  const flush = async () => {
    for (const part of requestsOf(pending)) await p.send({ topic, messages: part as { value: string }[] });
    pending = [];
    pendingBytes = 0;
  };
  let at = 0;
  for (let i = 0; i < n;) {
    const start = at;
    const parts: string[] = [];
    let bytes = 0;
    for (; i < n && parts.length < shipDefaults.linesPerMessage && bytes < shipDefaults.messageBytes - 2048; i++) {
      const line = `${sample[i % sample.length] as string}\n`;
      parts.push(line);
      bytes += line.length;
    }
    at += bytes;
    pending.push({ value: parts.join(''), headers: { 'weblog-source': 'bench.log', 'weblog-offset': String(start) } });
    pendingBytes += bytes;
    count++;
    if (pendingBytes >= 8 * 1024 * 1024) await flush(); // bounded memory for runs of many millions of lines
  }
  await flush();
  await p.disconnect();
  return count;
}

/**
 * A sink that takes every INSERT and drops it, and has nothing stored: the
 * processor's own CPU per line, without the ClickHouse client and socket.
 */
class DiscardClickHouse implements ClickHouse {
  readonly kind = 'http';
  readonly dialect = 'modern';
  readonly version = 'discard';
  readonly timezone = 'UTC';
  readonly database = 'discard';
  async detect(): Promise<void> {}
  describe(): string {
    return 'discard';
  }
  async exec(): Promise<void> {}
  async query<T>(): Promise<T[]> {
    return [];
  }
  async queryTable(): Promise<QueryTable> {
    return { columns: [], rows: [] };
  }
  async insertJson(): Promise<void> {}
  readonly rowFormats = ['RowBinary', 'TabSeparated'] as const;
  async insertRows(): Promise<void> {}
  async settle(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Stock kafkajs, in a child process (see consume-baseline.ts). */
function stockConsume(brokers: string[], topic: string, n: number): { seconds: number; cpuUs: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench/consume-baseline.ts'), brokers.join(','), topic, String(n)], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out) as { seconds: number; cpuUs: number };
}

async function processAll(
  kafka: Kafka,
  ch: ClickHouse,
  topic: string,
  n: number,
  dialect: 'modern' | 'legacy',
  opts: { samples: number; progress: boolean } = { samples: 5, progress: false },
) {
  const processor = await Processor.create(ch, { dialect, deadLetterTopic: '' }, { log: silentLogger, registry: new Registry() });
  const consumer = new KafkaLogConsumer(kafka, { topic, groupId: id(), maxBytesPerPartition: 4 * 1024 * 1024 });
  consumer.onAssignment(() => processor.onAssignment());
  const cpu0 = process.cpuUsage();
  const snap0 = cpuSnapshot();
  const t0 = performance.now();
  let t1 = 0;
  let peakRss = 0;
  let snap1: CpuSnapshot | undefined;
  const rssAt: { lines: number; rssMb: number }[] = [];
  await new Promise<void>((resolve) => {
    void consumer.start(async (b, ctl) => {
      await processor.handleBatch(b, ctl);
      const done = processor.metrics.consumed.total();
      const rss = process.memoryUsage.rss();
      peakRss = Math.max(peakRss, rss);
      if (rssAt.length === 0 || done - (rssAt[rssAt.length - 1]?.lines ?? 0) >= n / opts.samples) {
        rssAt.push({ lines: done, rssMb: Math.round(rss / 1e6) });
        if (opts.progress) process.stderr.write(`\rprocessed ${done.toLocaleString('en-US')} lines, RSS ${Math.round(rss / 1e6)} MB   `);
      }
      if (done >= n && t1 === 0) {
        t1 = performance.now();
        snap1 = cpuSnapshot();
        resolve();
      }
    });
  });
  const cpu = process.cpuUsage(cpu0);
  await consumer.close();
  return {
    seconds: (t1 - t0) / 1000,
    cpuUs: cpu.user + cpu.system,
    system: cpuPerItem(snap0, snap1 ?? cpuSnapshot(), n),
    peakRssMb: Math.round(peakRss / 1e6),
    rssAt,
  };
}

/** Produces at a steady rate while a processor runs; returns produce->stored latencies (ms). */
async function freshness(kafka: Kafka, ch: ClickHouse, dialect: 'modern' | 'legacy', rate: number, seconds: number, perMessage = 1): Promise<number[]> {
  const topic = id();
  await createTopic(kafka, topic, 4);
  const processor = await Processor.create(ch, { dialect, deadLetterTopic: '' }, { log: silentLogger, registry: new Registry() });
  const consumer = new KafkaLogConsumer(kafka, { topic, groupId: id(), maxWaitTimeMs: 100, minBytes: 1 });
  consumer.onAssignment(() => processor.onAssignment());
  const lat: number[] = [];
  await consumer.start(async (b, ctl) => {
    await processor.handleBatch(b, ctl);
    const now = Date.now();
    for (const m of b.messages) lat.push(now - m.timestamp); // per line: a bundle's lines share its produce time
  });
  const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await p.connect();
  await new Promise((r) => setTimeout(r, 3000)); // group join
  const tickMs = 50;
  const perTick = Math.round((rate * tickMs) / 1000);
  const start = Date.now();
  let sent = 0;
  for (let k = 0; Date.now() - start < seconds * 1000; k++) {
    const due = start + k * tickMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const messages: { value: string }[] = [];
    for (let j = 0; j < perTick; j += perMessage)
      messages.push({
        value: Array.from({ length: Math.min(perMessage, perTick - j) }, (_, k) => `${sample[(sent + j + k) % sample.length] as string}\n`).join(''),
      });
    await p.send({ topic, messages });
    sent += perTick;
  }
  const deadline = Date.now() + 20_000;
  while (lat.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await p.disconnect();
  await consumer.close();
  // skip the first second (group join, cold caches)
  return lat.slice(rate).sort((a, b) => a - b);
}

export async function benchProcess(n: number): Promise<string> {
  const ep = await benchEndpoints();
  const kafka = new Kafka({ clientId: 'bench', brokers: ep.kafkaBrokers, logLevel: logLevel.NOTHING });
  const wk = createKafka({ brokers: ep.kafkaBrokers });
  const single = id();
  await produce(kafka, single, n, 4);
  const bundled = `${id()}_b`;
  const bundles = await produceBundles(kafka, bundled, n, 4);
  type Row = { name: string; lines: number; seconds: number; ownUs: number; system?: ReturnType<typeof cpuPerItem> | undefined };
  const rows: Row[] = [];
  const plain = stockConsume(ep.kafkaBrokers, single, n);
  rows.push({ name: 'baseline: stock kafkajs consume, no processing (one line per message)', lines: n, seconds: plain.seconds, ownUs: plain.cpuUs / n });
  const fast = await plainConsume(kafka, single, n); // in this process, where createKafka() installed weblog's decoder
  rows.push({
    name: "kafkajs consume with weblog's record decoder, no processing (one line per message)",
    lines: n,
    seconds: fast.seconds,
    ownUs: fast.cpuUs / n,
  });
  const fastB = await plainConsume(kafka, bundled, bundles);
  rows.push({
    name: `kafkajs consume with weblog's decoder, no processing (bundles: ${bundles.toLocaleString('en-US')} messages)`,
    lines: n,
    seconds: fastB.seconds,
    ownUs: fastB.cpuUs / n,
  });

  const http = new HttpClickHouse({ url: ep.clickhouseUrl, database: id() });
  await http.createDatabase();
  await migrate(http);
  const dialect = http.isLegacy ? 'legacy' : 'modern';
  // Warm-up, not reported: the first processor run in a process also pays for
  // compiling the hot path, which would bias the first row measured.
  await processAll(wk, new DiscardClickHouse(), single, Math.min(n, 100_000), dialect);
  const run = async (name: string, ch: ClickHouse, topic: string, d: 'modern' | 'legacy') => {
    const r = await processAll(wk, ch, topic, n, d);
    rows.push({ name, lines: n, seconds: r.seconds, ownUs: r.cpuUs / n, system: r.system });
    return r;
  };
  const d1 = await run('weblog process, rows built and discarded (one line per message)', new DiscardClickHouse(), single, dialect);
  const d2 = await run('weblog process, rows built and discarded (bundles)', new DiscardClickHouse(), bundled, dialect);
  const h1 = await run(`weblog process -> ClickHouse ${http.serverVersion} over HTTP (one line per message)`, http, single, dialect);
  await http.exec('TRUNCATE TABLE access_log');
  const h2 = await run(`weblog process -> ClickHouse ${http.serverVersion} over HTTP (bundles)`, http, bundled, dialect);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-bench-'));
  const emb = new EmbeddedClickHouse({ dir, database: 'bench' });
  await migrate(emb);
  await run('weblog process -> chdb (real schema + rollups; chdb CPU in-process; bundles)', emb, bundled, 'modern');

  // ClickHouse ingesting the same raw lines itself (regex in SQL), on chdb.
  await emb.exec(
    'CREATE TABLE raw_ingest (ip String, time String, request String, status UInt16, bytes String, referer String, ua String) ENGINE = MergeTree ORDER BY tuple()',
  );
  const body = Array.from({ length: n }, (_, i) => JSON.stringify({ line: sample[i % sample.length] })).join('\n');
  await emb.exec('CREATE TABLE raw_lines (line String) ENGINE = Null');
  await emb.exec(
    'CREATE MATERIALIZED VIEW raw_mv TO raw_ingest AS SELECT g[1] AS ip, g[2] AS time, g[3] AS request, toUInt16OrZero(g[4]) AS status, g[5] AS bytes, g[6] AS referer, g[7] AS ua FROM (SELECT extractGroups(line, \'^(\\\\S+) \\\\S+ \\\\S+ \\\\[([^\\\\]]+)\\\\] "([^"]*)" (\\\\d{3}) (\\\\S+)(?: "([^"]*)" "([^"]*)")?\') AS g FROM raw_lines)',
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await emb.insertJson('raw_lines', body);
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  rows.push({
    name: 'baseline: chdb ingesting raw lines itself (regex MV, no enrichment, no Kafka)',
    lines: n,
    seconds: s,
    ownUs: (cpu.user + cpu.system) / n,
  });

  // The peer: ClickHouse's Kafka engine + a regex MV on the stack's server, same topics.
  for (const [topic, what] of [
    [single, 'one line per message'],
    [bundled, 'bundles'],
  ] as const) {
    const k = await kafkaEngine(ep.clickhouseUrl, kafka, ep.kafkaBrokers, topic, n, { oneLinePerMessage: topic === single });
    if (k.rows !== n) throw new Error(`the Kafka engine stored ${k.rows} of ${n} lines`);
    rows.push({
      name: `peer: ClickHouse ${http.serverVersion} Kafka engine + regex MV, 9 columns, parse only (${what})`,
      lines: n,
      seconds: k.seconds,
      ownUs: k.cpu.clickhouse,
      system: k.cpu,
    });
  }

  // The peer under ksqlDB: a Kafka Streams app (regex + time parse to a JSON topic), steady state after the JVM warmed up.
  const why = buildKafkaStreams();
  const streamsNotes: string[] = [];
  if (why) streamsNotes.push(`Kafka Streams peer skipped: ${why}.`);
  else {
    let matching = 0;
    for (let i = 0; i < n; i++) if (streamsLine.test(sample[i % sample.length] as string)) matching++;
    for (const [topic, what, guarantee] of [
      [single, 'one line per message', 'at_least_once'],
      [bundled, 'bundles', 'at_least_once'],
      [bundled, 'bundles', 'exactly_once_v2'],
    ] as const) {
      const k = await kafkaStreams(kafka, ep.kafkaBrokers, topic, matching, guarantee);
      rows.push({
        name: `peer: Kafka Streams 3.9 (under ksqlDB), regex + time parse to a JSON topic, ${guarantee} (${what}; steady state)`,
        lines: 1,
        seconds: 1 / k.steadyLinesPerSecond,
        ownUs: k.steady.self,
        system: k.steady,
      });
      streamsNotes.push(`${guarantee} (${what}): the JVM took ${k.startSeconds.toFixed(1)} s to the first 10 % of the output, not counted above`);
    }
  }

  const fresh = await freshness(wk, http, dialect, 50_000, 20, 250);
  await http.exec(`DROP DATABASE ${http.database}`);
  await http.close();
  await emb.close();
  rmSync(dir, { recursive: true, force: true });
  const base = n / plain.seconds;
  const peer = rows.find((r) => r.name.startsWith('peer:') && r.name.endsWith('(bundles)'))?.system?.total ?? NaN;
  const fmt = (r: Row) =>
    `| ${r.name} | ${Math.round(r.lines / r.seconds).toLocaleString('en-US')} | ${(r.lines / r.seconds / base).toFixed(2)}x | ${r.ownUs.toFixed(2)} | ${
      r.system
        ? `${r.system.kafka.toFixed(2)} | ${r.system.clickhouse.toFixed(2)} | ${r.system.total.toFixed(2)} | ${(r.system.total / peer).toFixed(2)}x`
        : '| | |'
    } |`;
  const insertUs = (h2.cpuUs - d2.cpuUs) / n;
  return [
    `| pipeline (${n.toLocaleString('en-US')} lines, 4 partitions, one replica) | lines/s | vs stock kafkajs consume | own CPU µs/line | broker µs/line | ClickHouse server µs/line | whole system µs/line | whole system vs the Kafka engine (bundles) |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(fmt),
    '',
    `Own CPU is the worker's process (for chdb, ClickHouse runs inside it; for the Kafka engine, the ClickHouse server's; for Kafka Streams, the JVM's); whole system adds the broker and the ClickHouse server.`,
    ...(streamsNotes.length ? [`Kafka Streams: ${streamsNotes.join('; ')}.`] : []),
    `CPU per line by stage (bundles): kafkajs consume with the decoder ${(fastB.cpuUs / n).toFixed(2)} µs; split + parse + enrich + TabSeparated row ${((d2.cpuUs - fastB.cpuUs) / n).toFixed(2)} µs; INSERT over HTTP (client side) ${insertUs >= 0.05 ? `${insertUs.toFixed(2)} µs` : 'within the noise of this run'}. One line per message: consume ${(fast.cpuUs / n).toFixed(2)} µs, the rest ${((d1.cpuUs - fast.cpuUs) / n).toFixed(2)} µs, INSERT ${((h1.cpuUs - d1.cpuUs) / n).toFixed(2)} µs.`,
    '',
    `Freshness at a steady 50,000 lines/s for 20 s in bundles of 250 lines (produce -> row stored in ClickHouse ${http.serverVersion} over HTTP): p50 ${percentile(fresh, 0.5)} ms, p99 ${percentile(fresh, 0.99)} ms, max ${fresh[fresh.length - 1]} ms (${fresh.length.toLocaleString('en-US')} lines).`,
    `Memory (RSS) while processing bundles into ClickHouse over HTTP: ${h2.rssAt.map((r) => `${r.rssMb} MB at ${r.lines.toLocaleString('en-US')}`).join(', ')}; peak ${h2.peakRssMb} MB.`,
  ].join('\n');
}

/**
 * Question: does one replica's memory stay flat over a long run? Processes
 * `n` lines (default 10 M) from the real broker into ClickHouse over HTTP and
 * samples RSS every n/20 lines.
 */
export async function benchProcessMemory(n: number): Promise<string> {
  const ep = await benchEndpoints();
  const kafka = new Kafka({ clientId: 'bench', brokers: ep.kafkaBrokers, logLevel: logLevel.NOTHING });
  const wk = createKafka({ brokers: ep.kafkaBrokers });
  const topic = id();
  await produceBundles(kafka, topic, n, 4); // as weblog ship sends them
  const http = new HttpClickHouse({ url: ep.clickhouseUrl, database: id() });
  await http.createDatabase();
  await migrate(http);
  const h = await processAll(wk, http, topic, n, http.isLegacy ? 'legacy' : 'modern', { samples: 20, progress: true });
  process.stderr.write('\n');
  const [count] = await http.query<{ c: string }>('SELECT count() AS c FROM access_log');
  await http.exec(`DROP DATABASE ${http.database}`);
  await http.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  const rss = h.rssAt.map((r) => r.rssMb);
  const second = rss.slice(Math.floor(rss.length / 2));
  return [
    `| lines processed | RSS (MB) |`,
    '|---:|---:|',
    ...h.rssAt.map((r) => `| ${r.lines.toLocaleString('en-US')} | ${r.rssMb} |`),
    '',
    `${n.toLocaleString('en-US')} lines into ClickHouse ${http.serverVersion} over HTTP in ${h.seconds.toFixed(0)} s (${Math.round(n / h.seconds).toLocaleString('en-US')} lines/s, ${(h.cpuUs / n).toFixed(2)} µs CPU/line); rows stored: ${Number(count?.c ?? 0).toLocaleString('en-US')}.`,
    `Peak RSS ${h.peakRssMb} MB; over the second half of the run RSS stayed between ${Math.min(...second)} and ${Math.max(...second)} MB.`,
  ].join('\n');
}
