/**
 * Listing that costs what is new, on a real S3 server and a real broker: an
 * ordered bucket is listed from its floor (a pass reads one or two pages
 * whatever the bucket holds), late objects inside the lookback are found, one
 * behind the floor waits for a reconciling listing, a restart after kill -9
 * lists from the floor kept in the progress topic, and --since / --until
 * ship a time range. Every line once in the topic throughout.
 */
import { describe, expect, it } from 'vitest';
import { readTopicLines } from '../../helpers/kafka.js';
import { killHard } from '../../helpers/processor.js';
import { createBucket, put } from '../../helpers/s3.js';
import { bySource, finished, shipScope, watch } from '../../helpers/shipper.js';
import { waitUntil } from '../../helpers/wait.js';

const { kafka, s3, ship, names } = shipScope();

/** An S3 server-access-log key, `i` ten-minute steps after 2026-12-06 00:00 UTC. */
const key = (i: number, prefix = 'logs/') => {
  const d = new Date(Date.UTC(2026, 11, 6) + i * 600_000).toISOString();
  return `${prefix}${d.slice(0, 10)}-${d.slice(11, 13)}-${d.slice(14, 16)}-00-${'0123456789ABCDEF'}`;
};
const body = (i: number, n = 5) => Array.from({ length: n }, (_, j) => `object ${i} line ${j}`).join('\n') + '\n';

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

function metricsPort(stderr: () => string): Promise<number> {
  return waitUntil('metrics endpoint', async () => Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(stderr())?.[1]) || undefined, 30_000, 50);
}

/**
 * Up to 3 shippers with `args`, each killed -9 a seeded random moment (under `maxDelayMs`) after it logged `after`
 * objects shipped, unless it finished first; how many were killed.
 */
async function killMidObject(args: string[], o: { seed: number; after: number; maxDelayMs: number }): Promise<number> {
  let seed = o.seed;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  let kills = 0;
  for (let k = 0; k < 3; k++) {
    const child = ship(args);
    const stderr = watch(child);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    await Promise.race([
      waitUntil('an object shipped', async () => (stderr().match(/"msg":"shipped"/g)?.length ?? 0) >= o.after || undefined, 60_000, 50),
      exited,
    ]);
    await new Promise((r) => setTimeout(r, rnd() * o.maxDelayMs));
    if (child.exitCode !== null) break;
    await killHard(child);
    kills++;
  }
  return kills;
}

async function linesIn(topic: string, want: number) {
  return waitUntil(
    `${want} lines in the topic`,
    async () => {
      const { lines } = await readTopicLines(kafka, topic, want, 2000);
      return lines.length >= want ? lines : undefined;
    },
    60_000,
    300,
  );
}

