-- title: Device types
-- about: hits, unique visitors and share of hits by device_type, from the hourly rollup
-- column device_type: device type from the user agent (mobile, tablet, ...); (unknown) for desktops and user agents that name none
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column share_pct: share of all hits in the range, %
-- labels: device_type
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
