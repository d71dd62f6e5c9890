/**
 * Splitting the request line `METHOD url PROTOCOL`. The url is everything
 * between the first space and a final `HTTP/x` token, so spaces inside it
 * survive. A request of another shape (`-`, TLS handshake bytes, junk) keeps
 * method, url and protocol empty; the line is still accepted.
 */
import type { AccessRecord } from './record.js';

/** Method tokens: an upper-case letter, then upper-case letters, digits, `-` and `_` (WebDAV's VERSION-CONTROL). */
function isMethod(s: string, end: number): boolean {
  const first = s.charCodeAt(0);
  if (end === 0 || end > 32 || first < 65 || first > 90) return false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 95)) return false;
  }
  return true;
}

/** The method string, shared for the common ones so that most lines allocate none. */
function methodOf(s: string, end: number): string {
  switch (end) {
    case 3:
      if (s.startsWith('GET')) return 'GET';
      if (s.startsWith('PUT')) return 'PUT';
      break;
    case 4:
      if (s.startsWith('POST')) return 'POST';
      if (s.startsWith('HEAD')) return 'HEAD';
      break;
  }
  return s.slice(0, end);
}

/** The protocol token at `at` to the end, shared for the common ones. */
function protocolOf(s: string, at: number): string {
  if (s.length - at === 8 && s.charCodeAt(at + 5) === 49 && s.charCodeAt(at + 6) === 46) {
    const minor = s.charCodeAt(at + 7);
    if (minor === 49) return 'HTTP/1.1';
    if (minor === 48) return 'HTTP/1.0';
  }
  return s.slice(at);
}

function isProtocol(s: string, at: number): boolean {
  // HTTP/1.0, HTTP/1.1, HTTP/2.0, HTTP/2, HTTP/3
  return s.startsWith('HTTP/', at) && s.length - at <= 9;
}

export function splitRequest(request: string, r: AccessRecord): void {
  r.request = request;
  const sp = request.indexOf(' ');
  const methodEnd = sp === -1 ? request.length : sp;
  if (!isMethod(request, methodEnd)) return;
  r.method = methodOf(request, methodEnd);
  if (sp === -1) return;
  const last = request.lastIndexOf(' ');
  if (last > sp && isProtocol(request, last + 1)) {
    r.protocol = protocolOf(request, last + 1);
    r.url = request.slice(sp + 1, last);
  } else r.url = request.slice(sp + 1);
  splitUrl(r.url, r);
}

export function splitUrl(url: string, r: AccessRecord): void {
  const q = url.indexOf('?');
  if (q === -1) {
    r.path = url;
    r.query = '';
  } else {
    r.path = url.slice(0, q);
    r.query = url.slice(q + 1);
  }
}
