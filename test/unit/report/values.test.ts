import { describe, expect, it } from 'vitest';
import { reportValue, UNKNOWN_LABEL } from '../../../src/report/reports.js';

describe('reportValue', () => {
  it('makes integer columns numbers where they fit in 2^53, exact strings beyond', () => {
    expect(reportValue('9007199254740991', 'UInt64', false)).toBe(9007199254740991);
    expect(reportValue('9007199254740993', 'UInt64', false)).toBe('9007199254740993');
    expect(reportValue('-42', 'Int64', false)).toBe(-42);
    expect(reportValue('7', 'Nullable(UInt64)', false)).toBe(7);
    expect(reportValue(null, 'Nullable(Int64)', false)).toBeNull();
  });

  it('leaves text that looks like a number alone in string columns', () => {
    expect(reportValue('00123', 'String', false)).toBe('00123');
    expect(reportValue('404', 'LowCardinality(String)', true)).toBe('404');
  });

  it('labels an empty value of a label column, only there', () => {
    expect(reportValue('', 'LowCardinality(String)', true)).toBe(UNKNOWN_LABEL);
    expect(reportValue('', 'String', false)).toBe('');
  });
});
