/**
 * `npm run data:bots`: writes data/crawler-ranges.json from the operators'
 * published range files (crawler-ranges.ts lists them). Each file is the
 * Google / Bing layout: {"creationTime": "...", "prefixes": [{"ipv4Prefix": ...} | {"ipv6Prefix": ...}]}.
 *
 *   npm run data:bots                       # fetch every operator's files
 *   npm run data:bots -- --from-dir DIR     # read them from DIR instead (files named as the URL's last part)
 *   npm run data:bots -- --via "NOTE"       # say where the files came from, when not from the operator
 *
 * An operator whose files cannot all be read keeps what the bundled file had for it (said on stderr).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crawlerOperators, crawlerRangesFile, prefixRange, type CrawlerOperator, type CrawlerRangesData } from '../crawler-ranges.js';

interface RangeFile {
  creationTime?: string;
  prefixes?: { ipv4Prefix?: string; ipv6Prefix?: string }[];
}

/** Reads one operator file (the URL, or its last part in `dir`); throws naming what is wrong. */
async function readRangeFile(url: string, dir: string | undefined): Promise<RangeFile> {
  const text = dir
    ? readFileSync(path.join(dir, path.basename(new URL(url).pathname)), 'utf8')
    : await (async () => {
        const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return res.text();
      })();
  const doc = JSON.parse(text) as RangeFile;
  if (!Array.isArray(doc.prefixes)) throw new Error('no "prefixes" list');
  for (const p of doc.prefixes) {
    const cidr = p.ipv4Prefix ?? p.ipv6Prefix;
    if (typeof cidr !== 'string' || prefixRange(cidr) === undefined) throw new Error(`not a prefix: ${JSON.stringify(p)}`);
  }
  return doc;
}

export async function refreshCrawlerRanges(opts: {
  dir?: string;
  via?: string;
  out?: string;
  log?: (line: string) => void;
  /** Default: every operator weblog knows (crawler-ranges.ts). */
  operators?: Record<string, CrawlerOperator>;
}): Promise<CrawlerRangesData> {
  const out = opts.out ?? fileURLToPath(crawlerRangesFile);
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  let old: CrawlerRangesData = { about: '', operators: {} };
  try {
    old = JSON.parse(readFileSync(out, 'utf8')) as CrawlerRangesData;
  } catch {
    // no bundled file yet
  }
  const data: CrawlerRangesData = {
    about:
      'IP ranges that crawler operators publish for their crawlers (public facts), for bot_verified; written by npm run data:bots from the URLs in sources. Refresh it now and then: operators add ranges.',
    operators: {},
  };
  for (const [op, spec] of Object.entries(opts.operators ?? crawlerOperators)) {
    try {
      const files = [];
      for (const url of spec.urls) files.push({ url, doc: await readRangeFile(url, opts.dir) });
      const prefixes = [...new Set(files.flatMap((f) => (f.doc.prefixes ?? []).map((p) => (p.ipv4Prefix ?? p.ipv6Prefix) as string)))].sort();
      data.operators[op] = {
        sources: files.map((f) => ({ url: f.url, creationTime: f.doc.creationTime ?? '', ...(opts.via ? { via: opts.via } : {}) })),
        prefixes,
      };
      log(`${op}: ${prefixes.length} prefixes`);
    } catch (err) {
      const kept = old.operators[op];
      if (kept) data.operators[op] = kept;
      log(`${op}: not refreshed (${(err as Error).message})${kept ? `; kept the ${kept.prefixes.length} prefixes bundled before` : '; none bundled'}`);
    }
  }
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 1)}\n`);
  renameSync(tmp, out);
  return data;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  await refreshCrawlerRanges({ ...(arg('--from-dir') ? { dir: arg('--from-dir') } : {}), ...(arg('--via') ? { via: arg('--via') } : {}) });
}
