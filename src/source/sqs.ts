/**
 * An SQS queue of S3 event notifications (AWS SQS, or any SQS-compatible
 * server such as ElasticMQ): long-poll receive, renew a message's visibility
 * while its object ships, delete it once shipped. Errors come out as
 * WeblogError: a server's trouble retriable, a refusal not.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { WeblogError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { requestHandlerOptions } from './timeouts.js';

/** The longest long poll SQS allows. */
const MAX_WAIT_SECONDS = 20;

export interface QueueMessage {
  id: string;
  /** Names this receipt: deleting or renewing needs it. */
  handle: string;
  body: string;
  /** How many times the queue handed the message out, this time included. */
  receives: number;
}

export interface NotificationQueue {
  describe(): string;
  /**
   * Every shipper reads every message (a Kafka topic), instead of sharing them (SQS): a message naming another
   * replica's object is deleted, not handed back for that replica.
   */
  readonly readsAll?: boolean;
  /** Whether the queue moves messages to a dead-letter queue after some receives (a redrive policy). */
  hasDeadLetterQueue(signal?: AbortSignal): Promise<boolean>;
  /** Up to `max` messages, waiting up to `waitSeconds` for one; each hidden from other receivers for `visibilitySeconds`. */
  receive(max: number, waitSeconds: number, visibilitySeconds: number, signal?: AbortSignal): Promise<QueueMessage[]>;
  /** Hides the message for `seconds` more from now (0: hand it out again now). */
  extend(m: QueueMessage, seconds: number): Promise<void>;
  delete(m: QueueMessage): Promise<void>;
  close(): Promise<void>;
}

export interface SqsQueueOptions {
  url: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** A request that gets no byte for this long (beyond a long poll's wait) is given up and retried (timeouts.ts). */
  timeoutMs?: number | undefined;
}

/**
 * `--notifications sqs://QUEUE_URL`: the queue's own URL after `sqs://`
 * (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, or http://127.0.0.1:9324/000000000000/NAME
 * for a local server); without a scheme, https is meant. The region comes from an AWS
 * host name, else AWS_REGION, else us-east-1.
 */
export function parseQueueUri(uri: string, env: NodeJS.ProcessEnv = process.env): SqsQueueOptions {
  if (!uri.startsWith('sqs://')) throw new WeblogError('CONFIG_INVALID', `--notifications: expected sqs://QUEUE_URL or kafka://TOPIC, got "${redactUrl(uri)}"`);
  const rest = uri.slice('sqs://'.length);
  const text = /^https?:\/\//i.test(rest) ? rest : `https://${rest}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WeblogError('CONFIG_INVALID', `--notifications: "${redactUrl(uri)}" holds no queue URL (sqs://https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE)`);
  }
  if (url.pathname.split('/').filter(Boolean).length < 2)
    throw new WeblogError('CONFIG_INVALID', `--notifications: the queue URL needs /ACCOUNT/QUEUE in its path, got "${redactUrl(url.href)}"`);
  // sqs.REGION.amazonaws.com, or the legacy REGION.queue.amazonaws.com
  const aws = /^sqs[.-]([a-z0-9-]+)\.amazonaws\.com/i.exec(url.hostname) ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com/i.exec(url.hostname);
  const region = aws?.[1] ?? env.AWS_REGION ?? 'us-east-1';
  const key = env.SQS_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
  const secret = env.SQS_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  return { url: url.href.replace(/\/$/, ''), region, credentials: key && secret ? { accessKeyId: key, secretAccessKey: secret } : undefined };
}

/** The receipt is no longer valid: the message was handed out again or deleted meanwhile. */
export function isStaleReceipt(err: unknown): boolean {
  return err instanceof WeblogError && (err.cause as { name?: string } | undefined)?.name?.includes('ReceiptHandle') === true;
}

export function sqsError(err: unknown, what: string): WeblogError {
  if (err instanceof WeblogError) return err;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  const status = e.$metadata?.httpStatusCode ?? 0;
  const throttled = /Throttl|OverLimit|RequestThrottled|KmsThrottl/i.test(e.name ?? '');
  const transient = status >= 500 || status === 0 || throttled || e.name === 'TimeoutError';
  return new WeblogError(
    transient ? 'UNAVAILABLE' : 'REFUSED',
    `${what}: ${e.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}${e.message && e.message !== e.name ? `: ${e.message}` : ''}`,
    { cause: err },
  );
}

export class SqsQueue implements NotificationQueue {
  /** Receives: a long poll keeps the connection silent for up to its 20 s wait, on top of the timeout. */
  private readonly poller: SQSClient;
  /** Everything else (delete, renew, attributes): silent for the timeout alone. */
  private readonly client: SQSClient;

  constructor(private readonly o: SqsQueueOptions) {
    const endpoint = new URL(o.url).origin;
    const config = {
      region: o.region,
      // The queue URL names its host: a local server's, or AWS's own.
      ...(/\.amazonaws\.com$/i.test(new URL(o.url).hostname) ? {} : { endpoint }),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      // Retried by the shipper, with backoff and a log line (the SDK's own 3 attempts would hide a hung server 3 times as long).
      maxAttempts: 1,
    };
    this.poller = new SQSClient({ ...config, requestHandler: requestHandlerOptions(o.timeoutMs, MAX_WAIT_SECONDS * 1000) });
    this.client = new SQSClient({ ...config, requestHandler: requestHandlerOptions(o.timeoutMs) });
  }

  describe(): string {
    return `sqs://${redactUrl(this.o.url)}`;
  }

  async hasDeadLetterQueue(signal?: AbortSignal): Promise<boolean> {
    try {
      const r = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.o.url, AttributeNames: ['RedrivePolicy'] }), {
        abortSignal: signal,
      });
      return typeof r.Attributes?.RedrivePolicy === 'string' && r.Attributes.RedrivePolicy !== '';
    } catch (err) {
      throw sqsError(err, `read the attributes of ${this.describe()}`);
    }
  }

  async receive(max: number, waitSeconds: number, visibilitySeconds: number, signal?: AbortSignal): Promise<QueueMessage[]> {
    let r;
    try {
      r = await this.poller.send(
        new ReceiveMessageCommand({
          QueueUrl: this.o.url,
          MaxNumberOfMessages: Math.min(10, Math.max(1, max)),
          WaitTimeSeconds: Math.min(MAX_WAIT_SECONDS, Math.max(0, Math.round(waitSeconds))),
          VisibilityTimeout: visibilitySeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      throw sqsError(err, `receive from ${this.describe()}`);
    }
    return (r.Messages ?? [])
      .filter((m) => m.ReceiptHandle !== undefined)
      .map((m) => ({
        id: m.MessageId ?? '',
        handle: m.ReceiptHandle as string,
        body: m.Body ?? '',
        receives: Number(m.Attributes?.ApproximateReceiveCount ?? 1) || 1,
      }));
  }

  async extend(m: QueueMessage, seconds: number): Promise<void> {
    try {
      await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.o.url, ReceiptHandle: m.handle, VisibilityTimeout: seconds }));
    } catch (err) {
      throw sqsError(err, `change the visibility of message ${m.id}`);
    }
  }

  async delete(m: QueueMessage): Promise<void> {
    try {
      await this.client.send(new DeleteMessageCommand({ QueueUrl: this.o.url, ReceiptHandle: m.handle }));
    } catch (err) {
      throw sqsError(err, `delete message ${m.id}`);
    }
  }

  async close(): Promise<void> {
    this.poller.destroy();
    this.client.destroy();
  }
}
