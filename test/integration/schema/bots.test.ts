/**
 * The bot reports (bot-categories, ai-crawlers, scanners) on chdb against
 * plain-JS numbers over the same enriched records: the real samples, and
 * seeded AI crawler and scanner lines on the edges of a range.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { runReport, type ReportParams } from '../../../src/report/reports.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { uniqueName } from '../../helpers/names.js';
import { groupBy, numericRows } from '../../helpers/plain.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-bots-'));
let real: EmbeddedClickHouse;
let seeded: EmbeddedClickHouse;
let all: EnrichedRecord[];
let seeds: EnrichedRecord[];

type Row = Record<string, unknown>;
const norm = numericRows;
const run = async (ch: EmbeddedClickHouse, name: string, p: ReportParams = {}) => norm((await runReport(ch, name, { limit: 1000, ...p })).rows);
const byName = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
const staticPath = /\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|mp3|mp4|webm|ogg|wav|pdf|zip|gz|tgz|bz2|xz|7z|rar)$/i;
const probePath =
  /(^|\/)(\.env|\.git\/|\.svn\/|\.hg\/|\.aws\/|\.ssh\/|\.DS_Store|wp-login\.php|xmlrpc\.php|wp-config|cgi-bin\/|phpmyadmin|pma\/|myadmin|admin\.php|setup\.php|install\.php|actuator|server-status|vendor\/phpunit|boaform|HNAP1|shell\.php|cmd\.php|c99\.php|r57\.php|eval-stdin\.php|config\.json|\.htaccess|\.htpasswd|web\.config|etc\/passwd|manager\/html)/i;
const attackUrl =
  /(\.\.\/|%2e%2e(%2f|\/)|union(\s|\+|%20)+select|select(\s|\+|%20).+from|sleep\(|benchmark\(|information_schema|\/etc\/passwd|<script|%3cscript|\$\{jndi:)/i;
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const timeText = (t: number) => new Date(Math.floor(t / 1000) * 1000).toISOString().replace('T', ' ').slice(0, 19);

const window = { from: Date.UTC(2015, 4, 18, 10), to: Date.UTC(2015, 4, 18, 14) };
const uas = {
  gpt: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)',
  claudeUser: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0; +Claude-User@anthropic.com)',
  oai: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; OAI-SearchBot/1.0; +https://openai.com/searchbot',
  zgrab: 'Mozilla/5.0 zgrab/0.x',
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
};
/** Lines at the edges of `window`: just before, on and just inside the start, just inside and on the end. */
function seedLines(): string[] {
  const at = (t: number) => {
    const d = new Date(t);
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
    const p = (n: number) => String(n).padStart(2, '0');
    return `${p(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
  };
  const out: string[] = [];
  const edges = [window.from - 1000, window.from, window.from + 1000, window.to - 1000, window.to];
  for (const t of edges) {
    out.push(`192.0.2.10 - - [${at(t)}] "GET /blog/a HTTP/1.1" 200 100 "-" "${uas.gpt}"`);
    out.push(`192.0.2.11 - - [${at(t)}] "GET /blog/b HTTP/1.1" 200 200 "-" "${uas.claudeUser}"`);
    out.push(`192.0.2.12 - - [${at(t)}] "GET /search HTTP/1.1" 200 300 "-" "${uas.oai}"`);
    out.push(`198.51.100.66 - - [${at(t)}] "GET /.env HTTP/1.1" 404 10 "-" "${uas.firefox}"`); // a probe path, a browser's UA
    out.push(`198.51.100.67 - - [${at(t)}] "GET /item?id=1%20UNION%20SELECT%20password%20FROM%20users HTTP/1.1" 500 10 "-" "${uas.firefox}"`);
    out.push(`203.0.113.5 - - [${at(t)}] "GET / HTTP/1.1" 400 0 "-" "${uas.zgrab}"`); // a scanner's UA on a plain path
    out.push(`198.51.100.68 - - [${at(t)}] "GET /blog/tags/shell HTTP/1.1" 200 10 "-" "${uas.firefox}"`); // not a probe
  }
  return out;
}

beforeAll(async () => {
  const a = await enrichLines(readLines(fixture('logs', 'elastic_apache.log')));
  const b = await enrichLines(readLines(fixture('logs', 'basjes_hackers.log')));
  all = [...a, ...b];
  seeds = await enrichLines(seedLines());
  real = new EmbeddedClickHouse({ dir, database: uniqueName('bots') });
  seeded = new EmbeddedClickHouse({ dir, database: uniqueName('botseed') });
  for (const ch of [real, seeded]) await migrate(ch);
  await insertRecords(real, a, 997, 'a');
  await insertRecords(real, b, 997, 'b');
  await insertRecords(seeded, seeds, seeds.length, 's');
}, 120_000);

afterAll(async () => {
  for (const ch of [real, seeded]) await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

const isProbe = (r: EnrichedRecord) => r.bot_category === 'scanner' || probePath.test(r.path) || attackUrl.test(r.url);

function scannersOf(recs: EnrichedRecord[]): Row[] {
  return [...groupBy(recs.filter(isProbe), (r) => r.remote_addr)]
    .map(([addr, rs]) => ({
      remote_addr: addr,
      hits: rs.length,
      paths: new Set(rs.map((r) => r.path)).size,
      not_found: rs.filter((r) => r.status === 404).length,
      tried: [...groupBy(rs, (r) => r.path)]
        .sort((x, y) => y[1].length - x[1].length || byName(x[0], y[0]))
        .slice(0, 10)
        .map(([p]) => p)
        .join(' '),
      first_seen: timeText(Math.min(...rs.map((r) => r.time))),
      last_seen: timeText(Math.max(...rs.map((r) => r.time))),
    }))
    .sort((x, y) => y.hits - x.hits || byName(x.remote_addr, y.remote_addr));
}

describe('bot reports against plain-JS numbers', () => {
  it('bot-categories: hits, pages, bytes and clients per day and category', async () => {
    const expected = [
      ...groupBy(
        all.filter((r) => r.bot_category !== ''),
        (r) => `${dayOf(r.time)} ${r.bot_category}`,
      ),
    ]
      .map(([k, rs]) => ({
        day: k.slice(0, 10),
        bot_category: k.slice(11),
        hits: rs.length,
        pages: rs.filter((r) => !staticPath.test(r.path)).length,
        bytes: rs.reduce((s, r) => s + r.bytes, 0),
        clients: new Set(rs.map((r) => r.remote_addr)).size,
      }))
      .sort((x, y) => byName(x.day, y.day) || y.hits - x.hits || byName(x.bot_category, y.bot_category));
    expect(new Set(expected.map((r) => r.bot_category)).size).toBeGreaterThan(4);
    expect(await run(real, 'bot-categories')).toEqual(expected);
  });

  it('scanners: probing clients with the paths they tried', async () => {
    const expected = scannersOf(all);
    expect(expected.length).toBeGreaterThan(5);
    expect(await run(real, 'scanners')).toEqual(expected);
  });
});

describe('AI crawlers and scanners on the edges of a range', () => {
  it('ai-crawlers: each AI client and path, rows in [from, to) only', async () => {
    expect(await run(seeded, 'ai-crawlers', window)).toEqual([
      { bot: 'Claude-User', bot_category: 'ai_assistant', path: '/blog/b', hits: 3, bytes: 600, last_seen: timeText(window.to - 1000) },
      { bot: 'GPTBot', bot_category: 'ai_training', path: '/blog/a', hits: 3, bytes: 300, last_seen: timeText(window.to - 1000) },
      { bot: 'OAI-SearchBot', bot_category: 'ai_search', path: '/search', hits: 3, bytes: 900, last_seen: timeText(window.to - 1000) },
    ]);
  });

  it('scanners: probe paths, attacks in the URL and scanner user agents; a plain path with "shell" in it is not one', async () => {
    const inWindow = seeds.filter((r) => r.time >= window.from && r.time < window.to);
    const got = await run(seeded, 'scanners', window);
    expect(got).toEqual(scannersOf(inWindow));
    expect(got.map((r) => r.remote_addr).sort()).toEqual(['198.51.100.66', '198.51.100.67', '203.0.113.5']);
    expect(got.find((r) => r.remote_addr === '198.51.100.66')?.tried).toBe('/.env');
  });
});
