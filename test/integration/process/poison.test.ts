/**
 * Other producers write to the raw topic too (Kafka Connect, Filebeat, a
 * script): whatever their headers and sizes, every message becomes a row or a
 * reject with a known reason, and the partition is never poisoned.
 */
import { describe, expect, it } from 'vitest';
import { serverDatabase, serverTargets } from '../../helpers/clickhouse.js';
import { kafkaScope, scopedTopic } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { startProcessor } from '../../helpers/processor.js';
import { waitUntil } from '../../helpers/wait.js';

const scope = kafkaScope();
const { kafka, cleanups } = scope;

const line = (path: string) => `203.0.113.9 - - [17/May/2015:10:05:03 +0000] "GET ${path} HTTP/1.1" 200 12 "-" "curl/8.0"`;

describe('messages from foreign producers', () => {
  it.each(serverTargets())(
    'bad offset, source and reject headers and a 900 KB message ($label): rows or known rejects, the processor keeps going',
    async ({ url }) => {
      const ch = await serverDatabase('poison', cleanups, { url });
      const topic = await scopedTopic(scope, 1);
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const big = `${line('/big')} ${'x'.repeat(900_000)}`;
      await producer.send({
        topic,
        acks: -1,
        messages: [
          { value: line('/nan-offset'), headers: { 'weblog-offset': 'NaN' } },
          { value: line('/huge-offset'), headers: { 'weblog-offset': '123456789012345678901234567890' } },
          { value: line('/negative-offset'), headers: { 'weblog-offset': '-5' } },
          { value: line('/foreign-reject'), headers: { 'weblog-reject': '<script>alert(1)</script>' } },
          { value: line('/our-reject'), headers: { 'weblog-reject': 'line_too_long' } },
          { value: big },
          { value: line('/no-headers') },
          { value: line('/long-source'), headers: { 'weblog-source': 's'.repeat(10_000) } },
          { value: null },
        ],
      });
      await producer.disconnect();
      const run = await startProcessor(ch, topic, uniqueName('g'), { dialect: ch.isLegacy ? 'legacy' : 'modern' });
      cleanups.push(() => run.stop());
      const totals = async () =>
        (await ch.query<{ r: string | number; j: string | number }>('SELECT (SELECT count() FROM access_log) AS r, (SELECT count() FROM rejects) AS j'))[0];
      await waitUntil(
        'all 9 messages accounted for',
        async () => {
          const t = await totals();
          return Number(t?.r) + Number(t?.j) >= 9 || undefined;
        },
        60_000,
      );
      const rows = await ch.query<{ path: string; so: string | number; src_len: string | number }>(
        'SELECT path, source_offset AS so, length(source) AS src_len FROM access_log ORDER BY kafka_offset',
      );
      expect(rows.map((r) => [r.path, Number(r.so)])).toEqual([
        ['/nan-offset', 0],
        ['/huge-offset', 0],
        ['/negative-offset', 0],
        ['/foreign-reject', 0],
        ['/no-headers', 0],
        ['/long-source', 0],
      ]);
      expect(Number(rows[5]?.src_len)).toBe(4096);
      const rejects = await ch.query<{ reason: string; o: string | number; len: string | number; detail: string }>(
        'SELECT reason, kafka_offset AS o, length(line) AS len, detail FROM rejects ORDER BY kafka_offset',
      );
      expect(rejects.map((r) => [r.reason, Number(r.o)])).toEqual([
        ['line_too_long', 4],
        ['line_too_long', 5],
        ['empty_line', 8],
      ]);
      expect(Number(rejects[1]?.len)).toBe(256);
      expect(rejects[1]?.detail).toContain('over the 65536 of --max-line-bytes');
      expect(run.processor.metrics.rejected.total()).toBe(3);
      await run.stop();
    },
    120_000,
  );
});
