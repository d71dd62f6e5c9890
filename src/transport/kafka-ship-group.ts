/**
 * Shippers as a consumer group. The group's members share the partitions of
 * a small work topic (`<progress topic>.slots`, no messages in it): each
 * partition is a *slot*, and a shipper owns the objects whose key hashes to
 * the slots it was assigned. Every slot has its own transactional id, used
 * for the lines and progress of its objects only; a new owner initialises it
 * before it reads the progress topic, which fences the former owner (a
 * commit it still tries fails) and aborts its open transaction, so it
 * resumes each object where the last committed batch left it, as a restarted
 * shipper does. A member that joins or dies moves slots without restarting
 * the others: a dead one's after the group's session timeout.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { ensureTopic } from './kafka.js';
import { kafkaError } from './kafka-errors.js';
import { KafkaShipSink, readProgressTopic } from './kafka-producers.js';
import { SlotLostError, type OutboundMessage, type ProgressFilter, type ShipOwnership, type ShipProgress, type ShipSink } from './types.js';

export const shipGroupDefaults = {
  /** Partitions of the work topic when it is created here: the most shippers that can share the work. */
  slots: 12,
  /** A dead shipper's slots move after this. */
  sessionTimeoutMs: 30_000,
} as const;

export interface ShipGroupOptions {
  group: string;
  progressTopic: string;
  slots?: number | undefined;
  sessionTimeoutMs?: number | undefined;
  compression?: 'none' | 'gzip' | undefined;
  createTopics?: boolean | undefined;
  log?: Logger | undefined;
}

export class KafkaShipGroup implements ShipOwnership, ShipSink {
  private consumer: Consumer | undefined;
  private assigned = new Set<number>();
  private changing = true;
  private gen = 0;
  private count = 0;
  private readonly listeners: (() => void)[] = [];
  /** ready() calls waiting for an assignment. */
  private readonly waiting = new Set<() => void>();
  private readonly sinks = new Map<number, KafkaShipSink>();
  private readonly workTopic: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: ShipGroupOptions,
    /** The slot of an object key (the shipper's hash, over `slots`). */
    private readonly slotOf: (key: string, slots: number) => number,
  ) {
    this.workTopic = `${opts.progressTopic}.slots`;
  }

  get slots(): number {
    return this.count;
  }

  get generation(): number {
    return this.gen;
  }

  owns(slot: number): boolean {
    return !this.changing && this.assigned.has(slot);
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private changed(): void {
    this.gen++;
    for (const fn of this.listeners) fn();
    if (!this.changing) for (const done of [...this.waiting]) done();
  }

  /** Joins the group (creating the work topic if allowed); assignments follow. */
  async start(): Promise<void> {
    const { group, log } = this.opts;
    // A retried start (the broker was not up) leaves the last attempt's consumer behind: it goes first.
    await this.consumer?.disconnect().catch(() => undefined);
    this.consumer = undefined;
    try {
      if (this.opts.createTopics !== false) await ensureTopic(this.kafka, this.workTopic, { partitions: this.opts.slots ?? shipGroupDefaults.slots });
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        this.count = (await admin.fetchTopicOffsets(this.workTopic)).length;
      } finally {
        await admin.disconnect();
      }
      if (this.count === 0) throw new WeblogError('REFUSED', `the work topic ${this.workTopic} has no partitions`);
      const c = (this.consumer = this.kafka.consumer({
        groupId: group,
        sessionTimeout: this.opts.sessionTimeoutMs ?? shipGroupDefaults.sessionTimeoutMs,
        heartbeatInterval: Math.max(500, Math.floor((this.opts.sessionTimeoutMs ?? shipGroupDefaults.sessionTimeoutMs) / 10)),
        maxWaitTimeInMs: 500,
      }));
      c.on(c.events.REBALANCING, () => {
        this.changing = true;
        this.changed();
      });
      c.on(c.events.GROUP_JOIN, (e) => {
        const slots = e.payload.memberAssignment[this.workTopic] ?? [];
        this.assigned = new Set(slots);
        this.changing = false;
        log?.info('shipper group: slots assigned', { group, slots: [...slots].sort((a, b) => a - b), of: this.count, member: e.payload.memberId });
        this.changed();
      });
      await c.connect();
      await c.subscribe({ topic: this.workTopic, fromBeginning: false });
      // Nothing is ever written to the work topic: the consumer is only there for the group's assignments.
      await c.run({ eachBatch: async () => undefined });
    } catch (err) {
      throw kafkaError(err, `join the shipper group ${group}`);
    }
  }

  ready(signal: AbortSignal): Promise<void> {
    if (!this.changing) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.waiting.delete(done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      this.waiting.add(done);
    });
  }

  async claim(): Promise<void> {
    const mine = new Set(this.changing ? [] : this.assigned);
    // Every slot's producer is made anew, even for a slot kept: it may have moved away and back since the last
    // claim, its producer fenced meanwhile by the other owner, which must in turn be fenced before the progress is read.
    for (const [slot, sink] of this.sinks) {
      this.sinks.delete(slot);
      await sink.close().catch(() => undefined);
    }
    for (const slot of mine) {
      const sink = new KafkaShipSink(this.kafka, {
        progressTopic: this.opts.progressTopic,
        transactionalId: `weblog-ship-${this.opts.progressTopic}-slot-${slot}-of-${this.count}`,
        compression: this.opts.compression,
      });
      await sink.fence();
      this.sinks.set(slot, sink);
    }
  }

  /** Per partition of the log topic, the last record batch committed by any slot's producer. */
  get committedBatches(): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.sinks.values()) for (const [p, o] of s.committedBatches) out.set(p, Math.max(out.get(p) ?? -1, o));
    return out;
  }

  async loadProgress(filter?: ProgressFilter): Promise<Map<string, ShipProgress>> {
    try {
      return await readProgressTopic(this.kafka, this.opts.progressTopic, `${this.opts.group}.progress-reader`, filter);
    } catch (err) {
      throw kafkaError(err, `read the ship progress from ${this.opts.progressTopic}`);
    }
  }

  private sinkOf(key: string): KafkaShipSink {
    const slot = this.slotOf(key, this.count);
    const sink = this.owns(slot) ? this.sinks.get(slot) : undefined;
    if (!sink) throw new SlotLostError(key, slot);
    return sink;
  }

  ship(topic: string, messages: OutboundMessage[], progress: ShipProgress, from: number): Promise<void> {
    return this.sinkOf(progress.key).ship(topic, messages, progress, from);
  }

  record(progress: ShipProgress): Promise<void> {
    return this.sinkOf(progress.key).record(progress);
  }

  /** Leaves the group (its slots move at once) and closes the slots' producers. Idempotent. */
  async close(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    this.changing = true;
    await c?.disconnect().catch(() => undefined);
    await Promise.all([...this.sinks.values()].map((s) => s.close()));
    this.sinks.clear();
  }
}
