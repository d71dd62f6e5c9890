/** What the listing benchmarks share: the S3 access-log key layout, and a progress topic of objects already shipped. */
import type { ShipProgress, ShipSink } from '../src/transport/types.js';

/** An S3 server-access-log key, one a minute from 2025-01-01 UTC. */
export const accessLogKey = (i: number): string => {
  const d = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
  // One flat string (a concatenation stays a tree until first read, which would show up as the shipper's memory).
  return Buffer.from(`logs/${d.slice(0, 10)}-${d.slice(11, 13)}-${d.slice(14, 16)}-00-0123456789ABCDEF`).toString('latin1');
};

/** The progress topic in memory: `shipped()` records (made on each read, as a consumer of the topic would), plus what was written since. */
export class ShippedSink implements ShipSink {
  private readonly written = new Map<string, ShipProgress>();
  constructor(private readonly shipped: () => Iterable<ShipProgress>) {}
  async loadProgress() {
    const m = new Map<string, ShipProgress>();
    for (const p of this.shipped()) m.set(p.key, p);
    for (const [k, p] of this.written) m.set(k, p);
    return m;
  }
  async ship(_t: string, _m: unknown[], p: ShipProgress) {
    this.written.set(p.key, p);
  }
  async record(p: ShipProgress) {
    this.written.set(p.key, p);
  }
  async close() {}
}
