-- title: Browsers
-- about: hits, unique visitors and share of hits by browser, from the hourly rollup
-- column browser: browser family from the user agent (ua-parser-js); (unknown) when it names none
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column share_pct: share of all hits in the range, %
-- labels: browser
SELECT browser, hits, visitors, round(100 * hits / sum(hits) OVER (), 2) AS share_pct
FROM
(
    SELECT browser, countMerge(hits) AS hits, uniqCombinedMerge(visitors) AS visitors
    FROM traffic_hourly
    WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY browser
)
ORDER BY hits DESC, browser
LIMIT {limit:UInt32}
