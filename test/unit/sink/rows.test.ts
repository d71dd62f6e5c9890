import { describe, expect, it } from 'vitest';
import type { EnrichedRecord } from '../../../src/enrich/index.js';
import { accessLogRow } from '../../../src/sink/rows.js';

const rec: EnrichedRecord = {
  remote_addr: '1.2.3.4', remote_user: 'a"b', time: 1431857103123, request: 'GET /x?y HTTP/1.1', method: 'GET', url: '/x?y', path: '/x', query: 'y',
  protocol: 'HTTP/1.1', status: 200, bytes: 10, referer: 'ref\\n', user_agent: 'UA \u0000 п', vhost: 'v', request_time: 0.25, upstream_response_time: '',
  x_forwarded_for: '', extra: { k: 'v' }, ip: '', ip_version: 0, is_private: false, is_loopback: true, browser: 'B', browser_version: '1', os: 'O',
  os_version: '2', device_type: 'desktop', device_vendor: '', device_model: '', is_bot: true, ua_id: '18446744073709551615', country: 'GB', region: '',
  city: '', latitude: null, longitude: 1.5, asn: 0, as_org: '', visitor_id: '1',
};
const prov = { source: 's3://b/k', sourceOffset: -1, topic: 't', partition: 2, offset: 99 };

describe('accessLogRow', () => {
  it('is valid JSON with every column, escaped strings and 64-bit ids as strings', () => {
    const row = JSON.parse(accessLogRow(rec, prov)) as Record<string, unknown>;
    expect(row).toMatchObject({ site: 'v', time: 1431857103123, remote_user: 'a"b', user_agent: 'UA \u0000 п', ip: '::', is_loopback: true, extra: { k: 'v' }, latitude: null, ua_id: '18446744073709551615', source_offset: 0, kafka_partition: 2, kafka_offset: 99 });
    expect(Object.keys(row)).toHaveLength(45);
  });
  it('writes the legacy layout: seconds, 0/1 booleans, no Map', () => {
    const row = JSON.parse(accessLogRow(rec, prov, { dialect: 'legacy', site: 's' })) as Record<string, unknown>;
    expect(row).toMatchObject({ site: 's', time: 1431857103, is_bot: 1, is_private: 0 });
    expect(row).not.toHaveProperty('extra');
  });
});
