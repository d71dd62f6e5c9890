import { describe, expect, it } from 'vitest';
import { compareSpec, shiftFor, shiftText, shiftTime } from '../../../src/report/compare.js';
import { loadReport } from '../../../src/report/reports.js';

describe('compare periods', () => {
  it('previous: the range shifted back by its length; months by whole months', () => {
    const s = shiftFor('previous', Date.UTC(2026, 0, 1), Date.UTC(2026, 2, 1), 'day');
    expect(shiftTime(Date.UTC(2026, 0, 1), s, true)).toBe(Date.UTC(2025, 10, 3)); // 59 days back
    const m = shiftFor('previous', Date.UTC(2026, 0, 1), Date.UTC(2026, 2, 1), 'month');
    expect(m.months).toBe(2);
    expect(shiftText('2025-11-01', m, false)).toBe('2026-01-01');
    const part = shiftFor('previous', Date.UTC(2026, 0, 15), Date.UTC(2026, 1, 10), 'month');
    expect(part.months).toBe(2); // January and February are touched
  });

  it('year: the same calendar time a year before, in the row time shapes', () => {
    const y = shiftFor('year', Date.UTC(2026, 4, 1), Date.UTC(2026, 5, 1), 'country');
    expect(shiftTime(Date.UTC(2026, 4, 1, 10), y, true)).toBe(Date.UTC(2025, 4, 1, 10));
    expect(shiftText('2025-05-01 10:00:00', y, false)).toBe('2026-05-01 10:00:00');
    expect(shiftText('2025-05-01', y, false)).toBe('2026-05-01');
  });

  it('reads what a report compares from its header', () => {
    expect(compareSpec(loadReport('countries'))).toEqual({ by: 'country', values: ['hits', 'visitors'] });
    expect(compareSpec(loadReport('traffic-hourly'))).toEqual({ by: 'hour', values: ['hits', 'visitors', 'bytes'] });
    expect(compareSpec(loadReport('status'))).toBeUndefined();
  });
});
