/**
 * The shipper on a real S3 server and a real broker: exact lines in the
 * topic for awkward objects, exactly once across kill -9, --follow, and two
 * replicas that never ship the same object.
 */
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, readLines } from '../../helpers/datasets.js';
import { readTopic, readTopicLines } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { killHard } from '../../helpers/processor.js';
import { createBucket, expectedLines, put } from '../../helpers/s3.js';
import { bySource, finished, shipScope } from '../../helpers/shipper.js';
import { waitUntil } from '../../helpers/wait.js';

const { kafka, s3, ship, names } = shipScope();
const sample = readLines(fixture('logs', 'elastic_apache.log'));

describe('ship from S3', () => {
  const objects: Record<string, Buffer> = {};
  let big = '';
  beforeAll(() => {
    // A multi-MB object full of multi-byte UTF-8 (so characters straddle chunk edges) and varied line lengths.
    const parts: string[] = [];
    for (let i = 0, size = 0; size < 6_000_000; i++) {
      const line = `${sample[i % sample.length]} ${'п'.repeat(i % 300)} ${'😀'.repeat(i % 7)}\n`;
      parts.push(line);
      size += line.length;
    }
    big = parts.join('');
    objects['logs/01-plain.log'] = Buffer.from(sample.slice(0, 500).join('\n') + '\n');
    objects['logs/02-crlf.log'] = Buffer.from(sample.slice(500, 700).join('\r\n') + '\r\n');
    objects['logs/03-no-trailing-newline.log'] = Buffer.from(sample.slice(700, 800).join('\n'));
    objects['logs/04-gzip.log.gz'] = gzipSync(sample.slice(800, 3000).join('\n') + '\n');
    objects['logs/05-big-utf8.log'] = Buffer.from(big);
    objects['logs/06-long-line.log'] = Buffer.from(`short\n${'x'.repeat(200_000)}\nafter\n`);
  });

  it('ships the exact lines of plain, CRLF, unterminated, gzip, multi-MB UTF-8 and over-long-line objects; a corrupt gzip fails alone', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    for (const [k, v] of Object.entries(objects)) await put(s3, bucket, k, v);
    const corrupt = gzipSync(Buffer.from(sample.slice(0, 2000).join('\n')));
    corrupt.fill(0x41, 200, 400);
    await put(s3, bucket, 'logs/07-corrupt.log.gz', corrupt);
    await put(s3, bucket, 'other/skip.log', 'not under the prefix\n');

    const run = finished(ship(['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--batch-lines', '700']));
    const { code, stderr } = await run;
    expect(code, stderr.slice(-2000)).toBe(1); // one object failed
    expect(stderr).toMatch(/"msg":"object failed","object":"logs\/07-corrupt\.log\.gz"/);

    const total = Object.values(objects).reduce((n, b, i) => n + (i === 3 ? 2200 : expectedLines(b).length), 0);
    const { lines: msgs, messages } = await readTopicLines(kafka, topic, total + 10_000, 15_000);
    expect(messages).toBeLessThan(msgs.length / 100); // bundles of consecutive lines
    const got = bySource(msgs.filter((m) => m.headers['weblog-source'] !== 'logs/07-corrupt.log.gz'));
    expect([...got.keys()].sort()).toEqual(Object.keys(objects).sort());
    expect(got.get('logs/01-plain.log')).toEqual(sample.slice(0, 500));
    expect(got.get('logs/02-crlf.log')).toEqual(sample.slice(500, 700));
    expect(got.get('logs/03-no-trailing-newline.log')).toEqual(sample.slice(700, 800));
    expect(got.get('logs/04-gzip.log.gz')).toEqual(sample.slice(800, 3000));
    expect(got.get('logs/05-big-utf8.log')).toEqual(expectedLines(big));
    const long = msgs
      .filter((m) => m.headers['weblog-source'] === 'logs/06-long-line.log')
      .sort((a, b) => Number(a.headers['weblog-offset']) - Number(b.headers['weblog-offset']));
    expect(long.map((m) => m.headers['weblog-reject'] ?? 'ok')).toEqual(['ok', 'line_too_long', 'ok']);
    expect(long.map((m) => m.value.length)).toEqual([5, 256, 5]);
    // the lines of the corrupt object before the damage may be shipped, never a broken one
    for (const m of msgs.filter((x) => x.headers['weblog-source'] === 'logs/07-corrupt.log.gz')) expect(sample).toContain(m.value);

    // A second run ships nothing new.
    const again = await finished(ship(['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress]));
    expect(again.stderr).toMatch(/"msg":"done","objects":0,"lines":0/);
  });

  it('--lines-per-message 1 sends each line alone without its LF or CR (as other shippers do); --key ip too', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    await put(s3, bucket, 'one/a.log', sample.slice(0, 300).join('\r\n') + '\r\n');
    await put(s3, bucket, 'one/b.log', sample.slice(300, 500).join('\n'));
    const r = await finished(ship(['--source', `s3://${bucket}/one/`, '--topic', topic, '--progress-topic', progress, '--lines-per-message', '1']));
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const raw = await readTopic(kafka, topic, 501, 5_000);
    expect(raw).toHaveLength(500);
    expect(bySource(raw.map((m) => ({ ...m, line: 0 })))).toEqual(
      new Map([
        ['one/a.log', sample.slice(0, 300)],
        ['one/b.log', sample.slice(300, 500)],
      ]),
    );
    const t2 = names();
    await createBucket(s3, t2.bucket);
    await put(s3, t2.bucket, 'ip/a.log', sample.slice(0, 50).join('\n') + '\n');
    const k = await finished(ship(['--source', `s3://${t2.bucket}/ip/`, '--topic', t2.topic, '--progress-topic', t2.progress, '--key', 'ip']));
    expect(k.code, k.stderr.slice(-2000)).toBe(0);
    const consumer = kafka.consumer({ groupId: uniqueName('keys') });
    const keyed: [string, string][] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: t2.topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void keyed.push([String(message.key), String(message.value)]) });
    await waitUntil('keyed messages', async () => keyed.length >= 50 || undefined, 20_000, 100);
    await consumer.disconnect();
    for (const [key, value] of keyed) expect(value.startsWith(`${key} `)).toBe(true);
  });

  it('kill -9 mid-object, restarted several times: every line in the topic exactly once', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const n = 8;
    const perObject = 25_000;
    for (let o = 0; o < n; o++) {
      const lines = Array.from({ length: perObject }, (_, i) => sample[(o * perObject + i) % sample.length] as string);
      await put(s3, bucket, `k/${o}.log`, lines.join('\n') + '\n');
    }
    // Small bundles (20 lines), so the kills land mid-object; the waits below count messages.
    const args = ['--source', `s3://${bucket}/k/`, '--topic', topic, '--progress-topic', progress, '--batch-lines', '1000', '--lines-per-message', '20'];
    let seed = 7;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const offsets = async () => {
      const admin = kafka.admin();
      await admin.connect();
      const o = await admin.fetchTopicOffsets(topic).catch(() => []);
      await admin.disconnect();
      return o.reduce((s, p) => s + Number(p.high), 0);
    };
    let kills = 0;
    for (let k = 0; k < 4; k++) {
      const child = ship(args);
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const before = await offsets();
      // (or the shipper is done: a restart may ship the rest before the next kill)
      await Promise.race([waitUntil('some lines shipped', async () => (await offsets()) > before + 150 || undefined, 60_000, 50), exited]);
      await new Promise((r) => setTimeout(r, rnd() * 800));
      if (child.exitCode !== null) break; // done before the kill
      await killHard(child);
      kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    const last = await finished(ship(args));
    expect(
      last.code,
      last.stderr
        .split('\n')
        .filter((l) => /"level":"(warn|error)"|object (failed|postponed)/.test(l) && !l.includes('kafkajs'))
        .join('\n')
        .slice(-3000),
    ).toBe(0);
    // The restart after kill -9 meets CONCURRENT_TRANSACTIONS / coordinator loading: kafkajs retries them,
    // so they are warnings, not errors (runs that ended exact logged ~100 error lines).
    const errors = last.stderr.split('\n').filter((l) => l.includes('"level":"error"'));
    expect(errors, errors.slice(0, 5).join('\n')).toEqual([]);
    const { lines: msgs } = await readTopicLines(kafka, topic, n * perObject + 1, 20_000);
    expect(msgs).toHaveLength(n * perObject);
    const keys = new Set(msgs.map((m) => `${m.headers['weblog-source']}@${m.headers['weblog-offset']}`));
    expect(keys.size).toBe(n * perObject);
  }, 300_000);

  it("a restart after an object's last batch, before it was marked done, marks it done without reading past its end", async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const body = sample.slice(0, 2000).join('\n') + '\n';
    await put(s3, bucket, 'e/0.log', body);
    const args = ['--source', `s3://${bucket}/e/`, '--topic', topic, '--progress-topic', progress, '--batch-lines', '1000'];
    const first = await finished(ship(args));
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    // What a kill -9 between the last batch (1,000 lines that end the object) and the final "done" record leaves.
    const records = (await readTopic(kafka, progress, 3, 10_000)).map(
      (m) => JSON.parse(m.value) as { etag: string; offset: number; lines: number; done: boolean },
    );
    expect(records.length).toBeGreaterThanOrEqual(2); // after each batch of about 1,000 lines, the last one "done"
    const stored = records.at(-1);
    expect(stored).toMatchObject({ offset: Buffer.byteLength(body), lines: 2000, done: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: progress, messages: [{ key: 'e/0.log', value: JSON.stringify({ ...stored, done: false, updatedAt: Date.now() }) }] });
    await producer.disconnect();

    const again = await finished(ship(args));
    expect(
      again.code,
      again.stderr
        .split('\n')
        .filter((l) => /"level":"(warn|error)"/.test(l) && !l.includes('kafkajs'))
        .join('\n'),
    ).toBe(0);
    expect(again.stderr).toMatch(/"msg":"done","objects":1,"lines":0/);
    const third = await finished(ship(args));
    expect(third.stderr).toMatch(/"msg":"done","objects":0,"lines":0/);
    expect((await readTopicLines(kafka, topic, 2001, 5_000)).lines).toHaveLength(2000);
  });

  it('--follow picks up an object uploaded while it runs; two replicas never ship the same object', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    for (let o = 0; o < 6; o++) await put(s3, bucket, `f/${o}.log`, sample.slice(o * 100, o * 100 + 100).join('\n') + '\n');
    const common = [
      '--source',
      `s3://${bucket}/f/`,
      '--topic',
      topic,
      '--progress-topic',
      progress,
      '--follow',
      '--poll-interval-ms',
      '500',
      '--replicas',
      '2',
    ];
    const r0 = ship([...common, '--replica-index', '0']);
    const r1 = ship([...common, '--replica-index', '1']);
    await waitUntil('first objects', async () => (await readTopicLines(kafka, topic, 600, 3000)).lines.length >= 600 || undefined, 60_000, 500);
    await put(s3, bucket, 'f/late.log', 'late line 1\nlate line 2\n');
    const all = await waitUntil(
      'late object shipped',
      async () => {
        const { lines } = await readTopicLines(kafka, topic, 602, 3000);
        return lines.length >= 602 ? lines : undefined;
      },
      60_000,
      500,
    );
    r0.kill('SIGTERM');
    r1.kill('SIGTERM');
    const [e0, e1] = await Promise.all([finished(r0), finished(r1)]);
    expect([e0.code, e1.code]).toEqual([0, 0]);
    expect(all).toHaveLength(602);
    const got = bySource(all);
    expect(got.get('f/late.log')).toEqual(['late line 1', 'late line 2']);
    for (let o = 0; o < 6; o++) expect(got.get(`f/${o}.log`)).toEqual(sample.slice(o * 100, o * 100 + 100));
  }, 180_000);
});

