/**
 * A long-lived worker whose servers do not answer yet (ClickHouse or Kafka
 * down, or hung past the request timeout) waits for them with backoff, says
 * so once in the log, and answers /healthz with 503 meanwhile, as it does
 * for an outage after start; it used to exit 1 after its first attempt.
 * Permanent errors (a wrong password, a refused statement) still stop it.
 */
import { describeError, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Registry } from '../observe/metrics.js';
import { startMetricsServer, type MetricsServer } from '../observe/server.js';
import { retry } from '../retry.js';

/** Backoff of the start-up wait, ms. */
export const startupDefaults = { initialDelayMs: 500, maxDelayMs: 30_000 } as const;

export interface Startup {
  /** Runs `fn` until it succeeds or fails for good, waiting out retriable failures of `what`. */
  until<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** The endpoint, for the worker to take over (undefined without --metrics). */
  readonly metrics: MetricsServer | undefined;
  /** Start-up is over: signals go to the worker from now on. */
  done(): void;
  /** Closes the endpoint (start-up failed). */
  close(): Promise<void>;
}

export async function startup(log: Logger, registry: Registry, metricsPort: number | undefined): Promise<Startup> {
  let waiting: string | undefined = 'starting';
  // SIGTERM / SIGINT while waiting stop the wait: the command ends with one line, not killed by the signal.
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => stop.abort(new WeblogError('ABORTED', `stopped by ${sig} while waiting for its servers`));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const release = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  const signal = stop.signal;
  const metrics = metricsPort === undefined ? undefined : await startMetricsServer(registry, metricsPort, () => ({ ok: false, detail: waiting ?? 'starting' }));
  if (metrics) log.info('metrics endpoint', { url: `http://127.0.0.1:${metrics.port}/metrics` });
  return {
    metrics,
    done: release,
    close: async () => {
      release();
      await metrics?.close();
    },
    async until<T>(what: string, fn: () => Promise<T>): Promise<T> {
      let waited = 0;
      const t0 = Date.now();
      const out = await retry(fn, {
        initialDelayMs: startupDefaults.initialDelayMs,
        maxDelayMs: startupDefaults.maxDelayMs,
        signal,
        onRetry: (err, attempt) => {
          waited = attempt;
          waiting = `waiting for ${what}: ${describeError(err)}`;
          if (attempt === 1)
            log.warn(`waiting for ${what} (retrying with backoff up to ${startupDefaults.maxDelayMs / 1000} s; /healthz answers 503 meanwhile)`, {
              error: describeError(err),
            });
        },
      }).catch((err: unknown) => {
        throw signal.aborted ? (signal.reason as Error) : err;
      });
      if (waited > 0) log.info(`${what} answers`, { waited_s: Math.round((Date.now() - t0) / 1000), attempts: waited + 1 });
      waiting = 'starting';
      return out;
    },
  };
}
