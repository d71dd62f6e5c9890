/** Options several subcommands share. */
import { namedFormats } from '../../parse/format.js';
import type { OptionSpec } from '../options.js';

export const formatOption: OptionSpec = {
  name: 'format',
  type: 'string',
  default: 'combined',
  arg: 'NAME|STRING',
  description: `log format: ${Object.keys(namedFormats).join(', ')}, or an nginx log_format / Apache LogFormat string`,
};

export const enrichOptions: OptionSpec[] = [
  { name: 'geoip', type: 'string', arg: 'PATH', description: 'MaxMind City/Country .mmdb (default: bundled DB-IP Lite)' },
  { name: 'asn', type: 'string', arg: 'PATH', description: 'MaxMind ASN .mmdb (default: none)' },
  { name: 'anonymize-ip', type: 'boolean', default: false, description: 'zero the last IPv4 octet / last 80 IPv6 bits before storing or hashing' },
  { name: 'visitor-salt', type: 'string', default: '', arg: 'TEXT', description: 'salt of visitor_id; rotate it to unlink visitors' },
];
