-- title: Unique visitors per day
-- about: distinct visitor_id per day (all, and humans only), from the hourly rollup
-- column day: day (UTC)
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column human_visitors: the same, bots left out
-- column hits: requests
SELECT toDate(hour) AS day, uniqCombinedMerge(visitors) AS visitors, uniqCombinedIfMerge(human_visitors) AS human_visitors, countMerge(hits) AS hits
FROM traffic_hourly
WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
GROUP BY day
ORDER BY day
