/**
 * Verified crawlers: a request whose user agent claims a major crawler
 * (Googlebot, bingbot, GPTBot, ...) is `bot_verified` when its address lies in
 * the ranges that crawler's operator publishes, and an impostor otherwise.
 * The ranges are bundled (data/crawler-ranges.json, written by
 * `npm run data:bots` from the operators' JSON files): nothing is fetched at
 * run time. A claim is only made for operators whose ranges are bundled, so
 * a crawler nobody can check is never called an impostor.
 */
import { readFileSync } from 'node:fs';

export interface CrawlerOperator {
  /** What claims this operator's crawlers: tokens of the user agent. */
  claims: RegExp;
  /** The operator's published range files (the Google / Bing JSON layout: prefixes of ipv4Prefix / ipv6Prefix). */
  urls: string[];
}

/** The operators weblog knows how to check, and where they publish their ranges. */
export const crawlerOperators: Record<string, CrawlerOperator> = {
  google: {
    claims:
      /\b(Googlebot|Googlebot-Image|Googlebot-News|Googlebot-Video|Google-InspectionTool|GoogleOther|Storebot-Google|AdsBot-Google|Mediapartners-Google|APIs-Google)\b/i,
    urls: [
      'https://developers.google.com/static/crawling/ipranges/common-crawlers.json',
      'https://developers.google.com/static/crawling/ipranges/special-crawlers.json',
    ],
  },
  bing: { claims: /\b(bingbot|BingPreview|adidxbot)\b/i, urls: ['https://www.bing.com/toolbox/bingbot.json'] },
  openai: {
    claims: /\b(GPTBot|OAI-SearchBot|ChatGPT-User)\b/i,
    urls: ['https://openai.com/gptbot.json', 'https://openai.com/searchbot.json', 'https://openai.com/chatgpt-user.json'],
  },
  apple: { claims: /\bApplebot\b/i, urls: ['https://search.developer.apple.com/applebot.json'] },
  duckduckgo: { claims: /\b(DuckDuckBot|DuckAssistBot)\b/i, urls: ['https://duckduckgo.com/duckduckbot.json'] },
  commoncrawl: { claims: /\bCCBot\b/i, urls: ['https://index.commoncrawl.org/ccbot.json'] },
};

/** The bundled data: per operator, the files it came from and every prefix. */
export interface CrawlerRangesData {
  about: string;
  operators: Record<string, { sources: { url: string; creationTime: string; via?: string }[]; prefixes: string[] }>;
}

export const crawlerRangesFile = new URL('./data/crawler-ranges.json', import.meta.url);

/** An address as a bigint in a 128-bit space (IPv4 as ::ffff:a.b.c.d), or undefined. */
export function ipBits(ip: string): bigint | undefined {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(ip);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return (
      (0xffffn << 32n) | BigInt(((parts[0] as number) * 2 ** 24 + (parts[1] as number) * 2 ** 16 + (parts[2] as number) * 2 ** 8 + (parts[3] as number)) >>> 0)
    );
  }
  if (!ip.includes(':') || !/^[0-9a-f:]+$/i.test(ip)) return undefined;
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? (halves[0] as string).split(':') : [];
  const tail = halves.length === 2 && halves[1] ? (halves[1] as string).split(':') : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (groups.length !== 8 || groups.some((g) => g.length === 0 || g.length > 4)) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** A CIDR prefix as [first, last] in the 128-bit space, or undefined. */
export function prefixRange(cidr: string): [bigint, bigint] | undefined {
  const [addr = '', lenText = ''] = cidr.split('/');
  const bits = ipBits(addr);
  const v4 = addr.includes('.');
  const len = Number(lenText) + (v4 ? 96 : 0);
  if (bits === undefined || !/^\d{1,3}$/.test(lenText) || len > 128 || (v4 && Number(lenText) > 32)) return undefined;
  const host = (1n << BigInt(128 - len)) - 1n;
  return [bits & ~host, (bits & ~host) | host];
}

export class CrawlerVerifier {
  private readonly ranges = new Map<string, [bigint, bigint][]>();

  constructor(data: CrawlerRangesData) {
    for (const [op, d] of Object.entries(data.operators)) {
      if (!crawlerOperators[op]) continue;
      const list = d.prefixes.map(prefixRange).filter((r): r is [bigint, bigint] => r !== undefined);
      list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      // Merged, so the ranges are disjoint and sorted and a binary search finds any address.
      const merged: [bigint, bigint][] = [];
      for (const r of list) {
        const last = merged[merged.length - 1];
        if (last && r[0] <= last[1] + 1n) last[1] = r[1] > last[1] ? r[1] : last[1];
        else merged.push([r[0], r[1]]);
      }
      if (merged.length > 0) this.ranges.set(op, merged);
    }
  }

  /** The bundled ranges (an empty verifier when the file is missing or unreadable: no claim is then checked). */
  static bundled(): CrawlerVerifier {
    try {
      return new CrawlerVerifier(JSON.parse(readFileSync(crawlerRangesFile, 'utf8')) as CrawlerRangesData);
    } catch {
      return new CrawlerVerifier({ about: '', operators: {} });
    }
  }

  /** Operators whose ranges are here. */
  operators(): string[] {
    return [...this.ranges.keys()];
  }

  /** The operator a user agent claims to crawl for, among those with ranges here ('' for none). */
  claimOf(ua: string): string {
    for (const op of this.ranges.keys()) if ((crawlerOperators[op] as CrawlerOperator).claims.test(ua)) return op;
    return '';
  }

  /** True when `ip` lies in the operator's published ranges. */
  verify(ip: string, operator: string): boolean {
    const list = this.ranges.get(operator);
    const bits = list ? ipBits(ip) : undefined;
    if (!list || bits === undefined) return false;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [first, last] = list[mid] as [bigint, bigint];
      if (bits < first) hi = mid - 1;
      else if (bits > last) lo = mid + 1;
      else return true;
    }
    return false;
  }
}
