/** Which named format reads lines that the configured one rejects: the hint of "check --format". */
import type { namedFormats } from './format.js';
import { createParser } from './scan.js';

/**
 * " (the rejected lines parse as nginx: --format nginx)" when another named
 * format reads most of `samples`, else the first rejected line; '' without
 * samples. The richer format is tried first: `common` also reads combined
 * lines (it ignores what follows its last field).
 */
export function guessFormat(samples: readonly string[], current: string): string {
  if (samples.length === 0) return '';
  let best = '';
  let bestOk = 0;
  for (const name of ['combined', 'nginx', 'vhost_combined', 'common'] satisfies (keyof typeof namedFormats)[]) {
    if (name === current) continue;
    const parse = createParser(name);
    const ok = samples.filter((l) => parse(l).ok).length;
    if (ok > bestOk) [best, bestOk] = [name, ok];
  }
  return bestOk * 2 > samples.length
    ? ` (the rejected lines parse as ${best}: --format ${best})`
    : ` (first rejected line: ${JSON.stringify(samples[0]?.slice(0, 200))})`;
}
