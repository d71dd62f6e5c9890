import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

describe('--config FILE', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-config-'));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const process_ = cmd([
    { name: 'brokers', type: 'string', env: ['KAFKA_BROKERS'], description: '' },
    { name: 'group', type: 'string', default: 'weblog', description: '' },
    { name: 'max-insert-rows', type: 'number', default: 50000, min: 1, description: '' },
    { name: 'metrics', type: 'boolean', default: true, description: '' },
  ]);
  process_.name = 'process';
  const ship = cmd([
    { name: 'batch-lines', type: 'number', default: 5000, description: '' },
    { name: 'brokers', type: 'string', description: '' },
  ]);
  ship.name = 'ship';
  const all = [process_, ship];

  it('takes values from YAML, with the command section over the top level, the environment over the file, flags over all', () => {
    const f = file(
      'a.yaml',
      'brokers: [kafka1:9092, kafka2:9092]\ngroup: top\nprocess:\n  group: mine\n  max-insert-rows: 1000\n  metrics: false\nship:\n  batch-lines: 7\n',
    );
    expect(parseOptions(process_, ['--config', f], {}, all).opts).toMatchObject({
      brokers: 'kafka1:9092,kafka2:9092',
      group: 'mine',
      'max-insert-rows': 1000,
      metrics: false,
    });
    expect(parseOptions(process_, ['--config', f], { KAFKA_BROKERS: 'env:1' }, all).opts.brokers).toBe('env:1');
    expect(parseOptions(process_, ['--config', f, '--group', 'flag', '--metrics'], {}, all).opts).toMatchObject({ group: 'flag', metrics: true });
    expect(parseOptions(ship, [], { WEBLOG_CONFIG: f }, all).opts['batch-lines']).toBe(7);
  });

  it('reads JSON too', () => {
    const f = file('b.json', '{"max-insert-rows": 42}');
    expect(parseOptions(process_, ['--config', f], {}, all).opts['max-insert-rows']).toBe(42);
  });

  it('refuses unknown keys by name, and bad values naming the file and the key', () => {
    expect(() => parseOptions(process_, ['--config', file('c.yaml', 'brokerz: x\n')], {}, all)).toThrow(
      /c\.yaml: unknown key "brokerz": no weblog command has an option --brokerz/,
    );
    expect(() => parseOptions(process_, ['--config', file('d.yaml', 'ship:\n  group: x\n')], {}, all)).toThrow(
      /d\.yaml: ship\.group: weblog ship has no option --group/,
    );
    expect(() => parseOptions(process_, ['--config', file('e.yaml', 'max-insert-rows: 0\n')], {}, all)).toThrow(
      /e\.yaml: max-insert-rows: expected a whole number from 1/,
    );
    expect(() => parseOptions(process_, ['--config', file('f.yaml', '- a\n- b\n')], {}, all)).toThrow(/expected keys and values/);
    expect(() => parseOptions(process_, ['--config', path.join(dir, 'missing.yaml')], {}, all)).toThrow(/--config .*missing\.yaml: ENOENT/);
  });
});
