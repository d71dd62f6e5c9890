/**
 * The enriched rows the insert benchmarks send (the Elastic sample through
 * the real parser and enricher), the INSERT bodies they make, and waiting
 * for a ClickHouse to finish its merges.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEnricher, type EnrichedRecord } from '../src/enrich/index.js';
import { createParser } from '../src/parse/scan.js';
import type { AccessLogRowWriter } from '../src/sink/rows.js';
import { splitLines } from '../src/source/lines.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The sample's lines, parsed and enriched (its broken line left out). */
export async function sampleRecords(): Promise<EnrichedRecord[]> {
  const file = readFileSync(path.join(root, 'data/sample/elastic_apache.log'));
  const parse = createParser('combined');
  const enricher = await createEnricher();
  const out: EnrichedRecord[] = [];
  for await (const batch of splitLines(
    (async function* () {
      yield file;
    })(),
  ))
    for (const l of batch) {
      const r = l.text === '' ? undefined : parse(l.text);
      if (r?.ok) out.push(enricher.enrich(r.record));
    }
  return out;
}

/** `lineCount` rows (the records cycled) in INSERT bodies of up to `perInsert` rows, as the processor cuts them. */
export function insertBodies(writer: AccessLogRowWriter, recs: readonly EnrichedRecord[], lineCount: number, topic: string, perInsert = 50_000): Buffer[] {
  const bodies: Buffer[] = [];
  for (let base = 0; base < lineCount; base += perInsert) {
    const rows = writer.newBuffer(perInsert * 600);
    for (let i = base; i < Math.min(lineCount, base + perInsert); i++)
      writer.write(rows, recs[i % recs.length] as EnrichedRecord, { source: 's3://bench/k', sourceOffset: i, topic, partition: 0, offset: i, line: 0 });
    for (let from = 0; from < rows.count;) {
      const to = rows.partitionRunEnd(from, perInsert);
      bodies.push(rows.bytes(from, to));
      from = to;
    }
  }
  return bodies;
}

/** Waits until `cpuSeconds` grew by under 3 % of a core for a second (merges done), at most a minute. */
export async function idle(cpuSeconds: () => number): Promise<void> {
  let last = cpuSeconds();
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuSeconds();
    if (now - last < 0.03) return;
    last = now;
  }
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
