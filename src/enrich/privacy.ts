/**
 * Privacy mode (`--privacy`): no full client address is stored anywhere, and
 * visitor_id cannot be recomputed from addresses without the key.
 * - visitor_id = HMAC-SHA256 keyed with the day's salt over (ua_id, UTC day,
 *   anonymised address), its first 8 bytes; the day's salt = HMAC-SHA256 of
 *   the day keyed with a secret key. FNV (the default ids) can be run
 *   backwards from one known (id, address) pair; HMAC cannot.
 * - The key lives in a file of its own (created once, mode 0600), never in
 *   ClickHouse; every replica needs the same file. Deleting or replacing it
 *   makes all earlier ids unlinkable to any later ones.
 * - Addresses inside text the pipeline keeps (a reject's line and detail, the
 *   samples it logs) are masked like the ip column.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WeblogError } from '../errors.js';
import { anonymizeIp, normalizeIp } from './ip.js';

/** Where the key is kept unless --privacy-key says otherwise: outside any data folder. */
export function defaultPrivacyKeyFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'weblog', 'privacy.key');
}

/** The key in `file` (64 hex digits), created with a fresh random key, readable by its owner only, when missing. */
export function loadPrivacyKey(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new WeblogError('CONFIG_INVALID', `--privacy-key: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    text = randomBytes(32).toString('hex');
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadPrivacyKey(file); // another replica made it first
      throw new WeblogError('CONFIG_INVALID', `--privacy-key: cannot create ${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new WeblogError('CONFIG_INVALID', `--privacy-key: ${file} does not hold a key (64 hex digits)`);
  return Buffer.from(text, 'hex');
}

/** visitor_id of privacy mode, with the day's salt derived from the key (cached for the last day). */
export class PrivateVisitorIds {
  private lastDay = NaN;
  private salt: Buffer = Buffer.alloc(0);

  constructor(private readonly key: Buffer) {}

  id(uaId: string, day: number, ip: string): string {
    if (day !== this.lastDay) {
      this.salt = createHmac('sha256', this.key).update(`weblog visitor salt\u0000${day}`).digest();
      this.lastDay = day;
    }
    return createHmac('sha256', this.salt).update(`${uaId}\u0000${day}\u0000${ip}`).digest().readBigUInt64BE(0).toString();
  }
}

const ipv4 = /(?<![\d.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![\d.])/g;
const ipv6 = /(?<![0-9a-f:.])((?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4})(?![0-9a-f:.])/gi; // not the head of an IPv4-mapped address

/** `text` with every IPv4 and IPv6 address in it anonymised as the ip column is. */
export function maskIps(text: string): string {
  const mask = (m: string) => {
    const info = normalizeIp(m);
    return info.ip_version === 0 ? m : anonymizeIp(info);
  };
  return text.replace(ipv4, mask).replace(ipv6, mask);
}

/** A reject with the addresses in its line and detail masked (maskIps). */
export function maskReject<R extends { line: string; detail: string }>(r: R): R {
  return { ...r, line: maskIps(r.line), detail: maskIps(r.detail) };
}
