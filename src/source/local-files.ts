/** Log files in a local folder or matching a glob; they may grow, rotate or be rewritten in place. */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { WeblogError } from '../errors.js';
import { isGzipKey, skipBytes, sortObjects, type ObjectSource, type SourceObject, type SourceOptions } from './objects.js';

export interface FileSourceOptions extends SourceOptions {
  /** A folder (all files in it, recursively) or a glob on file names (`/var/log/nginx/access*.log*`). */
  path: string;
}

function globToRegex(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
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
