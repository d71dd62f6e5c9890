-- title: Bot hits per page
-- about: the paths crawlers request most, with their share of each path's hits, from the daily pages rollup
-- column path: URL path (no query string)
-- column bot_hits: requests by crawlers
-- column hits: all requests
-- column bot_pct: bot_hits / hits, %
SELECT path, countMerge(bot_hits) AS bot_hits, countMerge(hits) AS hits, round(100 * bot_hits / hits, 1) AS bot_pct
FROM pages_daily
WHERE day >= toDate({from:DateTime64(3, 'UTC')}) AND day < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
GROUP BY path
HAVING bot_hits > 0
ORDER BY bot_hits DESC, path
LIMIT {limit:UInt32}
