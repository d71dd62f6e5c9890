/**
 * Secrets out of what weblog prints: a URL loses its user information (a
 * password, or a token given as the user: `http://TOKEN@host`) and the
 * values of query parameters that name a key, token, password, secret,
 * credential or header (`?http_header_X-ClickHouse-Key=...`).
 */

const secretParam = /key|token|pass|secret|auth|credential|header|signature|session/i;

/** The URL with its secrets replaced by ***, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    let changed = false;
    if (u.username) [u.username, changed] = ['***', true];
    if (u.password) [u.password, changed] = ['***', true];
    for (const k of [...u.searchParams.keys()]) if (secretParam.test(k)) [changed] = [true, u.searchParams.set(k, '***')];
    // Unchanged URLs are returned as given (URL would normalise them).
    return changed ? u.toString().replace(/%2A%2A%2A/g, '***') : url;
  } catch {
    return '(invalid URL)';
  }
}

/** Any URLs inside `text` redacted (error messages of client libraries quote the URL they failed on). */
export function redactText(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (m) => redactUrl(m));
}
