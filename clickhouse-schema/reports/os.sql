-- title: Operating systems
-- about: hits, unique visitors and share of hits by os, from the hourly rollup
-- column os: operating system from the user agent; (unknown) when it names none
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column share_pct: share of all hits in the range, %
-- labels: os
SELECT os, hits, visitors, round(100 * hits / sum(hits) OVER (), 2) AS share_pct
FROM
(
    SELECT os, countMerge(hits) AS hits, uniqCombinedMerge(visitors) AS visitors
    FROM traffic_hourly
    WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY os
)
ORDER BY hits DESC, os
LIMIT {limit:UInt32}
