/** Child process: prints runReportSuite's output as JSON (run with another TZ). */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chdbTarget, runReportSuite } from './report-suite.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weblog-tz-'));
try {
  const out = await runReportSuite(chdbTarget(dir), 'tz');
  process.stdout.write(JSON.stringify({ tz: process.env.TZ, offsetMinutes: new Date(Date.UTC(2015, 4, 18)).getTimezoneOffset(), out }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
