-- title: Bots vs humans
-- about: hits and visitors of crawlers and of people per day, from the hourly rollup
-- column day: day (UTC)
-- column hits: requests
-- column bot_hits: requests whose user agent matches the crawler list
-- column human_hits: hits - bot_hits
-- column bot_pct: bot share of hits, %
-- column human_visitors: distinct visitors that are not bots (visitor_id = IP + user agent); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
SELECT
    toDate(hour) AS day,
    countMerge(hits) AS hits,
    countMerge(bot_hits) AS bot_hits,
    hits - bot_hits AS human_hits,
    round(100 * bot_hits / hits, 1) AS bot_pct,
    uniqCombinedIfMerge(human_visitors) AS human_visitors
FROM traffic_hourly
WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
GROUP BY day
ORDER BY day
