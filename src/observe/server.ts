/** The /metrics and /healthz endpoint of a worker. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WeblogError } from '../errors.js';
import type { Registry } from './metrics.js';

export interface MetricsServer {
  port: number;
  /** Replaces what decides /healthz (a worker answers 503 while it waits for its servers at start). */
  setHealth(healthy: () => { ok: boolean; detail: string }): void;
  close(): Promise<void>;
}

/** Starts the endpoint on `port` (0: any free port); `healthy` decides /healthz (200 or 503). */
export function startMetricsServer(
  registry: Registry,
  port: number,
  healthy: () => { ok: boolean; detail: string },
  host = '127.0.0.1',
): Promise<MetricsServer> {
  let health = healthy;
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(registry.render());
    } else if (req.url === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: h.ok ? 'ok' : 'unhealthy', detail: h.detail }));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
        const why = err.code === 'EADDRINUSE' ? 'is in use (another weblog worker on this host?)' : 'cannot be opened';
        reject(
          new WeblogError(
            'CONFIG_INVALID',
            `--metrics-port ${port}: the metrics port ${host}:${port} ${why}; give each worker its own --metrics-port, 0 for any free port, or --no-metrics`,
            { cause: err },
          ),
        );
      } else reject(err);
    });
    let closed: Promise<void> | undefined;
    server.listen(port, host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        setHealth: (h) => (health = h),
        close: () => (closed ??= new Promise<void>((r) => server.close(() => r()))),
      });
    });
  });
}
