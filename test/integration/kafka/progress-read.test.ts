/**
 * A shipper that lists from a floor reads only the progress records a
 * listing from it can meet (ordered listing, issue 26): its floor record
 * first, then the records after the floor, unfinished or failed. On the real
 * broker, records of one key come several times (a compacted topic keeps the
 * newest, but not at once): a newer record that is not kept must also drop
 * the older one that was, or a finished object would look unfinished.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FLOOR } from '../../../src/pipeline/lister.js';
import { readProgress } from '../../../src/pipeline/progress-index.js';
import { createKafka } from '../../../src/transport/kafka.js';
import { KafkaShipSink, readProgressTopic } from '../../../src/transport/kafka-producers.js';
import type { ShipProgress } from '../../../src/transport/types.js';
import { createTopic, deleteTopics, testKafka } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const rec = (key: string, o: Partial<ShipProgress> = {}): ShipProgress => ({
  key,
  etag: `e-${key}`,
  offset: 10,
  lines: 1,
  done: true,
  updatedAt: Date.now(),
  ...o,
});

/** A ship sink on a new one-partition progress topic, both removed after the file. */
async function progressSink(): Promise<KafkaShipSink> {
  const progressTopic = uniqueName('progress');
  const kafka = createKafka({ brokers: inject('endpoints').kafkaBrokers });
  await createTopic(testKafka(), progressTopic, 1);
  cleanups.push(() => deleteTopics(testKafka(), [progressTopic]));
  const sink = new KafkaShipSink(kafka, { progressTopic, transactionalId: uniqueName('ship-id') });
  cleanups.push(() => sink.close());
  return sink;
}

describe('reading the ship progress from a floor', () => {
  it('keeps the floor records, the records after the floor, and unfinished or failed ones behind it; a newer record not kept drops the older one', async () => {
    const sink = await progressSink();
    const floorKey = `${FLOOR}s3://b/logs/ 0/1`;
    const writes: ShipProgress[] = [
      rec('logs/01', { done: false, offset: 5 }), // unfinished first ...
      rec('logs/01'), // ... then done: behind the floor, not kept, and its unfinished record must go too
      rec('logs/02', { done: false }), // unfinished behind the floor: a restart resumes it
      rec('logs/03', { done: false, failed: 'corrupt gzip' }), // failed behind the floor: stays reported
      rec('logs/04', { done: false, skipped: 'skipped by --skip-failed' }), // skipped: settled
      rec('logs/05'), // the floor itself: done, behind
      rec(`${FLOOR}s3://b/logs/ 1/2`, { etag: 'logs/09' }), // another share's floor
      rec('logs/06'), // after the floor
      rec(floorKey, { etag: 'logs/04' }),
      rec(floorKey, { etag: 'logs/05' }), // the floor moved on
    ];
    for (const w of writes) await sink.record(w);

    const from = await readProgress(sink, floorKey, new AbortController().signal);
    expect(from.floor).toBe('logs/05');
    expect([...from.progress.values()].map((p) => p.key).sort()).toEqual([`${FLOOR}s3://b/logs/ 1/2`, floorKey, 'logs/02', 'logs/03', 'logs/06'].sort());
    expect(from.progress.get('logs/02')?.done).toBe(false);

    // Without a floor key (a whole listing, notifications, a group): every key, newest record each.
    const all = await readProgress(sink, undefined, new AbortController().signal);
    expect(all.floor).toBeUndefined();
    expect(all.progress.size).toBe(8);
    expect(all.progress.get('logs/01')?.done).toBe(true);
    // A floor key with no record yet: every record too.
    expect((await readProgress(sink, `${FLOOR}s3://other/ 0/1`, new AbortController().signal)).progress.size).toBe(8);
  });
  it('a group member: the floors of the slots it owns; records of its slots after their floors (or unfinished); none of other slots', async () => {
    const sink = await progressSink();
    // Two slots owned ('a/…' keys in one, 'b/…' in the other), floors a/05 and b/02; 'c/…' keys are another member's.
    const fa = `${FLOOR}s3://b/ slot 0/3#0`;
    const fb = `${FLOOR}s3://b/ slot 1/3#0`;
    const fc = `${FLOOR}s3://b/ slot 2/3#0`;
    for (const w of [
      rec('a/01'),
      rec('a/03', { done: false }),
      rec('a/06'),
      rec('b/01'),
      rec('b/04'),
      rec('c/01', { done: false }),
      rec('c/09'),
      rec(fa, { etag: 'a/05' }),
      rec(fb, { etag: 'b/02' }),
      rec(fc, { etag: 'c/05' }),
    ])
      await sink.record(w);
    const of = (k: string) => (k.startsWith('a/') ? fa : k.startsWith('b/') ? fb : undefined);
    const read = await readProgress(sink, { keys: [fa, fb], of }, new AbortController().signal);
    expect(read.filtered).toBe(true);
    expect([...read.progress.values()].map((p) => p.key).sort()).toEqual([fa, fb, fc, 'a/03', 'a/06', 'b/04'].sort());
    // A slot without a floor yet: all of its records.
    const fresh = await readProgress(
      sink,
      { keys: [fa, `${FLOOR}s3://b/ slot 9/9#0`], of: (k) => (k.startsWith('a/') ? fa : k.startsWith('c/') ? `${FLOOR}s3://b/ slot 9/9#0` : undefined) },
      new AbortController().signal,
    );
    expect([...fresh.progress.values()].map((p) => p.key).sort()).toEqual([fa, fb, fc, 'a/03', 'a/06', 'c/01', 'c/09'].sort());
  });
});

describe('reading the ship progress to its end', () => {
  it('a read whose group takes longer to join than the quiet spell still reads every record (it ended empty: every object was shipped again)', async () => {
    const sink = await progressSink();
    for (let i = 0; i < 5; i++) await sink.record(rec(`logs/${i}`));
    // A quiet spell far shorter than any group join: the spell counts from the first batch, not from the start.
    const read = await readProgressTopic(createKafka({ brokers: inject('endpoints').kafkaBrokers }), sink.progressTopic, uniqueName('reader'), undefined, {
      quietMs: 1,
      deadlineMs: 60_000,
    });
    expect([...read.keys()].sort()).toEqual(['logs/0', 'logs/1', 'logs/2', 'logs/3', 'logs/4']);
  }, 60_000);
});
