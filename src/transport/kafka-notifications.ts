/**
 * `--notifications kafka://TOPIC`: S3 event notifications that the store
 * sends to a Kafka topic (MinIO's Kafka target, or any producer of the S3
 * event JSON), read as the shipper reads an SQS queue. A queue's contract is
 * kept in this process: a message received is hidden for its visibility
 * timeout, shown again once it passes (its receive count one higher) unless
 * renewed or deleted, and deleting it commits the notification group's
 * offset up to the oldest message still held in its partition. So a shipper
 * killed mid-object has committed nothing past that object's message: the
 * next start receives it again, and the object resumes at its next line.
 *
 * Unlike an SQS queue, every shipper reads every message (`readsAll`): each
 * static replica has its own consumer group and ships its share of what the
 * messages name. A rebalance of that group (another process with the same
 * group) drops what is held; the partitions' new owner reads on from the
 * committed offsets (at least once; the progress topic keeps a message read
 * twice from shipping anything twice).
 */
import type { Consumer, Kafka } from 'kafkajs';
import { WeblogError } from '../errors.js';
import { validateTopic } from './kafka.js';
import { isPermanentKafkaError, kafkaError } from './kafka-errors.js';

/** A received notification: the shape of source/sqs.ts' QueueMessage. */
export interface KafkaQueueMessage {
  id: string;
  handle: string;
  body: string;
  receives: number;
}

export interface KafkaNotificationOptions {
  topic: string;
  /** The consumer group whose committed offsets say which notifications were handled. */
  groupId: string;
  /** Messages held (received and not deleted, or fetched and not yet received) before the fetch waits (default 1,000). */
  maxHeld?: number | undefined;
}

interface Held {
  message: KafkaQueueMessage;
  partition: number;
  offset: number;
  /** Hidden until then (epoch ms); 0: never received. */
  visibleAt: number;
  /** The group generation it was fetched in: one fetched before a rebalance is neither shown nor committed. */
  generation: number;
}

/** `kafka://TOPIC` → the topic; anything else is refused naming the option. */
export function parseKafkaNotificationsUri(uri: string): string {
  if (!uri.startsWith('kafka://')) throw new WeblogError('CONFIG_INVALID', `--notifications: expected kafka://TOPIC, got "${uri}"`);
  return validateTopic(uri.slice('kafka://'.length), '--notifications kafka://TOPIC');
}

