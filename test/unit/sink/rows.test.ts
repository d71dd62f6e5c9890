import { describe, expect, it } from 'vitest';
import { geoSource, uaSource, type EnrichedRecord } from '../../../src/enrich/index.js';
import { AccessLogRowWriter, accessLogRow, newRowBuffer, writeAccessLogRow, type Provenance } from '../../../src/sink/rows.js';
import { fixture, readLines } from '../../helpers/datasets.js';
import { enrichLines } from '../../helpers/load.js';

const rec: EnrichedRecord = {
  remote_addr: '1.2.3.4',
  remote_user: 'a"b',
  time: 1431857103123,
  request: 'GET /x?y HTTP/1.1',
  method: 'GET',
  url: '/x?y',
  path: '/x',
  query: 'y',
  protocol: 'HTTP/1.1',
  status: 200,
  bytes: 10,
  referer: 'ref\\n',
  user_agent: 'UA \u0000 п',
  vhost: 'v',
  request_time: 0.25,
  upstream_response_time: '',
  x_forwarded_for: '',
  extra: { k: 'v' },
  ip: '',
  ip_version: 0,
  is_private: false,
  is_loopback: true,
  browser: 'B',
  browser_version: '1',
  os: 'O',
  os_version: '2',
  device_type: 'desktop',
  device_vendor: '',
  device_model: '',
  is_bot: true,
  bot_category: 'search',
  bot_claim: 'google',
  bot_verified: true,
  ua_id: '18446744073709551615',
  country: 'GB',
  region: '',
  city: '',
  latitude: null,
  longitude: 1.5,
  asn: 0,
  as_org: '',
  visitor_id: '1',
};
const prov = { source: 's3://b/k', sourceOffset: -1, topic: 't', partition: 2, offset: 99, line: 3 };

describe('accessLogRow', () => {
  it('is valid JSON with every column, escaped strings and 64-bit ids as strings', () => {
    const row = JSON.parse(accessLogRow(rec, prov)) as Record<string, unknown>;
    expect(row).toMatchObject({
      site: 'v',
      time: '2015-05-17 10:05:03.123',
      remote_user: 'a"b',
      user_agent: 'UA \u0000 п',
      ip: '::',
      is_loopback: true,
      extra: { k: 'v' },
      latitude: null,
      ua_id: '18446744073709551615',
      source_offset: 0,
      kafka_partition: 2,
      kafka_offset: 99,
      kafka_line: 3,
      bot_claim: 'google',
      bot_verified: true,
    });
    expect(Object.keys(row)).toHaveLength(49);
  });
  it('writes the legacy layout: seconds, 0/1 booleans, no Map', () => {
    const row = JSON.parse(accessLogRow(rec, prov, { dialect: 'legacy', site: 's' })) as Record<string, unknown>;
    expect(row).toMatchObject({ site: 's', time: 1431857103, is_bot: 1, is_private: 0 });
    expect(row).not.toHaveProperty('extra');
  });
});

describe('AccessLogRowWriter', () => {
  it('writes the bytes of writeAccessLogRow while copying cached runs, also for records that no longer match their cached objects', async () => {
    const real = await enrichLines([...readLines(fixture('logs', 'elastic_apache.log')), ...readLines(fixture('logs', 'basjes_hackers.log'))]);
    expect(real.length).toBeGreaterThan(10_000);
    expect(real.every((r) => r[uaSource] !== undefined && r[geoSource] !== undefined)).toBe(true);
    const base = real[0] as EnrichedRecord;
    // Copies that keep the symbol references but change fields of the cached runs.
    const changed: EnrichedRecord[] = [
      { ...base, browser: 'Changed' },
      { ...base, device_model: 'tab\there' },
      { ...base, is_bot: !base.is_bot },
      { ...base, city: 'Elsewhere' },
      { ...base, latitude: 1.25, longitude: null },
      { ...base, asn: 64512, as_org: 'пример' },
    ];
    const records = [...real, ...changed, base, ...changed];
    const prov = (i: number): Provenance => ({
      source: i % 700 < 350 ? 's3://b/a\tb' : `s3://b/k${Math.floor(i / 1000)}`,
      sourceOffset: i * 100 - 1,
      topic: i % 5000 < 2500 ? 'weblog.raw' : 'other',
      partition: Math.floor(i / 300) % 3,
      offset: i,
      line: i % 1001,
    });
    for (const [dialect, format] of [
      ['modern', 'TabSeparated'],
      ['legacy', 'TabSeparated'],
      ['modern', 'RowBinary'],
      ['legacy', 'RowBinary'],
    ] as const) {
      for (const site of [undefined, 'site']) {
        const want = newRowBuffer(format, 1024);
        const got = newRowBuffer(format, 1024);
        const writer = new AccessLogRowWriter({ dialect, site, format });
        records.forEach((r, i) => {
          writeAccessLogRow(want, r, prov(i), { dialect, site });
          writer.write(got, r, prov(i));
        });
        expect(got.count).toBe(records.length);
        const bad = records.findIndex((_, i) => got.row(i) !== want.row(i));
        expect(bad === -1 ? '' : `row ${bad}: ${got.row(bad)}\nwant ${want.row(bad)}`).toBe('');
        expect(got.bytes(0, got.count).equals(want.bytes(0, want.count))).toBe(true);
      }
    }
  });
});
