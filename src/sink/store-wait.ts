/**
 * Whether the processor's writes are waiting for ClickHouse (down, hung, its
 * disk full), for /healthz and the `weblog_clickhouse_waiting` gauge. Several
 * writes run at once (one per partition): each retry loop holds a token, and
 * the state is unhealthy while any of them waits; one write landing says
 * nothing of the others. A write that gives up (a stop, a revoked partition)
 * leaves the trouble it saw standing until some write lands. A full disk is
 * said once at error level when it starts; the recovery once at info when the
 * last waiting write lands.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Registry } from '../observe/metrics.js';
import { isDiskFull } from './clickhouse/errors.js';

type Reason = 'disk_full' | 'unavailable';
const reasons: readonly Reason[] = ['disk_full', 'unavailable'];

type Trouble = { since: number; reason: Reason; error: string };

/** One write's retry loop. */
export type WaitToken = { readonly id: number; readonly write: boolean };

export class StoreWaitState {
  private readonly waiting = new Map<WaitToken, Trouble>();
  /** What a write that gave up last saw, while no other write waits. */
  private lastSeen: Trouble | undefined;
  private next = 0;

  constructor(
    private readonly log: Logger,
    private readonly gauge: ReturnType<Registry['gauge']>,
  ) {}

  health(): { ok: boolean; detail: string } {
    const all = this.waiting.size ? [...this.waiting.values()] : this.lastSeen ? [this.lastSeen] : [];
    if (all.length === 0) return { ok: true, detail: 'storing' };
    const since = Math.min(...all.map((w) => w.since));
    // A full disk is what an operator must act on: it is named over an outage.
    const shown = all.find((w) => w.reason === 'disk_full') ?? (all[0] as (typeof all)[number]);
    const n = all.length > 1 ? `${all.length} writes ` : '';
    return { ok: false, detail: `${n}waiting for ClickHouse since ${new Date(since).toISOString()} (${shown.reason}): ${shown.error}` };
  }

  /** A write (or a read: it lands without proving the disk has room) starts; settle its token when it ends. */
  begin(kind: 'write' | 'read' = 'write'): WaitToken {
    return { id: this.next++, write: kind === 'write' };
  }

  /** The write of `token` failed and is retried. */
  note(token: WaitToken, err: unknown): void {
    const reason: Reason = isDiskFull(err) ? 'disk_full' : 'unavailable';
    const diskFullBefore = this.has('disk_full');
    const prev = this.waiting.get(token);
    this.waiting.set(token, { since: prev?.since ?? Date.now(), reason, error: describeError(err) });
    if (reason === 'disk_full' && !diskFullBefore)
      this.log.error('ClickHouse has no disk space left: waiting, with backoff, until it has (nothing is dropped)', { error: describeError(err) });
    this.updateGauge();
  }

  /** The write of `token` ended: landed (`ok`) or gave up (a stop, a permanent error). */
  settled(token: WaitToken, ok: boolean): void {
    const w = this.waiting.get(token);
    this.waiting.delete(token);
    if (!ok) {
      if (w && this.waiting.size === 0) this.lastSeen = w;
      return; // the gauge stays: nothing has landed since
    }
    const was = w ?? (token.write ? this.lastSeen : undefined);
    if (token.write) this.lastSeen = undefined;
    if (!was) return;
    this.updateGauge();
    if (this.waiting.size === 0) this.log.info('ClickHouse takes writes again', { waited_s: Math.round((Date.now() - was.since) / 1000), reason: was.reason });
  }

  private has(reason: Reason): boolean {
    for (const w of this.waiting.values()) if (w.reason === reason) return true;
    return this.waiting.size === 0 && this.lastSeen?.reason === reason;
  }

  private updateGauge(): void {
    for (const r of reasons) this.gauge.set(this.has(r) ? 1 : 0, { reason: r });
  }
}
