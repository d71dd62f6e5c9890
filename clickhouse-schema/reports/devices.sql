-- title: Device types
-- about: hits, unique visitors and share of hits by device_type, from the hourly rollup
SELECT device_type, hits, visitors, round(100 * hits / sum(hits) OVER (), 2) AS share_pct
FROM
(
    SELECT device_type, countMerge(hits) AS hits, uniqCombinedMerge(visitors) AS visitors
    FROM traffic_hourly
    WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY device_type
)
ORDER BY hits DESC, device_type
LIMIT {limit:UInt32}
