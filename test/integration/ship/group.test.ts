/**
 * Shippers as a consumer group (`weblog ship --ship-group`), on a real broker and
 * S3 server: three shippers share a bucket by slots; one is killed -9 in the
 * middle of an object and its slots move to the others within the session
 * timeout, which resume its object where its last batch left it; a fourth
 * joins later and takes slots without a restart of the others. Every line is
 * in the topic once.
 */
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../../src/pipeline/shard.js';
import { readTopicLines } from '../../helpers/kafka.js';
import { killHard } from '../../helpers/processor.js';
import { createBucket, put } from '../../helpers/s3.js';
import { finished, shipScope, watch } from '../../helpers/shipper.js';
import { uniqueName } from '../../helpers/names.js';
import { waitUntil } from '../../helpers/wait.js';

const { kafka, s3, ship, names } = shipScope();

type Log = { msg: string; time: string; [k: string]: unknown };
const logs = (err: string): Log[] =>
  err
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Log);

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

function metricsPort(stderr: () => string): Promise<number> {
  return waitUntil('metrics endpoint', async () => Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(stderr())?.[1]) || undefined, 30_000, 50);
}

/** Until the shipper logging to `stderr` has shipped part of an object (its lines so far are not a whole number of objects). */
async function midObject(stderr: () => string, perObject: number): Promise<void> {
  const port = await metricsPort(stderr);
  await waitUntil(
    'the shipper mid-object',
    async () => {
      const n = await metric(port, 'weblog_ship_lines_total').catch(() => 0);
      return (n > 0 && n % perObject !== 0) || undefined;
    },
    120_000,
    20,
  );
}

