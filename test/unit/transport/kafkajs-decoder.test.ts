/**
 * weblog's record-batch decoder must be a drop-in for kafkajs' own: on the
 * same bytes it returns equal batches (every record field, header objects,
 * string offsets and timestamps) and leaves the fetch cursor at the same
 * place. Batches are encoded here byte by byte from seeded random records,
 * so they can hold what kafkajs' encoder cannot write (null header values,
 * control and LOG_APPEND_TIME batches, 64-bit deltas).
 */
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatch, installFastRecordDecoder, isWeblogDecoder, supportedKafkajsVersion } from '../../../src/transport/kafkajs-decoder.js';

const require = createRequire(import.meta.url);
type Decoder = { buffer: Buffer; offset: number };
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => Decoder;
const stockDecode = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: Decoder) => Promise<unknown>;

function zigzag(v: bigint): bigint {
  return v >= 0n ? v << 1n : (-v << 1n) - 1n;
}
function varint(v: number | bigint): Buffer {
  let u = zigzag(BigInt(v));
  const out: number[] = [];
  do {
    let b = Number(u & 0x7fn);
    u >>= 7n;
    if (u > 0n) b |= 0x80;
    out.push(b);
  } while (u > 0n);
  return Buffer.from(out);
}
function bytes(b: Buffer | null): Buffer {
  return b === null ? varint(-1) : Buffer.concat([varint(b.length), b]);
}

interface RawRecord {
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string | null, Buffer | null][];
}

function encodeRecord(r: RawRecord): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]),
    varint(r.timestampDelta),
    varint(r.offsetDelta),
    bytes(r.key),
    bytes(r.value),
    varint(r.headers.length),
    ...r.headers.flatMap(([k, v]) => [k === null ? varint(-1) : bytes(Buffer.from(k)), bytes(v)]),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

interface RawBatch {
  firstOffset: bigint;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  attributes: number;
  records: RawRecord[];
}

function encodeBatch(b: RawBatch): Buffer {
  const records = Buffer.concat(b.records.map(encodeRecord));
  const head = Buffer.alloc(4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4);
  let p = 0;
  p = head.writeInt32BE(7, p); // partition leader epoch
  p = head.writeInt8(2, p); // magic
  p = head.writeUInt32BE(0xdeadbeef, p); // CRC: read by neither decoder
  p = head.writeInt16BE(b.attributes, p);
  p = head.writeInt32BE(Math.max(0, b.records.length - 1), p);
  p = head.writeBigInt64BE(b.firstTimestamp, p);
  p = head.writeBigInt64BE(b.maxTimestamp, p);
  p = head.writeBigInt64BE(b.producerId, p);
  p = head.writeInt16BE(3, p);
  p = head.writeInt32BE(11, p);
  head.writeInt32BE(b.records.length, p);
  const body = Buffer.concat([head, (b.attributes & 7) === 1 ? gzipSync(records) : records]);
  const prefix = Buffer.alloc(12);
  prefix.writeBigInt64BE(b.firstOffset, 0);
  prefix.writeInt32BE(body.length, 8);
  return Buffer.concat([prefix, body]);
}

function rng(seed: number) {
  let s = seed;
  const int = (n: number) => (s = (s * 16807) % 2147483647) % n;
  return { int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] as T };
}

const texts = [
  '',
  'GET / HTTP/1.1',
  '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /x HTTP/1.1" 200 203023 "-" "Mozilla/5.0"',
  'ünïcödé ✓ 日本',
  '\u0000\t"\\',
];
const names = ['weblog-source', 'weblog-offset', 'weblog-reject', 'dup', '__proto__', 'ünï', '', null] as const;

function randomBatch(seed: number): RawBatch {
  const r = rng(seed);
  const count = r.pick([0, 1, 2, 7, 40]);
  const records: RawRecord[] = [];
  for (let i = 0; i < count; i++) {
    const headers: [string | null, Buffer | null][] = [];
    for (let h = r.int(5); h > 0; h--) headers.push([r.pick(names), r.int(6) === 0 ? null : Buffer.from(r.pick(texts))]);
    records.push({
      timestampDelta: r.pick([0n, 1n, -1n, 12345n, -(2n ** 45n), 2n ** 48n + 3n, 2n ** 50n, 2n ** 53n + 1n, -(2n ** 54n + 3n), -(2n ** 60n), 2n ** 62n]),
      offsetDelta: r.int(4) === 0 ? r.int(100_000) : i,
      key: r.int(3) === 0 ? null : Buffer.from(r.pick(texts)),
      value: r.int(8) === 0 ? null : Buffer.from(r.pick(texts) + String(r.int(1e6))),
      headers,
    });
  }
  const flags = r.pick([0, 0, 0x10, 0x20 | 0x10, 0x08]) | r.pick([0, 0, 1]);
  return {
    firstOffset: r.pick([0n, 17n, 2n ** 40n, 2n ** 53n - 5n, 2n ** 53n + 7n, 2n ** 62n]),
    firstTimestamp: r.pick([-1n, 1_700_000_000_000n, 2n ** 60n]),
    maxTimestamp: r.pick([-1n, 0n, 1_700_000_000_123n]),
    producerId: r.pick([-1n, 4n, 2n ** 40n]),
    attributes: flags,
    records,
  };
}

