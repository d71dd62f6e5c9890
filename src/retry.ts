/**
 * Retrying with capped exponential backoff and jitter. Reads only the
 * `retriable` flag of WeblogError (via isRetriable), never messages.
 */
import { isRetriable } from './errors.js';

export interface RetryOptions {
  /** First delay in ms (default 100). */
  initialDelayMs?: number;
  /** Cap of the delay in ms (default 10,000). */
  maxDelayMs?: number;
  /** Give up after this many attempts (default: never, until aborted). */
  maxAttempts?: number;
  signal?: AbortSignal;
  /** Called before each wait, e.g. to heartbeat or log. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void | Promise<void>;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const initial = opts.initialDelayMs ?? 100;
  const cap = opts.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetriable(err) || (opts.maxAttempts !== undefined && attempt >= opts.maxAttempts) || opts.signal?.aborted) throw err;
      const delay = Math.min(cap, initial * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      await opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}
