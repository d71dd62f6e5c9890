/** Reading local log files (plain or gzip) as byte streams. */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { WeblogError } from '../errors.js';

/** True when the first two bytes are the gzip magic number. */
export async function isGzipFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** A stream of the file's (decompressed) bytes; '-' is stdin. */
export async function openLogFile(file: string): Promise<Readable> {
  if (file === '-') return process.stdin;
  let gz: boolean;
  try {
    gz = file.endsWith('.gz') || (await isGzipFile(file));
  } catch (err) {
    throw new WeblogError('INPUT_UNREADABLE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const raw = createReadStream(file, { highWaterMark: 256 * 1024 });
  if (!gz) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}
