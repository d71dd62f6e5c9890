/**
 * A produce-request encoder for kafkajs 2.2.4 that writes each request in
 * buffers of exact size.
 *
 * Why: kafkajs encodes every record into an Encoder of its own that rounds up
 * to the next power of two (a 64 KiB bundle of lines gets a 128 KiB buffer),
 * then copies the records into a batch that grows by doubling, then copies the
 * compressed batch four more times on its way into the request (batch body,
 * batch, partition, topic, request), each copy into a fresh buffer that grows
 * by doubling. A bundle was copied about ten times; the V8 heap stayed small,
 * yet the Buffers' external memory started a full garbage collection every few
 * dozen megabytes (108 in 4.5 s for 1 M lines), and the shipper spent about a
 * quarter of its CPU there (bench/README.md, "Why the garbage collector costs
 * so much").
 *
 * What: a drop-in replacement for kafkajs' `protocol/requests/produce/v3/request`
 * module (produce v3 to v7 all build their body with it). It writes the same
 * bytes, computed with kafkajs' own Encoder methods and codecs, into one
 * records buffer per partition (its exact size known first) and one request
 * buffer; the unit test holds its output equal to kafkajs' own, byte for
 * byte, on seeded requests, compressed or not.
 *
 * How it gets in: kafkajs requires the produce request module lazily, on the
 * first Produce request; `installExactProduceEncoder()` puts this one into the
 * CommonJS cache under the original's file name before that happens, and only
 * for the kafkajs version it was written against. WEBLOG_KAFKA_ENCODER=kafkajs
 * keeps kafkajs' own.
 */
import { createRequire } from 'node:module';
import { putInModuleCache, supportedKafkajsVersion } from './kafkajs-decoder.js';

const require = createRequire(import.meta.url);

type Bytes = Buffer | string | null | undefined;

/** The kafkajs Encoder methods this module uses (protocol/encoder.js). */
interface KEncoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  writeInt8(v: number): KEncoder;
  writeInt16(v: number): KEncoder;
  writeInt32(v: number): KEncoder;
  writeUInt32(v: number): KEncoder;
  writeInt64(v: unknown): KEncoder;
  writeString(v: string | null): KEncoder;
  writeVarInt(v: number): KEncoder;
  writeVarLong(v: unknown): KEncoder;
  writeVarIntBytes(v: Bytes): KEncoder;
  writeVarIntString(v: string): KEncoder;
}
interface KEncoderClass {
  new (): KEncoder;
  sizeOfVarInt(v: number): number;
  sizeOfVarLong(v: unknown): number;
  sizeOfVarIntBytes(v: Bytes): number;
}

interface Message {
  key?: Bytes;
  value: Bytes;
  headers?: Record<string, Bytes | Bytes[]>;
  timestamp?: string | number;
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: { partition: number; messages: Message[]; firstSequence?: number }[] }[];
}

interface Internals {
  Encoder: KEncoderClass;
  Long: { fromInt(n: number): unknown };
  apiKey: number;
  crc32C: (b: Buffer) => number;
  lookupCodec: (type: number) => { compress(e: KEncoder): Promise<Buffer> } | null;
}

let internals: Internals | undefined;
function kafkajs(): Internals {
  internals ??= {
    Encoder: require('kafkajs/src/protocol/encoder') as KEncoderClass,
    Long: require('kafkajs/src/utils/long') as Internals['Long'],
    apiKey: (require('kafkajs/src/protocol/requests/apiKeys') as { Produce: number }).Produce,
    crc32C: require('kafkajs/src/protocol/recordBatch/crc32C') as Internals['crc32C'],
    lookupCodec: (require('kafkajs/src/protocol/message/compression') as { lookupCodec: Internals['lookupCodec'] }).lookupCodec,
  };
  return internals;
}

/** An Encoder over `size` fresh bytes: kafkajs' write methods then never grow it. */
function exact(size: number): KEncoder {
  const e = new (kafkajs().Encoder)();
  e.buf = Buffer.allocUnsafe(size);
  e.offset = 0;
  return e;
}

