import { afterEach, describe, expect, it } from 'vitest';
import { decide } from '../../../src/alerts/runner.js';
import { parseAlertRules, type AlertRule } from '../../../src/alerts/rules.js';
import { Webhook, type AlertEvent } from '../../../src/alerts/webhook.js';
import { silentLogger } from '../../../src/observe/log.js';
import { startReceiver, type Receiver } from '../../helpers/receiver.js';

const rule = (r: Record<string, unknown>): AlertRule => parseAlertRules([{ name: 'r', window: '5m', ...r }])[0] as AlertRule;

describe('alert rules', () => {
  it('reads a rule, with defaults and a summary people can read', () => {
    const r = rule({ metric: 'error_rate', above: 5, where: ['site=shop'] });
    expect(r).toMatchObject({ metric: 'error_rate', windowMs: 300_000, delayMs: 60_000, op: 'above', threshold: 5, minHits: 20, compareMs: undefined });
    expect(r.summary).toBe('error_rate over 5m where site=shop above 5 %');
    expect(rule({ metric: 'hits', below: '50%', compare: 'week', window: '10m' }).summary).toBe('hits over 10m below 50 % of the same 10m a week before');
  });

  it('refuses a wrong rule, naming the rule and the key', () => {
    const bad = (r: unknown, msg: RegExp) => expect(() => parseAlertRules([r], 'w.yaml')).toThrow(msg);
    bad({ name: 'a', metric: 'cpu', window: '5m', above: 1 }, /^w.yaml: alert a: metric: expected one of hits, error_rate, visitors, ip_rate, got "cpu"/);
    bad({ name: 'a', metric: 'hits', window: '5 minutes', above: 1 }, /alert a: window: expected a duration/);
    bad({ name: 'a', metric: 'hits', window: '5m' }, /alert a: give exactly one of above and below/);
    bad({ name: 'a', metric: 'hits', window: '5m', above: 1, below: 2 }, /exactly one/);
    bad({ name: 'a', metric: 'hits', window: '5m', above: 'lots' }, /above: expected a number, got "lots"/);
    bad({ name: 'a', metric: 'ip_rate', window: '1m', below: 5 }, /ip_rate takes above/);
    bad({ name: 'a', metric: 'hits', window: '5m', above: 1, where: ['ip=1.2.3.4'] }, /alert a: where: unknown field "ip"/);
    bad({ name: 'a', metric: 'hits', window: '5m', above: 1, thresold: 3 }, /alert-rules\[0\]: unknown key "thresold"/);
    bad({ name: "a'; DROP", metric: 'hits', window: '5m', above: 1 }, /name: expected letters/);
    expect(() => parseAlertRules({ name: 'x' }, 'w.yaml')).toThrow('w.yaml: alert-rules: expected a list of rules');
    expect(() =>
      parseAlertRules([
        { name: 'a', metric: 'hits', window: '5m', above: 1 },
        { name: 'a', metric: 'hits', window: '5m', above: 2 },
      ]),
    ).toThrow(/name "a" is used twice/);
  });

  it('decides what holds: thresholds, too few requests, per-IP keys, a % of the week before', () => {
    expect(decide(rule({ metric: 'error_rate', above: 5 }), [{ key: '', value: 40, hits: 10 }], undefined).size).toBe(0); // under min-hits
    expect([...decide(rule({ metric: 'error_rate', above: 5 }), [{ key: '', value: 40, hits: 100 }], undefined)]).toEqual([['', 40]]);
    expect(decide(rule({ metric: 'error_rate', above: 5 }), [{ key: '', value: 5, hits: 100 }], undefined).size).toBe(0); // not above
    const ips = decide(
      rule({ metric: 'ip_rate', above: 100, window: '1m' }),
      [
        { key: '203.0.113.9', value: 250, hits: 250 },
        { key: '203.0.113.10', value: 90, hits: 90 },
      ],
      undefined,
    );
    expect([...ips.keys()]).toEqual(['203.0.113.9']);
    const drop = rule({ metric: 'hits', below: 50, compare: 'week' });
    expect([...decide(drop, [{ key: '', value: 40, hits: 40 }], [{ key: '', value: 100, hits: 100 }])]).toEqual([['', 40]]);
    expect(decide(drop, [{ key: '', value: 60, hits: 60 }], [{ key: '', value: 100, hits: 100 }]).size).toBe(0);
    expect(decide(drop, [{ key: '', value: 0, hits: 0 }], [{ key: '', value: 5, hits: 5 }]).size).toBe(0); // a week ago too quiet to compare
  });
});

describe('the webhook', () => {
  const receivers: Receiver<AlertEvent>[] = [];
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close();
  });
  const receiver = async (codes: number[]) => {
    const r = await startReceiver<AlertEvent>(codes);
    receivers.push(r);
    return r;
  };
  const ev = (status: 'firing' | 'resolved'): AlertEvent => ({
    id: `r//t/${status}`,
    status,
    rule: 'r',
    key: '',
    summary: 's',
    value: 1,
    threshold: 0,
    since: 't',
    at: 't',
  });

  it('retries 5xx and 429 with backoff, in order, and delivers each event once', async () => {
    const r = await receiver([503, 429]);
    const hook = new Webhook(r.url, { log: silentLogger, initialDelayMs: 10 });
    hook.send(ev('firing'));
    hook.send(ev('resolved'));
    await hook.close(5000);
    expect(r.got.map((e) => e.status)).toEqual(['firing', 'resolved']);
    expect(r.posts()).toBe(4);
    expect(hook.stats).toEqual({ delivered: 2, failed: 0, dropped: 0 });
  });

  it('a 4xx refusal is not retried; a receiver that is down is tried maxAttempts times', async () => {
    const r = await receiver([400]);
    const hook = new Webhook(r.url, { log: silentLogger, initialDelayMs: 10 });
    hook.send(ev('firing'));
    await hook.close(5000);
    expect(r.posts()).toBe(1);
    expect(hook.stats.failed).toBe(1);
    const down = new Webhook('http://127.0.0.1:9/hook', { log: silentLogger, initialDelayMs: 5, maxAttempts: 3 });
    down.send(ev('firing'));
    await down.close(5000);
    expect(down.stats).toEqual({ delivered: 0, failed: 1, dropped: 0 });
    expect(() => new Webhook('ftp://x/y', { log: silentLogger })).toThrow('--webhook: expected an http:// or https:// URL, got ftp:');
  });
});
