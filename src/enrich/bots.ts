/**
 * Crawler detection from the crawler-user-agents pattern list (MIT, see
 * data/README.md). ua-parser-js 1.x knows few bots, so this list decides
 * `is_bot`. Each pattern is its own regex: one alternation of all 1,498 was
 * 37x slower in V8 (2.5 ms vs 66 µs per UA). Callers cache per UA string.
 */
import { readFileSync } from 'node:fs';

let patterns: RegExp[] | undefined;

function compile(): RegExp[] {
  const list = JSON.parse(readFileSync(new URL('./data/crawler-patterns.json', import.meta.url), 'utf8')) as string[];
  return list.map((p) => new RegExp(p));
}

export function isBot(userAgent: string): boolean {
  if (userAgent === '') return false;
  patterns ??= compile();
  for (const re of patterns) if (re.test(userAgent)) return true;
  return false;
}
