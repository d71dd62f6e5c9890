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

export function fixture(...parts: string[]): string {
  return path.join(fixturesDir, ...parts);
}

export function readLines(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
