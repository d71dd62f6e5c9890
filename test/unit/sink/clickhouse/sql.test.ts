/** Values become SQL text in one place only: query parameters as literals for 18.x, which has none. */
import { describe, expect, it } from 'vitest';
import { bindLiterals, sqlIdentifier, sqlString } from '../../../../src/sink/clickhouse/sql.js';

describe('bindLiterals', () => {
  it('writes each {name:Type} as a literal: strings quoted and escaped, numbers as digits, arrays as arrays', () => {
    expect(
      bindLiterals('SELECT * FROM t WHERE a = {a:String} AND b >= {b:UInt64} AND has({ids:Array(String)}, c)', { a: "it's \\ x", b: 42, ids: ['p', "q'"] }),
    ).toBe("SELECT * FROM t WHERE a = 'it\\'s \\\\ x' AND b >= 42 AND has(['p','q\\''], c)");
  });

  it('a value cannot leave its literal (the classic injection stays a string)', () => {
    const sql = bindLiterals('SELECT 1 WHERE topic = {topic:String}', { topic: "x' OR 1=1 --" });
    expect(sql).toBe("SELECT 1 WHERE topic = 'x\\' OR 1=1 --'");
  });

  it('refuses a parameter without a value, and a number that is not one', () => {
    expect(() => bindLiterals('SELECT {a:String}', {})).toThrow(/query parameter a has no value/);
    expect(() => bindLiterals('SELECT {n:UInt64}', { n: Number.NaN })).toThrow(/not a number/);
  });
});

describe('sqlIdentifier and sqlString', () => {
  it('quotes names of letters, digits and _, refuses anything else', () => {
    expect(sqlIdentifier('weblog_1')).toBe('`weblog_1`');
    expect(() => sqlIdentifier('a`; DROP')).toThrow(/expected a name/);
    expect(sqlString('a\\b')).toBe("'a\\\\b'");
  });
});
