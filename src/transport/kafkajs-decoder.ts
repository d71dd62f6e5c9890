/**
 * A faster record-batch decoder for kafkajs 2.2.4.
 *
 * Why: kafkajs decodes every record through a Decoder object per record,
 * BigInt-backed Long arithmetic for each offset and timestamp, and a reduce
 * with an object spread per header. Profiled on our messages (one log line
 * plus two headers), that was about 7 µs of CPU per message, more than the
 * whole parse + enrich of the line.
 *
 * What: a drop-in replacement for kafkajs' `protocol/recordBatch/v0/decoder`
 * module. It reads the batch straight from the fetch buffer with an integer
 * cursor and returns the very same records (same fields, same string
 * offsets and timestamps, same header objects, Buffers over the same memory),
 * so kafkajs and our transport cannot tell the difference. The unit test holds
 * it equal to kafkajs' own decoder on seeded batches, compressed or not.
 *
 * How it gets in: kafkajs requires its fetch response decoders lazily, on the
 * first Fetch request. `installFastRecordDecoder()` puts this module into the
 * CommonJS cache under the original's file name before that happens. It is
 * used only with the exact kafkajs version it was written against; set
 * WEBLOG_KAFKA_DECODER=kafkajs to keep kafkajs' own decoder.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The kafkajs version this decoder was written against and tested with. */
export const supportedKafkajsVersion = '2.2.4';

interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
}

export interface KafkajsRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  isControlRecord: boolean;
  batchContext: Record<string, unknown>;
}

interface Codec {
  decompress(b: Buffer): Promise<Buffer>;
}

interface KafkajsInternals {
  PartialMessageError: new (message: string) => Error;
  lookupCodecByAttributes: (attributes: number) => Codec | null;
}

let internals: KafkajsInternals | undefined;
function kafkajs(): KafkajsInternals {
  internals ??= {
    PartialMessageError: (require('kafkajs/src/errors') as { KafkaJSPartialMessageError: new (m: string) => Error }).KafkaJSPartialMessageError,
    lookupCodecByAttributes: (require('kafkajs/src/protocol/message/compression') as { lookupCodecByAttributes: (a: number) => Codec | null })
      .lookupCodecByAttributes,
  };
  return internals;
}

const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const LOG_APPEND_TIME = 1;
const CREATE_TIME = 0;
/** Below this, base + a 32-bit delta is still an exact double. */
const SAFE_BASE = Number.MAX_SAFE_INTEGER - 2 ** 32;

/** Reads a record batch at the decoder's cursor; the same contract as kafkajs' own. */
export async function decodeRecordBatch(fetchDecoder: KafkajsDecoder): Promise<Record<string, unknown> & { records: KafkajsRecord[] }> {
  const buf = fetchDecoder.buffer;
  let p = fetchDecoder.offset;
  const firstOffsetBig = buf.readBigInt64BE(p);
  const length = buf.readInt32BE(p + 8);
  p += 12;
  fetchDecoder.offset = p + length;
  if (buf.length - p < length) {
    throw new (kafkajs().PartialMessageError)(`Tried to decode a partial record batch: remainingBytes(${buf.length - p}) < recordBatchLength(${length})`);
  }
  const end = p + length;
  const partitionLeaderEpoch = buf.readInt32BE(p);
  const magicByte = buf.readInt8(p + 4);
  // p + 5: CRC, not checked (neither does kafkajs)
  const attributes = buf.readInt16BE(p + 9);
  const lastOffsetDelta = buf.readInt32BE(p + 11);
  const firstTimestampBig = buf.readBigInt64BE(p + 15);
  const maxTimestamp = String(buf.readBigInt64BE(p + 23));
  const producerId = String(buf.readBigInt64BE(p + 31));
  const producerEpoch = buf.readInt16BE(p + 39);
  const firstSequence = buf.readInt32BE(p + 41);
  p += 45;

  const firstOffset = String(firstOffsetBig);
  const firstTimestamp = String(firstTimestampBig);
  const recordContext = {
    firstOffset,
    firstTimestamp,
    partitionLeaderEpoch,
    inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
    isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
    lastOffsetDelta,
    producerId,
    producerEpoch,
    firstSequence,
    maxTimestamp,
    timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME,
  };
  const ctx = new RecordsContext({ ...recordContext, magicByte }, firstOffsetBig, firstTimestampBig);

  const codec = kafkajs().lookupCodecByAttributes(attributes);
  const count = buf.readInt32BE(p);
  p += 4;
  let records: KafkajsRecord[];
  if (!codec) {
    records = count === -1 ? [] : readRecords(buf, p, count, ctx);
  } else if (count <= 0) {
    records = [];
  } else {
    const inflated = await codec.decompress(buf.subarray(p, end));
    records = readRecords(inflated, 0, count, ctx);
  }
  return { ...recordContext, records };
}

class RecordsContext {
  readonly isControl: boolean;
  readonly appendTime: string | undefined;
  readonly offsetBase: number;
  readonly timeBase: number;
  constructor(
    readonly batchContext: Record<string, unknown> & { isControlBatch: boolean; timestampType: number; maxTimestamp: string; magicByte: number },
    readonly offsetBig: bigint,
    readonly timeBig: bigint,
  ) {
    this.isControl = batchContext.isControlBatch;
    this.appendTime = batchContext.timestampType === LOG_APPEND_TIME && batchContext.maxTimestamp ? batchContext.maxTimestamp : undefined;
    this.offsetBase = offsetBig >= -SAFE_BASE && offsetBig <= SAFE_BASE ? Number(offsetBig) : NaN;
    this.timeBase = timeBig >= -SAFE_BASE && timeBig <= SAFE_BASE ? Number(timeBig) : NaN;
  }
}

