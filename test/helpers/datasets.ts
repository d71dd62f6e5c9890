/**
 * Test data: vendored fixtures (permissive licenses) under test/fixtures, and
 * the shared datasets folder (../shared/datasets) for the GPL/LGPL ones,
 * whose tests skip with a message when it is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');
export const sharedDatasets = process.env.WEBLOG_SHARED_DATASETS ?? path.resolve(repoRoot, '..', 'shared', 'datasets');
export const hasShared = existsSync(sharedDatasets);

/**
 * A file of ../shared/datasets (GPL/LGPL/MPL data is read from there, never vendored), and whether it is
 * there. When it is not, `why` says so on stderr (vitest shows it), for the test's title to carry too.
 */
export function sharedFile(...parts: string[]): { file: string; present: boolean; skipped: string } {
  const file = path.join(sharedDatasets, ...parts);
  const present = existsSync(file);
  const skipped = present ? '' : ` (skipped: ${path.join(...parts)} is not in ../shared/datasets)`;
  if (!present) process.stderr.write(`weblog tests: ${file} not found (it lives in ../shared/datasets): tests that need it are skipped\n`);
  return { file, present, skipped };
}

/** The sample weblog ships (`weblog run` without --source): 10,000 Apache lines, Elastic examples, Apache-2.0 (LICENSE beside it). */
export const sampleLog = path.join(repoRoot, 'data', 'sample', 'elastic_apache.log');

export function fixture(...parts: string[]): string {
  if (parts.join('/') === 'logs/elastic_apache.log') return sampleLog; // the package's sample, not a copy
  return path.join(fixturesDir, ...parts);
}

export function readLines(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
