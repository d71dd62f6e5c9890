/**
 * The life of a long-running worker: metrics endpoint, progress line on a
 * TTY, and shutdown. The first SIGTERM/SIGINT drains (stop fetching, finish
 * and commit the batch in flight, leave the group) within a bounded time; a
 * second signal exits at once. Exactly-once holds either way because a
 * restarted processor skips what ClickHouse already holds.
 */
import type { Logger } from '../observe/log.js';
import { healthMetric, type Registry } from '../observe/metrics.js';
import { startMetricsServer, type MetricsServer } from '../observe/server.js';
import { stderrStatus } from '../observe/status-line.js';

/** The worker's defaults, in one place (the CLI shows them). */
export const workerDefaults = { shutdownTimeoutMs: 30_000 } as const;

export interface WorkerSpec {
  name: string;
  log: Logger;
  registry: Registry;
  /** Metrics port; 0 picks a free one; undefined disables the endpoint. */
  metricsPort?: number | undefined;
  /** One short line of progress, printed every second on a TTY. */
  progress?: () => string;
  /** Graceful stop. */
  drain: () => Promise<void>;
  /** Abrupt stop after the drain timed out. */
  abort: () => Promise<void>;
  /** Max time of the graceful stop, in ms (default 30,000). */
  shutdownTimeoutMs?: number;
  healthy?: () => { ok: boolean; detail: string };
  /** The endpoint started before the worker waited for its servers (see startup.ts); else one is started here. */
  metrics?: MetricsServer | undefined;
  /** Aborting it stops the worker as SIGTERM does (for programs that run a job in-process). */
  stopSignal?: AbortSignal | undefined;
}

export interface WorkerHandle {
  metricsPort: number | undefined;
  /** Resolves when a stop (by signal or by `stop()`) has completed. */
  stopped: Promise<void>;
  /** True once a stop had to abort (the drain did not finish in time): the command must exit non-zero. */
  readonly aborted: boolean;
  stop(): Promise<void>;
}

export async function startWorker(spec: WorkerSpec): Promise<WorkerHandle> {
  let metrics: MetricsServer | undefined = spec.metrics;
  healthMetric(spec.registry, () => spec.healthy?.().ok ?? true); // for alert rules (docs/prometheus/weblog-alerts.yml)
  if (metrics) metrics.setHealth(spec.healthy ?? (() => ({ ok: true, detail: 'running' })));
  else if (spec.metricsPort !== undefined) {
    metrics = await startMetricsServer(spec.registry, spec.metricsPort, spec.healthy ?? (() => ({ ok: true, detail: 'running' })));
    spec.log.info('metrics endpoint', { url: `http://127.0.0.1:${metrics.port}/metrics` });
  }
  const tty = process.stderr.isTTY === true && spec.progress !== undefined;
  const timer = tty ? setInterval(() => stderrStatus.set(`${spec.name}: ${spec.progress?.()}`), 1000) : undefined;
  timer?.unref();

  let stopping: Promise<void> | undefined;
  let aborted = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (timer) clearInterval(timer);
      if (tty) stderrStatus.clear();
      const limit = spec.shutdownTimeoutMs ?? workerDefaults.shutdownTimeoutMs;
      let t: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => (t = setTimeout(() => r('timeout'), limit)));
      const result = await Promise.race([spec.drain().then(() => 'drained' as const), timedOut]);
      clearTimeout(t);
      if (result === 'timeout') {
        aborted = true;
        spec.log.error('graceful stop timed out; aborting (the batch in flight is consumed again after a restart)', { timeout_ms: limit });
        // An abort that hangs too (a client stuck in I/O) must not keep the process alive.
        const hard = setTimeout(() => {
          spec.log.error('abort timed out; exiting');
          process.exit(1);
        }, 5000);
        await spec.abort();
        clearTimeout(hard);
      }
      await metrics?.close();
      spec.stopSignal?.removeEventListener('abort', onStop);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolveStopped();
    })();
    return stopping;
  };

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      spec.log.warn('second signal: exiting now', { signal: sig });
      process.exit(130);
    }
    spec.log.info('stopping: draining the batch in flight', { signal: sig });
    void stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const onStop = () => void stop();
  if (spec.stopSignal?.aborted) onStop();
  else spec.stopSignal?.addEventListener('abort', onStop, { once: true });
  return {
    metricsPort: metrics?.port,
    stopped,
    stop,
    get aborted() {
      return aborted;
    },
  };
}

export function formatRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n));
}
