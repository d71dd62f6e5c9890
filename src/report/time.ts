/**
 * Times given to reports (--from/--to): ISO-8601 dates or date-times. Reports
 * show UTC, so a time without a zone is UTC, whatever the machine's zone
 * (JavaScript's Date.parse would read "2015-05-17T10:00" as local time).
 */
import { WeblogError } from '../errors.js';

/** What the rollups' DateTime columns can hold: [1970-01-01, 2106-01-01). */
export const REPORT_TIME_RANGE = { min: Date.UTC(1970, 0, 1), max: Date.UTC(2106, 0, 1) } as const;

/** The range of a report given no --from / --to. */
export const ALL_TIME = { from: REPORT_TIME_RANGE.min, to: REPORT_TIME_RANGE.max };

const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Epoch ms of an ISO-8601 date or date-time (UTC unless it names a zone), or NaN. */
export function parseUtcTime(text: string): number {
  const m = iso.exec(text.trim());
  if (!m) return NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  const ms = Number(frac.padEnd(3, '0'));
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(t);
  // Date.UTC rolls 2015-02-30 over to March: refuse instead.
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return NaN;
  if (!zone || zone.toUpperCase() === 'Z') return t;
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!z) return NaN;
  const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  return z[1] === '+' ? t - offset : t + offset;
}

/** A --from/--to value as epoch ms, checked against what reports can query; `name` is how errors call it (`--from`, or `from` in the API). */
export function parseReportTime(name: string, text: string): number {
  const t = parseUtcTime(text);
  if (Number.isNaN(t)) {
    throw new WeblogError(
      'CONFIG_INVALID',
      `${name}: expected an ISO-8601 date or time such as 2015-05-17, 2015-05-17T10:00:00 (UTC) or 2015-05-17T12:00:00+02:00, got "${text}"`,
    );
  }
  if (t < REPORT_TIME_RANGE.min || t > REPORT_TIME_RANGE.max) {
    throw new WeblogError('CONFIG_INVALID', `${name}: ${text} is outside what reports can query (1970-01-01 to 2106-01-01)`);
  }
  return t;
}
