import { describe, expect, it } from 'vitest';
import { rateMeter, StatusLine } from '../../../src/observe/status-line.js';

/** What a terminal shows after the bytes written: \r returns, \x1b[2K clears the line. */
function screen(bytes: string): string[] {
  const lines: string[] = [''];
  for (const part of bytes.split(/(\r|\n|\x1b\[2K)/)) {
    if (part === '\n') lines.push('');
    else if (part === '\r') continue;
    else if (part === '\x1b[2K') lines[lines.length - 1] = '';
    else lines[lines.length - 1] += part;
  }
  return lines;
}

describe('StatusLine', () => {
  it('prints log lines above the progress line, never glued to it', () => {
    let bytes = '';
    const s = new StatusLine({ write: (x: string) => (bytes += x) });
    s.set('weblog run: 10 lines');
    s.writeAbove('first log line\n');
    s.set('weblog run: 20 lines');
    s.writeAbove('second log line\n');
    expect(screen(bytes)).toEqual(['first log line', 'second log line', 'weblog run: 20 lines']);
    s.clear();
    s.writeAbove('after\n');
    expect(screen(bytes)).toEqual(['first log line', 'second log line', 'after', '']);
  });
});

describe('rateMeter', () => {
  it('measures the recent rate, so it drops to 0 when idle instead of decaying from the start', () => {
    let t = 0;
    let n = 0;
    const rate = rateMeter(
      () => n,
      5000,
      () => t,
    );
    for (let i = 0; i < 10; i++) {
      t += 1000;
      n += 1000;
      rate();
    }
    expect(rate()).toBe(1000);
    for (let i = 0; i < 6; i++) {
      t += 1000;
      rate();
    }
    expect(rate()).toBe(0); // an average since the start would still say 625
  });
});