export class KafkaNotificationQueue {
  /** Every shipper reads every message: another replica's object is not handed back, its message is deleted. */
  readonly readsAll = true;
  private consumer: Consumer | undefined;
  private started: Promise<void> | undefined;
  private generation = 0;
  /** By handle, in the order fetched (a Map keeps insertion order). */
  private readonly held = new Map<string, Held>();
  /** Per partition: the offset after the last one fetched in this generation, and the offset committed. */
  private readonly fetchedTo = new Map<number, number>();
  private readonly committedTo = new Map<number, number>();
  private readonly waiting = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: KafkaNotificationOptions,
  ) {
    validateTopic(opts.topic, '--notifications kafka://TOPIC');
  }

  describe(): string {
    return `kafka://${this.opts.topic}`;
  }

  /** Also the start-up check: a topic that does not exist stops the shipper here, naming it. */
  async hasDeadLetterQueue(): Promise<boolean> {
    await this.start();
    return false;
  }

  private start(): Promise<void> {
    this.started ??= this.join().catch((err: unknown) => {
      this.started = undefined; // the next call tries again
      throw err;
    });
    return this.started;
  }

  private async join(): Promise<void> {
    const { topic, groupId } = this.opts;
    await this.checkTopic();
    await this.consumer?.disconnect().catch(() => undefined);
    // A shipper killed -9 holds the partitions until its session times out: a restart waits at most this.
    const c = (this.consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 1000, sessionTimeout: 10_000, heartbeatInterval: 1000 }));
    const drop = () => {
      this.generation++;
      this.held.clear();
      this.fetchedTo.clear();
      this.wake();
    };
    c.on(c.events.REBALANCING, drop);
    c.on(c.events.GROUP_JOIN, drop);
    try {
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const generation = this.generation;
          for (const m of batch.messages) {
            const handle = `${batch.partition}:${m.offset}`;
            const offset = Number(m.offset);
            this.held.set(handle, {
              message: { id: handle, handle, body: m.value?.toString('utf8') ?? '', receives: 0 },
              partition: batch.partition,
              offset,
              visibleAt: 0,
              generation,
            });
            this.fetchedTo.set(batch.partition, offset + 1);
            resolveOffset(m.offset); // fetched on; committed only once deleted
          }
          this.wake();
          // Held messages are bounded: the fetch waits while the shipper works through them.
          while (this.held.size >= (this.opts.maxHeld ?? 1000) && isRunning() && !isStale() && !this.closed) {
            await this.changed(1000);
            await heartbeat();
          }
        },
      });
    } catch (err) {
      throw kafkaError(err, `read the notification topic ${topic}`);
    }
  }

  private async checkTopic(): Promise<void> {
    const { topic } = this.opts;
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      if (!(await admin.listTopics()).includes(topic))
        throw new WeblogError(
          'REFUSED',
          `the notification topic ${topic} does not exist on the brokers: create it (the store's Kafka notification target writes to it), or name another in --notifications kafka://TOPIC`,
        );
    } catch (err) {
      throw kafkaError(err, `look up the notification topic ${topic}`);
    } finally {
      await admin.disconnect();
    }
  }

  /** Up to `max` messages visible now, waiting up to `waitSeconds` for one; each hidden for `visibilitySeconds`. */
  async receive(max: number, waitSeconds: number, visibilitySeconds: number, signal?: AbortSignal): Promise<KafkaQueueMessage[]> {
    await this.start();
    const deadline = Date.now() + Math.max(0, waitSeconds) * 1000;
    for (;;) {
      const now = Date.now();
      const out: KafkaQueueMessage[] = [];
      let next = deadline;
      for (const h of this.held.values()) {
        if (h.generation !== this.generation) continue;
        if (h.visibleAt > now) {
          next = Math.min(next, h.visibleAt);
          continue;
        }
        if (out.length >= max) break;
        h.visibleAt = now + visibilitySeconds * 1000;
        h.message.receives++;
        out.push({ ...h.message });
      }
      if (out.length > 0 || now >= deadline || signal?.aborted || this.closed) return out;
      await this.changed(Math.max(10, next - now), signal);
    }
  }

  /** Hides `m` for `seconds` more from now (0: shown again now); nothing once it was deleted or dropped. */
  async extend(m: KafkaQueueMessage, seconds: number): Promise<void> {
    const h = this.held.get(m.handle);
    if (!h) return;
    h.visibleAt = Date.now() + seconds * 1000;
    if (seconds === 0) this.wake();
  }

  /** Forgets `m` and commits its partition up to the oldest message still held there. */
  async delete(m: KafkaQueueMessage): Promise<void> {
    const h = this.held.get(m.handle);
    if (!h) return; // deleted already, or dropped by a rebalance (the partition's owner reads it again)
    this.held.delete(m.handle);
    this.wake();
    if (h.generation !== this.generation) return;
    let to = this.fetchedTo.get(h.partition) ?? h.offset + 1;
    for (const o of this.held.values()) if (o.partition === h.partition && o.generation === this.generation) to = Math.min(to, o.offset);
    if (to <= (this.committedTo.get(h.partition) ?? -1)) return;
    try {
      await this.consumer?.commitOffsets([{ topic: this.opts.topic, partition: h.partition, offset: String(to) }]);
      this.committedTo.set(h.partition, Math.max(to, this.committedTo.get(h.partition) ?? -1));
    } catch (err) {
      // A rebalance under way: the partition's next owner reads from the last commit (at least once).
      if (isPermanentKafkaError(err)) throw kafkaError(err, `commit the notification offsets of ${this.opts.topic}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    const c = this.consumer;
    this.consumer = undefined;
    await c?.disconnect().catch(() => undefined);
  }

  private wake(): void {
    for (const done of [...this.waiting]) done();
  }

  /** Until something is fetched, deleted or shown again, `ms` pass, or `signal` aborts. */
  private changed(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiting.add(done);
    });
  }
}
