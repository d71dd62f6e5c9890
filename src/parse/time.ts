/**
 * Timestamp parsing without Date.parse or regexes on the hot path. Each
 * function returns epoch milliseconds (UTC), or NaN when the text is not a
 * valid time of that layout.
 */

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The times weblog stores, epoch ms [min, max): what every time column of the
 * schema can hold (the rollups' DateTime and 18.x's DateTime are UInt32
 * seconds, to 2106-02-07). A line outside is rejected as bad_time instead of
 * being stored as another date.
 */
export const STORABLE_TIME = { min: 0, max: Date.UTC(2106, 0, 1) } as const;
export const storableRangeText = '1970-01-01T00:00:00Z to 2106-01-01T00:00:00Z';

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/** Two digits at `at`, or NaN. */
function digits2(s: string, at: number): number {
  const a = s.charCodeAt(at) - 48;
  const b = s.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function validDate(y: number, mon0: number, d: number): boolean {
  if (!(y >= 1 && y <= 9999) || !(mon0 >= 0 && mon0 <= 11) || !(d >= 1)) return false;
  const max = mon0 === 1 && isLeap(y) ? 29 : (monthDays[mon0] as number);
  return d <= max;
}

function epochMs(y: number, mon0: number, d: number, h: number, mi: number, s: number, ms: number, offsetMin: number): number {
  if (!validDate(y, mon0, d) || !(h >= 0 && h <= 23) || !(mi >= 0 && mi <= 59) || !(s >= 0 && s <= 60)) return NaN;
  return ((daysFromCivil(y, mon0 + 1, d) * 24 + h) * 60 + mi - offsetMin) * 60_000 + s * 1000 + ms;
}

/** Parses a `+hhmm` / `-hh:mm` / `Z` zone at `at`; returns minutes east of UTC or NaN. */
function zone(s: string, at: number, end: number): number {
  const c = s.charCodeAt(at);
  if (at === end - 1 && c === 90) return 0; // Z
  const sign = c === 43 ? 1 : c === 45 ? -1 : 0; // + -
  if (sign === 0) return NaN;
  const len = end - at - 1;
  const hh = digits2(s, at + 1);
  const mm = len === 4 ? digits2(s, at + 3) : len === 5 && s.charCodeAt(at + 3) === 58 ? digits2(s, at + 4) : NaN;
  if (!(hh <= 14 && mm <= 59)) return NaN;
  return sign * (hh * 60 + mm);
}

/** Month index of the three letters at `at` (`Jan`..`Dec`), or -1; no substring. */
function monthAt(s: string, at: number): number {
  const k = (s.charCodeAt(at) << 16) | (s.charCodeAt(at + 1) << 8) | s.charCodeAt(at + 2);
  switch (k) {
    case 0x4a616e:
      return 0; // Jan
    case 0x466562:
      return 1; // Feb
    case 0x4d6172:
      return 2; // Mar
    case 0x417072:
      return 3; // Apr
    case 0x4d6179:
      return 4; // May
    case 0x4a756e:
      return 5; // Jun
    case 0x4a756c:
      return 6; // Jul
    case 0x417567:
      return 7; // Aug
    case 0x536570:
      return 8; // Sep
    case 0x4f6374:
      return 9; // Oct
    case 0x4e6f76:
      return 10; // Nov
    case 0x446563:
      return 11; // Dec
    default:
      return -1;
  }
}

// Logs put many lines in the same day: cache the day part of the last CLF date.
let lastDayKey = -1;
let lastDayMs = NaN;

/** `10/Oct/2000:13:55:36 -0700` (Apache %t, nginx $time_local). */
export function parseClfTime(s: string): number {
  return parseClfTimeAt(s, 0, s.length);
}

/** parseClfTime of `s.slice(at, end)`, without the slice (the scanner's hot path). */
export function parseClfTimeAt(s: string, at: number, end: number): number {
  if (end - at !== 26 || s.charCodeAt(at + 2) !== 47 || s.charCodeAt(at + 6) !== 47 || s.charCodeAt(at + 11) !== 58 || s.charCodeAt(at + 20) !== 32) return NaN;
  const d = digits2(s, at);
  const mon = monthAt(s, at + 3);
  const y = digits(s, at + 7, 4);
  const key = y * 10000 + mon * 100 + d; // NaN when a digit is not one
  let dayMs: number;
  if (key === lastDayKey) dayMs = lastDayMs;
  else {
    if (mon < 0 || !validDate(y, mon, d)) return NaN;
    dayMs = daysFromCivil(y, mon + 1, d) * 86_400_000;
    lastDayKey = key;
    lastDayMs = dayMs;
  }
  const h = digits2(s, at + 12);
  const mi = digits2(s, at + 15);
  const sec = digits2(s, at + 18);
  if (!(h <= 23 && mi <= 59 && sec <= 60) || s.charCodeAt(at + 14) !== 58 || s.charCodeAt(at + 17) !== 58) return NaN;
  const off = zone(s, at + 21, at + 26);
  if (Number.isNaN(off)) return NaN;
  return dayMs + ((h * 60 + mi - off) * 60 + sec) * 1000;
}

/** `2000-10-10T13:55:36-07:00`, optional fraction, `Z` or an offset (nginx $time_iso8601). */
export function parseIsoTime(s: string): number {
  if (s.length < 20 || s[4] !== '-' || s[7] !== '-' || (s[10] !== 'T' && s[10] !== ' ') || s[13] !== ':' || s[16] !== ':') return NaN;
  let i = 19;
  let ms = 0;
  if (s[i] === '.' || s[i] === ',') {
    let scale = 100;
    for (i++; i < s.length; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      ms += c * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  const off = zone(s, i, s.length);
  if (Number.isNaN(off)) return NaN;
  return epochMs(digits(s, 0, 4), digits(s, 5, 2) - 1, digits(s, 8, 2), digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2), ms, off);
}

/** `1157689324.156` epoch seconds with optional milliseconds (nginx $msec). */
export function parseEpochSeconds(s: string): number {
  if (s.length === 0 || !/^\d{1,11}(\.\d{1,6})?$/.test(s)) return NaN;
  return Math.round(Number(s) * 1000);
}
