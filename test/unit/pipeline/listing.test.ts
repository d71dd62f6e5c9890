/**
 * What each pass lists: the floor moves over settled keys older than the
 * lookback window and never past an unsettled one; auto mode turns ordered
 * once keys sort by time and back when they stop; reconcile passes list the
 * whole prefix; --since / --until; the poll interval backs off.
 */
import { describe, expect, it } from 'vitest';
import { ListingPlan, parseLookback, parseTimeBound, PollBackoff } from '../../../src/pipeline/listing.js';
import { compareKeys, sortObjects, type SourceObject } from '../../../src/source/objects.js';

const hour = 3600_000;
/** S3 access-log keys, one per 10 minutes from 2026-12-06 00:00 UTC. */
const key = (i: number) => {
  const d = new Date(Date.UTC(2026, 11, 6) + i * 600_000).toISOString();
  return `logs/${d.slice(0, 10)}-${d.slice(11, 13)}-${d.slice(14, 16)}-00-${'A'.repeat(16)}`;
};
const obj = (k: string, lastModified = 0): SourceObject => ({ key: k, etag: k, size: 1, lastModified, gzip: false });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => obj(key(from + i)));
const all = () => true;

describe('ListingPlan', () => {
  it('ordered: the floor stops one lookback behind the newest key, and at the first unsettled key', () => {
    const plan = new ListingPlan({ mode: 'ordered', lookback: { ms: hour } }, undefined, true);
    expect(plan.startAfter()).toBeUndefined(); // nothing known yet: the whole prefix
    const listed = range(0, 30); // 00:00 .. 04:50
    expect(plan.afterPass(listed, undefined, all).floorMoved).toBe(true);
    expect(plan.floor).toBe(key(23)); // 03:50 = 04:50 - 1 h
    expect(plan.startAfter()).toBe(key(23));
    // An unsettled key holds it, even far back
    const held = new ListingPlan({ mode: 'ordered', lookback: { ms: hour } }, undefined, true);
    held.afterPass(listed, undefined, (o) => o.key !== key(5));
    expect(held.floor).toBe(key(4));
    // it never moves back
    plan.afterPass(range(24, 26), key(23), all);
    expect(plan.floor).toBe(key(23));
  });

  it('a lookback by count keeps that many keys behind the newest', () => {
    const plan = new ListingPlan({ mode: 'ordered', lookback: parseLookback('5') }, undefined, true);
    plan.afterPass(range(0, 20), undefined, all);
    expect(plan.floor).toBe(key(14));
  });

  it('auto: ordered once keys sort by time; back to whole listings (floor dropped) when a pass finds them out of order', () => {
    const plan = new ListingPlan({ mode: 'auto' }, undefined, true);
    expect(plan.afterPass(range(0, 30), undefined, all)).toMatchObject({ orderedNow: true, floorMoved: true });
    expect(plan.startAfter()).toBe(key(23));
    const odd = [...range(24, 30), obj('logs/zz-no-time-here')];
    expect(plan.afterPass(odd, key(23), all)).toMatchObject({ orderedNow: false, floorMoved: true });
    expect(plan.startAfter()).toBeUndefined();
    expect(plan.floor).toBeUndefined();
  });

  it('auto with a floor from the progress topic lists from it at once; full never does; a local folder never does', () => {
    expect(new ListingPlan({ mode: 'auto' }, key(3), true).startAfter()).toBe(key(3));
    const full = new ListingPlan({ mode: 'full' }, key(3), true);
    full.afterPass(range(0, 30), undefined, all);
    expect(full.startAfter()).toBeUndefined();
    expect(new ListingPlan({ mode: 'auto' }, key(3), false).startAfter()).toBeUndefined();
    expect(() => new ListingPlan({ mode: 'ordered' }, undefined, false)).toThrow(/only an S3 source/);
  });

  it('reconcile: a whole listing when it is due', () => {
    const plan = new ListingPlan({ mode: 'ordered', reconcileMs: 10 * 60_000 }, undefined, true);
    plan.afterPass(range(0, 30), undefined, all, 1_000_000);
    expect(plan.startAfter(1_000_000 + 60_000)).toBe(key(23));
    expect(plan.startAfter(1_000_000 + 10 * 60_000)).toBeUndefined();
  });

  it('--retry-failed / --skip-failed: the first pass lists the whole prefix (failed objects lie behind the floor)', () => {
    const plan = new ListingPlan({ mode: 'ordered', fullFirst: true }, key(23), true);
    expect(plan.startAfter()).toBeUndefined();
    plan.afterPass(range(0, 30), undefined, all);
    expect(plan.startAfter()).toBe(key(23));
  });

  it('a key without a time holds the floor under a lookback by time', () => {
    const plan = new ListingPlan({ mode: 'ordered' }, undefined, true);
    plan.afterPass([obj('logs/a'), ...range(0, 30)], undefined, all);
    expect(plan.floor).toBeUndefined();
    expect(plan.noTimeSeen).toBe(true);
  });

  it('--since / --until by key time, else by last-modified time', () => {
    const plan = new ListingPlan({ since: parseTimeBound('since', '2026-12-06T01:00'), until: parseTimeBound('until', '2026-12-06T02:00Z') }, undefined, true);
    expect(
      range(0, 30)
        .filter((o) => plan.inRange(o))
        .map((o) => o.key),
    ).toEqual(range(6, 12).map((o) => o.key));
    expect(plan.inRange(obj('x/no-time', Date.parse('2026-12-06T01:30:00Z')))).toBe(true);
    expect(plan.inRange(obj('x/no-time', Date.parse('2026-12-06T03:30:00Z')))).toBe(false);
    expect(() => new ListingPlan({ since: 2, until: 1 }, undefined, true)).toThrow(/--since must be before --until/);
  });

  it('a backfill (--until) lists the whole prefix every pass and neither reads nor moves the floor', () => {
    const until = Date.parse('2026-12-06T02:00Z');
    const plan = new ListingPlan({ mode: 'ordered', since: Date.parse('2026-12-06T01:00Z'), until }, key(23), true);
    expect(plan.bounded).toBe(true);
    expect(plan.floor).toBeUndefined();
    expect(plan.startAfter()).toBeUndefined();
    // Objects after --until count as settled for the shipper (not its to ship), yet the floor must not pass them.
    expect(plan.afterPass(range(0, 30), undefined, all).floorMoved).toBe(false);
    expect(plan.floor).toBeUndefined();
    expect(plan.startAfter()).toBeUndefined();
  });

  it('--since alone passes earlier keys over for good; the floor records the time it covers from', () => {
    const since = Date.parse('2026-12-06T02:00Z'); // key(12)
    const plan = new ListingPlan({ mode: 'ordered', since }, undefined, true);
    expect(plan.afterPass(range(0, 30), undefined, all).floorMoved).toBe(true);
    expect(plan.floor).toBe(key(23));
    expect(plan.floorFrom).toBe(since);
    // The next pass from the floor, with the same --since, keeps it.
    plan.afterPass(range(24, 40), key(23), all);
    expect(plan.floor).toBe(key(33));
    expect(plan.floorFrom).toBe(since);
    // A later start with an earlier --since (or none) lists the whole prefix once: keys 0..11 may never have shipped.
    for (const earlier of [Date.parse('2026-12-06T01:00Z'), undefined]) {
      const again = new ListingPlan({ mode: 'auto', since: earlier }, key(33), true, since);
      expect(again.startAfter()).toBeUndefined();
      again.afterPass(range(0, 40), undefined, all);
      expect(again.startAfter()).toBe(key(33));
      expect(again.floorFrom).toBe(earlier ?? 0);
    }
    // A later or equal --since lists from the floor at once.
    expect(new ListingPlan({ mode: 'auto', since }, key(33), true, since).startAfter()).toBe(key(33));
    expect(new ListingPlan({ mode: 'auto', since: since + hour }, key(33), true, since).startAfter()).toBe(key(33));
    // A --since after the floor's time leaves a gap between them: the floor then covers from the later --since.
    const gap = new ListingPlan({ mode: 'auto', since: Date.parse('2026-12-06T08:00Z') }, key(33), true, since);
    gap.afterPass(range(34, 60), key(33), all);
    expect(gap.floorFrom).toBe(Date.parse('2026-12-06T08:00Z'));
  });

  it('a whole listing that leaves an object behind the old floor unsettled (postponed) does not widen what the floor covers', () => {
    const since = Date.parse('2026-12-06T02:00Z');
    const plan = new ListingPlan({ mode: 'auto' }, key(33), true, since);
    expect(plan.startAfter()).toBeUndefined();
    plan.afterPass(range(0, 40), undefined, (o) => o.key !== key(3));
    expect(plan.floorFrom).toBe(since);
    expect(plan.startAfter()).toBe(key(33)); // the next pass is from the floor; the next start lists whole again
    expect(new ListingPlan({ mode: 'auto' }, key(33), true, plan.floorFrom).startAfter()).toBeUndefined();
  });
});

