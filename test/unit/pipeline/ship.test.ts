/** The shipper's resume rule on a fake source and sink (the real ones are tested on the servers). */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/observe/log.js';
import { Registry } from '../../../src/observe/metrics.js';
import { Shipper } from '../../../src/pipeline/ship.js';
import type { ObjectSource, SourceObject } from '../../../src/source/objects.js';
import type { OutboundMessage, ShipProgress, ShipSink } from '../../../src/transport/types.js';

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l = (level: string) => (msg: string, f?: Record<string, unknown>) => void lines.push(`${level} ${msg} ${JSON.stringify(f ?? {})}`);
  const log = { lines, debug: l('debug'), info: l('info'), warn: l('warn'), error: l('error'), child: () => log };
  return log;
}

describe('Shipper', () => {
  it('an object whose resume point cannot be checked is skipped this pass, not shipped again from byte 0', async () => {
    const text = 'a\nb\nc\n';
    const obj: SourceObject = { key: '/var/log/access.log', etag: '1:2', size: text.length + 2, lastModified: 0, gzip: false };
    const source: ObjectSource = {
      appendable: true,
      describe: () => 'file:///var/log',
      list: async () => [obj],
      open: async () =>
        (async function* () {
          yield Buffer.from(text + 'd\n');
        })(),
      head: async () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      },
    };
    const shipped: OutboundMessage[] = [];
    const recorded: ShipProgress[] = [];
    // Earlier runs shipped the first three lines, with a fingerprint of the head.
    const prior: ShipProgress = { key: obj.key, etag: obj.etag, offset: text.length, lines: 3, done: false, head: '123', headLength: 6, updatedAt: 0 };
    const sink: ShipSink = {
      loadProgress: async () => new Map([[obj.key, prior]]),
      ship: async (_t, messages) => void shipped.push(...messages),
      record: async (p) => void recorded.push(p),
      close: async () => {},
    };
    const log = recordingLog();
    await new Shipper(source, sink, { topic: 't' }, log, new Registry()).run();
    expect(shipped.map((m) => m.value)).toEqual([]);
    // It was taken as "ship from byte 0", then recorded as failed at offset 0, over the 3 lines shipped.
    expect(recorded).toEqual([]);
    expect(log.lines.some((l) => l.startsWith('warn cannot tell how far this object was shipped; skipped this pass') && l.includes('EACCES'))).toBe(true);
  });
});
