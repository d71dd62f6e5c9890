/**
 * User-agent fields from ua-parser-js 1.x (MIT; 2.x is AGPL and not used),
 * plus `is_bot` from the crawler list, cached per distinct UA string:
 * real logs repeat a few hundred UAs and an uncached parse costs ~50 µs.
 */
import { UAParser } from 'ua-parser-js';
import { botCategory } from './bot-categories.js';
import { isBot } from './bots.js';
import { hash64Decimal } from './hash.js';
import { BoundedCache } from './lru.js';

export interface UaInfo {
  browser: string;
  browser_version: string;
  os: string;
  os_version: string;
  /** desktop, mobile, tablet, smarttv, console, wearable, embedded, bot, or '' when unknown. */
  device_type: string;
  device_vendor: string;
  device_model: string;
  is_bot: boolean;
  /** What kind of bot (bot-categories.ts); '' for a person. */
  bot_category: string;
  /** 64-bit FNV-1a of the UA string, decimal. */
  ua_id: string;
}

export function parseUserAgent(ua: string): UaInfo {
  const r = UAParser(ua);
  const bot = isBot(ua);
  const known = r.browser.name !== undefined || r.os.name !== undefined;
  return {
    browser: r.browser.name ?? '',
    browser_version: r.browser.major ?? '',
    os: r.os.name ?? '',
    os_version: r.os.version ?? '',
    device_type: bot ? 'bot' : (r.device.type ?? (known ? 'desktop' : '')),
    device_vendor: r.device.vendor ?? '',
    device_model: r.device.model ?? '',
    is_bot: bot,
    bot_category: botCategory(ua, bot),
    ua_id: hash64Decimal(ua),
  };
}

export class UserAgentCache {
  private readonly cache: BoundedCache<string, UaInfo>;

  /** @param maxEntries bound of the cache, in distinct UA strings (default 10,000). */
  constructor(maxEntries = 10_000) {
    this.cache = new BoundedCache(maxEntries);
  }

  lookup(ua: string): UaInfo {
    let info = this.cache.get(ua);
    if (info === undefined) {
      info = parseUserAgent(ua);
      this.cache.set(ua, info);
    }
    return info;
  }

  get stats() {
    return { hits: this.cache.hits, misses: this.cache.misses, size: this.cache.size };
  }
}
