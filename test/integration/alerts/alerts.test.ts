/**
 * Alerts on real servers: `weblog serve` on the current ClickHouse server with
 * alert-rules, a local webhook receiver (that fails its first answers) and the
 * live page in Chromium: a seeded error burst fires once and resolves once;
 * a scanner IP fires its own alert. `weblog alerts --once` on chdb.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../../src/alerts/webhook.js';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { migrate } from '../../../src/schema/migrate.js';
import { EmbeddedClickHouse } from '../../../src/sink/clickhouse/embedded.js';
import { HttpClickHouse } from '../../../src/sink/clickhouse/http.js';
import type { ClickHouse } from '../../../src/sink/clickhouse/types.js';
import { launchBrowser, openPage } from '../../helpers/browser.js';
import { weblog } from '../../helpers/cli.js';
import { currentTarget } from '../../helpers/clickhouse.js';
import { repoRoot } from '../../helpers/datasets.js';
import { enrichLines, insertRecords } from '../../helpers/load.js';
import { tempDir, uniqueName } from '../../helpers/names.js';
import { waitUntil } from '../../helpers/wait.js';
import { startReceiver, type Receiver } from '../../helpers/receiver.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** `n` requests from `ip` with `status`, spread over the last `spreadMs` before now. */
async function requests(n: number, status: number, ip = '198.51.100.7', spreadMs = 60_000): Promise<EnrichedRecord[]> {
  const line = `${ip} - - [06/Dec/2026:10:00:00 +0000] "GET /shop HTTP/1.1" ${status} 512 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"`;
  const [rec] = await enrichLines([line]);
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({ ...(rec as EnrichedRecord), time: now - 1000 - Math.floor((i * spreadMs) / n) }));
}

const rules = `
alert-rules:
  - name: server-errors
    metric: error_rate
    window: 5m
    delay: 0s
    above: 5
  - name: scanner
    metric: ip_rate
    window: 1m
    delay: 0s
    above: 100
    where: [path=/wp-*]
`;

/** A webhook receiver that answers 503 to its first `failFirst` posts. */
async function receiver(failFirst: number): Promise<Receiver<AlertEvent>> {
  const r = await startReceiver<AlertEvent>(Array<number>(failFirst).fill(503), 204);
  cleanups.push(() => r.close());
  return r;
}

