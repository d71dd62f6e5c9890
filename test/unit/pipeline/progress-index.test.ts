/** The shipper's progress records by key, by identity (newest wins) and by content fingerprint; replaced records leave no stale entry. */
import { describe, expect, it } from 'vitest';
import { ProgressIndex } from '../../../src/pipeline/progress-index.js';
import type { ShipProgress } from '../../../src/transport/types.js';

const rec = (key: string, etag: string, updatedAt: number, head?: [number, string]): ShipProgress =>
  ({ key, etag, offset: 10, lines: 1, done: false, updatedAt, ...(head ? { headLength: head[0], head: head[1] } : {}) }) as ShipProgress;

describe('ProgressIndex', () => {
  it('finds a record by key, by identity (the newest of an identity) and by fingerprint', () => {
    const idx = new ProgressIndex([rec('a.log.1', '1:7', 200, [256, 'h1']), rec('a.log', '1:7', 100, [256, 'h1']), rec('b.log', '1:8', 50, [64, 'h2'])]);
    expect(idx.size).toBe(3);
    expect(idx.get('a.log')?.updatedAt).toBe(100);
    expect(idx.ofEtag('1:7')?.key).toBe('a.log.1'); // renamed later: the newer record of the inode
    expect(
      idx
        .withHead(256, 'h1')
        .map((p) => p.key)
        .sort(),
    ).toEqual(['a.log', 'a.log.1']);
    expect(idx.headLengths()).toEqual([256, 64]);
    expect(idx.withHead(64, 'nope')).toEqual([]);
  });

  it('a record replaced under its key leaves no stale identity or fingerprint entry', () => {
    const idx = new ProgressIndex([rec('a.log', '1:7', 100, [256, 'h1'])]);
    idx.set(rec('a.log', '1:9', 300, [128, 'h3'])); // a new file took the name
    expect(idx.ofEtag('1:7')).toBeUndefined();
    expect(idx.ofEtag('1:9')?.key).toBe('a.log');
    expect(idx.withHead(256, 'h1')).toEqual([]);
    expect(idx.headLengths()).toEqual([128]);
  });

  it('an older record of an identity does not displace the newer one', () => {
    const idx = new ProgressIndex([rec('x', 'e', 500)]);
    idx.set(rec('y', 'e', 100));
    expect(idx.ofEtag('e')?.key).toBe('x');
  });

  it('drops the records of settled objects at or before the floor; unfinished, failed and floor records stay', () => {
    const done = (key: string): ShipProgress => ({ ...rec(key, key, 1), done: true });
    const idx = new ProgressIndex([
      done('k/01'),
      { ...rec('k/02', 'k/02', 1), skipped: 'corrupt', done: true },
      rec('k/03', 'k/03', 1), // unfinished: a restart resumes it
      { ...rec('k/04', 'k/04', 1), failed: 'corrupt gzip' }, // reported until fixed
      done('k/05'),
      done('k/06'), // after the floor
      { ...done('\u0000floor:s3://b/k/ 0/1'), etag: 'k/05' },
    ]);
    expect(idx.dropSettledUpTo('k/05')).toBe(3);
    expect([...idx.values()].map((p) => p.key).sort()).toEqual(['\u0000floor:s3://b/k/ 0/1', 'k/03', 'k/04', 'k/06']);
    expect(idx.ofEtag('k/01')).toBeUndefined();
    expect(idx.dropSettledUpTo('k/05')).toBe(0);
  });
});

describe('ProgressIndex.dropSettled', () => {
  it('drops settled records behind the floor of their own scope only', () => {
    const done = (key: string): ShipProgress => ({ ...rec(key, key, 1), done: true });
    const idx = new ProgressIndex([done('a/01'), done('a/05'), done('b/01'), done('b/05'), rec('b/02', 'b/02', 1)]);
    // Scope a's floor is a/03; scope b's is b/09; keys of c have no floor.
    expect(idx.dropSettled((k) => (k.startsWith('a/') ? 'a/03' : k.startsWith('b/') ? 'b/09' : undefined))).toBe(3);
    expect([...idx.values()].map((p) => p.key).sort()).toEqual(['a/05', 'b/02']);
  });
});
