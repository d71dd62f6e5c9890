/** Loads log lines through the real parse / enrich / row code into a ClickHouse. */
import { createEnricher, type EnrichedRecord } from '../../src/enrich/index.js';
import { createParser } from '../../src/parse/scan.js';
import type { ClickHouse } from '../../src/sink/clickhouse/types.js';
import { accessLogRow } from '../../src/sink/rows.js';

export async function enrichLines(lines: string[], format = 'combined'): Promise<EnrichedRecord[]> {
  const parse = createParser(format);
  const enricher = await createEnricher();
  const out: EnrichedRecord[] = [];
  for (const l of lines) {
    const r = parse(l);
    if (r.ok) out.push(enricher.enrich(r.record));
  }
  return out;
}

export async function insertRecords(ch: ClickHouse, records: EnrichedRecord[], batchSize = records.length, site?: string): Promise<void> {
  for (let i = 0; i < records.length; i += batchSize) {
    const rows = records
      .slice(i, i + batchSize)
      .map((r, j) => accessLogRow(r, { source: 'test', sourceOffset: i + j, topic: '', partition: 0, offset: i + j, line: 0 }, { site }));
    await ch.insertJson('access_log', rows.join('\n'));
  }
}
