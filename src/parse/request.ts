/**
 * Splitting the request line `METHOD url PROTOCOL`. The url is everything
 * between the first space and a final `HTTP/x` token, so spaces inside it
 * survive. A request of another shape (`-`, TLS handshake bytes, junk) keeps
 * method, url and protocol empty; the line is still accepted.
 */
import type { AccessRecord } from './record.js';

/** Method tokens: an upper-case letter, then upper-case letters, digits, `-` and `_` (WebDAV's VERSION-CONTROL). */
function isMethod(s: string, from: number, end: number): boolean {
  const first = s.charCodeAt(from);
  if (end === from || end - from > 32 || first < 65 || first > 90) return false;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 95)) return false;
  }
  return true;
}

/** The method string, shared for the common ones so that most lines allocate none. */
function methodOf(s: string, from: number, end: number): string {
  switch (end - from) {
    case 3:
      if (s.startsWith('GET', from)) return 'GET';
      if (s.startsWith('PUT', from)) return 'PUT';
      break;
    case 4:
      if (s.startsWith('POST', from)) return 'POST';
      if (s.startsWith('HEAD', from)) return 'HEAD';
      break;
  }
  return s.slice(from, end);
}

/** The protocol token s[at, to), shared for the common ones. */
function protocolOf(s: string, at: number, to: number): string {
  if (to - at === 8 && s.charCodeAt(at + 5) === 49 && s.charCodeAt(at + 6) === 46) {
    const minor = s.charCodeAt(at + 7);
    if (minor === 49) return 'HTTP/1.1';
    if (minor === 48) return 'HTTP/1.0';
  }
  return s.slice(at, to);
}

function isProtocol(s: string, at: number, to: number): boolean {
  // HTTP/1.0, HTTP/1.1, HTTP/2.0, HTTP/2, HTTP/3
  return to - at >= 5 && to - at <= 9 && s.startsWith('HTTP/', at);
}

export function splitRequest(request: string, r: AccessRecord): void {
  splitRequestAt(request, 0, request.length, r);
}

/**
 * splitRequest of `s.slice(from, to)`, reading the line in place: the
 * request, method, url, path, query and protocol are the only strings made.
 */
export function splitRequestAt(s: string, from: number, to: number, r: AccessRecord): void {
  r.request = s.slice(from, to);
  let sp = s.indexOf(' ', from);
  if (sp >= to) sp = -1;
  const methodEnd = sp === -1 ? to : sp;
  if (!isMethod(s, from, methodEnd)) return;
  r.method = methodOf(s, from, methodEnd);
  if (sp === -1) return;
  const last = s.lastIndexOf(' ', to - 1);
  const urlEnd = last > sp && isProtocol(s, last + 1, to) ? last : to;
  if (urlEnd !== to) r.protocol = protocolOf(s, last + 1, to);
  const url = s.slice(sp + 1, urlEnd);
  r.url = url;
  splitUrlAt(s, sp + 1, urlEnd, url, r);
}

export function splitUrl(url: string, r: AccessRecord): void {
  splitUrlAt(url, 0, url.length, url, r);
}

/** path and query of the url `url` = s[from, to). */
function splitUrlAt(s: string, from: number, to: number, url: string, r: AccessRecord): void {
  const q = s.indexOf('?', from);
  if (q === -1 || q >= to) {
    r.path = url;
    r.query = '';
  } else {
    r.path = s.slice(from, q);
    r.query = s.slice(q + 1, to);
  }
}