type Header = { key: string; value: Bytes };

function headersOf(m: Message): Header[] {
  const h = m.headers ?? {};
  return Object.keys(h).flatMap((key) => {
    const v = h[key];
    return Array.isArray(v) ? v.map((value) => ({ key, value })) : [{ key, value: v }];
  });
}

/** Size of one record's body (record/v0: attributes, deltas, key, value, headers), as kafkajs counts it. */
function bodySize(m: Message, offsetDelta: number, timestampDelta: number, headers: Header[]): number {
  const E = kafkajs().Encoder;
  let size = 1 + E.sizeOfVarLong(timestampDelta) + E.sizeOfVarInt(offsetDelta) + E.sizeOfVarIntBytes(m.key) + E.sizeOfVarIntBytes(m.value);
  size += E.sizeOfVarInt(headers.length);
  for (const h of headers) {
    const k = Buffer.byteLength(h.key);
    size += E.sizeOfVarInt(k) + k;
    size += h.value == null ? E.sizeOfVarInt(-1) : E.sizeOfVarInt(Buffer.byteLength(h.value)) + Buffer.byteLength(h.value);
  }
  return size;
}

const BATCH_BODY_HEAD = 2 + 4 + 8 + 8 + 8 + 2 + 4; // attributes .. firstSequence
const BATCH_HEAD = 8 + 4 + 4 + 1 + 4; // firstOffset, length, partitionLeaderEpoch, magic, crc

/** One partition's record batch, ready to be written: its records (compressed or not) and the fields around them. */
interface Batch {
  partition: number;
  attributes: number;
  count: number;
  records: Buffer;
  firstTimestamp: unknown;
  maxTimestamp: unknown;
  firstSequence: number;
}

async function batchOf(p: ProduceArgs['topicData'][number]['partitions'][number], compression: number, transactional: boolean): Promise<Batch> {
  const { Encoder: E } = kafkajs();
  const now = Date.now();
  // As kafkajs does it, sort() included (it compares the timestamps as strings).
  const stamps = p.messages
    .map((m) => m.timestamp)
    .filter((t) => t != null)
    .sort() as (string | number)[];
  const times = stamps.length === 0 ? [now] : stamps;
  const firstTimestamp = times[0] as string | number;
  const maxTimestamp = times[times.length - 1] as string | number;
  const laid = p.messages.map((m, i) => {
    const timestampDelta = Number(m.timestamp || now) - Number(firstTimestamp);
    const headers = headersOf(m);
    const body = bodySize(m, i, timestampDelta, headers);
    return { m, i, timestampDelta, headers, body };
  });
  let size = 0;
  for (const r of laid) size += E.sizeOfVarInt(r.body) + r.body;
  const out = exact(size);
  for (const r of laid) {
    out.writeVarInt(r.body).writeInt8(0).writeVarLong(r.timestampDelta).writeVarInt(r.i).writeVarIntBytes(r.m.key).writeVarIntBytes(r.m.value);
    out.writeVarInt(r.headers.length);
    for (const h of r.headers) out.writeVarIntString(h.key).writeVarIntBytes(h.value);
  }
  const codec = compression & 0x07;
  const records = codec === 0 ? out.buf : await compress(codec, out);
  return {
    partition: p.partition,
    attributes: codec | (transactional ? 16 : 0),
    count: p.messages.length,
    records,
    firstTimestamp,
    maxTimestamp,
    firstSequence: p.firstSequence ?? 0,
  };
}

async function compress(codec: number, records: KEncoder): Promise<Buffer> {
  const c = kafkajs().lookupCodec(codec);
  if (!c) throw new Error(`kafkajs has no codec for compression type ${codec}`);
  return c.compress(records);
}

