import { describe, expect, it } from 'vitest';
import { emptyRecord } from '../../../src/parse/record.js';
import { splitRequest } from '../../../src/parse/request.js';

function split(req: string) {
  const r = emptyRecord();
  splitRequest(req, r);
  return { method: r.method, url: r.url, path: r.path, query: r.query, protocol: r.protocol };
}

describe('splitRequest', () => {
  it('splits METHOD url PROTOCOL and path?query', () => {
    expect(split('GET /a/b?x=1&y=2 HTTP/1.1')).toEqual({ method: 'GET', url: '/a/b?x=1&y=2', path: '/a/b', query: 'x=1&y=2', protocol: 'HTTP/1.1' });
  });
  it('keeps spaces inside the url', () => {
    expect(split('GET /a b/c d HTTP/1.0')).toMatchObject({ url: '/a b/c d', protocol: 'HTTP/1.0' });
  });
  it('accepts a request without protocol', () => {
    expect(split('GET /')).toEqual({ method: 'GET', url: '/', path: '/', query: '', protocol: '' });
  });
  it('accepts WebDAV methods with a dash', () => {
    expect(split('VERSION-CONTROL /x HTTP/1.1')).toMatchObject({ method: 'VERSION-CONTROL', url: '/x' });
  });
  it('leaves method and protocol empty for requests of another shape', () => {
    expect(split('-')).toEqual({ method: '', url: '', path: '', query: '', protocol: '' });
    expect(split('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03')).toMatchObject({ method: '', protocol: '' });
    expect(split('get /lowercase HTTP/1.1')).toMatchObject({ method: '', protocol: '' });
  });
});
