/**
 * Each job closes everything it opened, however it ends: by success, by
 * error, by a stop, and by a stop whose drain timed out (abort). Checked by
 * what the process still holds afterwards: sockets, servers, timers, signal
 * handlers and the embedded data folder. Before, runAll's error path closed
 * neither the ClickHouse connection nor the transport, and KafkaTransport's
 * close closed only the dead-letter producer.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runAll, runProcess, runShip } from '../../../src/app/jobs.js';
import { silentLogger } from '../../../src/observe/log.js';
import { openEmbeddedFolder } from '../../../src/sink/clickhouse/embedded.js';
import { readLines, sampleLog } from '../../helpers/datasets.js';
import { createTopic, deleteTopics, testKafka } from '../../helpers/kafka.js';
import { tempDir, uniqueName } from '../../helpers/names.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});
const brokers = inject('endpoints').kafkaBrokers;
const watched = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'PipeWrap'];

function held(): Record<string, number> {
  const out: Record<string, number> = { SIGTERM: process.listenerCount('SIGTERM'), SIGINT: process.listenerCount('SIGINT') };
  for (const r of process.getActiveResourcesInfo()) if (watched.includes(r)) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** What `after` holds beyond `before`, once closing sockets had a moment to go (empty: nothing left). */
async function leftOver(before: Record<string, number>): Promise<Record<string, number>> {
  let extra: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    const now = held();
    extra = Object.fromEntries(Object.entries(now).filter(([k, n]) => n > (before[k] ?? 0)));
    if (Object.keys(extra).length === 0 && openEmbeddedFolder() === undefined) return {};
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ...extra, ...(openEmbeddedFolder() ? { embeddedFolder: 1 } : {}) };
}

function logFile(lines = 500): string {
  const file = path.join(tempDir('weblog-closed-', cleanups), 'access.log');
  writeFileSync(file, `${readLines(sampleLog).slice(0, lines).join('\n')}\n`);
  return file;
}

const worker = (extra: { stopSignal?: AbortSignal; shutdownTimeoutMs?: number } = {}) => ({ log: silentLogger, metricsPort: 0, ...extra });

describe('every job closes what it opened', () => {
  it('runAll (in-process queue, chdb): by success, by error (state file lost) and by a stop while following', async () => {
    const data = tempDir('weblog-closed-data-', cleanups);
    const cfg = { source: { uri: `file://${logFile()}` }, clickhouse: { embedded: data }, processor: { enrich: {} }, ship: {}, reports: true };
    let before = held();
    await expect(runAll({ ...cfg, worker: worker() })).resolves.toMatchObject({ rowsInserted: 500 });
    expect(await leftOver(before)).toEqual({});

    rmSync(path.join(data, 'run-state-weblog.json'));
    before = held();
    await expect(runAll({ ...cfg, worker: worker() })).rejects.toThrow(/STATE_INVALID|is missing/);
    expect(await leftOver(before)).toEqual({});

    before = held();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 1500);
    await expect(
      runAll({ ...cfg, reset: true, ship: { follow: true, pollIntervalMs: 200 }, worker: worker({ stopSignal: stop.signal }) }),
    ).resolves.toMatchObject({
      aborted: false,
    });
    expect(await leftOver(before)).toEqual({});
  }, 120_000);

  it('runShip (file -> Kafka): by success, by error (topic missing) and by a stop while following', async () => {
    const kafka = testKafka();
    const topic = uniqueName('closed_ship');
    cleanups.push(() => deleteTopics(kafka, [topic, `${topic}.progress`]));
    const cfg = { source: { uri: `file://${logFile()}` }, kafka: { brokers, topic, progressTopic: `${topic}.progress`, partitions: 1 }, ship: {} };
    let before = held();
    await expect(runShip({ ...cfg, worker: worker() })).resolves.toMatchObject({ lines: 500 });
    expect(await leftOver(before)).toEqual({});

    before = held();
    await expect(runShip({ ...cfg, kafka: { ...cfg.kafka, topic: uniqueName('missing'), createTopics: false }, worker: worker() })).rejects.toThrow(
      /does not exist/,
    );
    expect(await leftOver(before)).toEqual({});

    before = held();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 1500);
    await expect(runShip({ ...cfg, ship: { follow: true, pollIntervalMs: 200 }, worker: worker({ stopSignal: stop.signal }) })).resolves.toMatchObject({
      aborted: false,
    });
    expect(await leftOver(before)).toEqual({});
  }, 120_000);

  it('runProcess (Kafka -> chdb): by a stop, by error (topic missing) and by a stop whose drain timed out', async () => {
    const kafka = testKafka();
    const topic = uniqueName('closed_proc');
    await createTopic(kafka, topic, 2);
    cleanups.push(() => deleteTopics(kafka, [topic]));
    const cfg = {
      kafka: { brokers, topic, group: topic, deadLetterTopic: '', createTopics: false, consumer: { maxWaitTimeMs: 100, sessionTimeoutMs: 6000 } },
      clickhouse: { embedded: tempDir('weblog-closed-proc-', cleanups) },
      processor: { enrich: {} },
    };
    let before = held();
    let stop = new AbortController();
    setTimeout(() => stop.abort(), 3000);
    await expect(runProcess({ ...cfg, worker: worker({ stopSignal: stop.signal }) })).resolves.toMatchObject({ failed: undefined, aborted: false });
    expect(await leftOver(before)).toEqual({});

    before = held();
    await expect(runProcess({ ...cfg, kafka: { ...cfg.kafka, topic: uniqueName('missing') }, worker: worker() })).rejects.toThrow(/does not exist/);
    expect(await leftOver(before)).toEqual({});

    before = held();
    stop = new AbortController();
    setTimeout(() => stop.abort(), 3000);
    await expect(runProcess({ ...cfg, worker: worker({ stopSignal: stop.signal, shutdownTimeoutMs: 1 }) })).resolves.toMatchObject({ aborted: true });
    expect(await leftOver(before)).toEqual({});
  }, 120_000);
});
