import { describe, expect, it } from 'vitest';
import { clickhouseOptions } from '../../../src/cli/option-groups.js';
import { parseOptions, type CommandSpec } from '../../../src/cli/options.js';

const cmd = (options: CommandSpec['options']): CommandSpec => ({ name: 't', summary: '', usage: '', options, run: () => Promise.resolve(0) });

describe('parseOptions', () => {
  it('a flag beats the environment, also the environment of an option it replaces (--embedded vs CLICKHOUSE_URL)', () => {
    const c = cmd(clickhouseOptions);
    const env = { CLICKHOUSE_URL: 'http://ch:8123' };
    expect(parseOptions(c, [], env).opts.clickhouse).toBe('http://ch:8123');
    const { opts } = parseOptions(c, ['--embedded', '/tmp/d'], env);
    expect(opts.clickhouse).toBeUndefined();
    expect(opts.embedded).toBe('/tmp/d');
    expect(parseOptions(c, ['--embedded', '/tmp/d', '--clickhouse', 'http://x:1'], env).opts.clickhouse).toBe('http://x:1');
  });
});

describe('numbers are checked at start', () => {
  const c = cmd([
    { name: 'max-insert-rows', type: 'number', default: 50000, min: 1, description: '' },
    { name: 'limit', type: 'number', default: 20, min: 1, max: 1_000_000, description: '' },
  ]);
  it.each([
    ['--max-insert-rows', '0', '--max-insert-rows: expected a whole number from 1 to 9,007,199,254,740,991, got "0"'],
    ['--limit', '1e18', '--limit: expected a whole number from 1 to 1,000,000, got "1e18"'],
    ['--limit', '2.5', '--limit: expected a whole number from 1 to 1,000,000, got "2.5"'],
    ['--limit=-1', '', '--limit: expected a whole number from 1 to 1,000,000, got "-1"'],
    ['--limit', 'ten', '--limit: expected a whole number from 1 to 1,000,000, got "ten"'],
  ])('%s %s is refused', (flag, value, message) => {
    expect(() => parseOptions(c, value === '' ? [flag] : [flag, value], {})).toThrow(message);
  });
  it('accepts the bounds', () => {
    expect(parseOptions(c, ['--limit', '1000000', '--max-insert-rows', '1'], {}).opts).toMatchObject({ limit: 1_000_000, 'max-insert-rows': 1 });
  });
});
