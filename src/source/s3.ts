/** Log objects in an S3 bucket (or any S3-compatible store) under a prefix. */
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { WeblogError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { gunzipObject, type ObjectStream } from './gzip.js';
import { requestHandlerOptions } from './timeouts.js';
import { compareKeys, isGzipKey, sortObjects, type ObjectSource, type SourceObject, type SourceOptions } from './objects.js';

export interface S3SourceOptions extends SourceOptions {
  bucket: string;
  prefix: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Credentials; default: the AWS SDK chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Path-style URLs (default true when an endpoint is given: MinIO, s3proxy, ...). */
  forcePathStyle?: boolean;
  /** Keys per listing page (S3's MaxKeys; default and most 1,000). */
  pageSize?: number | undefined;
  /** A request that gets no byte for this long is given up and retried (timeouts.ts). */
  timeoutMs?: number | undefined;
}

export function s3Client(o: Pick<S3SourceOptions, 'endpoint' | 'region' | 'credentials' | 'forcePathStyle' | 'timeoutMs'>): S3Client {
  return new S3Client({
    region: o.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
    ...(o.credentials ? { credentials: o.credentials } : {}),
    // SDK >= 3.729 sends CRC32 checksums by default; many S3-compatible servers reject them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: requestHandlerOptions(o.timeoutMs),
  });
}

export class S3Source implements ObjectSource {
  readonly appendable = false;
  readonly listsFrom = true;
  readonly listStats = { requests: 0, objects: 0 };
  private readonly client: S3Client;

  constructor(private readonly o: S3SourceOptions) {
    this.client = s3Client(o);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  describe(): string {
    return `s3://${this.o.bucket}/${this.o.prefix}${this.o.endpoint ? ` at ${redactUrl(this.o.endpoint)}` : ''}`;
  }

  async list(startAfter?: string): Promise<SourceObject[]> {
    const out: SourceObject[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        this.listStats.requests++;
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.o.bucket,
            Prefix: this.o.prefix,
            ContinuationToken: token,
            ...(token === undefined && startAfter !== undefined ? { StartAfter: startAfter } : {}),
            ...(this.o.pageSize ? { MaxKeys: this.o.pageSize } : {}),
          }),
        );
      } catch (err) {
        throw s3Error(err, `list ${this.describe()}${startAfter !== undefined ? ` after ${startAfter}` : ''}`);
      }
      this.listStats.objects += page.KeyCount ?? page.Contents?.length ?? 0;
      for (const c of page.Contents ?? []) {
        if (startAfter !== undefined && c.Key !== undefined && compareKeys(c.Key, startAfter) <= 0) continue; // a server that ignores StartAfter
        if (!c.Key || c.Key.endsWith('/')) continue; // "folder" placeholders
        if (this.o.include && !this.o.include.test(c.Key)) continue;
        out.push({
          key: c.Key,
          etag: (c.ETag ?? '').replace(/"/g, ''),
          size: c.Size ?? 0,
          lastModified: c.LastModified?.getTime() ?? 0,
          gzip: isGzipKey(c.Key),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return sortObjects(out, this.o.order);
  }

  covers(bucket: string, key: string): { foreign: boolean; why: string } | undefined {
    if (bucket !== this.o.bucket) return { foreign: true, why: `bucket "${bucket}" is not the source's bucket "${this.o.bucket}"` };
    if (!key.startsWith(this.o.prefix)) return { foreign: false, why: `outside the prefix "${this.o.prefix}"` };
    if (key.endsWith('/')) return { foreign: false, why: 'a folder placeholder' };
    if (this.o.include && !this.o.include.test(key)) return { foreign: false, why: 'not matched by --include' };
    return undefined;
  }

  async stat(key: string): Promise<SourceObject | undefined> {
    let res;
    try {
      res = await this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key }));
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.$metadata?.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey') return undefined;
      throw s3Error(err, `head s3://${this.o.bucket}/${key}`);
    }
    return {
      key,
      etag: (res.ETag ?? '').replace(/"/g, ''),
      size: res.ContentLength ?? 0,
      lastModified: res.LastModified?.getTime() ?? 0,
      gzip: isGzipKey(key),
    };
  }

  async open(obj: SourceObject, from: number): Promise<ObjectStream> {
    const ranged = !obj.gzip && from > 0;
    // Nothing left (a restart after an object's last batch, before it was
    // marked done): a Range starting at the end would be refused (HTTP 416).
    if (ranged && from >= obj.size) return nothingLeft();
    let res;
    try {
      res = await this.client.send(
        new GetObjectCommand({ Bucket: this.o.bucket, Key: obj.key, IfMatch: `"${obj.etag}"`, ...(ranged ? { Range: `bytes=${from}-` } : {}) }),
      );
    } catch (err) {
      throw s3Error(err, `get s3://${this.o.bucket}/${obj.key}`);
    }
    const body = res.Body as Readable | undefined;
    if (!body) throw new WeblogError('INPUT_UNREADABLE', `s3://${this.o.bucket}/${obj.key}: empty body`);
    const gz = obj.gzip || res.ContentEncoding === 'gzip';
    if (!gz) return body as AsyncIterable<Buffer>;
    // A corrupt gzip ends the body's iterator, which releases the HTTP connection.
    return gunzipObject(body as AsyncIterable<Buffer>, `s3://${this.o.bucket}/${obj.key}`, from);
  }
}

async function* nothingLeft(): AsyncIterable<Buffer> {}

function s3Error(err: unknown, what: string): WeblogError {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  const status = e.$metadata?.httpStatusCode ?? 0;
  const transient = status >= 500 || status === 0 || e.name === 'TimeoutError';
  return new WeblogError(
    transient ? 'UNAVAILABLE' : 'INPUT_UNREADABLE',
    `${what}: ${e.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}${e.message && e.message !== e.name ? `: ${e.message}` : ''}`,
    { cause: err },
  );
}