async function both(buf: Buffer): Promise<{ stock: unknown; ours: unknown; stockAt: number; oursAt: number }> {
  const a = new KafkajsDecoder(buf);
  const b = new KafkajsDecoder(buf);
  const stock = await stockDecode(a).catch((e: Error) => ({ error: e.name }));
  const ours = await decodeRecordBatch(b).catch((e: Error) => ({ error: e.name }));
  return { stock, ours, stockAt: a.offset, oursAt: b.offset };
}

describe('kafkajs record-batch decoder', () => {
  it(`is written for the kafkajs version installed (${supportedKafkajsVersion})`, () => {
    expect((require('kafkajs/package.json') as { version: string }).version).toBe(supportedKafkajsVersion);
    // the comparisons below are against kafkajs' own decoder, not a copy of ours
    expect(isWeblogDecoder(stockDecode)).toBe(false);
    expect(isWeblogDecoder(decodeRecordBatch)).toBe(true);
  });

  it('decodes 600 seeded batches exactly as kafkajs does (gzip, transactions, control, log-append time, 64-bit values)', async () => {
    let records = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const buf = encodeBatch(randomBatch(seed));
      const r = await both(buf);
      expect(r.ours, `seed ${seed}`).toStrictEqual(r.stock);
      expect(r.oursAt).toBe(r.stockAt);
      records += (r.stock as { records: unknown[] }).records.length;
    }
    expect(records).toBeGreaterThan(5000);
  });

  it('reads back to back batches from one fetch buffer, and reports a cut-off last batch the same way', async () => {
    const buf = Buffer.concat([1, 2, 3].map((s) => encodeBatch(randomBatch(s * 7))));
    const cut = buf.subarray(0, buf.length - 9);
    const a = new KafkajsDecoder(cut);
    const b = new KafkajsDecoder(cut);
    for (let i = 0; i < 3; i++) {
      const stock = await stockDecode(a).catch((e: Error) => e.name);
      const ours = await decodeRecordBatch(b).catch((e: Error) => e.name);
      expect(ours).toStrictEqual(stock);
      expect(b.offset).toBe(a.offset);
    }
    expect(await decodeRecordBatch(new KafkajsDecoder(cut.subarray(0, 100))).catch((e: Error) => e.name)).toBe('KafkaJSPartialMessageError');
  });

  it('keeps the headers it was sent: duplicates become arrays, a __proto__ header stays an own property', async () => {
    const buf = encodeBatch({
      firstOffset: 5n,
      firstTimestamp: 1_700_000_000_000n,
      maxTimestamp: 0n,
      producerId: -1n,
      attributes: 0,
      records: [
        {
          timestampDelta: 2n,
          offsetDelta: 0,
          key: null,
          value: Buffer.from('line'),
          headers: [
            ['a', Buffer.from('1')],
            ['a', null],
            ['a', Buffer.from('3')],
            ['__proto__', Buffer.from('x')],
          ],
        },
      ],
    });
    const { records } = await decodeRecordBatch(new KafkajsDecoder(buf));
    const [rec] = records;
    expect(rec?.offset).toBe('5');
    expect(rec?.timestamp).toBe('1700000000002');
    expect(rec?.headers.a).toEqual([Buffer.from('1'), null, Buffer.from('3')]);
    expect(Object.getPrototypeOf(rec?.headers)).toBe(Object.prototype);
    expect(Object.keys(rec?.headers ?? {})).toEqual(['a', '__proto__']);
  });

  it("is not installed when asked to keep kafkajs' own decoder", () => {
    expect(installFastRecordDecoder({ WEBLOG_KAFKA_DECODER: 'kafkajs' })).toBe('disabled');
  });
});
