/**
 * Question: how fast does the shipper move log objects from an S3 server into
 * Kafka (lines/s, MB/s, CPU per line in every process), plain and gzip, with
 * one line per message and with bundles? Baseline in the same run: reading
 * the same objects from the S3 server without Kafka.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { silentLogger } from '../src/observe/log.js';
import { Registry } from '../src/observe/metrics.js';
import { shipDefaults, Shipper } from '../src/pipeline/ship.js';
import { S3Source, s3Client } from '../src/source/s3.js';
import { bundleLines } from '../src/source/bundles.js';
import { splitLines } from '../src/source/lines.js';
import { createKafka, ensureTopic } from '../src/transport/kafka.js';
import { KafkaShipSink } from '../src/transport/kafka-producers.js';
import { cpuPerItem, cpuSnapshot } from './cpu.js';
import { benchEndpoints } from './stack.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sample = readFileSync(path.join(root, 'data/sample/elastic_apache.log'), 'utf8').split('\n').filter(Boolean);

export async function benchShip(totalLines: number): Promise<string> {
  const ep = await benchEndpoints();
  const creds = { accessKeyId: ep.s3.accessKeyId, secretAccessKey: ep.s3.secretAccessKey };
  const s3 = s3Client({ endpoint: ep.s3.endpoint, region: ep.s3.region, credentials: creds });
  const bucket = `bench-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const objects = 4;
  const per = Math.ceil(totalLines / objects);
  let rawBytes = 0;
  for (let o = 0; o < objects; o++) {
    const body = Buffer.from(Array.from({ length: per }, (_, i) => sample[(o * per + i) % sample.length]).join('\n') + '\n');
    rawBytes += body.length;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `plain/${o}.log`, Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `gzip/${o}.log.gz`, Body: gzipSync(body) }));
  }
  const kafka = createKafka({ brokers: ep.kafkaBrokers });
  const rows: string[] = [];
  const mb = rawBytes / 1e6;
  const lines = objects * per;
  let baseline = 0;
  /** Runs `fn`, returns its wall seconds and the CPU it cost per line in every process. */
  const timed = async (fn: () => Promise<unknown>) => {
    const c0 = cpuSnapshot();
    const t0 = performance.now();
    await fn();
    const s = (performance.now() - t0) / 1000;
    return { s, cpu: cpuPerItem(c0, cpuSnapshot(), lines) };
  };
  for (const kind of ['plain', 'gzip'] as const) {
    const source = new S3Source({ bucket, prefix: `${kind}/`, endpoint: ep.s3.endpoint, region: ep.s3.region, credentials: creds });
    const list = await source.list();
    // Baseline: read (and gunzip) the objects, no line splitting, no Kafka.
    let bytes = 0;
    const read = await timed(async () => {
      for (const o of list) for await (const chunk of await source.open(o, 0)) bytes += chunk.length;
    });
    // Read + split into line strings (what `weblog ship` did per line before bundles), no Kafka.
    let split = 0;
    const splitRun = await timed(async () => {
      for (const o of list) for await (const b of splitLines(await source.open(o, 0))) split += b.length;
    });
    // Read + cut into bundles (what it does now), no Kafka.
    let bundled = 0;
    const bundleRun = await timed(async () => {
      for (const o of list) for await (const items of bundleLines(await source.open(o, 0))) for (const it of items) bundled += it.tooLong ? 1 : it.lines;
    });
    if (bytes !== rawBytes || split < totalLines || bundled !== split)
      throw new Error(`read ${bytes} bytes / ${split} / ${bundled} lines, expected ${rawBytes} / ${totalLines}`);
    if (kind === 'plain') baseline = lines / read.s;
    const row = (name: string, r: { s: number; cpu: ReturnType<typeof cpuPerItem> }) =>
      `| ${kind}: ${name} | ${Math.round(lines / r.s).toLocaleString('en-US')} | ${(mb / r.s).toFixed(1)} | ${(lines / r.s / baseline).toFixed(2)}x | ${r.cpu.self.toFixed(2)} | ${r.cpu.kafka.toFixed(2)} | ${r.cpu.s3.toFixed(2)} | ${r.cpu.total.toFixed(2)} |`;
    rows.push(row('S3 read only (baseline)', read), row('S3 read + line strings', splitRun), row('S3 read + bundles', bundleRun));
    // The shipper into Kafka (transactions of 5,000 lines, gzip compression): one line per message, then bundles.
    const configs = [
      { linesPerMessage: 1, compression: 'gzip', name: 'weblog ship, 1 line per message (gzip)' },
      { linesPerMessage: shipDefaults.linesPerMessage, compression: 'gzip', name: 'weblog ship, bundles (gzip, the default)' },
      { linesPerMessage: shipDefaults.linesPerMessage, compression: 'none', name: 'weblog ship, bundles, --compression none' },
    ] as const;
    for (const { linesPerMessage, compression, name } of configs) {
      const topic = `bench.ship.${kind}.${linesPerMessage}.${compression}.${Date.now().toString(36)}`;
      await ensureTopic(kafka, topic, { partitions: 6 });
      await ensureTopic(kafka, `${topic}.progress`, { partitions: 1, compacted: true });
      const sink = new KafkaShipSink(kafka, { progressTopic: `${topic}.progress`, transactionalId: `${topic}.tx`, compression });
      const shipper = new Shipper(source, sink, { topic, linesPerMessage }, silentLogger, new Registry());
      const r = await timed(() => shipper.run());
      await sink.close();
      if (shipper.metrics.lines.total() !== lines) throw new Error(`shipped ${shipper.metrics.lines.total()} lines, expected ${lines}`);
      rows.push(row(name, r));
    }
  }
  return [
    `| ${objects} objects, ${lines.toLocaleString('en-US')} lines, ${mb.toFixed(0)} MB uncompressed | lines/s | MB/s | vs plain S3 read | CPU µs/line: bench process | broker | S3 server | all |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/**
 * Question: does the shipper's memory stay flat on one large object? Ships a
 * single object of `megabytes` MB (uploaded streaming) and samples RSS.
 */
export async function benchShipMemory(megabytes: number): Promise<string> {
  const ep = await benchEndpoints();
  const creds = { accessKeyId: ep.s3.accessKeyId, secretAccessKey: ep.s3.secretAccessKey };
  const s3 = s3Client({ endpoint: ep.s3.endpoint, region: ep.s3.region, credentials: creds });
  const bucket = `bench-mem-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const block = Buffer.from(sample.join('\n') + '\n');
  const blocks = Math.ceil((megabytes * 1e6) / block.length);
  const { Readable } = await import('node:stream');
  async function* body() {
    for (let i = 0; i < blocks; i++) yield block;
  }
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.log', Body: Readable.from(body()), ContentLength: blocks * block.length }));
  const kafka = createKafka({ brokers: ep.kafkaBrokers });
  const topic = `bench.ship.mem.${Date.now().toString(36)}`;
  await ensureTopic(kafka, topic, { partitions: 6 });
  await ensureTopic(kafka, `${topic}.progress`, { partitions: 1, compacted: true });
  const sink = new KafkaShipSink(kafka, { progressTopic: `${topic}.progress`, transactionalId: `${topic}.tx` });
  const source = new S3Source({ bucket, prefix: '', endpoint: ep.s3.endpoint, region: ep.s3.region, credentials: creds });
  const shipper = new Shipper(source, sink, { topic }, silentLogger, new Registry());
  const samples: { lines: number; rssMb: number }[] = [];
  const timer = setInterval(() => samples.push({ lines: shipper.metrics.lines.total(), rssMb: Math.round(process.memoryUsage.rss() / 1e6) }), 2000);
  const t0 = performance.now();
  await shipper.run();
  clearInterval(timer);
  await sink.close();
  const s = (performance.now() - t0) / 1000;
  const lines = shipper.metrics.lines.total();
  const step = Math.max(1, Math.floor(samples.length / 8));
  return [
    `One ${((blocks * block.length) / 1e6).toFixed(0)} MB object (${lines.toLocaleString('en-US')} lines) shipped in ${s.toFixed(0)} s (${Math.round(lines / s).toLocaleString('en-US')} lines/s).`,
    `RSS during the run: ${samples
      .filter((_, i) => i % step === 0)
      .map((x) => `${x.rssMb} MB at ${x.lines.toLocaleString('en-US')}`)
      .join(', ')}; max ${Math.max(...samples.map((x) => x.rssMb))} MB.`,
  ].join('\n');
}
