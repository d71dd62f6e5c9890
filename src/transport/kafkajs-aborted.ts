/**
 * Records of aborted transactions, dropped as Kafka's own consumer drops them.
 *
 * Why: kafkajs 2.2.4 (`consumer/filterAbortedMessages.js`) takes at most one
 * aborted transaction from the fetch response's list per record it looks at,
 * in the order the broker lists them. The broker lists them in the order
 * they were aborted (its transaction index), not the order they began, and a
 * fetch that starts inside two of them lists both before its first record.
 * In both cases a record of an aborted transaction reaches the application
 * as if committed. Seen on our broker: one transaction begun before another
 * and aborted after it leaked its first record; a fetch from inside two
 * aborted transactions leaked the second one's next record. A shipper group
 * makes exactly that (a slot's producer fenced while another's transaction
 * is open); the lines were then in the topic twice (the aborted copy and the
 * new owner's), and a leaked progress record said an object had been
 * shipped further than it had.
 *
 * What: `markAbortedRecords` applies the Java client's rule (Fetcher: every
 * aborted transaction whose first offset is at or before a record is open
 * until its producer's abort marker) to a fetched partition, and hands
 * kafkajs' filter a list it cannot misread: one sentinel transaction open
 * from the start, and the aborted records moved to the sentinel's producer.
 * Nothing else changes: the records kept, control records and offsets are
 * kafkajs' own, so its offset bookkeeping is untouched.
 *
 * How it gets in: `installAbortedRecordFilter()` wraps kafkajs'
 * `Broker.prototype.fetch`, which its consumers call for every fetch; a
 * prototype method, so it works whenever kafkajs was loaded.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A record as kafkajs decodes it (the fields read here). */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord: boolean;
  batchContext: Record<string, unknown> & { producerId?: unknown; inTransaction?: unknown };
}

/** A partition of a fetch response as kafkajs decodes it (the fields read here). */
export interface FetchedPartition {
  abortedTransactions?: { producerId: string; firstOffset: string }[];
  messages: FetchedRecord[];
}

/** No producer has this id (the broker hands out ids from 0; -1 means none). */
const SENTINEL_PRODUCER = '-2';

/** A control record's key: version (int16) then type (int16); type 0 is an abort marker, 1 a commit. */
const isAbortMarker = (r: FetchedRecord) => r.isControlRecord && r.key !== null && r.key.length >= 4 && r.key.readInt16BE(2) === 0;

/**
 * Marks the records of `p` that belong to an aborted transaction so kafkajs'
 * Batch drops exactly those. Returns how many were marked.
 */
export function markAbortedRecords(p: FetchedPartition): number {
  const listed = p.abortedTransactions;
  if (!listed || listed.length === 0) return 0;
  const pending = listed
    .map((t) => ({ producerId: t.producerId, first: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const open = new Set<string>();
  const moved = new Map<object, FetchedRecord['batchContext']>();
  let next = 0;
  let marked = 0;
  for (const r of p.messages) {
    const at = BigInt(r.offset);
    while (next < pending.length && (pending[next] as { first: bigint }).first <= at) open.add((pending[next++] as { producerId: string }).producerId);
    const ctx = r.batchContext;
    const producer = String(ctx.producerId);
    if (r.isControlRecord) {
      if (isAbortMarker(r)) open.delete(producer);
      continue;
    }
    if (ctx.inTransaction !== true || !open.has(producer)) continue;
    let sentinel = moved.get(ctx);
    if (!sentinel) moved.set(ctx, (sentinel = { ...ctx, producerId: SENTINEL_PRODUCER, inTransaction: true }));
    r.batchContext = sentinel;
    marked++;
  }
  // kafkajs opens the sentinel at the first record (offset >= -1) and drops every record moved to it; no
  // abort marker names it, so it stays open to the end. Nothing aborted here: nothing for kafkajs to drop.
  p.abortedTransactions = marked > 0 ? [{ producerId: SENTINEL_PRODUCER, firstOffset: '-1' }] : [];
  return marked;
}

type FetchResponse = { responses?: { partitions?: FetchedPartition[] }[] };
type BrokerClass = { prototype: { fetch: (this: unknown, ...args: unknown[]) => Promise<FetchResponse> } };
const mark = Symbol.for('weblog.abortedRecordFilter');

/** Makes every kafkajs consumer of this process drop aborted records by Kafka's rule (see above). Idempotent. */
export function installAbortedRecordFilter(): void {
  const Broker = require('kafkajs/src/broker') as BrokerClass;
  const original = Broker.prototype.fetch as BrokerClass['prototype']['fetch'] & { [mark]?: true };
  if (original[mark]) return;
  const fetch = async function (this: unknown, ...args: unknown[]): Promise<FetchResponse> {
    const response = await original.apply(this, args);
    for (const topic of response.responses ?? []) for (const p of topic.partitions ?? []) markAbortedRecords(p);
    return response;
  };
  Object.defineProperty(fetch, mark, { value: true });
  Broker.prototype.fetch = fetch;
}
