-- title: Traffic per day
-- about: hits, unique visitors and bytes per day from the hourly rollup, with the share of crawler hits
-- column day: day (UTC)
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column bytes: response bytes sent
-- column bot_hits: requests whose user agent matches the crawler list
-- compare: hits, visitors, bytes
-- compare by: day
SELECT toDate(hour) AS day, countMerge(hits) AS hits, uniqCombinedMerge(visitors) AS visitors, sumMerge(bytes) AS bytes, countMerge(bot_hits) AS bot_hits
FROM traffic_hourly
WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
GROUP BY day
ORDER BY day
