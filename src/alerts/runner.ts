/**
 * Evaluates alert rules every interval and turns their values into events:
 * an alert (a rule, and an IP for per-IP rules) fires once when its condition
 * starts to hold and resolves once when it stops. A rule whose query fails
 * keeps its state (no flapping while ClickHouse is away); the failure is
 * logged and shown.
 */
import type { Logger } from '../observe/log.js';
import { measureAlert, type AlertValue } from '../schema/alert-sql.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import type { AlertRule } from './rules.js';
import type { AlertEvent, Webhook } from './webhook.js';

/** An alert firing now: its event's fields but the status and the time of the event. */
export type Firing = Omit<AlertEvent, 'id' | 'status' | 'at'>;

export interface AlertStatus {
  rules: { name: string; summary: string }[];
  firing: Firing[];
  /** ISO-8601 UTC of the last evaluation, null before the first. */
  evaluatedAt: string | null;
  errors: { rule: string; message: string }[];
}

/** Which alerts of one rule hold now, with their values (pure: values in, decisions out). */
export function decide(rule: AlertRule, now: AlertValue[], before: AlertValue[] | undefined): Map<string, number | null> {
  const out = new Map<string, number | null>();
  const holds = (v: number) => (rule.op === 'above' ? v > rule.threshold : v < rule.threshold);
  for (const v of now) {
    if (rule.metric === 'error_rate' && v.hits < rule.minHits) continue;
    if (rule.compareMs !== undefined) {
      const prev = before?.find((b) => b.key === v.key);
      if (!prev || prev.value === 0 || (rule.metric === 'hits' && prev.hits < rule.minHits)) continue; // no basis
      const pct = (100 * v.value) / prev.value;
      if (holds(pct)) out.set(v.key, Math.round(pct * 10) / 10);
      continue;
    }
    if (holds(v.value)) out.set(v.key, Math.round(v.value * 100) / 100);
  }
  return out;
}

export interface RunnerOptions {
  log: Logger;
  webhook?: Webhook | undefined;
  intervalMs: number;
  now?: () => number;
}

export class AlertRunner {
  private readonly firing = new Map<string, Firing>();
  private readonly errors = new Map<string, string>();
  private evaluatedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ch: ClickHouse,
    private readonly rules: readonly AlertRule[],
    private readonly opts: RunnerOptions,
  ) {}

  /** One pass over every rule; returns the events it sent. */
  async evaluate(): Promise<AlertEvent[]> {
    const now = (this.opts.now ?? Date.now)();
    const events: AlertEvent[] = [];
    for (const rule of this.rules) {
      let holding: Map<string, number | null>;
      try {
        const to = now - rule.delayMs;
        const from = to - rule.windowMs;
        const cur = await measureAlert(this.ch, rule.metric, rule.where, from, to, rule.threshold);
        const before =
          rule.compareMs === undefined ? undefined : await measureAlert(this.ch, rule.metric, rule.where, from - rule.compareMs, to - rule.compareMs);
        holding = decide(rule, cur, before);
        if (this.errors.delete(rule.name)) this.opts.log.info('alert rule evaluates again', { rule: rule.name });
      } catch (err) {
        const message = (err as Error).message;
        if (this.errors.get(rule.name) !== message) this.opts.log.warn('alert rule failed; its alerts keep their state', { rule: rule.name, error: message });
        this.errors.set(rule.name, message);
        continue;
      }
      const at = new Date(now).toISOString();
      for (const [key, value] of holding) {
        const id = `${rule.name}\u0000${key}`;
        const f = this.firing.get(id);
        if (f) {
          f.value = value;
          continue;
        }
        const fresh: Firing = { rule: rule.name, key, summary: rule.summary, value, threshold: rule.threshold, since: at };
        this.firing.set(id, fresh);
        events.push(this.event('firing', fresh, at));
      }
      for (const [id, f] of this.firing) {
        if (f.rule !== rule.name || holding.has(f.key)) continue;
        this.firing.delete(id);
        events.push(this.event('resolved', f, at));
      }
    }
    this.evaluatedAt = now;
    for (const ev of events) {
      const fields = { rule: ev.rule, ...(ev.key ? { key: ev.key } : {}), value: ev.value, threshold: ev.threshold, summary: ev.summary };
      if (ev.status === 'firing') this.opts.log.warn('alert firing', fields);
      else this.opts.log.info('alert resolved', { ...fields, since: ev.since });
      this.opts.webhook?.send(ev);
    }
    return events;
  }

  private event(status: AlertEvent['status'], f: Firing, at: string): AlertEvent {
    return {
      id: `${f.rule}/${f.key}/${f.since}/${status}`,
      status,
      rule: f.rule,
      key: f.key,
      summary: f.summary,
      value: f.value,
      threshold: f.threshold,
      since: f.since,
      at,
    };
  }

  status(): AlertStatus {
    return {
      rules: this.rules.map((r) => ({ name: r.name, summary: r.summary })),
      firing: [...this.firing.values()].map((f) => ({ ...f })),
      evaluatedAt: this.evaluatedAt === undefined ? null : new Date(this.evaluatedAt).toISOString(),
      errors: [...this.errors].map(([rule, message]) => ({ rule, message })),
    };
  }

  /** Evaluates now and then every interval (one pass at a time). */
  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.current = this.evaluate()
        .then(() => undefined)
        .catch((err: unknown) => this.opts.log.error('alert evaluation failed', { error: (err as Error).message }))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
        });
    };
    tick();
  }

  /** Stops evaluating, lets the pass in flight finish, and gives the webhook up to `timeoutMs` to deliver. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
    await this.opts.webhook?.close(timeoutMs);
  }
}
