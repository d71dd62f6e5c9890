import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES, requestsOf } from '../../../src/transport/kafka-producers.js';
import type { OutboundMessage } from '../../../src/transport/types.js';

const msg = (bytes: number): OutboundMessage => ({ value: Buffer.alloc(bytes, 97) });

describe('produce requests of one shipper transaction', () => {
  it('keeps every request under the broker limit, in order, losing and repeating nothing', () => {
    const messages = Array.from({ length: 300 }, (_, i) => msg(1000 + ((i * 7919) % 60_000)));
    const parts = requestsOf(messages);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flat()).toEqual(messages);
    for (const p of parts) expect(p.reduce((n, m) => n + (m.value as Buffer).length, 0)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
  });

  it('sends a message larger than the limit alone, and a small transaction as one request', () => {
    const big = msg(MAX_REQUEST_BYTES + 1);
    expect(requestsOf([msg(10), big, msg(10)])).toEqual([[msg(10)], [big], [msg(10)]]);
    const few = [msg(10), msg(20)];
    expect(requestsOf(few)).toEqual([few]);
    expect(requestsOf([])).toEqual([]);
  });
});