describe('alerts', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
    cleanups.push(() => browser.close());
  }, 60_000);

  it('weblog serve on the current server: an error burst fires once and resolves once, by webhook (retried) and on the live page', async () => {
    const dir = tempDir('weblog-alerts-', cleanups);
    const ch = new HttpClickHouse({ url: currentTarget().url, database: uniqueName('alerts') });
    await ch.createDatabase();
    cleanups.push(async () => {
      await ch.exec(`DROP DATABASE IF EXISTS ${ch.database}`);
      await ch.close();
    });
    await migrate(ch);
    await insertRecords(ch, await requests(400, 200));
    const config = path.join(dir, 'weblog.yaml');
    writeFileSync(config, rules);
    const hook = await receiver(2);
    const child: ChildProcess = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'bin', 'weblog.js'),
        'serve',
        '--port',
        '0',
        '--refresh-ms',
        '1000',
        '--config',
        config,
        '--webhook',
        hook.url,
        '--alert-interval-ms',
        '1000',
      ],
      { env: { ...process.env, CLICKHOUSE_URL: currentTarget().url, WEBLOG_DATABASE: ch.database, KAFKA_BROKERS: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    cleanups.push(async () => void child.kill('SIGKILL'));
    const url = await waitUntil(
      'weblog serve to listen',
      async () => {
        if (child.exitCode !== null) throw new Error(`weblog serve exited ${child.exitCode}: ${err}`);
        return /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err)?.[1];
      },
      60_000,
    );

    // Quiet traffic: nothing fires (two evaluations at least).
    await new Promise((r) => setTimeout(r, 2500));
    expect(hook.posts()).toBe(0);
    const quiet = (await (await fetch(`${url}api/alerts`)).json()) as { firing: unknown[]; rules: unknown[]; evaluatedAt: string };
    expect(quiet.firing).toEqual([]);
    expect(quiet.rules).toHaveLength(2);

    // 100 errors among 500 requests: 20 %, above 5 %.
    await insertRecords(ch, await requests(100, 503));
    await waitUntil('the firing event', async () => hook.got.length >= 1 || undefined, 30_000);
    expect(hook.got[0]).toMatchObject({ status: 'firing', rule: 'server-errors', key: '', value: 20, threshold: 5 });
    expect(hook.posts()).toBe(3); // two 503s, then delivered

    const { page, problems } = await openPage(browser);
    await page.goto(url);
    await page.waitForSelector('#alerts [data-alert="server-errors"]');
    expect(await page.$eval('#alerts [data-alert="server-errors"]', (e) => e.textContent)).toContain('error_rate over 5m above 5 %; now 20');

    // It keeps firing without telling again.
    await new Promise((r) => setTimeout(r, 3000));
    expect(hook.got.map((e) => e.status)).toEqual(['firing']);

    // Enough good requests bring it under 5 %: resolved, once.
    await insertRecords(ch, await requests(3000, 200));
    await waitUntil('the resolved event', async () => hook.got.length >= 2 || undefined, 30_000);
    await page.waitForFunction(() => document.querySelector('#alerts [data-alert="server-errors"]') === null);
    await new Promise((r) => setTimeout(r, 2500));
    expect(hook.got.map((e) => [e.status, e.rule])).toEqual([
      ['firing', 'server-errors'],
      ['resolved', 'server-errors'],
    ]);
    expect(hook.got[1]?.since).toBe(hook.got[0]?.since);
    expect(new Set(hook.got.map((e) => e.id)).size).toBe(2);

    // A scanner: 150 requests for /wp-login.php from one IP within the minute; its own alert, keyed by the IP.
    const scan = await requests(150, 404, '203.0.113.66', 30_000);
    await insertRecords(
      ch,
      scan.map((r) => ({ ...r, path: '/wp-login.php' })),
    );
    await waitUntil('the scanner event', async () => hook.got.find((e) => e.rule === 'scanner'), 30_000);
    expect(hook.got.find((e) => e.rule === 'scanner')).toMatchObject({ status: 'firing', key: '203.0.113.66', value: 150 });
    expect(problems).toEqual([]);
    await page.close();

    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(err).toContain('"msg":"alert firing"');
    expect(err).toContain('"msg":"alert resolved"');
  }, 180_000);

  it('weblog alerts --once on chdb prints what fires; wrong rules and a webhook without rules are refused', async () => {
    const dir = tempDir('weblog-alerts-chdb-', cleanups);
    const data = path.join(dir, 'data');
    const ch: ClickHouse = new EmbeddedClickHouse({ dir: data, database: 'weblog' });
    await migrate(ch);
    await insertRecords(ch, [...(await requests(50, 200)), ...(await requests(50, 500))]);
    await ch.close();
    const config = path.join(dir, 'weblog.yaml');
    writeFileSync(config, rules);
    const once = await weblog(
      ['alerts', '--once', '--config', config, '--embedded', data, '--log-level', 'error'],
      { CLICKHOUSE_URL: '', KAFKA_BROKERS: '' },
      dir,
    );
    expect(once.code, once.stderr).toBe(0);
    const firing = once.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { rule: string; value: number });
    expect(firing.map((f) => [f.rule, f.value])).toEqual([['server-errors', 50]]);

    writeFileSync(config, rules.replace('metric: error_rate', 'metric: errors'));
    const bad = await weblog(['alerts', '--once', '--config', config, '--embedded', data], { CLICKHOUSE_URL: '', KAFKA_BROKERS: '' }, dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      `weblog alerts: CONFIG_INVALID: ${config}: alert server-errors: metric: expected one of hits, error_rate, visitors, ip_rate, got "errors"`,
    );
    const none = await weblog(['alerts', '--embedded', data], { CLICKHOUSE_URL: '', KAFKA_BROKERS: '' }, dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no rules; give --config FILE with an alert-rules list');
    const hookOnly = await weblog(['serve', '--embedded', data, '--webhook', 'http://127.0.0.1:9/x'], { CLICKHOUSE_URL: '', KAFKA_BROKERS: '' }, dir);
    expect(hookOnly.code).toBe(2);
    expect(hookOnly.stderr).toContain('--webhook: there are no alert rules to send');
  }, 120_000);
});
