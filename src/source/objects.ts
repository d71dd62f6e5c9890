/**
 * Where log objects come from: an S3 bucket/prefix or a local folder/glob,
 * behind one interface. Objects are listed (filtered, sorted) and opened as
 * byte streams of their decompressed content from a byte offset.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { redactUrl } from '../redact.js';
import { WeblogError } from '../errors.js';

export interface SourceObject {
  key: string;
  /** Identity of the content: S3 ETag, or dev:inode for a local file. */
  etag: string;
  size: number;
  lastModified: number;
  gzip: boolean;
}

export interface ObjectSource {
  describe(): string;
  /** Objects matching the filter, in key order or by last-modified time. */
  list(): Promise<SourceObject[]>;
  /** The decompressed bytes of `obj` from byte `from` on. */
  open(obj: SourceObject, from: number): Promise<AsyncIterable<Buffer>>;
  /** Local files grow; S3 objects do not. */
  readonly appendable: boolean;
  /** The first `length` bytes (local files only), to fingerprint content rewritten in place. */
  head?(obj: SourceObject, length: number): Promise<Buffer>;
}

export interface SourceOptions {
  /** Regex on the object key; default: everything. */
  include?: RegExp | undefined;
  /** 'key' (default) or 'modified'. */
  order?: 'key' | 'modified';
}

