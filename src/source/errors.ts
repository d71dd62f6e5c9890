/** Sorting failures while reading an object: the server's trouble (retry later) or the object's (record it as failed). */
import { describeError, WeblogError } from '../errors.js';

/** Socket and stream errors are retriable; anything else (a corrupt gzip, a permission) is the object's own. */
export function readError(key: string, err: unknown): WeblogError {
  if (err instanceof WeblogError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  // TimeoutError: the server sent nothing for the source timeout mid-body (the SDK destroys the stream with it).
  const transient =
    /^(ECONNRESET|EPIPE|ETIMEDOUT|ECONNREFUSED|UND_ERR|ERR_STREAM_PREMATURE_CLOSE)/.test(code) || (err as Error | undefined)?.name === 'TimeoutError';
  return new WeblogError(transient ? 'UNAVAILABLE' : 'INPUT_UNREADABLE', `read ${key}: ${describeError(err)}`, { cause: err });
}
