import { describe, expect, it } from 'vitest';
import { decodeEventKey, parseEventMessage } from '../../../src/source/s3-events.js';
import { parseQueueUri } from '../../../src/source/sqs.js';
import { WeblogError } from '../../../src/errors.js';

const record = (eventName: string, key: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  eventTime: '2026-12-07T01:02:03.000Z',
  eventName,
  s3: { bucket: { name: 'logs-bucket' }, object: { key, size: 42, eTag: '0123abcd', ...extra } },
});

describe('parseEventMessage', () => {
  it('reads S3 event JSON: created objects with decoded keys, size, ETag and time; other events as nothing to ship', () => {
    const r = parseEventMessage(
      JSON.stringify({ Records: [record('ObjectCreated:Put', 'logs/a+b%2Bc%C3%A9.log'), record('ObjectRemoved:Delete', 'logs/old.log')] }),
    );
    expect(r).toEqual({
      ok: true,
      notices: [
        { kind: 'created', bucket: 'logs-bucket', key: 'logs/a b+cé.log', size: 42, etag: '0123abcd', time: Date.parse('2026-12-07T01:02:03Z') },
        { kind: 'other', bucket: 'logs-bucket', key: 'logs/old.log', event: 'ObjectRemoved:Delete' },
      ],
    });
  });

  it("reads MinIO's event names (s3: prefix), the SNS envelope and S3's test event", () => {
    const minio = JSON.stringify({ EventName: 's3:ObjectCreated:Put', Key: 'logs-bucket/x.log', Records: [record('s3:ObjectCreated:Put', 'x.log')] });
    expect(parseEventMessage(minio)).toMatchObject({ ok: true, notices: [{ kind: 'created', key: 'x.log' }] });
    const sns = JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ Records: [record('ObjectCreated:CompleteMultipartUpload', 'big.log')] }) });
    expect(parseEventMessage(sns)).toMatchObject({ ok: true, notices: [{ kind: 'created', key: 'big.log' }] });
    const test = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'logs-bucket' });
    expect(parseEventMessage(test)).toEqual({ ok: true, notices: [{ kind: 'test', bucket: 'logs-bucket' }] });
  });

  it('reads EventBridge events: the key as written first, the decoded one as a fallback', () => {
    const e = (type: string, key: string) =>
      JSON.stringify({
        'detail-type': type,
        source: 'aws.s3',
        time: '2026-12-07T00:00:00Z',
        detail: { bucket: { name: 'b' }, object: { key, size: 5, etag: 'e1' } },
      });
    expect(parseEventMessage(e('Object Created', 'a%20b.log'))).toEqual({
      ok: true,
      notices: [{ kind: 'created', bucket: 'b', key: 'a%20b.log', rawKey: 'a b.log', size: 5, etag: 'e1', time: Date.parse('2026-12-07T00:00:00Z') }],
    });
    expect(parseEventMessage(e('Object Deleted', 'a.log'))).toEqual({
      ok: true,
      notices: [{ kind: 'other', bucket: 'b', key: 'a.log', event: 'Object Deleted' }],
    });
  });

  it('rejects what is not an S3 event, naming why', () => {
    const reason = (body: string | undefined) => {
      const r = parseEventMessage(body);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason('')).toBe('empty message');
    expect(reason('hello')).toMatch(/^not JSON: "hello"/);
    expect(reason('[1,2]')).toBe('not a JSON object');
    expect(reason('{"foo":1,"bar":2}')).toBe('not an S3 event notification (no "Records", "detail-type" or "Event"; keys: foo, bar)');
    expect(reason('{"Records":[]}')).toBe('"Records" is empty');
    expect(reason(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put' }] }))).toBe('Records[0] has no s3.bucket and s3.object');
    expect(reason(JSON.stringify({ Records: [{ ...record('ObjectCreated:Put', 'a'), eventSource: 'aws:sqs' }] }))).toBe(
      'Records[0]: eventSource "aws:sqs" is not S3',
    );
    expect(reason(JSON.stringify({ Records: [record('ObjectCreated:Put', '%E0%A4%A')] }))).toMatch(/is not URL-encoded text/);
    expect(reason(JSON.stringify({ Type: 'Notification', Message: 'nope' }))).toMatch(/^SNS message: not JSON/);
    expect(reason(JSON.stringify({ 'detail-type': 'x', source: 'aws.ec2', detail: {} }))).toBe('an EventBridge event from "aws.ec2", not aws.s3');
  });

  it('decodes keys as S3 encodes them', () => {
    expect(decodeEventKey('a+b%2B%2Fc')).toBe('a b+/c');
    expect(decodeEventKey('%zz')).toBeUndefined();
  });
});

describe('parseQueueUri', () => {
  it('takes the queue URL after sqs://, https when no scheme; the region from an AWS host', () => {
    expect(parseQueueUri('sqs://https://sqs.eu-west-1.amazonaws.com/123456789012/logs', {})).toEqual({
      url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/logs',
      region: 'eu-west-1',
      credentials: undefined,
    });
    expect(parseQueueUri('sqs://sqs.us-east-2.amazonaws.com/1/q', {}).url).toBe('https://sqs.us-east-2.amazonaws.com/1/q');
    expect(parseQueueUri('sqs://https://eu-central-1.queue.amazonaws.com/1/q', {}).region).toBe('eu-central-1');
    const local = parseQueueUri('sqs://http://127.0.0.1:9324/000000000000/q', {
      AWS_REGION: 'ap-northeast-1',
      SQS_ACCESS_KEY_ID: 'k',
      SQS_SECRET_ACCESS_KEY: 's',
    });
    expect(local).toEqual({ url: 'http://127.0.0.1:9324/000000000000/q', region: 'ap-northeast-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
  });

  it('refuses what is not a queue URL, naming the option', () => {
    for (const bad of ['https://sqs.us-east-1.amazonaws.com/1/q', 'sqs://', 'sqs://http://127.0.0.1:9324/q', 'sqs://http://[bad/1/q']) {
      expect(() => parseQueueUri(bad, {}), bad).toThrow(WeblogError);
      expect(() => parseQueueUri(bad, {}), bad).toThrow(/^--notifications: /);
    }
  });
});
