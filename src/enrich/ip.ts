/**
 * Client IP normalisation: the address in `remote_addr` (first entry of a
 * list, brackets and IPv4-mapped prefixes removed), its version, private and
 * loopback flags, and optional anonymisation.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpInfo {
  /** Normalised address, '' when remote_addr holds no IP (hostname, unix socket, '-'). */
  ip: string;
  ip_version: 0 | 4 | 6;
  is_private: boolean;
  is_loopback: boolean;
}

const none: IpInfo = { ip: '', ip_version: 0, is_private: false, is_loopback: false };

function v4Octets(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** Dotted-quad check without a regex; returns the first two octets packed (a << 8 | b), or -1. */
function fastV4(s: string): number {
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let head = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      if (dots < 2) head = (head << 8) | octet;
      dots++;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // no leading zeros (as net.isIPv4)
      octet = octet * 10 + c - 48;
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? head : -1;
}

function classifyV4(ip: string, head = fastV4(ip)): IpInfo {
  const a = head >> 8;
  const b = head & 0xff;
  const loop = a === 127;
  const priv = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
  return { ip, ip_version: 4, is_private: priv || loop, is_loopback: loop };
}

function classifyV6(ip: string): IpInfo {
  const lower = ip.toLowerCase();
  const loop = lower === '::1' || lower === '0:0:0:0:0:0:0:1';
  const first = parseInt(lower.split(':')[0] || '0', 16);
  const priv = (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
  return { ip: lower, ip_version: 6, is_private: priv || loop, is_loopback: loop };
}

function normalizeOne(addr: string): IpInfo {
  const head = fastV4(addr);
  if (head !== -1) return classifyV4(addr, head); // the common case, without trim or regex
  let s = addr.trim();
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    s = s.slice(1, close === -1 ? undefined : close);
  }
  if (isIPv4(s)) return classifyV4(s);
  // A zone (fe80::1%eth0) passes isIPv6 but no IPv6 column takes it; the
  // address without it is the client (remote_addr keeps the text as logged).
  const zone = s.indexOf('%');
  if (zone !== -1 && isIPv6(s)) s = s.slice(0, zone);
  if (isIPv6(s)) {
    const lower = s.toLowerCase();
    if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return classifyV4(lower.slice(7));
    return classifyV6(s);
  }
  return none;
}

/**
 * The client address of `remote_addr`. A list (`10.0.0.2, 10.0.0.1, 85.181.35.98`,
 * written by some proxies) gives its first public address, else its first address.
 */
export function normalizeIp(remoteAddr: string): IpInfo {
  if (remoteAddr.indexOf(',') === -1) return normalizeOne(remoteAddr);
  let first: IpInfo | undefined;
  for (const part of remoteAddr.split(',')) {
    const info = normalizeOne(part);
    if (info.ip_version === 0) continue;
    if (!info.is_private) return info;
    first ??= info;
  }
  return first ?? none;
}

/** Expands an IPv6 address to 8 groups of 16 bits. */
function expandV6(ip: string): number[] {
  let s = ip;
  if (s.includes('.')) {
    // Trailing dotted quad (::ffff:1.2.3.4 style): rewrite as two hex groups.
    const i = s.lastIndexOf(':');
    const [a = 0, b = 0, c = 0, d = 0] = v4Octets(s.slice(i + 1));
    s = `${s.slice(0, i + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left = '', right] = s.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const l = groups(left);
  if (right === undefined) return l;
  const r = groups(right);
  return [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
}

/** Zeroes the last IPv4 octet, or the last 80 bits of an IPv6 address. */
export function anonymizeIp(info: IpInfo): string {
  if (info.ip_version === 4) return info.ip.replace(/\.\d+$/, '.0');
  if (info.ip_version === 6) {
    const g = expandV6(info.ip);
    for (let i = 3; i < 8; i++) g[i] = 0;
    // Compress the zero tail: a:b:c::
    return `${g
      .slice(0, 3)
      .map((x) => x.toString(16))
      .join(':')}::`;
  }
  return '';
}
