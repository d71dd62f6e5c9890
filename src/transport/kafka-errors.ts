/**
 * kafkajs errors as weblog errors, by kafkajs' own error types and its
 * `retriable` flag, never by message. A permanent refusal (no permission,
 * a wrong password, a message over the broker's limit, a topic that does
 * not exist) becomes REFUSED with what to fix; everything else kafkajs
 * would retry (a broker down or restarting, a leader moving) stays
 * UNAVAILABLE, which the callers retry with backoff. Every Kafka call of
 * the transport goes through `kafkaError`, so no raw kafkajs error escapes.
 */
import { WeblogError } from '../errors.js';

interface KafkaJsError extends Error {
  type?: string;
  retriable?: boolean;
  cause?: unknown;
  errors?: unknown[];
}

/** What to do about each permanent refusal, by Kafka error type. */
const advice: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: 'grant this Kafka user access to the topic (ACLs: Describe, Read for processors, Write for shippers)',
  GROUP_AUTHORIZATION_FAILED: 'grant this Kafka user Read on the consumer group (--group)',
  CLUSTER_AUTHORIZATION_FAILED: 'grant this Kafka user the cluster rights it needs (IdempotentWrite; Create to create topics, or pass --no-create-topics)',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "grant this Kafka user Write and Describe on the shipper's transactional id (weblog-ship-*)",
  SASL_AUTHENTICATION_FAILED: 'check the Kafka user name and password (KAFKA_USERNAME, KAFKA_PASSWORD) and --kafka-sasl',
  UNSUPPORTED_SASL_MECHANISM: 'pick a --kafka-sasl mechanism the brokers enable (sasl.enabled.mechanisms)',
  ILLEGAL_SASL_STATE: 'check --kafka-sasl and --kafka-tls against the listener of the brokers',
  MESSAGE_TOO_LARGE: "lower --message-bytes below the topic's max.message.bytes, or raise it",
  RECORD_LIST_TOO_LARGE: "lower --message-bytes below the topic's max.message.bytes, or raise it",
  INVALID_TOPIC_EXCEPTION: 'use a valid topic name',
  POLICY_VIOLATION: 'the brokers refuse topics of this shape: create the topics by hand and pass --no-create-topics',
  UNKNOWN_TOPIC_OR_PARTITION: 'the topic does not exist (deleted, or never created while --no-create-topics is set): create it, or let weblog create it',
};

/** kafkajs' SASL failure has no Kafka error type, only its class. */
const saslNames = new Set(['KafkaJSSASLAuthenticationError']);

/** The innermost kafkajs error: NumberOfRetriesExceeded and NonRetriable wrap the one that counts. */
function rootOf(err: unknown): KafkaJsError | undefined {
  let e = err as KafkaJsError | undefined;
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    if (e instanceof WeblogError) return undefined; // ours (a handler's error kafkajs wrapped): not a Kafka refusal
    if (e.type || saslNames.has(e.name)) return e;
    const inner = e.cause ?? e.errors?.[0];
    if (!(inner instanceof Error)) return e;
    e = inner as KafkaJsError;
  }
  return e instanceof Error ? e : undefined;
}

/** The Kafka error type behind `err` (UNKNOWN_TOPIC_OR_PARTITION, ...), or the SASL class name; undefined when none. */
export function kafkaErrorType(err: unknown): string | undefined {
  const root = rootOf(err);
  if (!root) return undefined;
  return root.type ?? (saslNames.has(root.name) ? 'SASL_AUTHENTICATION_FAILED' : undefined);
}

/**
 * True when retrying cannot help: the refusals listed above. Other errors
 * kafkajs calls non-retriable (a fenced or aborted transaction) are retried
 * by the callers with a new attempt, as before. UNKNOWN_TOPIC_OR_PARTITION
 * reaches us only after kafkajs' own retries ran out (a new topic's leaders
 * are briefly unknown, and kafkajs waits that out).
 */
export function isPermanentKafkaError(err: unknown): boolean {
  const type = kafkaErrorType(err);
  return type !== undefined && type in advice;
}

/** `err` from a kafkajs call doing `what` (e.g. "produce to weblog.raw") as a WeblogError: REFUSED with advice, or retriable UNAVAILABLE. */
export function kafkaError(err: unknown, what: string): WeblogError {
  if (err instanceof WeblogError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isPermanentKafkaError(err)) {
    const type = kafkaErrorType(err) as string;
    const fix = advice[type];
    return new WeblogError('REFUSED', `${what}: Kafka refused it (${type}: ${rootOf(err)?.message ?? message})${fix ? `; ${fix}` : ''}`, { cause: err });
  }
  return new WeblogError('UNAVAILABLE', `${what} failed: ${message}`, { cause: err });
}
