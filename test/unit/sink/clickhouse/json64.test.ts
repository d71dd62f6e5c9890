import { describe, expect, it } from 'vitest';
import { parseClickHouseJson, quoteUnsafeIntegers } from '../../../../src/sink/clickhouse/json64.js';

describe('quoteUnsafeIntegers', () => {
  it('quotes integers beyond 2^53 and nothing else', () => {
    expect(quoteUnsafeIntegers('{"a":18446744073709551615,"b":9007199254740991,"c":-9007199254740993,"d":1.5e300,"e":12345678901234567.5}')).toBe(
      '{"a":"18446744073709551615","b":9007199254740991,"c":"-9007199254740993","d":1.5e300,"e":12345678901234567.5}',
    );
  });
  it('leaves digits inside strings alone, escaped quotes included', () => {
    const text = '{"s":"x\\":18446744073709551615,","n":[18446744073709551615]}';
    expect(JSON.parse(quoteUnsafeIntegers(text))).toEqual({ s: 'x":18446744073709551615,', n: ['18446744073709551615'] });
  });
  it('returns the same text when nothing needs quoting', () => {
    const text = '{"a":1,"b":"18446744073709551615"}';
    expect(quoteUnsafeIntegers(text)).toBe(text);
  });
});

describe('parseClickHouseJson', () => {
  it('gives 64-bit integer columns as strings, as output_format_json_quote_64bit_integers = 1 does', () => {
    const text = JSON.stringify({
      meta: [
        { name: 'c', type: 'UInt64' },
        { name: 'n', type: 'Nullable(Int64)' },
        { name: 's', type: 'UInt32' },
        { name: 'f', type: 'Float64' },
      ],
      data: [{ c: 7, n: null, s: 3, f: 0.5 }],
    }).replace('"c":7', '"c":18446744073709551615,"x":7');
    const { meta, data } = parseClickHouseJson(text);
    expect(meta.map((m) => m.name)).toEqual(['c', 'n', 's', 'f']);
    expect(data).toEqual([{ c: '18446744073709551615', x: 7, n: null, s: 3, f: 0.5 }]);
  });
});