/** The produce request (v3 body) kafkajs would build, in one buffer of exact size. */
async function encodeProduce(a: Required<Pick<ProduceArgs, 'producerEpoch' | 'compression'>> & ProduceArgs & { producerId: unknown }): Promise<KEncoder> {
  const transactional = !!a.transactionalId;
  const topics = [];
  for (const t of a.topicData) {
    const batches: Batch[] = [];
    for (const p of t.partitions) batches.push(await batchOf(p, a.compression, transactional));
    topics.push({ topic: t.topic, batches });
  }
  const str = (s: string | null | undefined) => 2 + (s == null ? 0 : Buffer.byteLength(s, 'utf8'));
  const batchSize = (b: Batch) => BATCH_HEAD + BATCH_BODY_HEAD + 4 + b.records.length;
  let size = str(a.transactionalId) + 2 + 4 + 4;
  for (const t of topics) {
    size += str(t.topic) + 4;
    for (const b of t.batches) size += 4 + 4 + batchSize(b);
  }
  const e = exact(size);
  e.writeString(a.transactionalId ?? null)
    .writeInt16(a.acks)
    .writeInt32(a.timeout)
    .writeInt32(topics.length);
  for (const t of topics) {
    e.writeString(t.topic).writeInt32(t.batches.length);
    for (const b of t.batches) {
      const total = batchSize(b);
      e.writeInt32(b.partition).writeInt32(total);
      // RecordBatch v0: firstOffset, length (of what follows), partitionLeaderEpoch, magic 2, CRC32C of the body, body.
      e.writeInt64(kafkajs().Long.fromInt(0))
        .writeInt32(total - 12)
        .writeInt32(0)
        .writeInt8(2);
      const crcAt = e.offset;
      e.offset += 4;
      const bodyAt = e.offset;
      e.writeInt16(b.attributes)
        .writeInt32(b.count - 1)
        .writeInt64(b.firstTimestamp)
        .writeInt64(b.maxTimestamp)
        .writeInt64(a.producerId)
        .writeInt16(a.producerEpoch)
        .writeInt32(b.firstSequence)
        .writeInt32(b.count);
      b.records.copy(e.buf, e.offset);
      e.offset += b.records.length;
      e.buf.writeUInt32BE(kafkajs().crc32C(e.buf.subarray(bodyAt, e.offset)) >>> 0, crcAt);
    }
  }
  if (e.offset !== size) throw new Error(`produce request: wrote ${e.offset} bytes, sized ${size}`);
  return e;
}

/** The module's export: kafkajs' produce/v3/request factory, same arguments, same request object. */
export function produceRequestV3(args: ProduceArgs) {
  const { acks, timeout, transactionalId = null, producerEpoch = 0, compression = 0, topicData } = args;
  const producerId = args.producerId ?? kafkajs().Long.fromInt(-1);
  return {
    apiKey: kafkajs().apiKey,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => acks !== 0,
    encode: () => encodeProduce({ acks, timeout, transactionalId, producerId, producerEpoch, compression, topicData }),
  };
}

const mark = Symbol.for('weblog.kafkajs-encoder');
(produceRequestV3 as unknown as Record<symbol, boolean>)[mark] = true;

/**
 * Makes kafkajs build produce requests with `produceRequestV3` for the rest of
 * the process. Idempotent; call it before the first Produce request.
 * 'too-late' means kafkajs' own module was loaded already and stays in use
 * (correct, only slower).
 */
export function installExactProduceEncoder(
  env: NodeJS.ProcessEnv = process.env,
): 'installed' | 'already-installed' | 'too-late' | 'disabled' | 'unsupported-version' {
  if (env.WEBLOG_KAFKA_ENCODER === 'kafkajs') return 'disabled';
  if ((require('kafkajs/package.json') as { version: string }).version !== supportedKafkajsVersion) return 'unsupported-version';
  const target = require.resolve('kafkajs/src/protocol/requests/produce/v3/request');
  const loaded = require.cache[target]?.exports as Record<symbol, unknown> | undefined;
  if (loaded?.[mark] === true) return 'already-installed';
  if (loaded) return 'too-late';
  putInModuleCache(target, produceRequestV3);
  return 'installed';
}
