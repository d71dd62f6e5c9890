/** Unique, valid names for topics, databases and buckets, one per test. */
import { randomBytes } from 'node:crypto';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** S3 bucket names: lower case, digits and dashes, 3-63 characters. */
export function uniqueBucket(prefix: string): string {
  return uniqueName(prefix).replace(/_/g, '-').toLowerCase();
}
