/** The shipper's resume rule on a fake source and sink (the real ones are tested on the servers). */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipObject } from '../../../src/source/gzip.js';
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
      close: async () => {},
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

describe('failed objects', () => {
  it('are counted in weblog_ship_objects_failed and named by failedObjects() on every pass until skipped', async () => {
    const obj: SourceObject = { key: 'logs/a.log.gz', etag: 'e1', size: 10, lastModified: 0, gzip: true };
    const full = gzipSync(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));
    const cut = full.subarray(0, full.length >> 1);
    const source: ObjectSource = {
      close: async () => {},
      appendable: false,
      describe: () => 's3://b/logs/',
      list: async () => [obj],
      // A real gzip cut short, read by the real decoder.
      open: async () =>
        gunzipObject(
          (async function* () {
            yield cut;
          })(),
          obj.key,
        ),
    };
    const saved = new Map<string, ShipProgress>();
    const sink: ShipSink = {
      loadProgress: async () => new Map(saved),
      ship: async (_t, _m, p) => void saved.set(p.key, p),
      record: async (p) => void saved.set(p.key, p),
      close: async () => {},
    };
    const registry = new Registry();
    const first = new Shipper(source, sink, { topic: 't' }, recordingLog(), registry);
    await first.run();
    expect(first.failedObjects()).toEqual([{ key: 'logs/a.log.gz', reason: expect.stringContaining('the gzip data ends early') as string }]);
    expect(registry.render()).toContain('weblog_ship_objects_failed 1');
    // A later run (the object unchanged): still reported, not "nothing new".
    const r2 = new Registry();
    const second = new Shipper(source, sink, { topic: 't' }, recordingLog(), r2);
    await second.run();
    expect(second.failedObjects()).toHaveLength(1);
    expect(r2.render()).toContain('weblog_ship_objects_failed 1');
    const r3 = new Registry();
    const skip = new Shipper(source, sink, { topic: 't', skipFailed: true }, recordingLog(), r3);
    await skip.run();
    expect(skip.failedObjects()).toEqual([]);
    expect(r3.render()).toContain('weblog_ship_objects_failed 0');
    expect(saved.get(obj.key)).toMatchObject({ done: true, failed: undefined, skipped: expect.stringContaining('ends early') as string });
  });
});
