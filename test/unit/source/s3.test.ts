import { describe, expect, it } from 'vitest';
import { S3Source } from '../../../src/source/s3.js';

describe('S3Source.describe', () => {
  it('never shows a password given in the endpoint URL (it went to the log in clear)', () => {
    const s = new S3Source({
      bucket: 'logs',
      prefix: 'web/',
      endpoint: 'http://AKIAEXAMPLE:s3cr3t@minio.local:9000',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    expect(s.describe()).toBe('s3://logs/web/ at http://***:***@minio.local:9000/');
    expect(s.describe()).not.toContain('s3cr3t');
    expect(new S3Source({ bucket: 'logs', prefix: '', endpoint: 'http://127.0.0.1:39200' }).describe()).toBe('s3://logs/ at http://127.0.0.1:39200');
  });
});
