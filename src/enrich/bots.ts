/**
 * Crawler detection from the crawler-user-agents pattern list (MIT, see
 * data/README.md). ua-parser-js 1.x knows few bots, so this list decides
 * `is_bot`. Each pattern is its own regex: one alternation of all 1,498 was
 * 37x slower in V8 (2.5 ms vs 66 µs per UA). Callers cache per UA string.
 */
import { readFileSync } from 'node:fs';
import { WeblogError } from '../errors.js';

let patterns: RegExp[] | undefined;

function compile(): RegExp[] {
  const file = new URL('./data/crawler-patterns.json', import.meta.url);
  let list: string[];
  try {
    list = JSON.parse(readFileSync(file, 'utf8')) as string[];
  } catch (err) {
    // An incomplete install or build, never the log being read: say which.
    throw new WeblogError(
      'CONFIG_INVALID',
      `weblog's bundled crawler list ${file.pathname} cannot be read (incomplete install or build?): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return list.map((p) => new RegExp(p));
}

export function isBot(userAgent: string): boolean {
  if (userAgent === '') return false;
  patterns ??= compile();
  for (const re of patterns) if (re.test(userAgent)) return true;
  return false;
}