describe('option parsing', () => {
  it('lookback, time bounds', () => {
    expect(parseLookback('90m')).toEqual({ ms: 90 * 60_000 });
    expect(parseLookback('1000')).toEqual({ keys: 1000 });
    expect(() => parseLookback('soon')).toThrow(/--lookback: expected/);
    expect(() => parseLookback('0')).toThrow(/--lookback/);
    expect(parseTimeBound('since', '2026-12-01')).toBe(Date.parse('2026-12-01T00:00:00Z'));
    expect(parseTimeBound('since', '2026-12-01T06:00+09:00')).toBe(Date.parse('2026-11-30T21:00:00Z'));
    expect(parseTimeBound('since', '7d', 10 * 86_400_000)).toBe(3 * 86_400_000);
    expect(() => parseTimeBound('until', 'yesterday')).toThrow(/--until: expected a date/);
    expect(() => parseTimeBound('until', '2026-13-01')).toThrow(/--until/);
  });
});

describe('PollBackoff', () => {
  it('doubles while nothing is new, up to the max; back to the base when something is', () => {
    const p = new PollBackoff(5000, 60_000);
    expect([false, false, false, false, false, false].map((x) => p.next(x))).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000]);
    expect(p.next(true)).toBe(5000);
    expect(p.next(false)).toBe(5000);
    const flat = new PollBackoff(5000, 5000);
    expect([false, false].map((x) => flat.next(x))).toEqual([5000, 5000]);
  });
});

