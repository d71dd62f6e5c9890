import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isBot } from '../../../src/enrich/bots.js';
import { UserAgentCache, parseUserAgent } from '../../../src/enrich/useragent.js';
import { fixture } from '../../helpers/datasets.js';
import { uaNameKey } from '../../helpers/ua-names.js';
import { readUapCases } from '../../helpers/uap-yaml.js';

describe('parseUserAgent', () => {
  it('reads browser, os and device of a desktop UA', () => {
    expect(
      parseUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36'),
    ).toMatchObject({
      browser: 'Chrome',
      browser_version: '32',
      os: 'Mac OS',
      os_version: '10.9.1',
      device_type: 'desktop',
      is_bot: false,
    });
  });
  it('reads a phone, and marks crawlers as bots', () => {
    expect(
      parseUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'),
    ).toMatchObject({ os: 'iOS', device_type: 'mobile', device_vendor: 'Apple' });
    expect(parseUserAgent('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)')).toMatchObject({ is_bot: true, device_type: 'bot' });
    expect(parseUserAgent('')).toMatchObject({ browser: '', device_type: '', is_bot: false });
  });
  it('gives a stable ua_id', () => {
    expect(parseUserAgent('curl/8.0').ua_id).toBe(parseUserAgent('curl/8.0').ua_id);
    expect(parseUserAgent('curl/8.0').ua_id).not.toBe(parseUserAgent('curl/8.1').ua_id);
  });
});

describe('UserAgentCache', () => {
  it('serves repeats from the cache and stays bounded', () => {
    const cache = new UserAgentCache(10);
    for (let i = 0; i < 100; i++) cache.lookup(`agent/${i % 5}`);
    expect(cache.stats).toMatchObject({ misses: 5, hits: 95 });
    for (let i = 0; i < 1000; i++) cache.lookup(`other/${i}`);
    expect(cache.stats.size).toBeLessThanOrEqual(20);
  });
});

describe('bot detection against the crawler-user-agents list (MIT, vendored)', () => {
  const entries = JSON.parse(readFileSync(fixture('crawler_user_agents', 'crawler-user-agents.json'), 'utf8')) as { pattern: string; instances: string[] }[];
  it('flags every example UA of the list as a bot', () => {
    const examples = entries.flatMap((e) => e.instances);
    expect(examples.length).toBeGreaterThan(2000);
    expect(examples.filter((ua) => !isBot(ua))).toEqual([]);
  });
  it('flags few of the uap-core browser UAs (negative control)', () => {
    const cases = readUapCases(fixture('uap_core', 'test_ua.yaml')).filter((c) =>
      ['Chrome', 'Firefox', 'Safari', 'Mobile Safari', 'Edge', 'IE'].includes(c.family ?? ''),
    );
    const flagged = cases.filter((c) => isBot(c.user_agent_string ?? ''));
    expect(cases.length).toBeGreaterThan(30);
    expect(flagged.length / cases.length).toBeLessThan(0.05);
  });
});

describe('agreement with the uap-core test suites (Apache-2.0, vendored)', () => {
  // Names differ between libraries; uaNameKey maps both sides. Rates measured
  // with ua-parser-js 1.0.41 and written to README; the floors catch regressions.
  function rate(file: string, field: 'browser' | 'os', families?: Set<string>) {
    const cases = readUapCases(fixture('uap_core', file)).filter((c) => !families || families.has(uaNameKey(c.family)));
    const agree = cases.filter((c) => uaNameKey(parseUserAgent(c.user_agent_string ?? '')[field]) === uaNameKey(c.family)).length;
    return { n: cases.length, rate: agree / cases.length };
  }
  it('browser family: all cases, and mainstream browsers', () => {
    const all = rate('test_ua.yaml', 'browser');
    const mainstream = rate(
      'test_ua.yaml',
      'browser',
      new Set(['chrome', 'firefox', 'safari', 'ie', 'edge', 'opera', 'samsung', 'android', 'operamini', 'uc', 'yandex']),
    );
    console.log(
      `uap-core browser agreement: ${(all.rate * 100).toFixed(1)}% of ${all.n}; mainstream ${(mainstream.rate * 100).toFixed(1)}% of ${mainstream.n}`,
    );
    expect(all.rate).toBeGreaterThan(0.15);
    expect(mainstream.rate).toBeGreaterThan(0.78);
  });
  it('os family', () => {
    const os = rate('test_os.yaml', 'os');
    console.log(`uap-core os agreement: ${(os.rate * 100).toFixed(1)}% of ${os.n}`);
    expect(os.rate).toBeGreaterThan(0.7);
  });
});
