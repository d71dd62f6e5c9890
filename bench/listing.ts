/**
 * Question: what does one pass of `weblog ship --follow` cost on a bucket of
 * 10⁴–10⁶ objects already shipped, with 0, 10 and 1,000 new ones: LIST
 * requests, objects listed, wall time, and the shipper's memory? The real
 * Shipper (its progress loaded from a progress topic of N records) against
 * an in-process bucket that pages like S3 (1,000 keys a request, StartAfter),
 * so the numbers are the listing logic's, not a server's. Baseline in the
 * same run: `--listing full`, what every pass cost before. Each N runs in
 * its own process (node --expose-gc), so its memory is its own; the
 * shipper's heap is measured after GC, over the harness's (the bucket's keys).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/observe/log.js';
import { Registry } from '../src/observe/metrics.js';
import type { ListingMode } from '../src/pipeline/listing.js';
import { Shipper } from '../src/pipeline/ship.js';
import type { ObjectStream } from '../src/source/gzip.js';
import type { ObjectSource, SourceObject } from '../src/source/objects.js';
import { accessLogKey, ShippedSink } from './shipped.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A bucket that pages as S3 does: keys in order, 1,000 a request, from StartAfter. */
class FakeBucket implements ObjectSource {
  readonly appendable = false;
  readonly listsFrom = true;
  readonly listStats = { requests: 0, objects: 0 };
  readonly keys: string[] = [];
  describe() {
    return 's3://bench/logs/';
  }
  async list(startAfter?: string): Promise<SourceObject[]> {
    let lo = 0;
    if (startAfter !== undefined) {
      let hi = this.keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((this.keys[mid] as string) <= startAfter) lo = mid + 1;
        else hi = mid;
      }
    }
    const out: SourceObject[] = [];
    for (let i = lo; i < this.keys.length; i += 1000) {
      this.listStats.requests++;
      for (const key of this.keys.slice(i, i + 1000)) out.push({ key, etag: key, size: 20, lastModified: 0, gzip: false });
    }
    if (lo === this.keys.length) this.listStats.requests++;
    this.listStats.objects += out.length;
    return out;
  }
  async open(obj: SourceObject): Promise<ObjectStream> {
    return (async function* () {
      yield Buffer.from(`line of ${obj.key}\n`);
    })();
  }
  async close() {}
}

type Row = { n: number; mode: ListingMode; fresh: number; requests: number; listed: number; ms: number; rssMb: number; heapMb: number };

async function child(n: number, mode: ListingMode): Promise<Row[]> {
  const bucket = new FakeBucket();
  for (let i = 0; i < n; i++) bucket.keys.push(accessLogKey(i));
  // The bucket's keys (and the topic's copy) are the harness's: the shipper's heap is what comes on top of them.
  const shipped = bucket.keys.slice();
  const sink = new ShippedSink(() => shipped.map((key, i) => ({ key, etag: key, offset: 20, lines: 1, done: true, updatedAt: i })));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const harnessHeap = process.memoryUsage().heapUsed;
  const shipper = new Shipper(bucket, sink, { topic: 't', listing: { mode } }, silentLogger, new Registry());
  await shipper.run(); // loads the progress, the first pass lists everything and sets the floor
  const rows: Row[] = [];
  let next = n;
  for (const fresh of [0, 10, 1000, 0]) {
    for (let i = 0; i < fresh; i++) bucket.keys.push(accessLogKey(next++));
    const before = { ...bucket.listStats };
    const t0 = performance.now();
    await shipper.pass();
    const ms = performance.now() - t0;
    gc?.();
    gc?.();
    const mem = process.memoryUsage();
    rows.push({
      n,
      mode,
      fresh,
      requests: bucket.listStats.requests - before.requests,
      listed: bucket.listStats.objects - before.objects,
      ms,
      rssMb: mem.rss / 2 ** 20,
      heapMb: (mem.heapUsed - harnessHeap) / 2 ** 20,
    });
  }
  return rows.slice(0, 3);
}

export async function benchListing(maxObjects: number): Promise<string> {
  const sizes = [10_000, 100_000, 1_000_000].filter((n) => n <= maxObjects);
  const rows: Row[] = [];
  for (const n of sizes)
    for (const mode of ['full', 'ordered'] as const) {
      const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, 'listing.ts'), '--child', String(n), mode], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      rows.push(...(JSON.parse(out.trim().split('\n').at(-1) as string) as Row[]));
      process.stderr.write(`\rlisting: ${n.toLocaleString('en-US')} objects, ${mode} done   `);
    }
  process.stderr.write('\n');
  const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    '| objects shipped | listing | new objects | LIST requests | objects listed | pass wall ms | RSS MB (process) | shipper heap MB |',
    '|--:|---|--:|--:|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${f(r.n)} | ${r.mode} | ${f(r.fresh)} | ${f(r.requests)} | ${f(r.listed)} | ${f(r.ms, 1)} | ${f(r.rssMb)} | ${f(r.heapMb)} |`),
  ];
  return lines.join('\n');
}

if (process.argv[2] === '--child') {
  const rows = await child(Number(process.argv[3]), process.argv[4] as ListingMode);
  console.log(JSON.stringify(rows));
  process.exit(0);
}
