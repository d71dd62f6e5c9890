/**
 * The table partition a row goes to: `access_log` is PARTITION BY
 * toYYYYMM(time). An INSERT is atomic only within one partition (the server
 * writes one part per partition and commits them one by one), so the
 * processor cuts its INSERTs where this key changes. The modern schema's
 * `time` is DateTime64(3, 'UTC'); the legacy 18.16 one is a DateTime without
 * a zone, whose month is the server's local month.
 */
import { civilDate } from './row-buffer.js';

const DAY_MS = 86_400_000;
/** Month boundaries fall on a quarter hour in every zone. */
const SLOT_MS = 15 * 60_000;

export class PartitionKeyer {
  private lastSlot = NaN;
  private lastKey = 0;
  private readonly fmt: Intl.DateTimeFormat | undefined;

  /** @param timezone the zone the partition's month is taken in ('UTC' for DateTime64(3, 'UTC')). */
  constructor(timezone = 'UTC') {
    this.fmt =
      timezone === 'UTC' || timezone === 'Etc/UTC' || timezone === ''
        ? undefined
        : new Intl.DateTimeFormat('en-US', { timeZone: timezone, year: 'numeric', month: '2-digit' });
  }

  /** YYYYMM of the time `ms` (epoch milliseconds). */
  keyOf(ms: number): number {
    const slot = Math.floor(ms / (this.fmt ? SLOT_MS : DAY_MS));
    if (slot === this.lastSlot) return this.lastKey;
    this.lastSlot = slot;
    if (this.fmt) {
      const parts = this.fmt.formatToParts(slot * SLOT_MS);
      const y = Number(parts.find((p) => p.type === 'year')?.value);
      const m = Number(parts.find((p) => p.type === 'month')?.value);
      this.lastKey = y * 100 + m;
    } else {
      const d = civilDate(slot); // "YYYY-MM-DD "
      this.lastKey = Number(d.slice(0, 4)) * 100 + Number(d.slice(5, 7));
    }
    return this.lastKey;
  }
}
