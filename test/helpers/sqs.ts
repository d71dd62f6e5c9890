/**
 * A real SQS-compatible server (ElasticMQ in the local stack) for tests, and
 * S3 event notification messages in the exact formats S3 sends: the S3
 * event JSON, its SNS envelope, EventBridge's event and S3's test event.
 */
import { randomBytes } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, inject } from 'vitest';
import { uniqueName } from './names.js';

/** The server's endpoint, or undefined where none runs (tests that need one skip with a message). */
export function sqsEndpoint(): string | undefined {
  return inject('endpoints').sqsEndpoint;
}

/** Credentials for the shipper's SQS client (ElasticMQ takes any). */
export const sqsEnv = { SQS_ACCESS_KEY_ID: 'weblog', SQS_SECRET_ACCESS_KEY: 'weblog-secret' };

export function sqsScope() {
  const endpoint = sqsEndpoint() ?? 'http://127.0.0.1:1';
  const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'weblog', secretAccessKey: 'weblog-secret' } });
  const queues: string[] = [];
  afterAll(async () => {
    for (const q of queues) await client.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => undefined);
    client.destroy();
  });

  /** A fresh queue; its URL. */
  async function queue(attributes: Record<string, string> = {}): Promise<string> {
    const r = await client.send(new CreateQueueCommand({ QueueName: uniqueName('notify'), Attributes: attributes }));
    queues.push(r.QueueUrl as string);
    return r.QueueUrl as string;
  }

  async function send(url: string, body: string): Promise<void> {
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
  }

  /** Messages in the queue, visible and in flight. */
  async function depth(url: string): Promise<{ visible: number; inFlight: number }> {
    const r = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(r.Attributes?.ApproximateNumberOfMessages), inFlight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible) };
  }

  /** Takes a peek: receives what is visible now and shows it again at once (visibility 0). */
  async function peek(url: string): Promise<string[]> {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0 }));
    return (r.Messages ?? []).map((m) => m.Body ?? '');
  }

  return { client, queue, send, depth, peek };
}

/** `Records` of S3 event JSON as S3 sends them; keys URL-encoded as S3 does (a space as '+'). */
export function s3EventRecord(bucket: string, key: string, o: { size?: number; etag?: string; eventName?: string } = {}) {
  const encoded = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: o.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDAJDPLRKLG7UEXAMPLE' },
    requestParameters: { sourceIPAddress: '203.0.113.15' },
    responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': randomBytes(32).toString('base64') },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'weblog-access-logs',
      bucket: { name: bucket, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encoded,
        ...(o.size !== undefined ? { size: o.size } : {}),
        ...(o.etag !== undefined ? { eTag: o.etag } : {}),
        sequencer: randomBytes(9).toString('hex').toUpperCase(),
      },
    },
  };
}

export const s3Event = (...records: ReturnType<typeof s3EventRecord>[]) => JSON.stringify({ Records: records });

/** S3's message when a notification configuration is saved. */
export const s3TestEvent = (bucket: string) =>
  JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date().toISOString(), Bucket: bucket, RequestId: 'A1B2C3', HostId: 'h0st' });

/** S3 -> SNS -> SQS: the event is the envelope's Message string. */
export const snsWrapped = (event: string) =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:s3-logs',
    Subject: 'Amazon S3 Notification',
    Message: event,
    Timestamp: new Date().toISOString(),
    SignatureVersion: '1',
  });

/** S3 -> EventBridge -> SQS. */
export const eventBridgeEvent = (bucket: string, key: string, size: number, etag: string) =>
  JSON.stringify({
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '111122223333',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key, size, etag, sequencer: '00617F08299329D189' },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '123456789012',
      'source-ip-address': '1.2.3.4',
      reason: 'PutObject',
    },
  });

/** MinIO's message to a Kafka notification target: the S3 event JSON (its key encoded, '/' too) with MinIO's own fields around it. */
export function minioEvent(bucket: string, key: string, size: number): string {
  const record = s3EventRecord(bucket, key, { size, eventName: 's3:ObjectCreated:Put' });
  record.eventSource = 'minio:s3';
  record.s3.object.key = encodeURIComponent(key);
  return JSON.stringify({ EventName: 's3:ObjectCreated:Put', Key: `${bucket}/${key}`, Records: [record] });
}