describe('a shipper group', () => {
  it('three shippers, one killed -9 mid-object and one added later: its objects resume on the others within the session timeout; every line once', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const objects = 12;
    const perObject = 40_000;
    const keys = Array.from({ length: objects }, (_, i) => `logs/web${String(i).padStart(2, '0')}.log`);
    for (const k of keys) await put(s3, bucket, k, Array.from({ length: perObject }, (_, j) => `${k} ${j}`).join('\n') + '\n');
    const sessionMs = 6000;
    const args = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--ship-group', uniqueName('shippers')].concat([
      '--follow',
      '--session-timeout-ms',
      String(sessionMs),
      '--batch-lines',
      '1000',
      '--lines-per-message',
      '20',
    ]);
    const a = ship(args);
    const errA = watch(a);
    await waitUntil('the first shipper assigned', async () => errA().includes('slots assigned') || undefined, 60_000, 100);
    const b = ship(args);
    const errB = watch(b);
    const c = ship(args);
    const errC = watch(c);
    // B holds slots, and has committed part of an object: the kill lands mid-object.
    await midObject(errB, perObject);
    const bLogs = logs(errB());
    const bSlots = (bLogs.filter((l) => l.msg === 'shipper group: slots assigned').at(-1)?.slots as number[]) ?? [];
    await killHard(b);
    const killedAt = Date.now();
    const bDone = new Set(
      logs(errB())
        .filter((l) => l.msg === 'shipped')
        .map((l) => l.object as string),
    );
    const bUnfinished = keys.filter((k) => bSlots.includes(shardOf(k, 12)) && !bDone.has(k));
    expect(bUnfinished.length).toBeGreaterThan(0);
    const d = ship(args); // joins later
    const errD = watch(d);
    const want = objects * perObject;
    await waitUntil(
      "the dead shipper's objects finished",
      async () => {
        const done = new Set(
          [errA(), errC(), errD()].flatMap((e) =>
            logs(e)
              .filter((l) => l.msg === 'shipped')
              .map((l) => l.object as string),
          ),
        );
        return bUnfinished.every((k) => done.has(k)) || undefined;
      },
      120_000,
      200,
    );
    // The survivors took its slots once the session timed out (or the newcomer's join moved them sooner).
    const takeover = [errA(), errC(), errD()]
      .flatMap((e) => logs(e))
      .filter((l) => l.msg === 'shipper group: slots assigned' && Date.parse(l.time) >= killedAt)
      .map((l) => Date.parse(l.time) - killedAt);
    expect(Math.min(...takeover)).toBeLessThanOrEqual(sessionMs + 5000);
    // An object the dead shipper had begun went on from where it was left, not from its start.
    const resumed = [errA(), errC(), errD()].flatMap((e) => logs(e)).filter((l) => l.msg === 'shipped' && bUnfinished.includes(l.object as string));
    expect(resumed.some((l) => (l.from as number) > 0)).toBe(true);
    expect(logs(errD()).some((l) => l.msg === 'shipper group: slots assigned' && (l.slots as number[]).length > 0)).toBe(true);
    // Each try reads the topic from its start (480,000 lines), and returns as soon as they are all there: a busy
    // machine needs more than a second or two for that.
    await waitUntil(
      'every line in the topic',
      async () => ((await readTopicLines(kafka, topic, want, 10_000)).lines.length >= want ? true : undefined),
      120_000,
      500,
    );
    const ends = [a, c, d].map((x) => finished(x));
    for (const x of [a, c, d]) x.kill('SIGTERM');
    expect((await Promise.all(ends)).map((e) => e.code)).toEqual([0, 0, 0]);
    // Reads for 15 s, or until one line too many: the whole topic on a busy machine, and any line shipped twice.
    const { lines } = await readTopicLines(kafka, topic, want + 1, 15_000);
    expect(lines).toHaveLength(want);
    expect(new Set(lines.map((l) => l.value)).size).toBe(want);
  }, 300_000);

  it('ordered keys: each member lists from the floors of its slots (≤ 2 pages a pass); one killed -9 mid-object, one added: its slots move with their floors; every line once', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    /** S3 server-access-log keys, one an hour from 2026-12-06 00:00 UTC. */
    const key = (i: number) => {
      const d = new Date(Date.UTC(2026, 11, 6) + i * 3600_000).toISOString();
      return `logs/${d.slice(0, 10)}-${d.slice(11, 13)}-00-00-0123456789ABCDEF`;
    };
    const objects = 36;
    const perObject = 6000;
    const body = (i: number, n = perObject) => Array.from({ length: n }, (_, j) => `${key(i)} ${j}`).join('\n') + '\n';
    await Promise.all(Array.from({ length: objects }, (_, i) => put(s3, bucket, key(i), body(i))));
    const sessionMs = 6000;
    const args = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--ship-group', uniqueName('shippers')].concat(
      ['--follow', '--session-timeout-ms', String(sessionMs), '--batch-lines', '500', '--lines-per-message', '20'],
      ['--list-page-size', '4', '--poll-interval-ms', '200', '--poll-max-ms', '400', '--listing', 'ordered'],
    );
    const a = ship(args);
    const errA = watch(a);
    await waitUntil('the first shipper assigned', async () => errA().includes('slots assigned') || undefined, 60_000, 100);
    const b = ship(args);
    const errB = watch(b);
    await midObject(errB, perObject);
    await killHard(b);
    const c = ship(args); // joins later
    const errC = watch(c);
    let want = objects * perObject;
    await waitUntil(
      'every line in the topic',
      async () => ((await readTopicLines(kafka, topic, want, 10_000)).lines.length >= want ? true : undefined),
      120_000,
      500,
    );
    // New objects: found by passes from the floors; a pass costs one or two pages, not the 9 of the whole bucket.
    const ports = [await metricsPort(errA), await metricsPort(errC)];
    await waitUntil('both members listing', async () => (logs(errC()).some((l) => l.msg === 'progress loaded') ? true : undefined), 60_000, 100);
    await new Promise((r) => setTimeout(r, 1500));
    const before = await Promise.all(
      ports.map(async (p) => [await metric(p, 'weblog_ship_list_passes_total'), await metric(p, 'weblog_ship_list_requests_total')]),
    );
    for (let i = objects; i < objects + 3; i++) await put(s3, bucket, key(i), body(i, 50));
    want += 150;
    await waitUntil(
      'the new objects in the topic',
      async () => ((await readTopicLines(kafka, topic, want, 10_000)).lines.length >= want ? true : undefined),
      60_000,
      300,
    );
    await new Promise((r) => setTimeout(r, 1000));
    for (const [i, p] of ports.entries()) {
      const passes = (await metric(p, 'weblog_ship_list_passes_total')) - (before[i]?.[0] ?? 0);
      const requests = (await metric(p, 'weblog_ship_list_requests_total')) - (before[i]?.[1] ?? 0);
      expect(passes, `member ${i}`).toBeGreaterThanOrEqual(2);
      expect(requests / passes, `member ${i}`).toBeLessThanOrEqual(2);
    }
    // C leaves: A takes every slot with the floors their owners recorded, and lists from them.
    const cEnd = finished(c);
    c.kill('SIGTERM');
    expect((await cEnd).code).toBe(0);
    const handed = await waitUntil(
      'A lists from the floors of every slot',
      async () => logs(errA()).find((l) => l.msg === 'listing from the floor kept in the progress topic' && l.floors === 12),
      60_000,
      100,
    );
    expect(handed.after).toBeTruthy();
    await put(s3, bucket, key(objects + 3), body(objects + 3, 50));
    want += 50;
    await waitUntil(
      'the last object in the topic',
      async () => ((await readTopicLines(kafka, topic, want, 10_000)).lines.length >= want ? true : undefined),
      60_000,
      300,
    );
    const aEnd = finished(a);
    a.kill('SIGTERM');
    expect((await aEnd).code).toBe(0);
    // Reads for 15 s, or until one line too many: the whole topic on a busy machine, and any line shipped twice.
    const { lines } = await readTopicLines(kafka, topic, want + 1, 15_000);
    expect(lines).toHaveLength(want);
    expect(new Set(lines.map((l) => l.value)).size).toBe(want);
  }, 300_000);

  it('--ship-group is refused with --replicas, without --follow or --notifications, and with a local folder', async () => {
    const { topic } = names();
    const base = ['--topic', topic, '--ship-group', 'g'];
    const cases: [string[], RegExp][] = [
      [['--source', 's3://b/p/', '--follow', '--replicas', '2'], /cannot go with --replicas/],
      [['--source', 's3://b/p/'], /needs --follow or --notifications/],
      [['--source', '/tmp', '--follow'], /a local folder is shipped by the host that has it/],
    ];
    for (const [extra, message] of cases) {
      const r = await finished(ship([...base, ...extra]));
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  }, 60_000);
});
