/// <reference lib="dom" />
/**
 * A real headless Chromium for the dashboard tests (Debian's
 * chromium-headless-shell or chromium; .ci/run installs it), driven with
 * puppeteer-core. Each page records console errors and uncaught exceptions.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const candidates = [
  process.env.CHROME_PATH,
  '/usr/bin/chromium-headless-shell',
  '/usr/lib/chromium/chromium-headless-shell',
  '/usr/bin/chromium',
  '/usr/bin/google-chrome',
];

export function chromiumPath(): string {
  const found = candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
  if (!found)
    throw new Error(
      `no Chromium found (looked for ${candidates.filter(Boolean).join(', ')}): install Debian's chromium-headless-shell (apt-get install chromium-headless-shell, as .ci/run does) or set CHROME_PATH`,
    );
  return found;
}

export function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  return puppeteer.launch({
    executablePath,
    headless: executablePath.includes('headless-shell') ? 'shell' : true,
    // Root in CI containers needs --no-sandbox; the pages are our own.
    args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none', '--lang=en-US'],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and failed requests seen so far. */
  problems: string[];
}

export async function openPage(browser: Browser, width = 1280, height = 900): Promise<WatchedPage> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  await page.setViewport({ width, height });
  return { page, problems };
}

/** Non-blank pixels drawn on the canvases under `selector` (uPlot draws lines and axes on its canvas). */
export function paintedPixels(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    let n = 0;
    for (const c of Array.from(document.querySelectorAll<HTMLCanvasElement>(`${sel} canvas`))) {
      const ctx = c.getContext('2d');
      if (!ctx || c.width === 0 || c.height === 0) continue;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if ((d[i] as number) > 0) n++;
    }
    return n;
  }, selector);
}

/** Each report table on the page: its rows as the raw values in the cells' data-value attributes. */
export function pageTables(page: Page): Promise<Record<string, { columns: string[]; values: string[][] }>> {
  return page.evaluate(() => {
    const out: Record<string, { columns: string[]; values: string[][] }> = {};
    for (const d of Array.from(document.querySelectorAll<HTMLElement>('details.report[data-report]'))) {
      const name = d.dataset.report as string;
      const columns = Array.from(d.querySelectorAll('thead th')).map((th) => th.getAttribute('data-column') ?? '');
      const values = Array.from(d.querySelectorAll('tbody tr')).map((tr) =>
        Array.from(tr.querySelectorAll('td')).map((td) => td.getAttribute('data-value') ?? ''),
      );
      out[name] = { columns, values };
    }
    return out;
  });
}
