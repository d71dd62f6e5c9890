/**
 * weblog's produce-request encoder must be a drop-in for kafkajs' own: on the
 * same arguments it writes the very same request bytes (record batches,
 * CRC32C, compressed or not, keys and headers of every kind, one or several
 * topics and partitions, with or without a transactional id and timestamps).
 * Seeded random requests, compared byte for byte with kafkajs' module.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installExactProduceEncoder, produceRequestV3 } from '../../../src/transport/kafkajs-encoder.js';
import { supportedKafkajsVersion } from '../../../src/transport/kafkajs-decoder.js';

const require = createRequire(import.meta.url);
type Request = { apiKey: number; apiVersion: number; apiName: string; expectResponse(): boolean; encode(): Promise<{ buffer: Buffer }> };
type Factory = (args: unknown) => Request;

/** kafkajs' own module, even where weblog's is installed in the module cache already. */
function stockFactory(): Factory {
  const target = require.resolve('kafkajs/src/protocol/requests/produce/v3/request');
  const cached = require.cache[target];
  delete require.cache[target];
  try {
    return require(target) as Factory;
  } finally {
    if (cached) require.cache[target] = cached;
    else delete require.cache[target];
  }
}
const stock = stockFactory();
const Long = require('kafkajs/src/utils/long') as { fromInt(n: number): unknown; fromString(s: string): unknown };

function rng(seed: number) {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

function randomRequest(seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const text = (n: number) => Array.from({ length: n }, () => pick(['a', 'é', ' ', '\n', '😀', 'z', '0'])).join('');
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  const message = () => ({
    key: pick([null, undefined, text(Math.floor(r() * 20)), bytes(Math.floor(r() * 40))]),
    value: pick([bytes(Math.floor(r() * 70_000)), text(Math.floor(r() * 300)), Buffer.alloc(0)]),
    headers: pick([undefined, {}, { 'weblog-source': text(12), 'weblog-offset': String(Math.floor(r() * 1e12)) }, { h: [text(3), bytes(5)], é: bytes(0) }]),
    ...(r() < 0.3 ? { timestamp: String(1_700_000_000_000 + Math.floor(r() * 1e9)) } : {}),
  });
  return {
    acks: pick([-1, 1, 0]),
    timeout: 30_000,
    transactionalId: pick([undefined, null, `weblog-ship-${seed}`]),
    producerId: pick([undefined, Long.fromInt(4711), Long.fromString('9007199254740993')]),
    producerEpoch: Math.floor(r() * 5),
    compression: pick([0, 1]),
    topicData: Array.from({ length: 1 + Math.floor(r() * 3) }, (_, t) => ({
      topic: `topic-${t}-${text(3)}`,
      partitions: Array.from({ length: 1 + Math.floor(r() * 3) }, (_, p) => ({
        partition: p * 2,
        firstSequence: Math.floor(r() * 1000),
        messages: Array.from({ length: Math.floor(r() * 25) }, message),
      })),
    })),
  };
}

afterEach(() => vi.restoreAllMocks());

describe('the exact-size produce encoder', () => {
  it.each(Array.from({ length: 24 }, (_, i) => i + 1))('writes the same bytes as kafkajs (seed %i)', async (seed) => {
    vi.spyOn(Date, 'now').mockReturnValue(1_765_000_000_000 + seed);
    const args = randomRequest(seed);
    const want = stock(args);
    const got = produceRequestV3(args as Parameters<typeof produceRequestV3>[0]);
    expect({ ...got, encode: undefined, expectResponse: got.expectResponse() }).toEqual({ ...want, encode: undefined, expectResponse: want.expectResponse() });
    const [a, b] = [(await want.encode()).buffer, (await got.encode()).buffer];
    expect(b.length).toBe(a.length);
    expect(b.equals(a)).toBe(true);
  });

  it('is installed for the kafkajs version it was written against, once, and not when told to keep kafkajs’ own', () => {
    expect((require('kafkajs/package.json') as { version: string }).version).toBe(supportedKafkajsVersion);
    expect(installExactProduceEncoder({ WEBLOG_KAFKA_ENCODER: 'kafkajs' })).toBe('disabled');
    expect(['installed', 'already-installed']).toContain(installExactProduceEncoder({}));
    expect(installExactProduceEncoder({})).toBe('already-installed');
    expect(require('kafkajs/src/protocol/requests/produce/v3/request')).toBe(produceRequestV3);
  });
});
