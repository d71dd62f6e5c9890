/**
 * One line of progress at the bottom of a terminal, with log lines printed
 * above it: each log line first clears the progress line, then the progress
 * is drawn again below it (log lines used to be glued to the progress text).
 */
export interface Out {
  write(s: string): unknown;
}

const clearLine = '\r\x1b[2K';

export class StatusLine {
  private text = '';

  constructor(private readonly out: Out) {}

  /** Shows `text` as the progress line (replacing the previous one). */
  set(text: string): void {
    this.text = text;
    this.out.write(`${clearLine}${text}`);
  }

  /** Removes the progress line for good. */
  clear(): void {
    if (this.text === '') return;
    this.text = '';
    this.out.write(clearLine);
  }

  /** Writes a complete line (ending in \n) above the progress line. */
  writeAbove(line: string): void {
    if (this.text === '') this.out.write(line);
    else this.out.write(`${clearLine}${line}${this.text}`);
  }
}

/** The progress line of this process's stderr. */
export const stderrStatus = new StatusLine(process.stderr);

/**
 * Lines per second over the last `windowMs` (about), not since the start:
 * an average since the start decays while idle and hides a stall.
 */
export function rateMeter(count: () => number, windowMs = 5000, now: () => number = Date.now): () => number {
  const samples: { t: number; n: number }[] = [{ t: now(), n: count() }];
  return () => {
    const t = now();
    const n = count();
    samples.push({ t, n });
    while (samples.length > 2 && t - (samples[1] as { t: number }).t >= windowMs) samples.shift();
    const first = samples[0] as { t: number; n: number };
    return t > first.t ? ((n - first.n) * 1000) / (t - first.t) : 0;
  };
}
