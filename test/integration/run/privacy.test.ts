/**
 * Privacy mode end to end: `weblog run --privacy` over real lines, then every
 * table of its database, everything it printed and the HTML dashboard are
 * searched for the clients' full addresses. The same run without --privacy
 * is the control: there they are found.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { weblog } from '../../helpers/cli.js';
import { fixture, readLines } from '../../helpers/datasets.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-privacy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 2,000 real lines, the sample's broken line (a reject holding its address), an IPv6 client and a referer naming an address.
const lines = [
  ...readLines(fixture('logs', 'elastic_apache.log')).slice(0, 2000),
  readLines(fixture('logs', 'elastic_apache.log')).find((l) => (l.match(/"/g) ?? []).length % 2 === 1) as string,
  '2001:db8:85a3::8a2e:370:7334 - bob [20/May/2015:12:05:17 +0000] "GET /v6?user=bob HTTP/1.1" 200 10 "http://192.0.2.77/admin?token=abc" "curl/8.0"',
];
const full = new Set([...lines.map((l) => l.split(' ')[0] as string).filter((ip) => !/\.0$/.test(ip)), '192.0.2.77']);

/** Every table of the database (views excluded: they hold nothing), as TabSeparated text. */
async function everyTable(data: string): Promise<string> {
  const ch = new EmbeddedClickHouse({ dir: data, database: 'weblog' });
  try {
    const tables = await ch.query<{ name: string }>("SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View'");
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['access_log', 'rejects', 'traffic_hourly', 'pages_daily']));
    const out: string[] = [];
    for (const { name } of tables) out.push(JSON.stringify(await ch.query(`SELECT * FROM ${name}`)));
    return out.join('\n');
  } finally {
    await ch.close();
  }
}

async function runOnce(name: string, extra: string[]): Promise<{ text: string; rows: number }> {
  const at = path.join(dir, name);
  mkdirSync(path.join(at, 'logs'), { recursive: true });
  writeFileSync(path.join(at, 'logs', 'access.log'), `${lines.join('\n')}\n`);
  const html = path.join(at, 'dashboard.html');
  const r = await weblog(['run', '--source', `file://${path.join(at, 'logs')}`, '--embedded', path.join(at, 'data'), '--html', html, ...extra], {}, at);
  expect(r.code, r.stderr).toBe(0);
  const tables = await everyTable(path.join(at, 'data'));
  return { text: [r.stdout, r.stderr, readFileSync(html, 'utf8'), tables].join('\n'), rows: (tables.match(/"kafka_offset"/g) ?? []).length };
}

const found = (text: string) => [...full].filter((ip) => new RegExp(`(?<![\\d.:a-f])${ip.replace(/[.]/g, '\\.')}(?![\\d])`, 'i').test(text));

describe('weblog run --privacy', () => {
  it('stores, prints and draws no full client address, user name or query string', async () => {
    const control = await runOnce('plain', []);
    expect(found(control.text).length).toBeGreaterThan(100); // the search finds them when they are there
    expect(control.text).toContain('token=abc');

    const key = path.join(dir, 'secret', 'privacy.key');
    const priv = await runOnce('private', ['--privacy', '--privacy-key', key]);
    expect(priv.rows).toBe(control.rows); // every line is still stored (rows and the reject)
    expect(found(priv.text)).toEqual([]);
    expect(priv.text).not.toMatch(/token=abc|user=bob|"bob"/);
    expect(readFileSync(key, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(priv.text).not.toContain(readFileSync(key, 'utf8').trim()); // the key is not stored with the data
  }, 240_000);

  it('--privacy-key without --privacy is refused', async () => {
    const r = await weblog(['run', '--privacy-key', path.join(dir, 'k'), '--embedded', path.join(dir, 'never')], {}, dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('weblog run: CONFIG_INVALID: --privacy-key is the key of --privacy; add --privacy');
  });
});