/** The read cursor of `readRecords` (synchronous, so one per module is enough). */
let pos = 0;

/** A zigzag varint the way kafkajs reads it (32-bit). */
function varint(buf: Buffer): number {
  let b = buf[pos++] as number;
  let result = b & 0x7f;
  let shift = 7;
  while (b >= 0x80) {
    b = buf[pos++] as number;
    result += (b & 0x7f) << shift;
    shift += 7;
  }
  return (result >>> 1) ^ -(result & 1);
}

/** A zigzag varlong, exact over 64 bits: a number while it is small, a BigInt above 2^49. */
function varlong(buf: Buffer): number | bigint {
  const start = pos;
  let raw = 0;
  let mul = 1;
  let b: number;
  do {
    if (mul > 2 ** 42) {
      pos = start;
      return varlongBig(buf);
    }
    b = buf[pos++] as number;
    raw += (b & 0x7f) * mul;
    mul *= 128;
  } while (b >= 0x80);
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
}

function varlongBig(buf: Buffer): bigint {
  let raw = 0n;
  let shift = 0n;
  let b: number;
  do {
    b = buf[pos++] as number;
    raw += BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b >= 0x80 && shift < 70n);
  return BigInt.asIntN(64, (raw >> 1n) ^ -(raw & 1n));
}

/** base + delta as kafkajs writes it (a decimal string), exact for any 64-bit value. */
function plus(base: number, big: bigint, delta: number | bigint): string {
  if (typeof delta === 'number' && base === base) return String(base + delta);
  return String(big + BigInt(delta));
}

function bytes(buf: Buffer): Buffer | null {
  const n = varint(buf);
  if (n === -1) return null;
  const at = pos;
  pos = at + n;
  return buf.subarray(at, at + n);
}

/** Header names seen lately: the same few names come with every record. */
const names: string[] = [];

/** The header name at buf[at, at + n), the same string as before when it was seen lately. */
function headerName(buf: Buffer, at: number, n: number): string {
  for (let k = 0; k < names.length; k++) {
    const name = names[k] as string;
    if (name.length !== n) continue;
    let i = 0;
    while (i < n && name.charCodeAt(i) === buf[at + i]) i++;
    if (i === n) return name;
  }
  const name = buf.toString('utf8', at, at + n);
  if (n <= 64 && name.length === n) {
    // ASCII only: one char per byte, so the comparison above is exact
    if (names.length === 8) names.shift();
    names.push(name);
  }
  return name;
}

function readRecords(buf: Buffer, start: number, count: number, ctx: RecordsContext): KafkajsRecord[] {
  const records = new Array<KafkajsRecord>(count);
  const { batchContext, isControl, appendTime, offsetBase, timeBase, offsetBig, timeBig } = ctx;
  const magicByte = batchContext.magicByte;
  pos = start;
  for (let i = 0; i < count; i++) {
    const length = varint(buf);
    const next = pos + length;
    const attributes = buf.readInt8(pos++);
    const timestampDelta = varlong(buf);
    const timestamp = appendTime ?? plus(timeBase, timeBig, timestampDelta);
    const offset = plus(offsetBase, offsetBig, varint(buf));
    const key = bytes(buf);
    const value = bytes(buf);
    const headers: KafkajsRecord['headers'] = {};
    const headerCount = varint(buf);
    for (let h = 0; h < headerCount; h++) {
      const n = varint(buf);
      let name = 'null'; // kafkajs names a null header key "null"
      if (n !== -1) {
        name = headerName(buf, pos, n);
        pos += n;
      }
      const v = bytes(buf);
      const prev = headers[name];
      const merged = prev === undefined ? v : Array.isArray(prev) ? prev.concat([v]) : [prev, v];
      if (name === '__proto__') Object.defineProperty(headers, name, { value: merged, enumerable: true, writable: true, configurable: true });
      else headers[name] = merged;
    }
    records[i] = { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: isControl, batchContext };
    pos = next;
  }
  return records;
}

export type InstallResult = 'installed' | 'already-installed' | 'disabled' | 'unsupported-version' | 'too-late';

const mark = Symbol.for('weblog.kafkajs-record-decoder');
Object.defineProperty(decodeRecordBatch, mark, { value: true });

/** True for this decoder (from any copy of this module), false for kafkajs' own. */
export function isWeblogDecoder(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[mark] === true;
}

/**
 * Makes kafkajs use `decodeRecordBatch` for the rest of the process.
 * Idempotent; call it before the first consumer fetches. 'too-late' means a
 * Fetch decoder was already loaded with kafkajs' own record decoder, which
 * then stays in use (correct, only slower).
 */
export function installFastRecordDecoder(env: NodeJS.ProcessEnv = process.env): InstallResult {
  if (env.WEBLOG_KAFKA_DECODER === 'kafkajs') return 'disabled';
  const version = (require('kafkajs/package.json') as { version: string }).version;
  if (version !== supportedKafkajsVersion) return 'unsupported-version';
  const target = require.resolve('kafkajs/src/protocol/recordBatch/v0/decoder');
  if (isWeblogDecoder(require.cache[target]?.exports)) return 'already-installed';
  if (require.cache[require.resolve('kafkajs/src/protocol/requests/fetch/v4/decodeMessages')]) return 'too-late';
  putInModuleCache(target, decodeRecordBatch);
  return 'installed';
}

/** Makes `require(target)` return `exports` from now on (a kafkajs module replaced before kafkajs loads it). */
export function putInModuleCache(target: string, exports: unknown): void {
  const Module = require('node:module') as { new (id: string): NodeJS.Module };
  const m = new Module(target);
  m.filename = target;
  m.loaded = true;
  m.exports = exports;
  require.cache[target] = m;
}
