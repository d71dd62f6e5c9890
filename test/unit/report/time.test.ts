import { afterAll, describe, expect, it } from 'vitest';
import { parseReportTime, parseUtcTime } from '../../../src/report/time.js';

// A machine in Tokyo: a time without a zone is still UTC.
const savedTz = process.env.TZ;
process.env.TZ = 'Asia/Tokyo';
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('report times', () => {
  it('reads dates and date-times without a zone as UTC, whatever the machine zone', () => {
    expect(new Date(Date.UTC(2015, 4, 17)).getTimezoneOffset()).toBe(-540); // the zone applies
    expect(parseUtcTime('2015-05-17')).toBe(Date.UTC(2015, 4, 17));
    expect(parseUtcTime('2015-05-17T10:00:00')).toBe(Date.UTC(2015, 4, 17, 10));
    expect(parseUtcTime('2015-05-17 10:00')).toBe(Date.UTC(2015, 4, 17, 10));
    expect(parseUtcTime('2015-05-17T10:00:00.250Z')).toBe(Date.UTC(2015, 4, 17, 10, 0, 0, 250));
    expect(parseUtcTime('2015-05-17T12:00:00+02:00')).toBe(Date.UTC(2015, 4, 17, 10));
    expect(parseUtcTime('2015-05-17T06:30:00-0330')).toBe(Date.UTC(2015, 4, 17, 10));
  });

  it('refuses what is not a date, or not a real one', () => {
    for (const bad of ['yesterday', '2015-02-30', '2015-05-17T24:00', '17/May/2015', '', '2015-05-17T10:00:00+2']) expect(parseUtcTime(bad), bad).toBeNaN();
  });

  it('names the option and the range for times reports cannot query', () => {
    expect(() => parseReportTime('--from', '275760-09-13')).toThrow(/--from: expected an ISO-8601 date/);
    expect(() => parseReportTime('--to', '2200-01-01')).toThrow(/--to: 2200-01-01 is outside what reports can query \(1970-01-01 to 2106-01-01\)/);
    expect(() => parseReportTime('--from', '1969-12-31')).toThrow(/outside/);
    expect(parseReportTime('--to', '2106-01-01')).toBe(Date.UTC(2106, 0, 1));
  });
});
