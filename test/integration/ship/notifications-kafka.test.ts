/**
 * `weblog ship --notifications kafka://TOPIC` on real servers (the broker and
 * s3proxy): S3 event notifications as MinIO's Kafka target writes them, read
 * as a queue. Every notified line lands once; a kill -9 mid-object leaves the
 * notification uncommitted, so the next start reads it again and the object
 * resumes; a malformed message is rejected and, once deleted, no longer
 * holds the group's offset back; two replicas each read every message and
 * ship their own share.
 */
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopic, readTopicLines } from '../../helpers/kafka.js';
import { killHard } from '../../helpers/processor.js';
import { createBucket, put } from '../../helpers/s3.js';
import { bySource, finished, shippedBy, shipScope, stopAll, watch } from '../../helpers/shipper.js';
import { minioEvent, s3Event, s3EventRecord } from '../../helpers/sqs.js';
import { uniqueName } from '../../helpers/names.js';
import { waitUntil } from '../../helpers/wait.js';

const { kafka, s3, ship, names } = shipScope();

const body = (name: string, n: number) => Array.from({ length: n }, (_, j) => `${name} line ${j}`).join('\n') + '\n';

/** A notification topic of one partition (messages read in the order sent). */
async function notificationTopic(): Promise<string> {
  const t = uniqueName('notify');
  await createTopic(kafka, t, 1);
  return t;
}

async function send(k: Kafka, topic: string, values: string[]): Promise<void> {
  const p = k.producer();
  await p.connect();
  await p.send({ topic, messages: values.map((value) => ({ value })) });
  await p.disconnect();
}

/** The offset the group committed on partition 0, and the topic's end there. */
async function committed(group: string, topic: string): Promise<{ offset: number; end: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const [end] = await admin.fetchTopicOffsets(topic);
    return { offset: Number(t?.partitions[0]?.offset ?? -1), end: Number(end?.high ?? -1) };
  } finally {
    await admin.disconnect();
  }
}

describe('S3 event notifications from a Kafka topic', () => {
  it('ships what MinIO notifications name; a kill -9 mid-object: read again at the next start, the object resumes; a malformed message deleted after its receives; every line once; the offset committed to the end', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const notify = await notificationTopic();
    const big = body('big', 60_000);
    const objects: Record<string, string> = { 'logs/big.log': big, 'logs/a b.log': body('a', 30), 'logs/c.log': body('c', 20) };
    for (const [k, v] of Object.entries(objects)) await put(s3, bucket, k, v);
    await send(kafka, notify, [
      minioEvent(bucket, 'logs/big.log', Buffer.byteLength(big)),
      'not JSON at all',
      minioEvent(bucket, 'logs/a b.log', 0),
      s3Event(s3EventRecord(bucket, 'logs/c.log')),
      minioEvent(bucket, 'logs/a b.log', 0), // delivered twice
      minioEvent('someone-elses-bucket', 'logs/c.log', 1),
    ]);
    const args = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--notifications', `kafka://${notify}`].concat([
      '--visibility',
      '1s',
      '--max-receives',
      '2',
      '--batch-lines',
      '500',
      '--lines-per-message',
      '50',
    ]);
    const first = ship(args);
    const firstErr = watch(first);
    await waitUntil(
      'some lines of the big object shipped',
      async () => ((await readTopicLines(kafka, topic, 1, 300)).lines.length > 0 ? true : undefined),
      60_000,
      100,
    );
    await killHard(first);
    expect(firstErr()).not.toContain('"msg":"shipped","object":"logs/big.log"');
    const group = `weblog-notify.${progress}.0-of-1`;
    expect((await committed(group, notify)).offset).toBeLessThanOrEqual(0); // nothing handled yet past the big object's message
    const second = ship(args);
    const err = watch(second);
    const want = 60_000 + 30 + 20;
    await waitUntil(
      'every line in the topic',
      async () => ((await readTopicLines(kafka, topic, want, 1000)).lines.length >= want ? true : undefined),
      120_000,
      500,
    );
    await waitUntil(
      'every notification handled',
      async () => {
        const c = await committed(group, notify);
        return c.offset === c.end || undefined;
      },
      60_000,
      300,
    );
    expect(await stopAll(second)).toEqual([0]);
    const lines = (await readTopicLines(kafka, topic, want + 1, 2000)).lines;
    expect(lines).toHaveLength(want);
    expect(new Set(lines.map((l) => l.value)).size).toBe(want);
    const got = bySource(lines);
    expect(got.get('logs/a b.log')).toHaveLength(30);
    expect(got.get('logs/c.log')).toHaveLength(20);
    // The big object went on from where the first shipper was killed.
    expect(err()).toMatch(/"msg":"shipped","object":"logs\/big.log","from":[1-9]/);
    expect(err()).toContain('"msg":"notification rejected"');
    expect(err()).toContain('"msg":"rejected notification deleted"');
  }, 240_000);

  it('two replicas (--replicas 2): each reads every message and ships its own share; each object once', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const notify = await notificationTopic();
    const keys = Array.from({ length: 8 }, (_, i) => `logs/host${i}.log`);
    for (const k of keys) await put(s3, bucket, k, body(k, 12));
    await send(
      kafka,
      notify,
      keys.map((k) => minioEvent(bucket, k, 0)),
    );
    const common = [
      '--source',
      `s3://${bucket}/logs/`,
      '--topic',
      topic,
      '--progress-topic',
      progress,
      '--notifications',
      `kafka://${notify}`,
      '--replicas',
      '2',
    ];
    const a = ship([...common, '--replica-index', '0']);
    const b = ship([...common, '--replica-index', '1']);
    const [errA, errB] = [watch(a), watch(b)];
    await waitUntil(
      'both replicas through the topic',
      async () => {
        const cs = await Promise.all([0, 1].map((i) => committed(`weblog-notify.${progress}.${i}-of-2`, notify)));
        return cs.every((c) => c.offset === c.end) || undefined;
      },
      60_000,
      300,
    );
    expect(await stopAll(a, b)).toEqual([0, 0]);
    const [byA, byB] = [shippedBy(errA()), shippedBy(errB())];
    expect(byA.size).toBeGreaterThan(0);
    expect(byB.size).toBeGreaterThan(0);
    expect([...byA].filter((k) => byB.has(k))).toEqual([]);
    expect(new Set([...byA, ...byB])).toEqual(new Set(keys));
    const got = bySource((await readTopicLines(kafka, topic, keys.length * 12 + 1, 2000)).lines);
    for (const k of keys) expect(got.get(k), k).toHaveLength(12);
  }, 120_000);

  it('a topic that does not exist stops the shipper naming it; with --ship-group it is refused before connecting', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const missing = uniqueName('no-such-notify');
    const base = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--notifications', `kafka://${missing}`];
    const r = await finished(ship(base));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(new RegExp(`^weblog ship: .*the notification topic ${missing} does not exist`));
    const grouped = await finished(ship([...base, '--ship-group', 'g']));
    expect(grouped.code).toBe(2);
    expect(grouped.stderr).toContain('--notifications kafka:// cannot go with --ship-group');
    const bad = await finished(ship([...base.slice(0, -1), 'kafka://bad topic!']));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--notifications kafka://TOPIC "bad topic!"');
  }, 60_000);
});
