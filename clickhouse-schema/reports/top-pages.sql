-- title: Top pages
-- about: the most requested paths over the range, ranked, from the daily pages rollup
-- column rank: rank by hits (equal hits share a rank)
-- column path: URL path (no query string)
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column bytes: response bytes sent
-- compare: hits, visitors
-- compare by: path
SELECT rank() OVER (ORDER BY hits DESC) AS rank, path, hits, visitors, bytes
FROM
(
    SELECT path, countMerge(hits) AS hits, uniqCombinedMerge(visitors) AS visitors, sumMerge(bytes) AS bytes
    FROM pages_daily
    WHERE day >= toDate({from:DateTime64(3, 'UTC')}) AND day < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY path
)
ORDER BY hits DESC, path
LIMIT {limit:UInt32}
