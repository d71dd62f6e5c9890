/**
 * Lag on a transactional topic (what the shipper writes): each transaction
 * ends with a marker that takes an offset. Consumed to the end, the lag must
 * read 0 in /metrics and in the group's committed offsets.
 */
import { describe, expect, it } from 'vitest';
import { serverDatabase, serverTargets } from '../../helpers/clickhouse.js';
import { kafkaScope, scopedTopic } from '../../helpers/kafka.js';
import { uniqueName } from '../../helpers/names.js';
import { startProcessor } from '../../helpers/processor.js';
import { waitUntil } from '../../helpers/wait.js';

const scope = kafkaScope();
const { kafka, cleanups } = scope;

describe('consumer lag', () => {
  it.each(serverTargets())(
    'reaches 0 on a transactional topic ($label), in the metric and in the committed offsets (it stayed at 1 per partition)',
    async ({ url }) => {
      const ch = await serverDatabase('lag', cleanups, { url });
      const topic = await scopedTopic(scope, 2);
      const producer = kafka.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (let t = 0; t < 3; t++) {
        const tx = await producer.transaction();
        await tx.send({
          topic,
          messages: Array.from({ length: 100 }, (_, i) => ({
            partition: i % 2,
            value: `10.0.0.1 - - [17/May/2015:10:00:00 +0000] "GET /${t}/${i} HTTP/1.1" 200 1 "-" "-"`,
          })),
        });
        await tx.commit();
      }
      await producer.disconnect();
      const group = uniqueName('g');
      const run = await startProcessor(ch, topic, group, { dialect: ch.isLegacy ? 'legacy' : 'modern' });
      cleanups.push(() => run.stop());
      await waitUntil('300 rows', async () => Number((await ch.query<{ c: string }>('SELECT count() AS c FROM access_log'))[0]?.c) >= 300 || undefined, 60_000);
      const admin = kafka.admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(topic);
        await waitUntil(
          'committed offsets at the end of each partition',
          async () => {
            const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
            const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
            return ends.every((e) => at.get(e.partition) === e.high) || undefined;
          },
          20_000,
        );
        expect(ends.map((e) => Number(e.high))).toEqual([153, 153]); // 150 lines + 3 markers each
      } finally {
        await admin.disconnect();
      }
      expect(run.processor.metrics.lag.get({ topic, partition: 0 })).toBe(0);
      expect(run.processor.metrics.lag.get({ topic, partition: 1 })).toBe(0);
      await run.stop();
    },
    120_000,
  );
});
