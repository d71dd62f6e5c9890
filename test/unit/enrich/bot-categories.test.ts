import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { botCategories, botCategory, type BotCategory } from '../../../src/enrich/bot-categories.js';
import { isBot } from '../../../src/enrich/bots.js';
import { fixture } from '../../helpers/datasets.js';

/** Current user agents, as their operators document them, with the category each must get. */
const table: [string, BotCategory | ''][] = [
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ChatGPT-User/1.0; +https://openai.com/bot', 'ai_assistant'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0; +Claude-User@anthropic.com)', 'ai_assistant'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)', 'ai_assistant'],
  ['Mozilla/5.0 (compatible; MistralAI-User/1.0; +https://docs.mistral.ai/robots)', 'ai_assistant'],
  ['meta-externalfetcher/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)', 'ai_assistant'],
  ['Mozilla/5.0 (compatible; Meta-ExternalFetcher/1.1; +https://developers.facebook.com/docs/sharing/webmasters/crawler)', 'ai_assistant'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; OAI-SearchBot/1.0; +https://openai.com/searchbot', 'ai_search'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)', 'ai_search'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-SearchBot/1.0; +https://www.anthropic.com)', 'ai_search'],
  ['Mozilla/5.0 (compatible; YouBot (+http://www.you.com))', 'ai_search'],
  ['DuckAssistBot/1.2; (+http://duckduckgo.com/duckassistbot.html)', 'ai_search'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)', 'ai_training'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)', 'ai_training'],
  ['CCBot/2.0 (https://commoncrawl.org/faq/)', 'ai_training'],
  [
    'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)',
    'ai_training',
  ],
  ['meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)', 'ai_training'],
  ['Mozilla/5.0 (compatible; Meta-ExternalAgent/1.1; +https://developers.facebook.com/docs/sharing/webmasters/crawler)', 'ai_training'],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15 (Applebot-Extended/0.1)',
    'ai_training',
  ],
  ['Mozilla/5.0 (compatible; Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot)', 'ai_training'],
  ['Mozilla/5.0 (compatible; Diffbot/3.0; +http://www.diffbot.com)', 'ai_training'],
  ['Mozilla/5.0 (compatible) AI2Bot (+https://www.allenai.org/crawler)', 'ai_training'],
  ['Mozilla/5.0 (compatible; ImagesiftBot; +imagesift.com)', 'ai_training'],
  ['Mozilla/5.0 (compatible; GoogleOther)', 'ai_training'],
  ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'search'],
  [
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'search',
  ],
  ['Googlebot-Image/1.0', 'search'],
  ['Mozilla/5.0 (compatible; Google-InspectionTool/1.0;)', 'search'],
  [
    'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36',
    'search',
  ],
  ['Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)', 'search'],
  ['DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)', 'search'],
  ['Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)', 'search'],
  ['Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)', 'search'],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)',
    'search',
  ],
  ['Mozilla/5.0 (compatible; SeznamBot/4.0; +https://o-seznam.cz/napoveda/vyhledavani/en/seznambot-crawler/)', 'search'],
  [
    'Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)',
    'search',
  ],
  ['Mozilla/5.0 (compatible; Qwantbot/1.0; +https://help.qwant.com/bot/)', 'search'],
  ['Mozilla/5.0 (compatible; Exabot/3.0; +http://www.exabot.com/go/robot)', 'search'],
  ['Mozilla/5.0 (compatible; MojeekBot/0.11; +https://www.mojeek.com/bot.html)', 'search'],
  ['ia_archiver (+http://www.alexa.com/site/help/webmasters; crawler@alexa.com)', 'search'],
  ['Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)', 'seo'],
  ['Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)', 'seo'],
  ['Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)', 'seo'],
  ['Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)', 'seo'],
  ['Mozilla/5.0 (compatible; BLEXBot/1.0; +http://webmeup-crawler.com/)', 'seo'],
  ['Mozilla/5.0 (compatible; DataForSeoBot/1.0; +https://dataforseo.com/dataforseo-bot)', 'seo'],
  ['Screaming Frog SEO Spider/20.0', 'seo'],
  ['Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)', 'monitoring'],
  ['Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)', 'monitoring'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; StatusCake) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', 'monitoring'],
  ['Datadog Agent/7.50.0', 'monitoring'],
  ['kube-probe/1.29', 'monitoring'],
  ['ELB-HealthChecker/2.0', 'monitoring'],
  ['Uptime-Kuma/1.23.11', 'monitoring'],
  ['Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers; like FeedFetcher-Google)', 'feed_reader'],
  ['Feedbin feed-id:12345 - 3 subscribers', 'feed_reader'],
  ['Mozilla/5.0 (compatible; Inoreader/1.0; https://www.inoreader.com; 5 subscribers)', 'feed_reader'],
  ['NewsBlur Feed Fetcher - 7 subscribers - https://www.newsblur.com/site/1234/example', 'feed_reader'],
  ['Tiny Tiny RSS/23.04 (https://tt-rss.org/)', 'feed_reader'],
  ['Miniflux/2.1.0 (+https://miniflux.app)', 'feed_reader'],
  ['Mozilla/5.0 zgrab/0.x', 'scanner'],
  ['masscan/1.3 (https://github.com/robertdavidgraham/masscan)', 'scanner'],
  ['Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)', 'scanner'],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36 Nuclei - Open-source project (github.com/projectdiscovery/nuclei)',
    'scanner',
  ],
  ['sqlmap/1.7.2#stable (https://sqlmap.org)', 'scanner'],
  ['Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)', 'scanner'],
  ['WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)', 'scanner'],
  ['Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)', 'scanner'],
  ['Expanse, a Palo Alto Networks company, searches across the global IPv4 space multiple times per day', 'scanner'],
  ['Fuzz Faster U Fool v2.1.0-dev', 'scanner'],
  ['curl/8.5.0', 'http_library'],
  ['Wget/1.21.4', 'http_library'],
  ['python-requests/2.31.0', 'http_library'],
  ['Python-urllib/3.11', 'http_library'],
  ['python-httpx/0.27.0', 'http_library'],
  ['Go-http-client/1.1', 'http_library'],
  ['Go-http-client/2.0', 'http_library'],
  ['Java/17.0.9', 'http_library'],
  ['Apache-HttpClient/4.5.14 (Java/17.0.9)', 'http_library'],
  ['okhttp/4.12.0', 'http_library'],
  ['node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', 'http_library'],
  ['axios/1.6.7', 'http_library'],
  ['libwww-perl/6.72', 'http_library'],
  ['GuzzleHttp/7', 'http_library'],
  ['Scrapy/2.11.0 (+https://scrapy.org)', 'http_library'],
  ['PostmanRuntime/7.36.1', 'http_library'],
  ['Dart/3.2 (dart:io)', 'http_library'],
  // People: browsers and apps stay uncategorised.
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', ''],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', ''],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', ''],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', ''],
  ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36', ''],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', ''],
  ['MyApp/3.2 CFNetwork/1568.100.1 Darwin/24.0.0', ''],
  ['', ''],
];

