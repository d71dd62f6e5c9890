/**
 * `npm run docs:screenshots`: the pictures in README. Runs `weblog run` on
 * the bundled sample in a temporary folder, then photographs the HTML
 * dashboard it wrote and the live page of `weblog serve` (one day picked) in
 * headless Chromium, into docs/dashboard.png and docs/dashboard-live.png.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, openPage } from './browser.js';
import { weblog } from './cli.js';
import { repoRoot } from './datasets.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-shots-'));
const data = path.join(dir, 'weblog-data');
const browser = await launchBrowser();
try {
  const run = await weblog(['run', '--embedded', data, '--no-reports'], {}, dir);
  if (run.code !== 0) throw new Error(`weblog run failed: ${run.stderr}`);
  const { page, problems } = await openPage(browser, 1280, 1100);
  await page.goto(`file://${path.join(dir, 'weblog-dashboard.html')}`);
  await page.waitForSelector('body[data-state="ready"]');
  await page.screenshot({ path: path.join(repoRoot, 'docs', 'dashboard.png') });

  const serve = spawn(process.execPath, [path.join(repoRoot, 'bin', 'weblog.js'), 'serve', '--port', '0', '--embedded', data], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    serve.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /dashboard at (http:\S+\/) /.exec(err);
      if (m) resolve(m[1] as string);
    });
    serve.once('exit', (code) => reject(new Error(`weblog serve exited ${code}: ${err}`)));
  });
  try {
    await page.goto(`${url}?from=2015-05-19T00:00:00.000Z&to=2015-05-20T00:00:00.000Z`);
    await page.waitForSelector('body[data-state="ready"]');
    await page.screenshot({ path: path.join(repoRoot, 'docs', 'dashboard-live.png') });
  } finally {
    serve.kill('SIGTERM');
  }
  if (problems.length) throw new Error(`the page reported problems: ${problems.join('; ')}`);
  process.stdout.write('wrote docs/dashboard.png and docs/dashboard-live.png\n');
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
