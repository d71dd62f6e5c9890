import { describe, expect, it } from 'vitest';
import { clickhouseOptions } from '../../../src/cli/commands/clickhouse.js';
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
