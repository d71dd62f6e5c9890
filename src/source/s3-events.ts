/**
 * S3 event notifications, as queue messages carry them: the S3 event JSON
 * (`{"Records": [...]}`, also MinIO's, whose event names start with `s3:`),
 * the same wrapped in an SNS envelope (`{"Type": "Notification", "Message":
 * "..."}`), an EventBridge event (`detail-type: Object Created`), and S3's
 * `s3:TestEvent`. One message body becomes a list of notices; a body that is
 * none of these is a reject with the reason.
 */

/** One record of a message. */
export type Notice =
  /** An object was written (Put, Post, Copy, CompleteMultipartUpload). */
  | {
      kind: 'created';
      bucket: string;
      /** The key, decoded (S3 event JSON URL-encodes it, spaces as '+'). */
      key: string;
      /** The key as the event wrote it, where it may not be encoded (EventBridge): tried when `key` is not found. */
      rawKey?: string;
      size?: number | undefined;
      etag?: string | undefined;
      /** Event time, ms. */
      time?: number | undefined;
    }
  /** Any other event (a delete, a restore, tagging, replication): nothing to ship. */
  | { kind: 'other'; bucket: string; key: string; event: string }
  /** S3's message when notifications are configured: proof that they arrive. */
  | { kind: 'test'; bucket: string };

export type Parsed = { ok: true; notices: Notice[] } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** S3 event JSON encodes keys like a form: '+' for a space, %XX for the rest. */
export function decodeEventKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

const fail = (reason: string): Parsed => ({ ok: false, reason });

function eventTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
}

function etagOf(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v.replace(/"/g, '') : undefined;
}

function sizeOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function fromRecords(records: unknown[]): Parsed {
  if (records.length === 0) return fail('"Records" is empty');
  const notices: Notice[] = [];
  for (const [i, r] of records.entries()) {
    const at = `Records[${i}]`;
    if (!isObject(r)) return fail(`${at} is not an object`);
    const name = typeof r.eventName === 'string' ? r.eventName.replace(/^s3:/, '') : undefined;
    if (!name) return fail(`${at} has no eventName`);
    if (r.eventSource !== undefined && r.eventSource !== 'aws:s3' && r.eventSource !== 'minio:s3')
      return fail(`${at}: eventSource "${String(r.eventSource)}" is not S3`);
    const s3 = r.s3;
    if (!isObject(s3) || !isObject(s3.bucket) || !isObject(s3.object)) return fail(`${at} has no s3.bucket and s3.object`);
    const bucket = s3.bucket.name;
    const rawKey = s3.object.key;
    if (typeof bucket !== 'string' || bucket === '') return fail(`${at}: s3.bucket.name is missing`);
    if (typeof rawKey !== 'string' || rawKey === '') return fail(`${at}: s3.object.key is missing`);
    const key = decodeEventKey(rawKey);
    if (key === undefined) return fail(`${at}: s3.object.key "${rawKey}" is not URL-encoded text`);
    if (name.startsWith('ObjectCreated:')) {
      notices.push({ kind: 'created', bucket, key, size: sizeOf(s3.object.size), etag: etagOf(s3.object.eTag), time: eventTime(r.eventTime) });
    } else notices.push({ kind: 'other', bucket, key, event: name });
  }
  return { ok: true, notices };
}

function fromEventBridge(e: Record<string, unknown>): Parsed {
  if (e.source !== 'aws.s3') return fail(`an EventBridge event from "${String(e.source)}", not aws.s3`);
  const d = e.detail;
  if (!isObject(d) || !isObject(d.bucket) || !isObject(d.object)) return fail('an EventBridge event without detail.bucket and detail.object');
  const bucket = d.bucket.name;
  const rawKey = d.object.key;
  if (typeof bucket !== 'string' || bucket === '') return fail('EventBridge event: detail.bucket.name is missing');
  if (typeof rawKey !== 'string' || rawKey === '') return fail('EventBridge event: detail.object.key is missing');
  const type = String(e['detail-type']);
  if (type !== 'Object Created') return { ok: true, notices: [{ kind: 'other', bucket, key: rawKey, event: type }] };
  // Documented examples have plain keys; some deliveries encode them. The plain one is tried first.
  const decoded = decodeEventKey(rawKey);
  return {
    ok: true,
    notices: [
      {
        kind: 'created',
        bucket,
        key: rawKey,
        ...(decoded !== undefined && decoded !== rawKey ? { rawKey: decoded } : {}),
        size: sizeOf(d.object.size),
        etag: etagOf(d.object.etag),
        time: eventTime(e.time),
      },
    ],
  };
}

/** The notices of one queue message body. */
export function parseEventMessage(body: string | undefined): Parsed {
  if (body === undefined || body.trim() === '') return fail('empty message');
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return fail(`not JSON: ${JSON.stringify(body.slice(0, 60))}${body.length > 60 ? '...' : ''}`);
  }
  if (!isObject(v)) return fail('not a JSON object');
  // SNS fan-out: the event is the envelope's Message, as a string.
  if (v.Type === 'Notification' && typeof v.Message === 'string') {
    const inner = parseEventMessage(v.Message);
    return inner.ok ? inner : fail(`SNS message: ${inner.reason}`);
  }
  if (v.Event === 's3:TestEvent') return { ok: true, notices: [{ kind: 'test', bucket: typeof v.Bucket === 'string' ? v.Bucket : '' }] };
  if (Array.isArray(v.Records)) return fromRecords(v.Records);
  if (typeof v['detail-type'] === 'string' && 'detail' in v) return fromEventBridge(v);
  const keys = Object.keys(v).slice(0, 5).join(', ');
  return fail(`not an S3 event notification (no "Records", "detail-type" or "Event"; keys: ${keys || 'none'})`);
}
