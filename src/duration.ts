/** Durations as people write them in flags and config files: "90s", "30m", "1h", "2d", "1w". */

/** "90s", "30m", "1h", "2d", "1w" as ms; undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's'];
  return Math.round(Number(m[1]) * unit);
}
