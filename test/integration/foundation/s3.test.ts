import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { uniqueBucket } from '../../helpers/names.js';

describe('real S3-compatible server', () => {
  const { s3 } = inject('endpoints');
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    // SDK >= 3.729 adds CRC32 checksums to every upload by default; not every S3 server accepts them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const bucket = uniqueBucket('foundation');

  afterAll(async () => {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'logs/a.log' })).catch(() => undefined);
    await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    client.destroy();
  });

  it('puts and gets an object', async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const body = 'line one\nline two – ü\n';
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'logs/a.log', Body: body }));
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'logs/a.log' }));
    expect(await got.Body?.transformToString()).toBe(body);
    expect(got.ETag).toBe(put.ETag);
  });
});
