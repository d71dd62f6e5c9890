/** Reading local log files (plain or gzip; files, pipes, FIFOs, stdin) as byte streams. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { WeblogError } from '../errors.js';
import { gunzipObject } from './gzip.js';

/** `stream` with its first bytes looked at: gzip (by magic number, or by name) is decompressed. */
async function* sniffed(stream: AsyncIterable<Buffer>, name: string, named: boolean): AsyncGenerator<Buffer> {
  const it = stream[Symbol.asyncIterator]();
  let first: Buffer = Buffer.alloc(0);
  // Two bytes decide; a pipe may hand them over one at a time.
  while (first.length < 2) {
    const r = await it.next();
    if (r.done) break;
    first = first.length ? Buffer.concat([first, r.value]) : r.value;
  }
  const rest: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => {
      let sentFirst = first.length === 0;
      return {
        next: async () => {
          if (!sentFirst) {
            sentFirst = true;
            return { done: false, value: first };
          }
          return it.next();
        },
        return: async () => (await it.return?.()) ?? { done: true, value: undefined },
      };
    },
  };
  const gz = named || (first[0] === 0x1f && first[1] === 0x8b);
  yield* gz ? gunzipObject(rest, name) : rest;
}

/**
 * A stream of the file's (decompressed) bytes; '-' is stdin. Pipes and FIFOs
 * (`weblog parse <(zcat x.gz)`, /dev/stdin) are read as streams: the gzip
 * check looks at the first bytes read, never at a file position (ESPIPE).
 */
export async function openLogFile(file: string): Promise<AsyncIterable<Buffer>> {
  if (file === '-') return sniffed(process.stdin, 'stdin', false);
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw new WeblogError('INPUT_UNREADABLE', `cannot read ${file}: it is a folder (give the log files in it)`);
  } catch (err) {
    if (err instanceof WeblogError) throw err;
    throw new WeblogError('INPUT_UNREADABLE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return sniffed(createReadStream(file, { highWaterMark: 256 * 1024 }), file, file.endsWith('.gz'));
}
