/**
 * Where log objects come from: an S3 bucket/prefix (s3.ts) or a local
 * folder/glob (local-files.ts), behind one interface. Objects are listed
 * (filtered, sorted) and opened as byte streams of their decompressed content
 * from a byte offset.
 */
import path from 'node:path';
import { WeblogError } from '../errors.js';
import type { ObjectStream } from './gzip.js';

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
  /** Objects matching the filter, in key order or by last-modified time; with `startAfter`, only keys after it (S3's StartAfter). */
  list(startAfter?: string): Promise<SourceObject[]>;
  /** The source can list from a key (S3); a local folder is read whole. */
  readonly listsFrom?: boolean;
  /** Listing requests sent and objects listed so far. */
  readonly listStats?: { requests: number; objects: number };
  /** The decompressed bytes of `obj` from byte `from` on (with bytes after the last gzip member in `trailing`, once read). */
  open(obj: SourceObject, from: number): Promise<ObjectStream>;
  /** Local files grow; S3 objects do not. */
  readonly appendable: boolean;
  /** Entries the last list() passed over, with why (local folders: FIFOs, links to folders, ...). */
  readonly skipped?: readonly { key: string; why: string }[];
  /** The first `length` bytes (local files only), to fingerprint content rewritten in place. */
  head?(obj: SourceObject, length: number): Promise<Buffer>;
  /**
   * Event notifications name a bucket and a key: undefined when it is one of this source's objects,
   * else why not (another bucket is foreign; a key outside the prefix or --include is only not ours).
   */
  covers?(bucket: string, key: string): { foreign: boolean; why: string } | undefined;
  /** The object under `key` now (S3: a HEAD request), or undefined when there is none. */
  stat?(key: string): Promise<SourceObject | undefined>;
  /** Releases the connections it keeps (S3's keep-alive sockets); idempotent. */
  close(): Promise<void>;
}

export interface SourceOptions {
  /** Regex on the object key; default: everything. */
  include?: RegExp | undefined;
  /** 'key' (default) or 'modified'. */
  order?: 'key' | 'modified';
}

/** Characters whose UTF-16 order differs from their UTF-8 (code point) order: surrogates and U+E000..U+FFFF. */
const HIGH = /[\uD800-\uFFFF]/;

/**
 * Keys in S3's order: the bytes of their UTF-8. JavaScript's `<` compares
 * UTF-16 code units, which agrees except between a character above U+FFFF
 * and one in U+E000..U+FFFF; a listing floor compared the JS way could then
 * pass over a key S3 lists before it.
 */
export function compareKeys(a: string, b: string): number {
  if (!HIGH.test(a) || !HIGH.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function sortObjects(list: SourceObject[], order: 'key' | 'modified' = 'key'): SourceObject[] {
  return list.sort((a, b) => (order === 'modified' ? a.lastModified - b.lastModified || compareKeys(a.key, b.key) : compareKeys(a.key, b.key)));
}

/**
 * The object's name holds another object now (a local file renamed by
 * rotation between listing and reading): not a failure; the next listing
 * finds it under its new name.
 */
export class ObjectMovedError extends WeblogError {
  constructor(key: string) {
    super('UNAVAILABLE', `${key} was renamed or replaced since it was listed (rotation?): it is picked up under its new name next pass`);
  }
}

export const isGzipKey = (key: string) => key.endsWith('.gz');

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
