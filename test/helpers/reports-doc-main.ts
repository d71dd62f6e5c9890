/** `npm run docs:reports`: writes docs/reports.md from the report SQL headers. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { reportsMarkdown } from '../../src/report/docs.js';
import { listReports } from '../../src/report/reports.js';
import { repoRoot } from './datasets.js';

writeFileSync(path.join(repoRoot, 'docs', 'reports.md'), reportsMarkdown(listReports()));
process.stdout.write('wrote docs/reports.md\n');
