/**
 * `weblog serve`: the dashboard page, live, and the read-only JSON API under
 * it, on node:http. Routes (GET and HEAD only):
 *   /                       the page (live mode)
 *   /api                    the API's index: reports, their columns, parameters
 *   /api/meta               sites and the time span of the data
 *   /api/reports/NAME       one report; ?from=ISO&to=ISO&site=S&limit=N, bound as query parameters
 *   /healthz                200 while ClickHouse answers, else 503
 * No SQL comes from the browser: NAME picks one of the report files.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, WeblogError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { reportJson } from '../report/render.js';
import { listReports, maxVisitGapMinutes, reportDefaults, runReport, type ReportParams } from '../report/reports.js';
import { parseReportTime } from '../report/time.js';
import type { AlertStatus } from '../alerts/runner.js';
import { filterFields, parseFilters } from '../report/filters.js';
import { compareModes, type CompareMode } from '../report/compare.js';
import type { ClickHouse } from '../sink/clickhouse/types.js';
import { ping } from '../sink/queries.js';
import { pageMeta } from './data.js';
import { renderPage } from './page.js';

export const serveDefaults = {
  host: '127.0.0.1',
  port: 8080,
  /** How often the live page reads the API again. */
  refreshMs: 5000,
  /** Rows of top-N reports when the page does not ask for another number. */
  limit: 50,
  maxLimit: 10_000,
} as const;

export interface ServeOptions {
  host?: string;
  port?: number;
  refreshMs?: number;
  limit?: number;
  log?: Logger;
  /** More Host header values to answer (a proxy's name); loopback names and the bound address are always allowed. */
  allowedHosts?: readonly string[];
  /** The alerts this process evaluates (weblog serve with alert-rules): /api/alerts and the page's banner. */
  alerts?: () => AlertStatus;
}

const loopbackNames = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Bound to loopback: answer only Host values naming loopback, the bound address or an allowed name (DNS rebinding). */
export function hostAllowed(hostHeader: string | undefined, bound: string, allowed: readonly string[]): boolean {
  if (!(loopbackNames.has(bound) || bound.startsWith('127.'))) return true; // exposed on purpose: behind the user's proxy
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(hostHeader.trim().toLowerCase());
  if (!m) return false;
  const name = m[1] as string;
  return loopbackNames.has(name) || name.startsWith('127.') || name === bound.toLowerCase() || allowed.some((a) => a.toLowerCase() === name);
}

export interface DashboardServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const securityHeaders = {
  // Everything the page needs is inline; the only requests it makes go to this server.
  'content-security-policy':
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function httpStatus(err: unknown): number {
  if (!(err instanceof WeblogError)) return 500;
  if (err.code === 'CONFIG_INVALID') return 400;
  if (err.code === 'NO_DATA') return 404;
  if (err.retriable) return 503;
  return 500;
}

/** Query-string parameters of a report, checked as the CLI checks its flags. */
export function reportParams(q: URLSearchParams, defaultLimit: number): ReportParams {
  const known = new Set(['from', 'to', 'site', 'limit', 'visit_gap', 'where', 'compare']);
  for (const k of q.keys()) if (!known.has(k)) throw new WeblogError('CONFIG_INVALID', `unknown parameter "${k}"; parameters: ${[...known].join(', ')}`);
  const time = (name: 'from' | 'to') => {
    const v = q.get(name);
    return v === null || v === '' ? undefined : parseReportTime(name, v);
  };
  const from = time('from');
  const to = time('to');
  if (from !== undefined && to !== undefined && from >= to)
    throw new WeblogError('CONFIG_INVALID', `from (${q.get('from')}) must be before to (${q.get('to')})`);
  const limitText = q.get('limit');
  let limit = defaultLimit;
  if (limitText !== null && limitText !== '') {
    limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > serveDefaults.maxLimit)
      throw new WeblogError('CONFIG_INVALID', `limit: expected a whole number from 1 to ${serveDefaults.maxLimit}, got "${limitText}"`);
  }
  const gapText = q.get('visit_gap');
  let visitGap: number | undefined;
  if (gapText !== null && gapText !== '') {
    if (!/^\d+$/.test(gapText) || Number(gapText) < 1 || Number(gapText) > maxVisitGapMinutes)
      throw new WeblogError('CONFIG_INVALID', `visit_gap: expected whole minutes from 1 to ${maxVisitGapMinutes}, got "${gapText}"`);
    visitGap = Number(gapText) * 60;
  }
  const compare = q.get('compare') || undefined;
  if (compare !== undefined && !compareModes.includes(compare as CompareMode))
    throw new WeblogError('CONFIG_INVALID', `compare: expected previous or year, got "${compare}"`);
  return { from, to, site: q.get('site') ?? '', limit, visitGap, where: parseFilters(q.getAll('where'), 'where'), compare: compare as CompareMode | undefined };
}

