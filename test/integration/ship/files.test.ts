/**
 * Local files with --follow, like tail -F: appended lines, a partial last
 * line, rotation by rename and by truncation; through the in-process
 * transport of `weblog run` (the shipper logic is the same as with Kafka).
 */
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/observe/log.js';
import { Registry } from '../../../src/observe/metrics.js';
import { Shipper } from '../../../src/pipeline/ship.js';
import { FileSource } from '../../../src/source/local-files.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import { waitUntil } from '../../helpers/wait.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shipping local files with follow', () => {
  it('ships appended lines once, waits for a line to end, survives rotation by rename and by truncation', async () => {
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    const file = path.join(logs, 'access.log');
    writeFileSync(file, 'a1\na2\n');
    const transport = new MemoryTransport({ stateFile: path.join(dir, 'state.json'), flushIntervalMs: 20 });
    const seen: string[] = [];
    const consumer = transport.consumer();
    await consumer.start(async (b) => {
      for (const m of b.messages) seen.push(m.value);
    });
    const shipper = new Shipper(
      new FileSource({ path: path.join(logs, 'access.log*') }),
      transport.shipSink(),
      { topic: transport.topic, follow: true, pollIntervalMs: 50 },
      silentLogger,
      new Registry(),
    );
    const running = shipper.run();
    await waitUntil('first lines', async () => seen.length >= 2 || undefined, 10_000, 20);
    appendFileSync(file, 'a3\na4-partial');
    await waitUntil('appended line', async () => seen.includes('a3') || undefined, 10_000, 20);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).not.toContain('a4-partial'); // not ended by LF yet
    appendFileSync(file, '-done\n');
    await waitUntil('completed line', async () => seen.includes('a4-partial-done') || undefined, 10_000, 20);
    // logrotate (rename): the old file keeps its inode under a new name, a new file starts
    appendFileSync(file, 'a5\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'b1\n');
    await waitUntil('new file', async () => (seen.includes('b1') && seen.includes('a5')) || undefined, 10_000, 20);
    // copytruncate: same inode, shorter content
    writeFileSync(file, 'c1\n');
    await waitUntil('truncated file', async () => seen.includes('c1') || undefined, 10_000, 20);
    await shipper.stop();
    await running;
    transport.end();
    await consumer.close();
    expect([...seen].sort()).toEqual(['a1', 'a2', 'a3', 'a4-partial-done', 'a5', 'b1', 'c1']);
  });
});
