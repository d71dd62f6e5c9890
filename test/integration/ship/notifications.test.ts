/**
 * `weblog ship --notifications sqs://...` on real servers: ElasticMQ (an SQS
 * server), s3proxy and Kafka. The messages are put in the queue in the exact
 * formats S3 sends (S3 event JSON, SNS envelope, EventBridge, S3's test
 * event, multi-record, deletes), since s3proxy sends no notifications. Every
 * notified line lands once in the topic, each message is deleted once its
 * objects are shipped, a kill -9 mid-object leaves the message to come back
 * and the object to resume, the visibility is renewed while a big object
 * ships, and malformed or foreign messages are rejected with their reason.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTopicLines } from '../../helpers/kafka.js';
import { killHard } from '../../helpers/processor.js';
import { createBucket, expectedLines, put } from '../../helpers/s3.js';
import { bySource, finished, shippedBy, shipScope, stopAll, watch } from '../../helpers/shipper.js';
import { eventBridgeEvent, s3Event, s3EventRecord, s3TestEvent, snsWrapped, sqsEndpoint, sqsEnv, sqsScope } from '../../helpers/sqs.js';
import { waitUntil } from '../../helpers/wait.js';

const { kafka, s3, ship, names } = shipScope();
const sqs = sqsScope();
const skip = sqsEndpoint() === undefined;
if (skip) process.stderr.write('notifications tests skipped: no SQS-compatible server (SQS_ENDPOINT, or the local stack)\n');

const body = (name: string, n: number) => Array.from({ length: n }, (_, j) => `${name} line ${j}`).join('\n') + '\n';

async function metric(port: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const esc = labels.replace(/[{}"]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${name}${esc} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

function metricsPort(stderr: () => string): Promise<number> {
  return waitUntil('metrics endpoint', async () => Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(stderr())?.[1]) || undefined, 30_000, 50);
}

async function topicLines(topic: string, want: number, quietMs = 2000) {
  return (await readTopicLines(kafka, topic, want + 1, quietMs)).lines;
}

describe.skipIf(skip)('S3 event notifications from SQS', () => {
  it('ships exactly what the notifications name (S3 JSON, SNS, EventBridge, multi-record, encoded keys, gzip, repeats); deletes each message; rejects malformed and foreign ones', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const url = await sqs.queue();
    const objects: Record<string, Buffer> = {
      'logs/a.log': Buffer.from(body('a', 30)),
      'logs/b.log': Buffer.from(body('b', 20)),
      'logs/c.log.gz': gzipSync(body('c', 40)),
      'logs/with space+plus é.log': Buffer.from(body('space', 7)),
      'logs/d.log': Buffer.from(body('d', 5)),
      'logs/e.log': Buffer.from(body('e', 6)),
      'logs/unnotified.log': Buffer.from(body('unnotified', 3)),
      'other/x.log': Buffer.from(body('x', 2)),
    };
    for (const [k, v] of Object.entries(objects)) await put(s3, bucket, k, v);
    const size = (k: string) => (objects[k] as Buffer).length;
    await sqs.send(url, s3TestEvent(bucket));
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'logs/a.log', { size: size('logs/a.log') })));
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'logs/b.log'), s3EventRecord(bucket, 'logs/c.log.gz')));
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'logs/with space+plus é.log')));
    await sqs.send(url, snsWrapped(s3Event(s3EventRecord(bucket, 'logs/d.log'))));
    await sqs.send(url, eventBridgeEvent(bucket, 'logs/e.log', size('logs/e.log'), 'ignored-etag'));
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'logs/old.log', { eventName: 'ObjectRemoved:Delete' })));
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'other/x.log'))); // outside the prefix: not ours, not wrong
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'logs/gone.log'))); // deleted before it was shipped
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'logs/a.log'))); // S3 delivers at least once
    await sqs.send(url, 'hello, not JSON');
    await sqs.send(url, s3Event(s3EventRecord('someone-elses-bucket', 'logs/a.log')));
    const child = ship(
      ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--notifications', `sqs://${url}`].concat([
        '--visibility',
        '1s',
        '--max-receives',
        '2',
      ]),
      sqsEnv,
    );
    const stderr = watch(child);
    const port = await metricsPort(stderr);
    const notified = ['logs/a.log', 'logs/b.log', 'logs/c.log.gz', 'logs/with space+plus é.log', 'logs/d.log', 'logs/e.log'];
    const want = new Map(notified.map((k) => [k, expectedLines(k.endsWith('.gz') ? body('c', 40) : (objects[k] as Buffer))]));
    const total = [...want.values()].reduce((n, l) => n + l.length, 0);
    // Every message gone: the good ones once shipped, the rejects after two receives.
    await waitUntil(
      'the queue empty',
      async () => {
        const d = await sqs.depth(url);
        return d.visible + d.inFlight === 0 || undefined;
      },
      60_000,
      300,
    );
    const got = bySource(await topicLines(topic, total));
    expect(new Map([...got].sort())).toEqual(new Map([...want].sort()));
    expect(stderr()).toContain('S3 test event: notifications reach the queue');
    const rejects = stderr()
      .split('\n')
      .filter((l) => l.includes('"notification rejected"'));
    expect(rejects.some((l) => l.includes('not JSON'))).toBe(true);
    expect(rejects.some((l) => l.includes('bucket \\"someone-elses-bucket\\" is not the source'))).toBe(true);
    expect(stderr().match(/"rejected notification deleted"/g)).toHaveLength(2);
    expect(stderr()).toContain('notified object is gone');
    expect(await metric(port, 'weblog_ship_notifications_total', '{outcome="shipped"}')).toBe(6);
    expect(await metric(port, 'weblog_ship_notifications_total', '{outcome="ignored"}')).toBe(4); // test, delete, outside the prefix, gone
    child.kill('SIGTERM');
    expect((await finished(child)).code).toBe(0);
  }, 120_000);

  it('kill -9 mid-object: the message stays, comes back, and the object resumes; every line once; the visibility is renewed while it ships', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const url = await sqs.queue();
    const n = 60_000;
    const content = body('big', n);
    await put(s3, bucket, 'logs/big.log', content);
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'logs/big.log', { size: Buffer.byteLength(content) })));
    // Small batches, so shipping takes several visibility timeouts and a kill lands mid-object.
    const args = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--notifications', `sqs://${url}`].concat([
      '--visibility',
      '2s',
      '--batch-lines',
      '500',
      '--lines-per-message',
      '50',
    ]);
    const first = ship(args, sqsEnv);
    const firstErr = watch(first);
    await waitUntil('some lines shipped', async () => ((await topicLines(topic, 1, 300)).length > 0 ? true : undefined), 60_000, 100);
    await killHard(first);
    expect(firstErr()).not.toContain('"msg":"shipped"');
    // The message is still there: in flight until its visibility runs out.
    const d = await sqs.depth(url);
    expect(d.visible + d.inFlight).toBe(1);
    const second = ship(args, sqsEnv);
    const err = watch(second);
    const port = await metricsPort(err);
    // While the second shipper holds the message, nobody else can receive it (its visibility is renewed).
    let peeked = 0;
    let looked = 0;
    const shipped = () => err().includes('"msg":"shipped"');
    const peeking = (async () => {
      while (second.exitCode === null && !shipped()) {
        if ((await metric(port, 'weblog_ship_notifications_in_hand').catch(() => 0)) === 1) {
          looked++;
          if ((await sqs.peek(url)).length > 0 && !shipped()) peeked++;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await waitUntil(
      'the queue empty',
      async () => {
        const q = await sqs.depth(url);
        return (q.visible + q.inFlight === 0 && shipped()) || undefined;
      },
      120_000,
      300,
    );
    await peeking;
    expect(looked).toBeGreaterThan(5); // it shipped over several visibility timeouts
    expect(await metric(port, 'weblog_ship_notification_renewals_total')).toBeGreaterThan(0);
    second.kill('SIGTERM');
    expect((await finished(second)).code).toBe(0);
    const lines = await topicLines(topic, n);
    expect(lines).toHaveLength(n);
    expect(new Set(lines.map((l) => l.value)).size).toBe(n);
    expect(peeked).toBe(0);
  }, 180_000);

  it('memory follows the window: settled objects older than it are forgotten, read back when named again (never shipped twice), and a restart reads only the window', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const url = await sqs.queue();
    /** S3 access-log keys an hour apart, a week ago: older than the 1 h window. */
    const old = (i: number) => {
      const d = new Date(Date.now() - 7 * 86_400_000 + i * 3600_000).toISOString();
      return `logs/${d.slice(0, 10)}-${d.slice(11, 13)}-00-00-0123456789ABCDEF`;
    };
    const recent = (i: number) => `logs/${new Date().toISOString().slice(0, 10)}-recent-${i}`; // names no time: never forgotten
    const keys = [...Array.from({ length: 30 }, (_, i) => old(i)), recent(0)];
    for (const k of keys) await put(s3, bucket, k, body(k, 20));
    const send = async (ks: string[]) => {
      for (let i = 0; i < ks.length; i += 5) await sqs.send(url, s3Event(...ks.slice(i, i + 5).map((k) => s3EventRecord(bucket, k))));
    };
    /** `n` messages deleted after their objects shipped, and none left in the queue. */
    const drained = (port: number, n: number) =>
      waitUntil(
        `${n} messages handled, the queue empty`,
        async () => {
          if ((await metric(port, 'weblog_ship_notifications_total', '{outcome="shipped"}')) < n) return undefined;
          const q = await sqs.depth(url);
          return q.visible + q.inFlight === 0 || undefined;
        },
        60_000,
        200,
      );
    await send(keys);
    // A short visibility: a message given to the stopped shipper's last long poll comes back soon.
    const args = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--notifications', `sqs://${url}`, '--visibility', '2s'];
    const first = ship(args, sqsEnv);
    const err = watch(first);
    const port = await metricsPort(err);
    await drained(port, 7);
    // Every message again (S3 delivers at least once; here, a week later): read back, none shipped twice.
    await send(keys);
    await drained(port, 14);
    first.kill('SIGTERM');
    expect((await finished(first)).code).toBe(0);
    expect(await topicLines(topic, keys.length * 20)).toHaveLength(keys.length * 20);
    expect(err()).toContain('progress read back from the topic for objects named again');
    // A restart keeps only what the window needs, and still ships nothing twice; a new old-dated object ships.
    const late = old(40);
    await put(s3, bucket, late, body(late, 20));
    await send([...keys.slice(0, 10), late]);
    const second = ship(args, sqsEnv);
    const err2 = watch(second);
    await drained(await metricsPort(err2), 3);
    second.kill('SIGTERM');
    expect((await finished(second)).code).toBe(0);
    const loaded = JSON.parse(
      err2()
        .split('\n')
        .find((l) => l.includes('"msg":"progress loaded"')) ?? '{}',
    ) as { objects?: number };
    expect(loaded.objects).toBeLessThan(5); // the recent object's record, not the 30 old ones
    const lines = await topicLines(topic, (keys.length + 1) * 20);
    expect(lines).toHaveLength((keys.length + 1) * 20);
    expect(new Set(lines.map((l) => l.value)).size).toBe((keys.length + 1) * 20);
    expect(bySource(lines).get(late)).toEqual(body(late, 20).split('\n').slice(0, -1));
  }, 180_000);

  it('--reconcile: a listing pass ships an object whose notification was lost; notified ones are not shipped twice', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const url = await sqs.queue();
    await put(s3, bucket, 'logs/2026-12-07-01.log', body('notified', 10));
    await put(s3, bucket, 'logs/2026-12-07-02.log', body('lost', 8));
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'logs/2026-12-07-01.log')));
    const child = ship(
      ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--notifications', `sqs://${url}`, '--reconcile', '2s'],
      sqsEnv,
    );
    const stderr = watch(child);
    await waitUntil('both shipped', async () => (stderr().match(/"msg":"shipped"/g)?.length ?? 0) >= 2 || undefined, 60_000, 200);
    // Notified again after the listing shipped it: settled, deleted, nothing sent.
    await sqs.send(url, s3Event(s3EventRecord(bucket, 'logs/2026-12-07-02.log')));
    await waitUntil(
      'the queue empty',
      async () => {
        const q = await sqs.depth(url);
        return q.visible + q.inFlight === 0 || undefined;
      },
      30_000,
      300,
    );
    await new Promise((r) => setTimeout(r, 2500)); // another reconciling pass
    child.kill('SIGTERM');
    expect((await finished(child)).code).toBe(0);
    const got = bySource(await topicLines(topic, 18));
    expect(got.get('logs/2026-12-07-01.log')).toHaveLength(10);
    expect(got.get('logs/2026-12-07-02.log')).toHaveLength(8);
  }, 120_000);

  it("two replicas (--replicas 2) read one queue: a message for the other replica's object is shown again at once; each object ships once, by its replica", async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const url = await sqs.queue();
    const keys = Array.from({ length: 8 }, (_, i) => `logs/host${i}.log`);
    for (const k of keys) await put(s3, bucket, k, body(k, 12));
    for (const k of keys) await sqs.send(url, s3Event(s3EventRecord(bucket, k)));
    const common = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--notifications', `sqs://${url}`, '--replicas', '2'];
    // Replica 1 alone first: the other replica's messages keep coming back to it meanwhile.
    const b = ship([...common, '--replica-index', '1'], sqsEnv);
    const errB = watch(b);
    const portB = await metricsPort(errB);
    await waitUntil('replica 1 reading', async () => errB().includes('reading S3 event notifications') || undefined, 30_000, 100);
    await new Promise((r) => setTimeout(r, 2000));
    // Handing them over costs a few receives, not a busy loop (it was ~250 a second).
    expect(await metric(portB, 'weblog_ship_notifications_total', '{outcome="other-replica"}')).toBeLessThan(100);
    const a = ship([...common, '--replica-index', '0'], sqsEnv);
    const errA = watch(a);
    await waitUntil(
      'the queue empty',
      async () => {
        const q = await sqs.depth(url);
        return q.visible + q.inFlight === 0 || undefined;
      },
      60_000,
      300,
    );
    expect(await stopAll(a, b)).toEqual([0, 0]);
    const byA = shippedBy(errA());
    const byB = shippedBy(errB());
    expect(byA.size).toBeGreaterThan(0);
    expect(byB.size).toBeGreaterThan(0);
    expect([...byA].filter((k) => byB.has(k))).toEqual([]);
    expect(new Set([...byA, ...byB])).toEqual(new Set(keys));
    const got = bySource(await topicLines(topic, keys.length * 12));
    for (const k of keys) expect(got.get(k), k).toHaveLength(12);
  }, 120_000);

  it('a queue that does not exist stops the shipper with a message naming it; a local source is refused', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const missing = `${sqsEndpoint()}/000000000000/no-such-queue-${Date.now()}`;
    const r = await finished(
      ship(['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--notifications', `sqs://${missing}`], sqsEnv),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^weblog ship: .*no-such-queue.*(NonExistentQueue|QueueDoesNotExist|does not exist)/i);
    const local = await finished(ship(['--source', '/tmp', '--topic', topic, '--notifications', `sqs://${missing}`], sqsEnv));
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('--notifications: S3 event notifications name S3 objects');
  }, 60_000);
});
