/**
 * Question: does a pass of `weblog ship --follow` over a real S3 server cost
 * what is new, not what the bucket holds? The real Shipper and S3Source
 * against the stack's s3proxy with N small objects (default 10⁵) already
 * shipped (its progress: every key done), then 0, 10 and 1,000 new objects
 * put between passes: LIST requests, objects listed and wall time per pass.
 * Baseline in the same run: a whole listing of the prefix, what every pass of
 * `--listing full` costs (stopped after 3 minutes). The shipper lists from the
 * floor a former run kept in the progress topic, as a restarted one does. The
 * objects' lines go to an in-memory sink (the listing is what is measured,
 * not Kafka).
 */
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { floorKeyOf } from '../src/pipeline/lister.js';
import { silentLogger } from '../src/observe/log.js';
import { Registry } from '../src/observe/metrics.js';
import type { ListingMode } from '../src/pipeline/listing.js';
import { Shipper } from '../src/pipeline/ship.js';
import { S3Source, s3Client } from '../src/source/s3.js';
import type { ShipProgress } from '../src/transport/types.js';
import { accessLogKey, ShippedSink } from './shipped.js';
import { benchEndpoints } from './stack.js';

type Row = { mode: ListingMode; fresh: number; requests: number; listed: number; ms: number };

export async function benchListingS3(objects: number, reuse?: string): Promise<string> {
  const ep = await benchEndpoints();
  const creds = { accessKeyId: ep.s3.accessKeyId, secretAccessKey: ep.s3.secretAccessKey };
  const s3 = s3Client({ endpoint: ep.s3.endpoint, region: ep.s3.region, credentials: creds });
  const bucket = reuse ?? `bench-listing-${Date.now().toString(36)}`;
  const body = 'line!\n';
  let put = 0;
  const putKeys = async (from: number, to: number) => {
    let next = from;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < to) {
          const i = next++;
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: accessLogKey(i), Body: body }));
          if (++put % 5000 === 0) process.stderr.write(`\rlisting-s3: ${put.toLocaleString('en-US')} objects put   `);
        }
      }),
    );
  };
  if (!reuse) {
    const t0 = performance.now();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await putKeys(0, objects);
    process.stderr.write(`\rlisting-s3: ${objects.toLocaleString('en-US')} objects put in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  // Baseline: the whole prefix, page by page, as --listing full lists it each pass (stopped after 3 minutes: s3proxy's
  // filesystem backend slows down with the bucket's size; the time of the rest is extrapolated from the pages read).
  const whole = { pages: 0, keys: 0, ms: 0, done: false };
  {
    const t = performance.now();
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'logs/', ContinuationToken: token }));
      whole.pages++;
      whole.keys += page.KeyCount ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      process.stderr.write(`\rlisting-s3: whole listing, ${whole.pages} pages   `);
    } while (token && performance.now() - t < 180_000);
    whole.ms = performance.now() - t;
    whole.done = token === undefined;
    process.stderr.write('\n');
  }
  // Every object has the same content: the ETag of one is the ETag of all.
  const probe = new S3Source({ bucket, prefix: 'logs/', endpoint: ep.s3.endpoint, region: ep.s3.region, credentials: creds, pageSize: 1 });
  const etag = (await probe.stat(accessLogKey(0)))?.etag ?? '';
  await probe.close();
  const rows: Row[] = [];
  let next = objects;
  const source = new S3Source({ bucket, prefix: 'logs/', endpoint: ep.s3.endpoint, region: ep.s3.region, credentials: creds });
  // The progress a former run left: every key done, and its floor (the key before the 1-hour lookback window).
  const floor: ShipProgress = { key: floorKeyOf(source, '0/1'), etag: accessLogKey(objects - 61), offset: 0, lines: 0, done: true, updatedAt: 0 };
  const shipped = next;
  const sink = new ShippedSink(function* () {
    yield floor;
    for (let i = 0; i < shipped; i++) yield { key: accessLogKey(i), etag, offset: 6, lines: 1, done: true, updatedAt: i };
  });
  const shipper = new Shipper(source, sink, { topic: 't', listing: { mode: 'ordered' } }, silentLogger, new Registry());
  await shipper.run(); // lists from the floor kept by a former run, as a restarted shipper does
  for (const fresh of [0, 10, 1000]) {
    await putKeys(next, next + fresh);
    next += fresh;
    const before = { ...source.listStats };
    const t = performance.now();
    await shipper.pass();
    rows.push({
      mode: 'ordered',
      fresh,
      requests: source.listStats.requests - before.requests,
      listed: source.listStats.objects - before.objects,
      ms: performance.now() - t,
    });
  }
  await source.close();
  s3.destroy();
  const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  return [
    `s3proxy ${bucket}: ${f(objects)} objects shipped before the passes`,
    '',
    `whole listing (what each pass of --listing full costs): ${f(whole.pages)} pages, ${f(whole.keys)} keys in ${f(whole.ms / 1000, 1)} s${whole.done ? '' : `, stopped; all ${f(Math.ceil(objects / 1000))} pages would take about ${f(((whole.ms / whole.pages) * Math.ceil(objects / 1000)) / 1000, 0)} s`}`,
    '',
    '| listing | new objects | LIST requests | objects listed | pass wall ms |',
    '|---|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${r.mode} | ${f(r.fresh)} | ${f(r.requests)} | ${f(r.listed)} | ${f(r.ms, 0)} |`),
  ].join('\n');
}
