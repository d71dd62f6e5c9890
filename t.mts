import { readFileSync } from 'node:fs';
import { createParser } from './src/parse/scan.ts';
import { createEnricher } from './src/enrich/index.ts';
const t00 = performance.now();
const e = await createEnricher();
console.log('open ms', performance.now() - t00, e.geoDescription);
const p = createParser('combined');
const lines = readFileSync('/work/shared/datasets/access_logs_elastic_apache/apache_logs.log','utf8').split('\n'); lines.pop();
const r = p(lines[0]); if (r.ok) console.log(e.enrich(r.record));
let t0 = performance.now();
for (let k=0;k<1;k++) for (const l of lines) { const r = p(l); if (r.ok) e.enrich(r.record); }
console.log('cold µs/line', (performance.now()-t0)*1000/(lines.length));
t0 = performance.now();
for (let k=0;k<20;k++) for (const l of lines) { const r = p(l); if (r.ok) e.enrich(r.record); }
console.log('warm µs/line', (performance.now()-t0)*1000/(20*lines.length), e.stats());
