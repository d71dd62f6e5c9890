/**
 * Which kafkajs log lines need a human. kafkajs logs at error level what it
 * retries and recovers from by itself: a coordinator still loading, a
 * transaction still ending after a restart (CONCURRENT_TRANSACTIONS), a
 * rebalance, a consumer restart after our handler handed back a retriable
 * error. A run that ended exact logged ~100 such "errors". They become warn;
 * error stays for what is left unrecovered.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Messages of the broker error codes kafkajs retries (its own table), plus those it recovers from by rejoining. */
const recovered = new Set<string>(
  (require('kafkajs/src/protocol/error.js') as { errorCodes: { type: string; message: string; retriable: boolean }[] }).errorCodes
    .filter(
      (e) => e.retriable || ['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'MEMBER_ID_REQUIRED', 'FENCED_INSTANCE_ID'].includes(e.type),
    )
    .map((e) => e.message),
);

/** kafkajs messages that announce a retry or a recovery in progress. */
const recovering = [
  /^Restarting the consumer in \d+ms/,
  /^The coordinator is not aware of this member, re-joining the group/,
  /^Failed to connect to broker, reconnecting/,
  /^Error when calling eachBatch/, // our handler handed back a retriable error: kafkajs redelivers
  /^Failed to send messages: /,
  /^Connection error: /,
];

export type KafkajsLevel = 'error' | 'warn';

/**
 * The level for a kafkajs error-level entry: warn when it names a condition
 * kafkajs retries or recovers from (the broker's own error text, or a
 * restart it announces), error otherwise.
 */
export function kafkajsErrorLevel(message: string, fields: Record<string, unknown>): KafkajsLevel {
  const error = typeof fields.error === 'string' ? fields.error : '';
  if (recovered.has(error) || recovered.has(message)) return 'warn';
  if (recovering.some((r) => r.test(message))) return 'warn';
  // "Crash: KafkaJSNumberOfRetriesExceeded: ..." is followed by a restart; other crashes are not.
  if (/^Crash: KafkaJSNumberOfRetriesExceeded/.test(message) || (/^Crash: /.test(message) && [...recovered].some((m) => message.includes(m)))) return 'warn';
  return 'error';
}
