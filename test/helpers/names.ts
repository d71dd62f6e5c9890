/** Unique, valid names for topics, databases and buckets, one per test. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** S3 bucket names: lower case, digits and dashes, 3-63 characters. */
export function uniqueBucket(prefix: string): string {
  return uniqueName(prefix).replace(/_/g, '-').toLowerCase();
}

/** A fresh temporary folder, removed by the test file's cleanups. */
export function tempDir(prefix: string, cleanups: (() => Promise<void>)[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
