import { describe, expect, it } from 'vitest';
import { parseClfTime, parseEpochSeconds, parseIsoTime } from '../../../src/parse/time.js';

describe('parseClfTime', () => {
  it('converts to UTC epoch milliseconds', () => {
    expect(parseClfTime('10/Oct/2000:13:55:36 -0700')).toBe(Date.UTC(2000, 9, 10, 20, 55, 36));
    expect(parseClfTime('22/Jan/2019:03:56:14 +0330')).toBe(Date.UTC(2019, 0, 22, 0, 26, 14));
    expect(parseClfTime('29/Feb/2024:23:59:59 +0000')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(parseClfTime('01/Jan/1970:00:00:00 +0000')).toBe(0);
  });

  it('agrees with Date.parse on a spread of seeded random instants', () => {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const t = Math.floor(rnd() * 4e12);
      const offMin = (Math.floor(rnd() * 57) - 28) * 30; // -14:00 .. +14:00 in half hours
      const local = new Date(t + offMin * 60000);
      const pad = (n: number) => String(n).padStart(2, '0');
      const z = `${offMin < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offMin) / 60))}${pad(Math.abs(offMin) % 60)}`;
      const s = `${pad(local.getUTCDate())}/${months[local.getUTCMonth()]}/${local.getUTCFullYear()}:${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ${z}`;
      expect(parseClfTime(s), s).toBe(Math.floor(t / 1000) * 1000);
    }
  });

  it('returns NaN for impossible or malformed times', () => {
    for (const bad of [
      '31/Feb/2020:00:00:00 +0000',
      '29/Feb/2023:00:00:00 +0000',
      '10/Foo/2000:13:55:36 -0700',
      '10/Oct/2000:24:00:00 +0000',
      '10/Oct/2000:13:60:00 +0000',
      '10/Oct/2000:13:55:36 0700',
      '10/Oct/2000:13:55:36',
      '1234',
      '',
    ]) {
      expect(parseClfTime(bad), bad).toBeNaN();
    }
  });
});

describe('parseIsoTime and parseEpochSeconds', () => {
  it('parses offsets, Z and fractions', () => {
    expect(parseIsoTime('2000-10-10T13:55:36-07:00')).toBe(Date.UTC(2000, 9, 10, 20, 55, 36));
    expect(parseIsoTime('2000-10-10T20:55:36.250Z')).toBe(Date.UTC(2000, 9, 10, 20, 55, 36, 250));
    expect(parseIsoTime('2000-02-30T20:55:36Z')).toBeNaN();
    expect(parseEpochSeconds('971211336.5')).toBe(971211336500);
    expect(parseEpochSeconds('abc')).toBeNaN();
  });
});
