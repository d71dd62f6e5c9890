/**
 * Whether the processor's writes are waiting for ClickHouse (down, hung, its
 * disk full), for /healthz and the `weblog_clickhouse_waiting` gauge. A full
 * disk is said once at error level; the recovery once at info.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Registry } from '../observe/metrics.js';
import { isDiskFull } from './clickhouse/errors.js';

type Reason = 'disk_full' | 'unavailable';

export class StoreWaitState {
  private trouble: { since: number; reason: Reason; error: string } | undefined;

  constructor(
    private readonly log: Logger,
    private readonly gauge: ReturnType<Registry['gauge']>,
  ) {}

  health(): { ok: boolean; detail: string } {
    const t = this.trouble;
    return t
      ? { ok: false, detail: `waiting for ClickHouse since ${new Date(t.since).toISOString()} (${t.reason}): ${t.error}` }
      : { ok: true, detail: 'storing' };
  }

  /** A write failed and is retried. */
  note(err: unknown): void {
    const reason: Reason = isDiskFull(err) ? 'disk_full' : 'unavailable';
    if (!this.trouble || this.trouble.reason !== reason) {
      if (this.trouble) this.gauge.set(0, { reason: this.trouble.reason });
      this.gauge.set(1, { reason });
      if (reason === 'disk_full')
        this.log.error('ClickHouse has no disk space left: waiting, with backoff, until it has (nothing is dropped)', { error: describeError(err) });
    }
    this.trouble = { since: this.trouble?.since ?? Date.now(), reason, error: describeError(err) };
  }

  /** A write succeeded. */
  recovered(): void {
    if (!this.trouble) return;
    this.log.info('ClickHouse takes writes again', { waited_s: Math.round((Date.now() - this.trouble.since) / 1000), reason: this.trouble.reason });
    this.gauge.set(0, { reason: this.trouble.reason });
    this.trouble = undefined;
  }
}
