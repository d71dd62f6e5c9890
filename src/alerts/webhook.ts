/**
 * Alert notifications by webhook: each event is POSTed as JSON, one at a
 * time in the order they happened, retried with capped exponential backoff
 * while the receiver is unreachable or answers 408, 429 or 5xx; another 4xx
 * is a refusal and is not retried. Every event carries an `id` a receiver can
 * use to drop a repeat (a POST whose answer was lost is sent again).
 */
import { redactUrl } from '../redact.js';
import { sleep } from '../retry.js';
import type { Logger } from '../observe/log.js';
import { WeblogError } from '../errors.js';

export interface AlertEvent {
  /** rule/key/since/status: the same for a repeat of one event. */
  id: string;
  status: 'firing' | 'resolved';
  rule: string;
  /** The client IP for per-IP rules, '' otherwise. */
  key: string;
  summary: string;
  /** The value that fired it (firing) or the last one measured (resolved); null when there was no basis (too few requests). */
  value: number | null;
  threshold: number;
  /** When the alert started firing, and this event's time (ISO-8601 UTC). */
  since: string;
  at: string;
}

export const webhookDefaults = { maxAttempts: 8, initialDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 10_000, maxQueued: 10_000 } as const;

export interface WebhookOptions {
  log: Logger;
  maxAttempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
}

/** Checks a webhook URL at start (http or https), naming what is wrong. */
export function checkWebhookUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WeblogError('CONFIG_INVALID', `--webhook: not a URL: ${redactUrl(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new WeblogError('CONFIG_INVALID', `--webhook: expected an http:// or https:// URL, got ${u.protocol}`);
  return url;
}

export class Webhook {
  private readonly queue: AlertEvent[] = [];
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  readonly stats = { delivered: 0, failed: 0, dropped: 0 };

  constructor(
    readonly url: string,
    private readonly opts: WebhookOptions,
  ) {
    checkWebhookUrl(url);
  }

  /** Queues an event; sending happens in the background, in order. */
  send(ev: AlertEvent): void {
    if (this.queue.length >= webhookDefaults.maxQueued) {
      this.stats.dropped++;
      this.opts.log.error('alert webhook queue full: event dropped (the receiver has been down long)', { rule: ev.rule, status: ev.status });
      return;
    }
    this.queue.push(ev);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Waits until the queue is empty, or `timeoutMs` passed (then stops retrying). */
  async close(timeoutMs: number): Promise<void> {
    const done = this.running ?? Promise.resolve();
    const timer = sleep(timeoutMs).then(() => this.abort.abort(new WeblogError('ABORTED', 'stopping')));
    await Promise.race([done, timer]);
    this.abort.abort(new WeblogError('ABORTED', 'stopping'));
    if (this.queue.length > 0) this.opts.log.warn('stopped with alert events not delivered', { events: this.queue.length });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      const ev = this.queue[0] as AlertEvent;
      await this.deliver(ev);
      this.queue.shift();
    }
  }

  private async deliver(ev: AlertEvent): Promise<void> {
    const max = this.opts.maxAttempts ?? webhookDefaults.maxAttempts;
    let delay = this.opts.initialDelayMs ?? webhookDefaults.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      let why: string;
      let retriable = true;
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'weblog-alerts' },
          body: JSON.stringify(ev),
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.timeoutMs ?? webhookDefaults.timeoutMs)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.stats.delivered++;
          return;
        }
        why = `HTTP ${res.status}`;
        retriable = res.status === 408 || res.status === 429 || res.status >= 500;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        why = (err as Error).name === 'TimeoutError' ? 'no answer in time' : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
      }
      if (!retriable || attempt >= max) {
        this.stats.failed++;
        this.opts.log.error('alert not delivered', { webhook: redactUrl(this.url), rule: ev.rule, status: ev.status, reason: why, attempts: attempt });
        return;
      }
      this.opts.log.warn('alert webhook failed; retrying', { webhook: redactUrl(this.url), reason: why, attempt, retryInMs: delay });
      try {
        await sleep(delay, this.abort.signal);
      } catch {
        return;
      }
      delay = Math.min(delay * 2, this.opts.maxDelayMs ?? webhookDefaults.maxDelayMs);
    }
  }
}
