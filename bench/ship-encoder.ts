/**
 * Question: what does kafkajs' produce encoding cost the shipper, against
 * weblog's exact-size encoder (src/transport/kafkajs-encoder.ts)? The real
 * Shipper and KafkaShipSink ship the same 4 objects of the sample (1 M lines,
 * plain, from the stack's s3proxy) into a fresh topic, gzip bundles as
 * `weblog ship` sends them; each run in its own process (the encoder is chosen
 * once per process: WEBLOG_KAFKA_ENCODER=kafkajs keeps kafkajs' own), the two
 * interleaved round by round. Own CPU per line and wall time of the process,
 * the broker's CPU per line, and the garbage collections V8 ran (full and
 * young, and their time).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { silentLogger } from '../src/observe/log.js';
import { Registry } from '../src/observe/metrics.js';
import { Shipper } from '../src/pipeline/ship.js';
import { S3Source, s3Client } from '../src/source/s3.js';
import { createKafka, ensureTopic } from '../src/transport/kafka.js';
import { KafkaShipSink } from '../src/transport/kafka-producers.js';
import { cpuPerItem, cpuSnapshot } from './cpu.js';
import { benchEndpoints } from './stack.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

type Row = { encoder: string; round: number; lines: number; wallS: number; selfUs: number; brokerUs: number; fullGcs: number; youngGcs: number; gcMs: number };

async function child(bucket: string, round: number): Promise<Row> {
  const ep = await benchEndpoints();
  const creds = { accessKeyId: ep.s3.accessKeyId, secretAccessKey: ep.s3.secretAccessKey };
  const gcs = { full: 0, young: 0, ms: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.full++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.young++;
      gcs.ms += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const kafka = createKafka({ brokers: ep.kafkaBrokers });
  const topic = `bench.ship-encoder.${round}.${Date.now().toString(36)}`;
  await ensureTopic(kafka, topic, { partitions: 6 });
  await ensureTopic(kafka, `${topic}.progress`, { partitions: 1, compacted: true });
  const source = new S3Source({ bucket, prefix: 'plain/', endpoint: ep.s3.endpoint, region: ep.s3.region, credentials: creds });
  const sink = new KafkaShipSink(kafka, { progressTopic: `${topic}.progress`, transactionalId: `${topic}.tx`, compression: 'gzip' });
  const shipper = new Shipper(source, sink, { topic }, silentLogger, new Registry());
  const c0 = cpuSnapshot();
  const t0 = performance.now();
  await shipper.run();
  const wallS = (performance.now() - t0) / 1000;
  const lines = shipper.metrics.lines.total();
  const cpu = cpuPerItem(c0, cpuSnapshot(), lines);
  obs.disconnect();
  await sink.close();
  await source.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, `${topic}.progress`] }).catch(() => undefined);
  await admin.disconnect();
  const encoder = process.env.WEBLOG_KAFKA_ENCODER === 'kafkajs' ? "kafkajs' own" : 'weblog exact-size';
  return { encoder, round, lines, wallS, selfUs: cpu.self, brokerUs: cpu.kafka, fullGcs: gcs.full, youngGcs: gcs.young, gcMs: gcs.ms };
}

export async function benchShipEncoder(totalLines: number, rounds: number): Promise<string> {
  const ep = await benchEndpoints();
  const creds = { accessKeyId: ep.s3.accessKeyId, secretAccessKey: ep.s3.secretAccessKey };
  const s3 = s3Client({ endpoint: ep.s3.endpoint, region: ep.s3.region, credentials: creds });
  const sample = readFileSync(path.join(root, 'data/sample/elastic_apache.log'), 'utf8').split('\n').filter(Boolean);
  const bucket = `bench-encoder-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const per = Math.ceil(totalLines / 4);
  for (let o = 0; o < 4; o++) {
    const body = Buffer.from(Array.from({ length: per }, (_, i) => sample[(o * per + i) % sample.length]).join('\n') + '\n');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `plain/${o}.log`, Body: body }));
  }
  s3.destroy();
  const rows: Row[] = [];
  for (let round = 1; round <= rounds; round++)
    for (const encoder of ['kafkajs', 'weblog'] as const) {
      const env = { ...process.env, WEBLOG_KAFKA_ENCODER: encoder === 'kafkajs' ? 'kafkajs' : '' };
      const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(here, 'ship-encoder.ts'), '--child', bucket, String(round)], {
        encoding: 'utf8',
        env,
        maxBuffer: 1 << 24,
      });
      rows.push(JSON.parse(out.trim().split('\n').at(-1) as string) as Row);
      process.stderr.write(`\rship-encoder: round ${round}, ${encoder} done   `);
    }
  process.stderr.write('\n');
  const f = (x: number, d = 2) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const of = (e: string) => rows.filter((r) => r.encoder === e);
  const ratio = median(of('weblog exact-size').map((r) => r.selfUs)) / median(of("kafkajs' own").map((r) => r.selfUs));
  return [
    `| round | produce encoder | lines | wall s | lines/s | own CPU µs/line | broker µs/line | full GCs | young GCs | GC ms |`,
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${r.round} | ${r.encoder} | ${r.lines.toLocaleString('en-US')} | ${f(r.wallS)} | ${Math.round(r.lines / r.wallS).toLocaleString('en-US')} | ${f(r.selfUs)} | ${f(r.brokerUs)} | ${r.fullGcs} | ${r.youngGcs} | ${f(r.gcMs, 0)} |`,
    ),
    '',
    `Median own CPU per line, exact-size against kafkajs' own: ${f(ratio)}x.`,
  ].join('\n');
}

if (process.argv[2] === '--child') {
  const row = await child(process.argv[3] as string, Number(process.argv[4]));
  console.log(JSON.stringify(row));
  process.exit(0);
}
