/** kafkajs errors sorted by kafkajs' own types (real kafkajs error classes), never by message. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { WeblogError } from '../../../src/errors.js';
import { isPermanentKafkaError, kafkaError, kafkaErrorType } from '../../../src/transport/kafka-errors.js';

const require = createRequire(import.meta.url);
const errors = require('kafkajs/src/errors') as Record<string, new (e: unknown, opts?: unknown) => Error>;
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };
const protocol = (code: number) => new (errors.KafkaJSProtocolError as new (e: Error) => Error)(createErrorFromCode(code));
const exhausted = (cause: Error) =>
  new (errors.KafkaJSNumberOfRetriesExceeded as new (e: Error, o: unknown) => Error)(cause, { retryCount: 5, retryTime: 3000 });

describe('kafkaError', () => {
  it('refusals are REFUSED, not retriable, and say what to fix', () => {
    const cases: [Error, RegExp][] = [
      [protocol(29), /TOPIC_AUTHORIZATION_FAILED.*grant this Kafka user access to the topic/],
      [protocol(30), /GROUP_AUTHORIZATION_FAILED.*consumer group/],
      [protocol(53), /TRANSACTIONAL_ID_AUTHORIZATION_FAILED.*transactional id/],
      [protocol(10), /MESSAGE_TOO_LARGE.*--message-bytes/],
      [exhausted(protocol(3)), /UNKNOWN_TOPIC_OR_PARTITION.*does not exist/],
      [
        new (errors.KafkaJSSASLAuthenticationError as new (m: string) => Error)('SASL PLAIN authentication failed'),
        /SASL_AUTHENTICATION_FAILED.*user name and password/,
      ],
    ];
    for (const [err, says] of cases) {
      const w = kafkaError(err, 'ship to t');
      expect(w.code, err.message).toBe('REFUSED');
      expect(w.retriable).toBe(false);
      expect(w.message).toMatch(says);
      expect(w.cause).toBe(err);
    }
  });

  it('what kafkajs would retry stays a retriable UNAVAILABLE: brokers down, leaders moving, retries run out on those', () => {
    const retriable = [
      new (errors.KafkaJSConnectionError as new (m: string) => Error)('Connection error: connect ECONNREFUSED 127.0.0.1:1'),
      new (errors.KafkaJSRequestTimeoutError as new (m: string) => Error)('Request Produce timed out'),
      protocol(6), // NOT_LEADER_FOR_PARTITION
      protocol(51), // CONCURRENT_TRANSACTIONS
      exhausted(new (errors.KafkaJSConnectionError as new (m: string) => Error)('Connection error')),
      new Error('something else'),
    ];
    for (const err of retriable) {
      const w = kafkaError(err, 'produce');
      expect(w.code, err.message).toBe('UNAVAILABLE');
      expect(w.retriable).toBe(true);
    }
  });

  it('ours pass through unchanged, also when kafkajs wrapped them (a handler error is not a Kafka refusal)', () => {
    const ours = new WeblogError('UNAVAILABLE', 'ClickHouse down');
    expect(kafkaError(ours, 'x')).toBe(ours);
    expect(kafkaErrorType(exhausted(ours as unknown as Error))).toBeUndefined();
    expect(isPermanentKafkaError(exhausted(ours as unknown as Error))).toBe(false);
  });

  it('classifies by type, not by words in the message', () => {
    expect(isPermanentKafkaError(new Error('TOPIC_AUTHORIZATION_FAILED: not authorized'))).toBe(false);
  });
});
