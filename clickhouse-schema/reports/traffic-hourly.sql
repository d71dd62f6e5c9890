-- title: Traffic per hour
-- about: hits, unique visitors and bytes per hour from the hourly rollup, with running total, change vs the previous hour and a 24-hour moving average
-- column hour: start of the hour (UTC)
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column bytes: response bytes sent
-- column running_hits: hits from the start of the range to this hour
-- column change: hits minus the previous row's hits (null on the first row)
-- column avg_24h: mean hits of this row and the 23 rows before it
-- compare: hits, visitors, bytes
-- compare by: hour
SELECT
    hour,
    hits,
    visitors,
    bytes,
    sum(hits) OVER (ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_hits,
    toInt64(hits) - lagInFrame(toNullable(toInt64(hits)), 1) OVER (ORDER BY hour ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS change,
    round(avg(hits) OVER (ORDER BY hour ROWS BETWEEN 23 PRECEDING AND CURRENT ROW), 1) AS avg_24h
FROM
(
    SELECT hour, countMerge(hits) AS hits, uniqCombinedMerge(visitors) AS visitors, sumMerge(bytes) AS bytes
    FROM traffic_hourly
    WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY hour
)
ORDER BY hour
