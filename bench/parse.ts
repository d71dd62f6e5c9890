/**
 * Question: how many access-log lines per second does one core parse, and
 * parse + enrich with warm caches? Compared with a plain regex parse of the
 * same lines, measured in the same run.
 *
 * Input: the 10,000 real lines of the Elastic Apache sample (real UA strings,
 * a skewed real IP distribution), read the way weblog reads files (splitLines:
 * each line decoded on its own, a flat string, as Kafka message values are
 * too), cycled through until --lines (default 1,000,000) have been processed. The working set stays the 10,000 lines, as
 * in a stream, so the numbers are not skewed by a heap of retained records.
 * Run: npm run bench -- parse [--lines N]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEnricher } from '../src/enrich/index.js';
import { fnv1a64, toDecimal } from '../src/enrich/hash.js';
import { GeoLookup } from '../src/enrich/geoip.js';
import { normalizeIp } from '../src/enrich/ip.js';
import { UserAgentCache } from '../src/enrich/useragent.js';
import { createParser } from '../src/parse/scan.js';
import { RowBuffer } from '../src/sink/row-buffer.js';
import { AccessLogRowWriter } from '../src/sink/rows.js';
import { splitLines } from '../src/source/lines.js';
import { parseClfTime } from '../src/parse/time.js';
import type { AccessRecord } from '../src/parse/record.js';
import { measure, table } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function benchParse(lineCount: number): Promise<string> {
  const file = readFileSync(path.join(root, 'data/sample/elastic_apache.log'));
  const lines: string[] = [];
  for await (const batch of splitLines(
    (async function* () {
      yield file;
    })(),
  ))
    for (const l of batch) if (l.text !== '') lines.push(l.text);
  // The same lines as slices of one file string (what split('\n') makes): V8
  // reads those a little slower. weblog never parses such lines; shown for reference.
  const sliced = file.toString('utf8').split('\n').filter(Boolean);
  const reps = Math.max(1, Math.round(lineCount / lines.length));
  const parse = createParser('combined');
  // Copies for the per-stage rows, so that the parser's own records die
  // young, as they do in the processor. Keeping 10,000 of them alive lets V8
  // pretenure that allocation site, after which every parse allocates in the
  // old generation and runs at about half speed.
  const records: AccessRecord[] = [];
  for (const l of lines) {
    const r = parse(l);
    if (r.ok) records.push({ ...r.record });
  }
  const n = lines.length * reps;
  const m = records.length * reps;

  // Baseline: one regex per line, fields as strings, no conversion.
  const re = /^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?/;
  let sink = 0;
  const baseline = measure('regex baseline', n, () => {
    for (let k = 0; k < reps; k++)
      for (const l of lines) {
        const g = re.exec(l);
        if (g) sink += (g[6] as string).length;
      }
  });
  const parseOnly = measure('parse (weblog)', n, () => {
    for (let k = 0; k < reps; k++) for (const l of lines) if (parse(l).ok) sink++;
  });
  const baselineSliced = measure('regex baseline, sliced lines', n, () => {
    for (let k = 0; k < reps; k++)
      for (const l of sliced) {
        const g = re.exec(l);
        if (g) sink += (g[6] as string).length;
      }
  });
  const parseSliced = measure('parse (weblog), sliced lines', n, () => {
    for (let k = 0; k < reps; k++) for (const l of sliced) if (parse(l).ok) sink++;
  });
  const clf = lines.map((l) => l.slice(l.indexOf('[') + 1, l.indexOf(']')));
  const time = measure('  time field', n, () => {
    for (let k = 0; k < reps; k++) for (const s of clf) sink += parseClfTime(s) > 0 ? 1 : 0;
  });
  const ua = new UserAgentCache();
  for (const r of records) ua.lookup(r.user_agent);
  const uaStage = measure('  UA (warm cache)', m, () => {
    for (let k = 0; k < reps; k++) for (const r of records) sink += ua.lookup(r.user_agent).is_bot ? 1 : 0;
  });
  const geo = await GeoLookup.open();
  const ips = records.map((r) => normalizeIp(r.remote_addr));
  for (const i of ips) geo.lookup(i.ip, i.ip_version);
  const geoStage = measure('  GeoIP (warm cache)', m, () => {
    for (let k = 0; k < reps; k++) for (const i of ips) sink += geo.lookup(i.ip, i.ip_version).country.length;
  });
  const ipStage = measure('  IP normalise', m, () => {
    for (let k = 0; k < reps; k++) for (const r of records) sink += normalizeIp(r.remote_addr).ip_version;
  });
  const seed = fnv1a64('salt\u000012345678901234567890\u0000'); // per-UA prefix state, cached by the enricher
  const hashStage = measure('  visitor_id hash', m, () => {
    for (let k = 0; k < reps; k++) for (const r of records) sink += toDecimal(fnv1a64(`${Math.floor(r.time / 864e5)}\u0000${r.remote_addr}`, seed)).length;
  });
  const enricher = await createEnricher();
  for (const r of records) enricher.enrich(r);
  const full = measure('parse + enrich (warm)', n, () => {
    for (let k = 0; k < reps; k++)
      for (const l of lines) {
        const r = parse(l);
        if (r.ok) sink += enricher.enrich(r.record).status;
      }
  });
  // What the processor does per line before the INSERT: one RowBuffer per
  // pass over the lines, as it makes one per Kafka batch.
  const writer = new AccessLogRowWriter({ dialect: 'modern' });
  const withRow = measure('parse + enrich + TabSeparated row', n, () => {
    for (let k = 0; k < reps; k++) {
      const rows = new RowBuffer(file.length * 2 + lines.length * 200);
      let i = 0;
      for (const l of lines) {
        const r = parse(l);
        if (r.ok)
          writer.write(rows, enricher.enrich(r.record), { source: 'access.log', sourceOffset: i, topic: 'weblog.raw', partition: 0, offset: i++, line: 0 });
      }
      sink += rows.count;
    }
  });
  if (sink === 42) console.log(''); // keep the work observable
  return table([baseline, parseOnly, time, ipStage, uaStage, geoStage, hashStage, full, withRow, baselineSliced, parseSliced], baseline);
}