describe('bot categories', () => {
  it(`a hand-made table of ${table.length} current user agents`, () => {
    expect(table.length).toBeGreaterThanOrEqual(60);
    const wrong = table.map(([ua, want]) => ({ ua, want, got: botCategory(ua, isBot(ua)) })).filter((r) => r.got !== r.want);
    expect(wrong).toEqual([]);
    expect(new Set(table.map(([, c]) => c))).toEqual(new Set([...botCategories.filter((c) => c !== 'other'), '']));
  });

  it('every example of the crawler-user-agents list gets a category; most get a named one', () => {
    const entries = JSON.parse(readFileSync(fixture('crawler_user_agents', 'crawler-user-agents.json'), 'utf8')) as { pattern: string; instances: string[] }[];
    const counts = new Map<string, number>();
    let n = 0;
    for (const e of entries)
      for (const ua of e.instances) {
        const c = botCategory(ua, isBot(ua));
        expect(c, ua).not.toBe('');
        counts.set(c, (counts.get(c) ?? 0) + 1);
        n++;
      }
    expect(n).toBeGreaterThan(2000);
    // The list is mostly small crawlers no table names: 'other' keeps them, the named ones are the big operators.
    for (const c of ['search', 'seo', 'ai_training', 'feed_reader', 'monitoring', 'http_library', 'scanner']) expect(counts.get(c) ?? 0, c).toBeGreaterThan(5);
  });

  it('a token matches as a word of its own, case-sensitively', () => {
    expect(botCategory('Mozilla/5.0 (compatible; Exabot/3.0)', true)).toBe('search');
    expect(botCategory('Mozilla/5.0 (compatible; ExaBot/1.0)', true)).toBe('ai_search');
    expect(botCategory('Mozilla/5.0 Javascript-enabled browser', false)).toBe(''); // not "Java"
    expect(botCategory('Mozilla/5.0 (compatible; Googlebot-Video/1.0)', true)).toBe('search');
    expect(botCategory('SomeCrawler/1.0', true)).toBe('other');
  });
});
