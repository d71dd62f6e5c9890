/** Log files in a local folder or matching a glob; they may grow, rotate or be rewritten in place. */
import type { Stats } from 'node:fs';
import { lstat, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { WeblogError } from '../errors.js';
import { gunzipObject, type ObjectStream } from './gzip.js';
import { isGzipKey, ObjectMovedError, sortObjects, type ObjectSource, type SourceObject, type SourceOptions } from './objects.js';

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

function kindOf(s: Stats): string {
  if (s.isFIFO()) return 'FIFO (named pipe)';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'device';
  return s.isDirectory() ? 'folder' : 'special file';
}

export class FileSource implements ObjectSource {
  readonly appendable = true;
  constructor(private readonly o: FileSourceOptions) {}

  /** Every handle is closed after each read: nothing to release. */
  async close(): Promise<void> {}

  describe(): string {
    return `file://${this.o.path}`;
  }

  /** Entries of the last listing that are not shipped, with why (the shipper names them once). */
  skipped: { key: string; why: string }[] = [];

  /**
   * The files, read twice when a rename raced the listing: the folder is read
   * first and each name looked up after, so mid-rotation two names can show
   * one file (and another none), which would ship it twice.
   */
  async list(): Promise<SourceObject[]> {
    for (let attempt = 1; ; attempt++) {
      const out = await this.listOnce();
      const seen = new Set<string>();
      const twice = out.filter((o) => seen.size === seen.add(o.etag).size);
      if (twice.length === 0) return out;
      if (attempt >= 5) {
        const dup = new Set(twice.map((o) => o.etag));
        for (const o of out.filter((x) => dup.has(x.etag)))
          this.skipped.push({ key: o.key, why: 'renamed while the folder was read (rotation in progress): next pass' });
        return out.filter((o) => !dup.has(o.etag));
      }
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }

  private async listOnce(): Promise<SourceObject[]> {
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
    if (!st.isFile() && !st.isDirectory()) {
      throw new WeblogError(
        'CONFIG_INVALID',
        `--source ${root} is a ${kindOf(st)}, not a file or folder: ship and run resume files by byte offset, which a stream cannot do; pipe it into \`weblog parse\`, or let the server write to a file`,
      );
    }
    const files: string[] = [];
    const skipped: { key: string; why: string }[] = [];
    if (st.isFile()) files.push(root);
    else {
      const entries = await readdir(root, { recursive: !hasGlob, withFileTypes: true });
      for (const e of entries) {
        if (pattern && !pattern.test(e.name)) continue;
        // Symbolic links to files are followed (stat below); links to folders are not, so a loop cannot trap the listing.
        if (e.isFile() || e.isSymbolicLink()) files.push(path.join(e.parentPath, e.name));
        else if (!e.isDirectory()) skipped.push({ key: path.join(e.parentPath, e.name), why: 'not a regular file (a FIFO, socket or device)' });
      }
    }
    const out: SourceObject[] = [];
    for (const f of files) {
      if (this.o.include && !this.o.include.test(f)) continue;
      const s = await stat(f).catch((err: NodeJS.ErrnoException) => err);
      if (s instanceof Error) {
        // Vanished between readdir and stat, or a link to nothing.
        if (s.code !== 'ENOENT' || (await lstat(f).catch(() => undefined))) skipped.push({ key: f, why: `cannot stat it (${s.code ?? s.message})` });
        continue;
      }
      if (!s.isFile()) {
        skipped.push({ key: f, why: s.isDirectory() ? 'a link to a folder (links to folders are not followed)' : `a link to a ${kindOf(s)}` });
        continue;
      }
      out.push({ key: f, etag: `${s.dev}:${s.ino}`, size: s.size, lastModified: s.mtimeMs, gzip: isGzipKey(f) });
    }
    this.skipped = skipped;
    return sortObjects(out, this.o.order);
  }

  /**
   * Opens `obj` by name and checks it is still the same file (dev:inode):
   * the handle then reads that file whatever is renamed meanwhile. A name
   * that holds another file now (rotation) throws ObjectMovedError.
   */
  private async openSame(obj: SourceObject): Promise<FileHandle> {
    let fh: FileHandle;
    try {
      fh = await open(obj.key, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectMovedError(obj.key);
      throw new WeblogError('INPUT_UNREADABLE', `${obj.key}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    const s = await fh.stat();
    if (`${s.dev}:${s.ino}` !== obj.etag) {
      await fh.close();
      throw new ObjectMovedError(obj.key);
    }
    return fh;
  }

  async head(obj: SourceObject, length: number): Promise<Buffer> {
    const fh = await this.openSame(obj);
    if (obj.gzip) {
      // The first decompressed bytes: a rotated file compressed later is the same content.
      const parts: Buffer[] = [];
      let got = 0;
      try {
        for await (const c of gunzipObject(fh.createReadStream({ end: 64 * 1024 - 1 }), obj.key)) {
          parts.push(c);
          got += c.length;
          if (got >= length) break;
        }
      } catch (err) {
        // Not gzip, or corrupt early: fingerprint what came out (reading the object then says why it fails).
        if (!(err instanceof WeblogError)) throw err;
      } finally {
        await fh.close().catch(() => undefined);
      }
      return Buffer.concat(parts).subarray(0, length);
    }
    try {
      const { bytesRead, buffer } = await fh.read(Buffer.alloc(length), 0, length, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async open(obj: SourceObject, from: number): Promise<ObjectStream> {
    const fh = await this.openSame(obj);
    // The stream closes the handle when it ends or is destroyed.
    if (!obj.gzip) return fh.createReadStream({ start: from, highWaterMark: 256 * 1024 });
    return gunzipObject(fh.createReadStream({ highWaterMark: 256 * 1024 }), obj.key, from);
  }
}

/** Parses --source: s3://bucket/prefix or file:///path (a bare path counts as file). */
