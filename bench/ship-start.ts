/**
 * Question: does a shipper's start (reading its progress topic, then its first
 * pass) stay the same size however many objects were shipped before? A real
 * progress topic on the stack's broker holds N records (10⁴–10⁶ objects shipped
 * to the end, one a minute, and the listing floor a former run kept an hour
 * behind the newest); the real Shipper and KafkaShipSink start on it against an
 * in-process bucket of the same N keys (made on demand: the harness holds no
 * key), each start in its own process: wall time, peak RSS (VmHWM), RSS and
 * heap after GC, progress records kept. Baseline in the same run: reading every
 * record, as a start did before (then dropping those behind the floor).
 * And a shipper reading notifications: only the records of its window.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/observe/log.js';
import { Registry } from '../src/observe/metrics.js';
import { floorKeyOf } from '../src/pipeline/lister.js';
import { readProgress } from '../src/pipeline/progress-index.js';
import { readRecent, Recall } from '../src/pipeline/recall.js';
import { Shipper } from '../src/pipeline/ship.js';
import type { ObjectStream } from '../src/source/gzip.js';
import type { ObjectSource, SourceObject } from '../src/source/objects.js';
import { createKafka } from '../src/transport/kafka.js';
import { KafkaShipSink } from '../src/transport/kafka-producers.js';
import type { ShipProgress } from '../src/transport/types.js';
import { accessLogKey } from './shipped.js';
import { benchEndpoints } from './stack.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** N keys in order, paged as S3 pages them (1,000 a request, from StartAfter); each key made when listed. */
class LazyBucket implements ObjectSource {
  readonly appendable = false;
  readonly listsFrom = true;
  readonly listStats = { requests: 0, objects: 0 };
  constructor(private readonly n: number) {}
  describe() {
    return 's3://bench/logs/';
  }
  async list(startAfter?: string): Promise<SourceObject[]> {
    let lo = 0;
    if (startAfter !== undefined) {
      let hi = this.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (accessLogKey(mid) <= startAfter) lo = mid + 1;
        else hi = mid;
      }
    }
    const out: SourceObject[] = [];
    for (let i = lo; i < this.n; i++) {
      if ((i - lo) % 1000 === 0) this.listStats.requests++;
      out.push({ key: accessLogKey(i), etag: 'e', size: 20, lastModified: 0, gzip: false });
    }
    this.listStats.objects += out.length;
    return out;
  }
  async open(): Promise<ObjectStream> {
    return (async function* () {})();
  }
  async close() {}
}

const WINDOW = 60; // the 1-hour lookback at one key a minute

type Row = { n: number; how: string; ms: number; peakMb: number; rssMb: number; heapMb: number; kept: number; listed: number };

/** The progress topic of N objects shipped: every key done, then the floor record (the key before the lookback window). */
async function fill(topic: string, n: number): Promise<void> {
  const ep = await benchEndpoints();
  const kafka = createKafka({ brokers: ep.kafkaBrokers });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const now = Date.now();
  for (let i = 0; i < n; i += 2000) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + 2000); j++) {
      const p: ShipProgress = {
        key: accessLogKey(j),
        etag: `"${(j * 2654435761) >>> 0}0123456789abcdef0123"`,
        offset: 1_234_567,
        lines: 9_876,
        done: true,
        updatedAt: now + j,
      };
      messages.push({ key: p.key, value: JSON.stringify(p) });
    }
    await producer.send({ topic, acks: -1, messages });
    process.stderr.write(`\rship-start: ${Math.min(n, i + 2000).toLocaleString('en-US')} progress records written   `);
  }
  const floorKey = floorKeyOf(new LazyBucket(n), '0/1');
  const floor: ShipProgress = { key: floorKey, etag: accessLogKey(n - WINDOW - 1), offset: 0, lines: 0, done: true, updatedAt: now + n };
  await producer.send({ topic, acks: -1, messages: [{ key: floor.key, value: JSON.stringify(floor) }] });
  await producer.disconnect();
  process.stderr.write('\n');
}

const peakRssMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

type How = 'whole' | 'floor' | 'notified';

async function child(topic: string, n: number, how: How): Promise<Row> {
  const ep = await benchEndpoints();
  const kafka = createKafka({ brokers: ep.kafkaBrokers });
  const sink = new KafkaShipSink(kafka, { progressTopic: topic, transactionalId: `bench-ship-start-${process.pid}` });
  const bucket = new LazyBucket(n);
  const gc = (globalThis as { gc?: () => void }).gc;
  const t0 = performance.now();
  let kept: number;
  let ms: number;
  if (how === 'whole') {
    // What a start did before: every record read into the index, those behind the floor dropped after.
    const { progress } = await readProgress(sink, undefined, new AbortController().signal);
    const floor = progress.get(floorKeyOf(bucket, '0/1'))?.etag ?? '';
    progress.dropSettledUpTo(floor);
    kept = progress.size;
    ms = performance.now() - t0;
  } else if (how === 'notified') {
    // A shipper reading notifications: the settled records of keys older than the window are left out (recall.ts).
    kept = (await readRecent(sink, new Recall(), new AbortController().signal)).size;
    ms = performance.now() - t0;
  } else {
    const registry = new Registry();
    const shipper = new Shipper(bucket, sink, { topic: `${topic}.lines`, listing: { mode: 'auto' } }, silentLogger, registry);
    await shipper.run(); // reads the progress from the floor, then one pass from it
    ms = performance.now() - t0;
    kept = (await readProgress(sink, floorKeyOf(bucket, '0/1'), new AbortController().signal)).progress.size;
  }
  gc?.();
  gc?.();
  const mem = process.memoryUsage();
  await sink.close();
  return { n, how, ms, peakMb: peakRssMb(), rssMb: mem.rss / 2 ** 20, heapMb: mem.heapUsed / 2 ** 20, kept, listed: bucket.listStats.objects };
}

export async function benchShipStart(maxObjects: number): Promise<string> {
  const ep = await benchEndpoints();
  const sizes = [10_000, 100_000, 1_000_000].filter((n) => n <= maxObjects);
  const rows: Row[] = [];
  const topics: string[] = [];
  try {
    for (const n of sizes) {
      const topic = `bench-ship-start-${n}-${Date.now().toString(36)}`;
      topics.push(topic);
      await fill(topic, n);
      // Interleaved: floor, whole, notified, twice; each in its own process.
      for (const how of ['floor', 'whole', 'notified', 'floor', 'whole', 'notified'] as const) {
        const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, 'ship-start.ts'), '--child', topic, String(n), how], {
          encoding: 'utf8',
          maxBuffer: 1 << 24,
        });
        rows.push(JSON.parse(out.trim().split('\n').at(-1) as string) as Row);
        process.stderr.write(`\rship-start: ${n.toLocaleString('en-US')} objects, ${how} done   `);
      }
    }
  } finally {
    const admin = createKafka({ brokers: ep.kafkaBrokers }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
  process.stderr.write('\n');
  const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const label = (how: string) =>
    how === 'floor'
      ? 'from the floor (the Shipper: read + first pass)'
      : how === 'notified'
        ? 'notifications: the window (older settled records left out)'
        : 'every record (before; baseline)';
  return [
    '| objects shipped | start reads | wall ms | peak RSS MB | RSS after MB | heap after GC MB | records kept | objects listed |',
    '|--:|---|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${f(r.n)} | ${label(r.how)} | ${f(r.ms)} | ${f(r.peakMb)} | ${f(r.rssMb)} | ${f(r.heapMb, 1)} | ${f(r.kept)} | ${r.how === 'floor' ? f(r.listed) : ''} |`,
    ),
  ].join('\n');
}

if (process.argv[2] === '--child') {
  const row = await child(process.argv[3] as string, Number(process.argv[4]), process.argv[5] as How);
  console.log(JSON.stringify(row));
  process.exit(0);
}