describe('compareKeys', () => {
  it("orders keys as S3 lists them (UTF-8 bytes), where JavaScript's UTF-16 order differs", () => {
    const astral = 'logs/\u{1F600}.log'; // U+1F600: a surrogate pair in UTF-16, 0xF0... in UTF-8
    const high = 'logs/\uFF01.log'; // U+FF01: one code unit, 0xEF... in UTF-8
    expect(astral < high).toBe(true); // JavaScript's order
    expect(compareKeys(astral, high)).toBeGreaterThan(0); // S3's
    expect(sortObjects([astral, high, 'logs/a.log'].map((k) => obj(k))).map((o) => o.key)).toEqual(['logs/a.log', high, astral]);
    expect(compareKeys('logs/a', 'logs/b')).toBeLessThan(0);
    expect(compareKeys('logs/a', 'logs/a')).toBe(0);
  });

  it('the floor never moves back in S3 order', () => {
    const astral = 'logs/\u{1F600}';
    const high = 'logs/\uFF01';
    const plan = new ListingPlan({ mode: 'ordered', lookback: { keys: 1 } }, astral, true);
    plan.afterPass([obj(high), obj('logs/\uFF02')], astral, all); // a JS '>' took high for a later key
    expect(plan.floor).toBe(astral);
  });
});
