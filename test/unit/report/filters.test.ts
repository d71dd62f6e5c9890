import { describe, expect, it } from 'vitest';
import { filterText, parseFilter, parseFilters } from '../../../src/report/filters.js';
import { listReports } from '../../../src/report/reports.js';
import { filterCondition, filterReportSql, rollups, stateTypes, tableOf } from '../../../src/schema/filters.js';

describe('parseFilter', () => {
  it('reads each kind of value', () => {
    expect(parseFilter('status=5xx')).toEqual({ field: 'status', negate: false, match: 'class', value: 5 });
    expect(parseFilter('status!=404')).toEqual({ field: 'status', negate: true, match: 'eq', value: 404 });
    expect(parseFilter('path=/api/*')).toEqual({ field: 'path', negate: false, match: 'prefix', value: '/api/' });
    expect(parseFilter('path=/a=b')).toEqual({ field: 'path', negate: false, match: 'eq', value: '/a=b' });
    expect(parseFilter('is_bot=no')).toEqual({ field: 'is_bot', negate: false, match: 'eq', value: false });
    expect(parseFilter('country=de')).toEqual({ field: 'country', negate: false, match: 'eq', value: 'DE' });
    expect(parseFilter('country=(unknown)')).toEqual({ field: 'country', negate: false, match: 'eq', value: '' });
    expect(parseFilter('referrer=')).toEqual({ field: 'referrer', negate: false, match: 'eq', value: '' });
  });

  it('refuses what it cannot read, naming the field and what it expects', () => {
    expect(() => parseFilter('user_agent=curl')).toThrow(/unknown field "user_agent".*fields: site, path, status/);
    expect(() => parseFilter('status=6xx')).toThrow(/status expects a status from 100 to 599 or a class such as 5xx, got "6xx"/);
    expect(() => parseFilter('status=abc')).toThrow(/status expects/);
    expect(() => parseFilter('is_bot=maybe')).toThrow(/is_bot expects true or false/);
    expect(() => parseFilter('path=/a*/b')).toThrow(/only a trailing \* is a wildcard/);
    expect(() => parseFilter('country')).toThrow(/expected FIELD=VALUE or FIELD!=VALUE/);
    expect(() => parseFilter('status=5xx', 'where')).not.toThrow();
    expect(() => parseFilter('x=1', 'where')).toThrow(/^where: unknown field/);
    expect(() => parseFilters(Array.from({ length: 21 }, () => 'status=200'))).toThrow(/at most 20 filters/);
  });

  it('writes a filter back as the text it came from', () => {
    for (const t of ['status=5xx', 'status!=404', 'path=/api/*', 'is_bot=false', 'country=(unknown)', 'referrer!=example.org'])
      expect(filterText(parseFilter(t))).toBe(t);
  });
});

describe('filters in SQL', () => {
  it('binds every value; ORs one field, ANDs fields and negations', () => {
    const params: Record<string, string | number> = {};
    const sql = filterCondition(parseFilters(['status=4xx', 'status=5xx', "path!=/x' OR 1=1", 'referrer=a.org']), params, 'access_log');
    expect(sql).toBe(
      'NOT (access_log.path = {wf2:String}) AND (intDiv(access_log.status, 100) = {wf0:UInt16} OR intDiv(access_log.status, 100) = {wf1:UInt16}) AND domain(access_log.referer) = {wf3:String}',
    );
    expect(params).toEqual({ wf0: 4, wf1: 5, wf2: "/x' OR 1=1", wf3: 'a.org' });
  });

  it('knows each rollup from its view, with the filter fields it keeps', () => {
    const r = rollups();
    expect([...(r.get('traffic_hourly')?.dims ?? [])].sort()).toEqual(['browser', 'country', 'device_type', 'os', 'site']);
    expect([...(r.get('traffic_monthly')?.dims ?? [])].sort()).toEqual(['browser', 'country', 'device_type', 'os', 'site']);
    expect(r.get('traffic_monthly')?.from).toBe('traffic_hourly');
    expect([...(r.get('pages_daily')?.dims ?? [])].sort()).toEqual(['path', 'site']);
  });

  it('every report reads one table and chooses its rows in one place, so filters apply to all of them', () => {
    for (const r of listReports()) {
      if (r.name === 'rejects') continue;
      expect({ name: r.name, table: tableOf(r.sql) }).not.toEqual({ name: r.name, table: undefined });
      expect(() => filterReportSql(r.name, r.sql, parseFilters(['status=5xx', 'country=US']))).not.toThrow();
    }
  });

  it('writes -StateIf as -IfState, so a subquery has the rollup column types', () => {
    expect(stateTypes('countStateIf(toUInt8(is_bot)) AS bot_hits, quantilesTDigestStateIf(0.5)(x, c) AS r, sumState(bytes) AS bytes')).toBe(
      'countIfState(toUInt8(is_bot)) AS bot_hits, quantilesTDigestIfState(0.5)(x, c) AS r, sumState(bytes) AS bytes',
    );
  });

  it('leaves the SQL as it is without filters, and refuses filters on the rejects report', () => {
    const sql = "SELECT 1 FROM access_log WHERE ({site:String} = '' OR site = {site:String})";
    expect(filterReportSql('x', sql, []).sql).toBe(sql);
    expect(() => filterReportSql('rejects', 'SELECT reason FROM rejects', parseFilters(['status=404']))).toThrow(/rejects report takes no filters/);
  });
});