export function startDashboardServer(ch: ClickHouse, opts: ServeOptions = {}): Promise<DashboardServer> {
  const host = opts.host ?? serveDefaults.host;
  const limit = opts.limit ?? serveDefaults.limit;
  const page = renderPage({ mode: 'live', refreshMs: opts.refreshMs ?? serveDefaults.refreshMs, limit, alerts: opts.alerts !== undefined });
  const names = new Set(listReports().map((r) => r.name));

  const send = (res: http.ServerResponse, status: number, type: string, body: string, head: boolean) => {
    res.writeHead(status, { ...securityHeaders, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(head ? undefined : body);
  };
  const json = (res: http.ServerResponse, status: number, value: unknown, head: boolean) =>
    send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, head);
  const fail = (res: http.ServerResponse, err: unknown, head: boolean) => {
    const status = httpStatus(err);
    const code = err instanceof WeblogError ? err.code : 'INTERNAL';
    // A browser learns what to fix in its request (400, 404); server-side trouble (paths, users, hosts,
    // ClickHouse's own text) stays in the server log.
    const message =
      status < 500 && err instanceof WeblogError
        ? err.message
        : status === 503
          ? 'ClickHouse is unavailable; try again later (details in the server log)'
          : 'internal error; see the server log';
    if (status >= 500) opts.log?.warn('dashboard request failed', { error: describeError(err) });
    json(res, status, { error: { code, message, retriable: err instanceof WeblogError && err.retriable } }, head);
  };

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const head = req.method === 'HEAD';
    if (!hostAllowed(req.headers.host, host, opts.allowedHosts ?? [])) {
      json(
        res,
        421,
        { error: { code: 'MISDIRECTED', message: 'this dashboard answers only to its own host name (see --allowed-host)', retriable: false } },
        head,
      );
      return;
    }
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      json(
        res,
        405,
        { error: { code: 'METHOD_NOT_ALLOWED', message: `${String(req.method)}: the dashboard is read-only (GET, HEAD)`, retriable: false } },
        false,
      );
      return;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const p = url.pathname;
    if (p === '/' || p === '/index.html') return send(res, 200, 'text/html; charset=utf-8', page, head);
    if (p === '/healthz') {
      try {
        await ping(ch);
        return json(res, 200, { status: 'ok' }, head);
      } catch (err) {
        opts.log?.warn('healthz: ClickHouse does not answer', { error: describeError(err) });
        return json(res, 503, { status: 'unhealthy', detail: 'ClickHouse does not answer (details in the server log)' }, head);
      }
    }
    if (p === '/api' || p === '/api/') {
      return json(
        res,
        200,
        {
          reports: listReports().map((r) => ({ name: r.name, title: r.title, about: r.about, columns: r.columns, url: `/api/reports/${r.name}` })),
          parameters: {
            from: 'start, inclusive: ISO-8601 date or time, UTC unless a zone is given',
            to: 'end, exclusive',
            site: 'only this site',
            limit: `rows of top-N reports, 1-${serveDefaults.maxLimit} (default ${limit})`,
            where: `FIELD=VALUE or FIELD!=VALUE, repeatable (one field's = filters match any, the rest all apply); fields: ${Object.keys(filterFields).join(', ')}`,
            compare: 'previous or year: each row gains VALUE_prev and VALUE_change_pct (traffic, top-pages, countries, referrers; needs from and to)',
            visit_gap: `visits reports: minutes of pause that start a new visit, 1-${maxVisitGapMinutes} (default ${reportDefaults.visitGap / 60})`,
          },
          meta: '/api/meta',
        },
        head,
      );
    }
    if (p === '/api/meta') return json(res, 200, await pageMeta(ch), head);
    if (p === '/api/alerts') {
      if (!opts.alerts)
        return json(
          res,
          404,
          { error: { code: 'NOT_FOUND', message: 'no alert rules here: give weblog serve --config with alert-rules', retriable: false } },
          head,
        );
      return json(res, 200, opts.alerts(), head);
    }
    const m = /^\/api\/reports\/([^/]+)$/.exec(p);
    if (m) {
      let name: string;
      try {
        name = decodeURIComponent(m[1] as string);
      } catch {
        return json(
          res,
          400,
          { error: { code: 'BAD_PATH', message: `malformed percent-encoding in the path ${JSON.stringify(p.slice(0, 200))}`, retriable: false } },
          head,
        );
      }
      if (!names.has(name))
        return json(res, 404, { error: { code: 'NOT_FOUND', message: `unknown report "${name}"; reports: ${[...names].join(', ')}`, retriable: false } }, head);
      const params = reportParams(url.searchParams, limit);
      return json(res, 200, reportJson(await runReport(ch, name, params)), head);
    }
    json(res, 404, { error: { code: 'NOT_FOUND', message: `no such page: ${p}; the dashboard is at /, the API at /api`, retriable: false } }, head);
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) fail(res, err, req.method === 'HEAD');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  const port = opts.port ?? serveDefaults.port;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
        const why = err.code === 'EADDRINUSE' ? 'is in use' : 'cannot be opened';
        reject(
          new WeblogError('CONFIG_INVALID', `--host ${host} --port ${port}: ${host}:${port} ${why}; choose another --port (0: any free port)`, { cause: err }),
        );
      } else reject(err);
    });
    server.listen(port, host, () => {
      const actual = (server.address() as AddressInfo).port;
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${actual}/`,
        port: actual,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