describe('ordered listing', () => {
  it('lists from the floor (≤ 2 pages a pass in a 300-object bucket), finds late objects inside the lookback, and a reconciling listing finds one behind the floor', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const n = 300; // 50 hours of keys
    await Promise.all(Array.from({ length: n }, (_, i) => put(s3, bucket, key(i), body(i))));
    const common = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--list-page-size', '10'];
    const child = ship([...common, '--follow', '--poll-interval-ms', '200', '--poll-max-ms', '400']);
    const stderr = watch(child);
    const port = await metricsPort(stderr);
    await linesIn(topic, n * 5);
    await waitUntil('ordered listing', async () => stderr().includes('keys sort by the time they name') || undefined, 30_000, 100);
    // Steady state: a pass lists the lookback window (1 h = 6 keys) and what is new.
    await new Promise((r) => setTimeout(r, 1000));
    const p0 = await metric(port, 'weblog_ship_list_passes_total');
    const r0 = await metric(port, 'weblog_ship_list_requests_total');
    await put(s3, bucket, key(n), body(n)); // new
    await put(s3, bucket, key(n - 3, 'logs/').replace('0123456789ABCDEF', '0123456789ABCDEE'), body(1000)); // late, inside the lookback
    await put(s3, bucket, key(5).replace('0123456789ABCDEF', '0123456789ABCDEE'), body(2000)); // late, long behind the floor
    await linesIn(topic, (n + 2) * 5);
    await new Promise((r) => setTimeout(r, 1000));
    const passes = (await metric(port, 'weblog_ship_list_passes_total')) - p0;
    const requests = (await metric(port, 'weblog_ship_list_requests_total')) - r0;
    expect(passes).toBeGreaterThanOrEqual(3);
    expect(requests / passes).toBeLessThanOrEqual(2); // 30 pages for the whole bucket
    child.kill('SIGTERM');
    expect((await finished(child)).code).toBe(0);
    let got = bySource((await readTopicLines(kafka, topic, (n + 3) * 5, 3000)).lines);
    expect(got.has(key(5).replace('0123456789ABCDEF', '0123456789ABCDEE'))).toBe(false); // behind the floor: not listed

    // A reconciling listing (the first pass of a run with --reconcile lists everything) finds it, and ships nothing twice.
    const again = await finished(ship([...common, '--reconcile', '1h']));
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(again.stderr).toMatch(/listing from the floor kept in the progress topic/);
    const all = (await readTopicLines(kafka, topic, (n + 3) * 5 + 1, 5000)).lines;
    expect(all).toHaveLength((n + 3) * 5);
    got = bySource(all);
    expect(got.size).toBe(n + 3);
    for (const [k, lines] of got) expect(new Set(lines).size, k).toBe(5);
  }, 180_000);

  it('kill -9 mid-object, restarted: every line once; the next start lists from the floor kept in the progress topic', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const n = 40;
    const per = 4000;
    await Promise.all(Array.from({ length: n }, (_, i) => put(s3, bucket, key(i * 6), body(i, per)))); // hourly keys
    const args = [
      '--source',
      `s3://${bucket}/logs/`,
      '--topic',
      topic,
      '--progress-topic',
      progress,
      '--batch-lines',
      '500',
      '--lines-per-message',
      '20',
      '--list-page-size',
      '5',
    ];
    expect(await killMidObject(args, { seed: 11, after: 3, maxDelayMs: 500 })).toBeGreaterThanOrEqual(2);
    const last = await finished(ship(args));
    expect(last.code, last.stderr.slice(-2000)).toBe(0);
    const { lines } = await readTopicLines(kafka, topic, n * per + 1, 10_000);
    expect(lines).toHaveLength(n * per);
    expect(new Set(lines.map((m) => `${m.headers['weblog-source']}@${m.headers['weblog-offset']}`)).size).toBe(n * per);
    // The next run lists from the floor: one or two pages, not the 8 of the whole bucket.
    const quiet = await finished(ship([...args, '--log-level', 'debug']));
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toMatch(/"msg":"done","objects":0,"lines":0/);
    expect(quiet.stderr).toMatch(/listing from the floor kept in the progress topic/);
    const listed = JSON.parse(quiet.stderr.split('\n').find((l) => l.includes('"msg":"listed"')) ?? '{}') as { after?: string; requests?: number };
    expect(listed.after).toBeTruthy();
    expect(listed.requests).toBeLessThanOrEqual(2);
    // ... and reads only the progress records a listing from the floor can meet, not the 40 objects' (bounded start).
    const loaded = JSON.parse(quiet.stderr.split('\n').find((l) => l.includes('"msg":"progress loaded"')) ?? '{}') as { objects?: number; from_floor?: string };
    expect(loaded.from_floor).toBe(listed.after);
    expect(loaded.objects).toBeLessThan(10);
  }, 300_000);

  it('--since / --until ship the objects whose key time is in range, once', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    await Promise.all(Array.from({ length: 24 }, (_, i) => put(s3, bucket, key(i * 6), body(i)))); // 00:00 .. 23:00
    const common = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress];
    const r = await finished(ship([...common, '--since', '2026-12-06T06:00Z', '--until', '2026-12-06T09:00Z']));
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const got = bySource((await readTopicLines(kafka, topic, 16, 3000)).lines);
    expect([...got.keys()].sort()).toEqual([key(36), key(42), key(48)]);
    // Options that cannot go together are refused before anything connects.
    for (const [args, why] of [
      [['--since', 'tomorrow'], /--since: expected a date/],
      [['--since', '2026-12-02', '--until', '2026-12-01'], /--since must be before --until/],
      [['--listing', 'ordered', '--order', 'modified'], /cannot go with --order modified/],
      [['--listing', 'sorted'], /--listing: expected auto, ordered or full/],
      [['--lookback', 'a while'], /--lookback: expected a duration/],
    ] as const) {
      const bad = await finished(ship([...common, ...args]));
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(why);
    }
  }, 120_000);

  it('a backfill (--since / --until) killed -9 mid-object resumes once; it moves no floor past objects it left out, and a range behind the floor is listed again', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    const per = 4000;
    await Promise.all(Array.from({ length: 24 }, (_, i) => put(s3, bucket, key(i * 6), body(i, per)))); // hourly, 00:00 .. 23:00
    const common = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress, '--list-page-size', '5'];
    const range = ['--since', '2026-12-06T06:00Z', '--until', '2026-12-06T12:00Z'];
    const args = [...common, ...range, '--batch-lines', '500', '--lines-per-message', '20'];
    expect(await killMidObject(args, { seed: 7, after: 1, maxDelayMs: 300 })).toBeGreaterThanOrEqual(1);
    const rest = await finished(ship(args));
    expect(rest.code, rest.stderr.slice(-2000)).toBe(0);
    let got = bySource((await readTopicLines(kafka, topic, 6 * per + 1, 5000)).lines);
    expect([...got.keys()].sort()).toEqual([6, 7, 8, 9, 10, 11].map((h) => key(h * 6)));
    for (const h of [6, 7, 8, 9, 10, 11]) expect(got.get(key(h * 6)), key(h * 6)).toEqual(body(h, per).split('\n').slice(0, -1));

    // Without the range, the next run ships the other 18 objects: the backfill settled none of them.
    const live = await finished(ship(common));
    expect(live.code, live.stderr.slice(-2000)).toBe(0);
    got = bySource((await readTopicLines(kafka, topic, 24 * per + 1, 5000)).lines);
    expect(got.size).toBe(24);
    for (const [k, lines] of got) expect(new Set(lines).size, k).toBe(per);

    // An object that arrived late, long behind the floor of that run: a re-run of its range lists it, and only it ships.
    const late = key(7 * 6).replace('0123456789ABCDEF', '0123456789ABCDEE');
    await put(s3, bucket, late, body(99));
    const rerun = await finished(ship([...common, ...range]));
    expect(rerun.code, rerun.stderr.slice(-2000)).toBe(0);
    const all = (await readTopicLines(kafka, topic, 24 * per + 6, 5000)).lines;
    expect(all).toHaveLength(24 * per + 5);
    expect(bySource(all).get(late)).toEqual(body(99).split('\n').slice(0, -1));
  }, 300_000);

  it('--since passes earlier objects over; a later run with an earlier --since, or none, ships them, once', async () => {
    const { bucket, topic, progress } = names();
    await createBucket(s3, bucket);
    await Promise.all(Array.from({ length: 12 }, (_, i) => put(s3, bucket, key(i * 6), body(i)))); // 00:00 .. 11:00
    const common = ['--source', `s3://${bucket}/logs/`, '--topic', topic, '--progress-topic', progress];
    const hours = async () => [...bySource((await readTopicLines(kafka, topic, 61, 3000)).lines).keys()].sort();
    expect((await finished(ship([...common, '--since', '2026-12-06T06:00Z']))).code).toBe(0);
    expect(await hours()).toEqual([6, 7, 8, 9, 10, 11].map((h) => key(h * 6)));
    const earlier = await finished(ship([...common, '--since', '2026-12-06T03:00Z']));
    expect(earlier.code, earlier.stderr.slice(-2000)).toBe(0);
    expect(earlier.stderr).toMatch(/the first pass lists the whole prefix/);
    expect(await hours()).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11].map((h) => key(h * 6)));
    expect((await finished(ship(common))).code).toBe(0);
    const lines = (await readTopicLines(kafka, topic, 61, 3000)).lines;
    expect(lines).toHaveLength(60);
    expect(await hours()).toEqual(Array.from({ length: 12 }, (_, h) => key(h * 6)));
  }, 120_000);
});