function sortObjects(list: SourceObject[], order: 'key' | 'modified' = 'key'): SourceObject[] {
  return list.sort((a, b) => (order === 'modified' ? a.lastModified - b.lastModified || (a.key < b.key ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Skips the first `n` bytes of a stream (to resume inside a gzip object). */
async function* skipBytes(stream: AsyncIterable<Buffer>, n: number): AsyncGenerator<Buffer> {
  let left = n;
  for await (const chunk of stream) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

const isGzipKey = (key: string) => key.endsWith('.gz');

// ------------------------------------------------------------------ S3
export interface S3SourceOptions extends SourceOptions {
  bucket: string;
  prefix: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Credentials; default: the AWS SDK chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Path-style URLs (default true when an endpoint is given: MinIO, s3proxy, ...). */
  forcePathStyle?: boolean;
}

export function s3Client(o: Pick<S3SourceOptions, 'endpoint' | 'region' | 'credentials' | 'forcePathStyle'>): S3Client {
  return new S3Client({
    region: o.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
    ...(o.credentials ? { credentials: o.credentials } : {}),
    // SDK >= 3.729 sends CRC32 checksums by default; many S3-compatible servers reject them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export class S3Source implements ObjectSource {
  readonly appendable = false;
  private readonly client: S3Client;

  constructor(private readonly o: S3SourceOptions) {
    this.client = s3Client(o);
  }

  describe(): string {
    return `s3://${this.o.bucket}/${this.o.prefix}${this.o.endpoint ? ` at ${redactUrl(this.o.endpoint)}` : ''}`;
  }

  async list(): Promise<SourceObject[]> {
    const out: SourceObject[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: this.o.prefix, ContinuationToken: token }));
      } catch (err) {
        throw s3Error(err, `list ${this.describe()}`);
      }
      for (const c of page.Contents ?? []) {
        if (!c.Key || c.Key.endsWith('/')) continue; // "folder" placeholders
        if (this.o.include && !this.o.include.test(c.Key)) continue;
        out.push({ key: c.Key, etag: (c.ETag ?? '').replace(/"/g, ''), size: c.Size ?? 0, lastModified: c.LastModified?.getTime() ?? 0, gzip: isGzipKey(c.Key) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return sortObjects(out, this.o.order);
  }

  async open(obj: SourceObject, from: number): Promise<AsyncIterable<Buffer>> {
    const ranged = !obj.gzip && from > 0;
    // Nothing left (a restart after an object's last batch, before it was
    // marked done): a Range starting at the end would be refused (HTTP 416).
    if (ranged && from >= obj.size) return nothingLeft();
    let res;
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: obj.key, IfMatch: `"${obj.etag}"`, ...(ranged ? { Range: `bytes=${from}-` } : {}) }));
    } catch (err) {
      throw s3Error(err, `get s3://${this.o.bucket}/${obj.key}`);
    }
    const body = res.Body as Readable | undefined;
    if (!body) throw new WeblogError('INPUT_UNREADABLE', `s3://${this.o.bucket}/${obj.key}: empty body`);
    const gz = obj.gzip || res.ContentEncoding === 'gzip';
    if (!gz) return body as AsyncIterable<Buffer>;
    const gunzip = createGunzip();
    body.on('error', (e) => gunzip.destroy(e));
    // A corrupt gzip must release the HTTP connection too, or it keeps the process alive.
    gunzip.on('error', () => body.destroy());
    const stream = body.pipe(gunzip) as AsyncIterable<Buffer>;
    return from > 0 ? skipBytes(stream, from) : stream;
  }
}

async function* nothingLeft(): AsyncIterable<Buffer> {}

function s3Error(err: unknown, what: string): WeblogError {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  const status = e.$metadata?.httpStatusCode ?? 0;
  const transient = status >= 500 || status === 0 || e.name === 'TimeoutError';
  return new WeblogError(transient ? 'UNAVAILABLE' : 'INPUT_UNREADABLE', `${what}: ${e.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}${e.message && e.message !== e.name ? `: ${e.message}` : ''}`, { cause: err });
}

// ------------------------------------------------------------------ local files
export interface FileSourceOptions extends SourceOptions {
  /** A folder (all files in it, recursively) or a glob on file names (`/var/log/nginx/access*.log*`). */
  path: string;
}

function globToRegex(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

export class FileSource implements ObjectSource {
  readonly appendable = true;
  constructor(private readonly o: FileSourceOptions) {}

  describe(): string {
    return `file://${this.o.path}`;
  }

  async list(): Promise<SourceObject[]> {
    const p = this.o.path;
    const hasGlob = /[*?]/.test(p);
    const root = hasGlob ? path.dirname(p) : p;
    const pattern = hasGlob ? globToRegex(path.basename(p)) : undefined;
    let st;
    try {
      st = await stat(root);
    } catch (err) {
      throw new WeblogError('INPUT_UNREADABLE', `cannot read ${root}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    const files: string[] = [];
    if (st.isFile()) files.push(root);
    else {
      const entries = await readdir(root, { recursive: !hasGlob, withFileTypes: true });
      for (const e of entries) {
        if (!e.isFile()) continue;
        if (pattern && !pattern.test(e.name)) continue;
        files.push(path.join(e.parentPath, e.name));
      }
    }
    const out: SourceObject[] = [];
    for (const f of files) {
      if (this.o.include && !this.o.include.test(f)) continue;
      const s = await stat(f).catch(() => undefined);
      if (!s) continue; // vanished between readdir and stat
      out.push({ key: f, etag: `${s.dev}:${s.ino}`, size: s.size, lastModified: s.mtimeMs, gzip: isGzipKey(f) });
    }
    return sortObjects(out, this.o.order);
  }

  async head(obj: SourceObject, length: number): Promise<Buffer> {
    const fh = await open(obj.key, 'r');
    try {
      const { bytesRead, buffer } = await fh.read(Buffer.alloc(length), 0, length, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async open(obj: SourceObject, from: number): Promise<AsyncIterable<Buffer>> {
    const s = await stat(obj.key).catch((err: NodeJS.ErrnoException) => {
      throw new WeblogError('INPUT_UNREADABLE', `${obj.key}: ${err.code ?? String(err)}`, { cause: err });
    });
    if (`${s.dev}:${s.ino}` !== obj.etag) throw new WeblogError('INPUT_UNREADABLE', `${obj.key} was replaced while being read`);
    if (!obj.gzip) return createReadStream(obj.key, { start: from, highWaterMark: 256 * 1024 });
    const raw = createReadStream(obj.key, { highWaterMark: 256 * 1024 });
    const gunzip = createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    gunzip.on('error', () => raw.destroy());
    const stream = raw.pipe(gunzip) as AsyncIterable<Buffer>;
    return from > 0 ? skipBytes(stream, from) : stream;
  }
}

/** Parses --source: s3://bucket/prefix or file:///path (a bare path counts as file). */
export function parseSource(uri: string): { kind: 's3'; bucket: string; prefix: string } | { kind: 'file'; path: string } {
  if (uri.startsWith('s3://')) {
    const rest = uri.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    if (!bucket) throw new WeblogError('CONFIG_INVALID', `--source ${uri}: expected s3://bucket/prefix`);
    return { kind: 's3', bucket, prefix: slash === -1 ? '' : rest.slice(slash + 1) };
  }
  if (uri.startsWith('file://')) return { kind: 'file', path: decodeURIComponent(uri.slice(7)) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new WeblogError('CONFIG_INVALID', `--source ${uri}: expected s3://bucket/prefix or file:///path`);
  return { kind: 'file', path: path.resolve(uri) };
}
