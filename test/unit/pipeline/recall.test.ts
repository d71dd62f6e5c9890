/**
 * Which progress records a notified shipper may forget (settled, of a key
 * time older than the window) and which absent keys it must read back (a
 * key time before the horizon of what was forgotten).
 */
import { describe, expect, it } from 'vitest';
import { ProgressIndex } from '../../../src/pipeline/progress-index.js';
import { Recall } from '../../../src/pipeline/recall.js';
import type { ShipProgress } from '../../../src/transport/types.js';

const hour = 3600_000;
const now = Date.parse('2026-12-07T12:00:00Z');
/** An S3 access-log key `h` hours before now. */
const key = (h: number) => {
  const d = new Date(now - h * hour).toISOString();
  return `logs/${d.slice(0, 10)}-${d.slice(11, 13)}-${d.slice(14, 16)}-00-0123456789ABCDEF`;
};
const rec = (k: string, o: Partial<ShipProgress> = {}): ShipProgress => ({ key: k, etag: k, offset: 1, lines: 1, done: true, updatedAt: 0, ...o });

describe('Recall', () => {
  it('forgets settled records older than the window; keeps unfinished, failed, no-time and floor records', () => {
    const r = new Recall({ ms: hour });
    expect(r.forgettable(rec(key(2)), now)).toBe(true);
    expect(r.forgettable(rec(key(2), { done: false, skipped: 'corrupt' }), now)).toBe(true);
    expect(r.forgettable(rec(key(0.5)), now)).toBe(false); // inside the window
    expect(r.forgettable(rec(key(2), { done: false }), now)).toBe(false); // unfinished: a restart resumes it
    expect(r.forgettable(rec(key(2), { done: false, failed: 'corrupt gzip' }), now)).toBe(false); // reported
    expect(r.forgettable(rec('logs/web.log'), now)).toBe(false); // no time in the key
    expect(r.forgettable(rec(`\u0000floor:s3://b/ 0/1`, { etag: key(3) }), now)).toBe(false);
    const idx = new ProgressIndex([rec(key(5)), rec(key(3)), rec(key(0.2)), rec(key(4), { done: false }), rec('logs/web.log')]);
    expect(r.forget(idx, now)).toBe(2);
    expect([...idx.values()].map((p) => p.key).sort()).toEqual([key(0.2), key(4), 'logs/web.log'].sort());
  });

  it('reads back absent keys from before the horizon only; nothing before anything was forgotten', () => {
    const r = new Recall({ ms: hour });
    const idx = new ProgressIndex([rec(key(0.2))]);
    expect(r.missing(idx, [key(5), key(0.1)])).toEqual([]); // nothing forgotten yet: absent means never shipped
    r.forgotUpTo(now); // horizon: one hour before now
    expect(r.missing(idx, [key(5), key(2), key(0.5), key(0.2), 'logs/web.log'])).toEqual([key(5), key(2)]);
    // A lookback by count (no duration) uses a one-hour window.
    const byCount = new Recall({ keys: 50 });
    expect(byCount.forgettable(rec(key(1.5)), now)).toBe(true);
    expect(byCount.forgettable(rec(key(0.5)), now)).toBe(false);
  });
});
