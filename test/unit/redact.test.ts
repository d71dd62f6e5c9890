/** Secrets never printed: URL user information and secret query parameters, in URLs and in any message quoting one. */
import { describe, expect, it } from 'vitest';
import { WeblogError, describeError } from '../../src/errors.js';
import { redactText, redactUrl } from '../../src/redact.js';

describe('redactUrl', () => {
  it('hides the password, a token given as the user, and secret query parameters', () => {
    expect(redactUrl('http://weblog:SECRETPW@clickhouse:8123')).toBe('http://***:***@clickhouse:8123/');
    expect(redactUrl('http://TOKEN123@clickhouse:8123/')).toBe('http://***@clickhouse:8123/');
    expect(redactUrl('http://ch:8123/?http_header_X-ClickHouse-Key=SECRETKEY&database=x')).toBe('http://ch:8123/?http_header_X-ClickHouse-Key=***&database=x');
    for (const p of ['password', 'access_token', 'apiKey', 'client_secret', 'X-Amz-Signature', 'auth'])
      expect(redactUrl(`https://h/?${p}=S3CR3T`)).not.toContain('S3CR3T');
  });

  it('leaves a URL without secrets exactly as given', () => {
    for (const u of ['s3://bucket/logs/a [1].log', 'file:///var/log/nginx/access.log', 'http://ch:8123?database=x']) expect(redactUrl(u)).toBe(u);
  });
});

describe('describeError', () => {
  it('redacts URLs quoted in any message (a client library quoting the URL it failed on)', () => {
    const msg = describeError(new Error('connect ECONNREFUSED http://u:SECRETPW@host:8123/?password=ALSO'));
    expect(msg).not.toMatch(/SECRETPW|ALSO/);
    expect(describeError(new WeblogError('UNAVAILABLE', 'ClickHouse http://TOKEN@h:8123 down'))).toBe('UNAVAILABLE: ClickHouse http://***@h:8123/ down');
    expect(redactText('no url here')).toBe('no url here');
  });
});
