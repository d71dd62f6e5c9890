/**
 * Shipping what S3 event notifications name, instead of listing. Messages
 * come from a queue (SQS, or a Kafka topic read as one:
 * transport/kafka-notifications.ts); each names objects written (s3-events.ts). A
 * message is deleted only once every object it names is settled in the
 * progress topic (shipped to the end, skipped, or recorded as failed), so a
 * shipper killed mid-object leaves it in the queue: it comes back once its
 * visibility timeout passes, and the object resumes at the next line, as a
 * restarted listing pass would. While an object ships, the messages in hand
 * stay hidden (their visibility is renewed every third of it). A malformed or
 * foreign message is logged with its reason and deleted after --max-receives
 * receives, or left to the queue's dead-letter queue when it has one. With
 * --reconcile, a listing pass now and then ships what a lost notification
 * named.
 */
import { describeError, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { retry, sleep } from '../retry.js';
import type { ObjectSource, SourceObject } from '../source/objects.js';
import { parseEventMessage, type Notice } from '../source/s3-events.js';
import { isStaleReceipt, type NotificationQueue, type QueueMessage } from '../source/sqs.js';
import type { NotifyMetrics } from './ship-metrics.js';

export const notifyDefaults = {
  /** A received message is hidden from other receivers this long, renewed while its objects ship. */
  visibilitySeconds: 60,
  /** A malformed or foreign message is deleted once received this many times (without a dead-letter queue). */
  maxReceives: 5,
  /** Longest wait of one receive (SQS long polling allows 20 s). */
  waitSeconds: 20,
  /** A message whose object was postponed (S3 trouble) comes back after this, doubling per receive, at most 15 min. */
  retrySeconds: 30,
} as const;

export interface NotifyOptions {
  visibilitySeconds?: number | undefined;
  maxReceives?: number | undefined;
  /** A listing pass this often, ms, for objects whose notification was lost (default: never). */
  reconcileMs?: number | undefined;
}

export interface NotifiedDeps {
  queue: NotificationQueue;
  source: ObjectSource;
  /** Whether this shipper ships `o` (its replica's share, the --since/--until range). */
  mine(o: SourceObject): { ok: true } | { ok: false; otherReplica: boolean };
  /** Ships these objects as a listing pass would: where each resumes, then its lines. */
  ship(objects: SourceObject[]): Promise<void>;
  /** Shipped to the end, skipped, or recorded as failed: its notification can go. */
  settled(o: SourceObject): boolean;
  /** One listing pass (--reconcile). */
  pass(): Promise<boolean>;
  /** In a shipper group: takes up a new assignment before the next messages. */
  sync(): Promise<void>;
  log: Logger;
  metrics: NotifyMetrics;
  signal: AbortSignal;
}

type Outcome = 'shipped' | 'ignored' | 'rejected' | 'released';

export class NotifiedShipping {
  private readonly visibility: number;
  private readonly maxReceives: number;
  private readonly inHand = new Set<QueueMessage>();
  private deadLetters = false;

  constructor(
    private readonly d: NotifiedDeps,
    private readonly opts: NotifyOptions = {},
  ) {
    this.visibility = opts.visibilitySeconds ?? notifyDefaults.visibilitySeconds;
    this.maxReceives = opts.maxReceives ?? notifyDefaults.maxReceives;
    if (!(Number.isInteger(this.visibility) && this.visibility >= 1 && this.visibility <= 43_200))
      throw new WeblogError('CONFIG_INVALID', `--visibility must be 1s..12h in whole seconds (got ${this.visibility} s)`);
  }

  private get stopped(): boolean {
    return this.d.signal.aborted;
  }

  /** Until stopped. */
  async run(): Promise<void> {
    const { queue, log, signal } = this.d;
    // Also the start-up check: a queue that does not exist, or no right to read it, stops here with why.
    this.deadLetters = await retry(() => queue.hasDeadLetterQueue(signal), { signal, maxAttempts: 5 });
    log.info('reading S3 event notifications', {
      queue: queue.describe(),
      visibility_s: this.visibility,
      dead_letter_queue: this.deadLetters,
      reconcile_ms: this.opts.reconcileMs ?? null,
    });
    const heartbeat = setInterval(() => void this.renew(), Math.max(1000, (this.visibility * 1000) / 3));
    let lastPass = -Infinity;
    try {
      while (!this.stopped) {
        await this.d.sync();
        const every = this.opts.reconcileMs;
        if (every !== undefined && Date.now() - lastPass >= every) {
          lastPass = Date.now();
          await this.d.pass();
          continue;
        }
        const wait = every === undefined ? notifyDefaults.waitSeconds : Math.min(notifyDefaults.waitSeconds, (lastPass + every - Date.now()) / 1000);
        let batch: QueueMessage[];
        try {
          batch = await retry(() => queue.receive(10, wait, this.visibility, signal), {
            signal,
            maxDelayMs: 30_000,
            onRetry: (err, attempt) => log.warn('notifications: receive failed, retrying', { attempt, error: describeError(err) }),
          });
        } catch (err) {
          if (this.stopped) break;
          throw err;
        }
        for (const m of batch) this.inHand.add(m);
        this.d.metrics.inHand.set(this.inHand.size);
        let others = 0;
        for (const m of batch) {
          if (this.stopped) break;
          if ((await this.handle(m)) === 'other-replica') others++;
        }
        // Only other replicas' objects: they get a turn at the queue before this one receives again.
        if (batch.length > 0 && others === batch.length) await sleep(250 + Math.random() * 500, signal).catch(() => undefined);
      }
    } finally {
      clearInterval(heartbeat);
      // Messages not finished go back to the queue now, for another shipper (or the next start).
      await Promise.all([...this.inHand].map((m) => queue.extend(m, 0).catch(() => undefined)));
      this.inHand.clear();
      this.d.metrics.inHand.set(0);
    }
  }

  private async handle(m: QueueMessage): Promise<'other-replica' | void> {
    const { log } = this.d;
    const parsed = parseEventMessage(m.body);
    if (!parsed.ok) return this.reject(m, parsed.reason);
    const objects: SourceObject[] = [];
    let foreign: string | undefined;
    let otherReplica = false;
    for (const n of parsed.notices) {
      if (n.kind === 'test') {
        log.info('S3 test event: notifications reach the queue', { bucket: n.bucket, message: m.id });
        continue;
      }
      if (n.kind === 'other') {
        log.debug('notification of no new object: nothing to ship', { event: n.event, key: n.key });
        continue;
      }
      const c = this.d.source.covers?.(n.bucket, n.key);
      if (c?.foreign) foreign ??= c.why;
      if (c) {
        if (!c.foreign) log.debug('notified object not shipped', { key: n.key, why: c.why });
        continue;
      }
      let o: SourceObject | undefined;
      try {
        o = await this.stat(n);
      } catch (err) {
        if (this.stopped) return;
        log.warn('notified object: cannot look it up; the notification comes back later', { key: n.key, error: describeError(err) });
        return this.release(m);
      }
      if (!o) {
        log.info('notified object is gone (deleted since?): nothing to ship', { key: n.key });
        continue;
      }
      const mine = this.d.mine(o);
      if (!mine.ok) {
        otherReplica ||= mine.otherReplica;
        continue;
      }
      if (!objects.some((x) => x.key === o.key)) objects.push(o);
    }
    if (foreign && objects.length === 0 && !otherReplica) return this.reject(m, foreign);
    if (foreign) log.warn('notification names objects of another bucket: those are not shipped', { message: m.id, why: foreign });
    if (objects.length > 0) await this.d.ship(objects);
    if (this.stopped) return;
    const pending = objects.filter((o) => !this.d.settled(o));
    if (pending.length > 0) {
      log.info('notified object postponed: its notification comes back later', { message: m.id, objects: pending.map((o) => o.key) });
      return this.release(m);
    }
    if (otherReplica) {
      this.d.metrics.messages.inc({ outcome: 'other-replica' });
      // A topic: the replica it belongs to reads its own copy. A queue: shown again at once, for that replica.
      if (this.d.queue.readsAll) return this.remove(m);
      await this.release(m, 0, false);
      return 'other-replica';
    }
    await this.remove(m, objects.length > 0 ? 'shipped' : 'ignored');
    return undefined;
  }

  /** The object a notice names, as it is now (a HEAD request); undefined when it is gone. */
  private async stat(n: Extract<Notice, { kind: 'created' }>): Promise<SourceObject | undefined> {
    const stat = this.d.source.stat?.bind(this.d.source);
    if (!stat) throw new WeblogError('CONFIG_INVALID', 'notifications need an S3 source');
    const once = async (key: string) => retry(() => stat(key), { signal: this.d.signal, maxAttempts: 5 });
    return (await once(n.key)) ?? (n.rawKey !== undefined ? await once(n.rawKey) : undefined);
  }

  private async reject(m: QueueMessage, reason: string): Promise<void> {
    this.d.log.warn('notification rejected', { message: m.id, receives: m.receives, reason, body: m.body.slice(0, 200) });
    this.d.metrics.messages.inc({ outcome: 'rejected' });
    if (this.deadLetters) return this.release(m, this.visibility, false); // the queue moves it to its dead-letter queue
    if (m.receives >= this.maxReceives) {
      this.d.log.warn('rejected notification deleted', { message: m.id, receives: m.receives });
      return this.remove(m);
    }
    return this.release(m, this.visibility, false);
  }

  /** Leaves `m` in the queue: handed out again after `seconds` (default: a backoff by its receives). */
  private async release(m: QueueMessage, seconds?: number, count = true): Promise<void> {
    const s = seconds ?? Math.min(900, notifyDefaults.retrySeconds * 2 ** Math.min(10, m.receives - 1));
    this.inHand.delete(m);
    this.d.metrics.inHand.set(this.inHand.size);
    if (count) this.d.metrics.messages.inc({ outcome: 'released' });
    await this.d.queue.extend(m, s).catch((err: unknown) => {
      if (!isStaleReceipt(err)) this.d.log.debug('could not change a released message', { message: m.id, error: describeError(err) });
    });
  }

  private async remove(m: QueueMessage, outcome?: Outcome): Promise<void> {
    this.inHand.delete(m);
    this.d.metrics.inHand.set(this.inHand.size);
    if (outcome) this.d.metrics.messages.inc({ outcome });
    try {
      await retry(() => this.d.queue.delete(m), {
        signal: this.d.signal,
        maxAttempts: 5,
        onRetry: (err, attempt) => this.d.log.warn('notifications: delete failed, retrying', { message: m.id, attempt, error: describeError(err) }),
      });
    } catch (err) {
      // Received again later, its objects are settled by then: it is deleted that time.
      if (!this.stopped) this.d.log.warn('could not delete a notification: it comes back and is deleted then', { message: m.id, error: describeError(err) });
    }
  }

  /** Keeps the messages in hand hidden while their objects ship. */
  private async renew(): Promise<void> {
    for (const m of [...this.inHand]) {
      try {
        await this.d.queue.extend(m, this.visibility);
        this.d.metrics.renewals.inc();
      } catch (err) {
        if (isStaleReceipt(err)) {
          // Its visibility ran out before it was renewed (the process stalled): another receiver may hold it now.
          this.d.log.warn('a notification became visible again while in hand', { message: m.id });
          this.inHand.delete(m);
        } else this.d.log.debug('could not renew a notification', { message: m.id, error: describeError(err) });
      }
    }
  }
}