describe('telling the user what went wrong', () => {
  it('a prefix that matches nothing is said so; a missing bucket fails without a "done" line first', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    await put(s3, bucket, 'logs/a.log', `${sample[0]}\n`);
    const empty = await finished(ship(['--source', `s3://${bucket}/lgs/`, '--topic', topic, '--progress-topic', progress]));
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain('"msg":"no objects match the source (check the prefix or glob)","source":"s3://');
    const missing = await finished(ship(['--source', `s3://${bucket}-missing/logs/`, '--topic', topic, '--progress-topic', progress]));
    expect(missing.code).toBe(1);
    expect(missing.stderr).not.toContain('"msg":"done"');
    expect(missing.stderr.trim().split('\n').at(-1)).toMatch(/^weblog ship: .*(NoSuchBucket|does not exist)/);
  }, 120_000);

  it('a progress record another producer wrote stops the shipper with where it is, instead of a crash or a guess', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    await put(s3, bucket, 'p/a.log', `${sample[0]}\n`);
    const first = await finished(ship(['--source', `s3://${bucket}/p/`, '--topic', topic, '--progress-topic', progress]));
    expect(first.code, first.stderr.slice(-1000)).toBe(0);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: progress, messages: [{ key: 'p/a.log', value: 'not json' }] });
    await producer.disconnect();
    const again = await finished(ship(['--source', `s3://${bucket}/p/`, '--topic', topic, '--progress-topic', progress]));
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(`^weblog ship: STATE_INVALID: progress topic ${progress}: the record for "p/a.log" at partition 0 offset \\d+ is not one weblog wrote`),
    );
  }, 120_000);
});
