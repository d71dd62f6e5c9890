/** Real S3-server helpers for tests. */
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { s3Client } from '../../src/source/s3.js';

export function testS3(): S3Client {
  const { s3 } = inject('endpoints');
  return s3Client({ endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
}

export function s3Env(): NodeJS.ProcessEnv {
  const { s3 } = inject('endpoints');
  return { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region };
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function put(client: S3Client, bucket: string, key: string, body: Buffer | string, contentEncoding?: string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(contentEncoding ? { ContentEncoding: contentEncoding } : {}) }));
}

export async function emptyAndDeleteBucket(client: S3Client, bucket: string): Promise<void> {
  const list = await client.send(new ListObjectsV2Command({ Bucket: bucket })).catch(() => undefined);
  for (const o of list?.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key })).catch(() => undefined);
  await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
}

/** The lines a shipper must produce for this content: LF-split, CR dropped, a last line without LF kept. */
export function expectedLines(content: Buffer | string): string[] {
  const lines = Buffer.isBuffer(content) ? content.toString('utf8').split('\n') : content.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}
