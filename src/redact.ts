/** Secrets out of what weblog prints: URLs lose their password. */

/** The URL with its password replaced by ***, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
