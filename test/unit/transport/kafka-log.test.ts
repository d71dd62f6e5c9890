import { describe, expect, it } from 'vitest';
import { kafkajsErrorLevel } from '../../../src/transport/kafka-log.js';

describe('kafkajsErrorLevel', () => {
  it('turns what kafkajs retries or recovers from into warn (seen: ~100 error lines in runs that ended exact)', () => {
    const recovered: [string, Record<string, unknown>][] = [
      ['Response FindCoordinator(key: 1, version: 2)', { error: "The coordinator is loading and hence can't process requests for this group" }],
      [
        'Response AddPartitionsToTxn(key: 24, version: 1)',
        { error: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing' },
      ],
      ['Response JoinGroup(key: 11, version: 5)', { error: 'The group is rebalancing, so a rejoin is needed' }],
      ['Response Heartbeat(key: 12, version: 3)', { error: 'The coordinator is not aware of this member' }],
      ['Response Metadata(key: 3, version: 6)', { error: 'There is no leader for this topic-partition as we are in the middle of a leadership election' }],
      ['Restarting the consumer in 300ms', { retryCount: 0 }],
      ['Crash: KafkaJSNumberOfRetriesExceeded: The group is rebalancing, so a rejoin is needed', {}],
      ['Error when calling eachBatch', { error: 'UNAVAILABLE: insert into access_log: ClickHouse unavailable' }],
      ['Failed to connect to broker, reconnecting', { retryCount: 1 }],
    ];
    for (const [m, f] of recovered) expect(kafkajsErrorLevel(m, f), m).toBe('warn');
  });

  it('keeps error for what needs a human', () => {
    expect(kafkajsErrorLevel('Response SaslAuthenticate(key: 36, version: 1)', { error: 'Request is not valid given the current SASL state' })).toBe('error');
    expect(kafkajsErrorLevel('Crash: KafkaJSProtocolError: Not authorized to access group', {})).toBe('error');
    expect(
      kafkajsErrorLevel('Response Produce(key: 0, version: 7)', {
        error: 'The request included a message larger than the max message size the server will accept',
      }),
    ).toBe('error');
  });
});
