/**
 * Alert rules on the traffic, from the configuration file's `alert-rules`
 * list (docs/alerts.md). A rule measures one metric of the raw rows over a
 * window ending now (minus `delay`, for lines still on their way), optionally
 * filtered like reports (`where`), and fires while the value is above or
 * below a threshold; with `compare`, the threshold is a percentage of the
 * same window a day or a week before.
 *
 *   alert-rules:
 *     - name: server-errors
 *       metric: error_rate      # % of requests answered 5xx
 *       window: 5m
 *       above: 5
 *     - name: traffic-drop
 *       metric: hits
 *       window: 10m
 *       below: 50               # % of the same 10 minutes a week before
 *       compare: week
 *     - name: scanner
 *       metric: ip_rate         # requests per minute of each client IP: one alert per IP
 *       where: [bot_category=scanner]
 *       window: 1m
 *       above: 100
 */
import { parseDurationMs } from '../duration.js';
import { WeblogError } from '../errors.js';
import { parseFilters, type Filter } from '../report/filters.js';

export const alertMetrics = {
  hits: 'requests in the window',
  error_rate: 'share of requests answered 5xx, % (not evaluated under min-hits requests)',
  visitors: 'distinct visitors in the window',
  ip_rate: 'requests per minute of each client IP (one alert per IP)',
} as const;
export type AlertMetric = keyof typeof alertMetrics;

export interface AlertRule {
  name: string;
  metric: AlertMetric;
  windowMs: number;
  /** Evaluate the window ending this long before now (lines still in the pipeline). */
  delayMs: number;
  op: 'above' | 'below';
  threshold: number;
  /** The threshold is a % of the same window this long before. */
  compareMs: number | undefined;
  where: Filter[];
  /** error_rate: fewer requests than this in the window is no basis for an alert. */
  minHits: number;
  /** What the rule says, for logs, the webhook and the page. */
  summary: string;
}

export const alertDefaults = { delay: '1m', minHits: 20, maxRules: 100 } as const;

const keys = new Set(['name', 'metric', 'window', 'delay', 'above', 'below', 'compare', 'where', 'min-hits']);

/** The rules of a configuration file's `alert-rules` value, checked; errors name the rule and the key. */
export function parseAlertRules(value: unknown, file = 'the configuration'): AlertRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new WeblogError('CONFIG_INVALID', `${file}: alert-rules: expected a list of rules (docs/alerts.md)`);
  if (value.length > alertDefaults.maxRules) throw new WeblogError('CONFIG_INVALID', `${file}: alert-rules: at most ${alertDefaults.maxRules} rules`);
  const names = new Set<string>();
  return value.map((v, i) => {
    const at = `${file}: alert-rules[${i}]`;
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new WeblogError('CONFIG_INVALID', `${at}: expected a rule (name, metric, window, above or below)`);
    const r = v as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!keys.has(k)) throw new WeblogError('CONFIG_INVALID', `${at}: unknown key "${k}"; keys: ${[...keys].join(', ')}`);
    const name = typeof r.name === 'string' ? r.name.trim() : '';
    if (!/^[\w.-]{1,100}$/.test(name))
      throw new WeblogError('CONFIG_INVALID', `${at}: name: expected letters, digits, - _ or . (1-100), got ${JSON.stringify(r.name)}`);
    if (names.has(name)) throw new WeblogError('CONFIG_INVALID', `${at}: name "${name}" is used twice`);
    names.add(name);
    const where = `${file}: alert ${name}`;
    const metric = String(r.metric ?? '');
    if (!Object.hasOwn(alertMetrics, metric))
      throw new WeblogError('CONFIG_INVALID', `${where}: metric: expected one of ${Object.keys(alertMetrics).join(', ')}, got "${metric}"`);
    const duration = (key: string, dflt?: string) => {
      const text = r[key] === undefined ? dflt : String(r[key]);
      const ms = text === undefined ? undefined : parseDurationMs(text);
      if (ms === undefined || (key !== 'delay' && ms <= 0) || ms > 31 * 86_400_000)
        throw new WeblogError('CONFIG_INVALID', `${where}: ${key}: expected a duration such as 5m, 1h or 1d (up to 31d), got ${JSON.stringify(r[key])}`);
      return ms;
    };
    const windowMs = duration('window');
    const delayMs = duration('delay', alertDefaults.delay);
    if ((r.above === undefined) === (r.below === undefined)) throw new WeblogError('CONFIG_INVALID', `${where}: give exactly one of above and below`);
    const op = r.above !== undefined ? 'above' : 'below';
    if (metric === 'ip_rate' && op === 'below') throw new WeblogError('CONFIG_INVALID', `${where}: ip_rate takes above (an IP that sends nothing has no row)`);
    const threshold = Number(String(r[op]).replace(/%$/, ''));
    if (!Number.isFinite(threshold) || threshold < 0)
      throw new WeblogError('CONFIG_INVALID', `${where}: ${op}: expected a number, got ${JSON.stringify(r[op])}`);
    let compareMs: number | undefined;
    if (r.compare !== undefined) {
      if (r.compare !== 'day' && r.compare !== 'week')
        throw new WeblogError('CONFIG_INVALID', `${where}: compare: expected day or week, got ${JSON.stringify(r.compare)}`);
      if (metric === 'ip_rate') throw new WeblogError('CONFIG_INVALID', `${where}: compare: not with ip_rate (an IP has no "same window before")`);
      compareMs = r.compare === 'day' ? 86_400_000 : 7 * 86_400_000;
    }
    const whereTexts = r.where === undefined ? [] : Array.isArray(r.where) ? r.where.map(String) : [String(r.where)];
    const minHits = r['min-hits'] === undefined ? alertDefaults.minHits : Number(r['min-hits']);
    if (!Number.isSafeInteger(minHits) || minHits < 0)
      throw new WeblogError('CONFIG_INVALID', `${where}: min-hits: expected a whole number, got ${JSON.stringify(r['min-hits'])}`);
    const rule: Omit<AlertRule, 'summary'> = {
      name,
      metric: metric as AlertMetric,
      windowMs,
      delayMs,
      op,
      threshold,
      compareMs,
      where: parseFilters(whereTexts, `${where}: where`),
      minHits,
    };
    return { ...rule, summary: summaryOf(rule, whereTexts, String(r.window)) };
  });
}

function summaryOf(r: Omit<AlertRule, 'summary'>, where: string[], window: string): string {
  const unit = r.metric === 'error_rate' ? ' %' : r.metric === 'ip_rate' ? ' per minute' : '';
  const than =
    r.compareMs === undefined ? `${r.threshold}${unit}` : `${r.threshold} % of the same ${window} a ${r.compareMs === 86_400_000 ? 'day' : 'week'} before`;
  return `${r.metric} over ${window}${where.length > 0 ? ` where ${where.join(' and ')}` : ''} ${r.op} ${than}`;
}
