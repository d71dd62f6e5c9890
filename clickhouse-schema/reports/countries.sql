-- title: Countries
-- about: hits, unique visitors and share of hits by country, from the hourly rollup
-- column country: ISO 3166 country code of the client IP (GeoIP); (unknown) for private IPs or without a database
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column share_pct: share of all hits in the range, %
-- labels: country
-- compare: hits, visitors
-- compare by: country
SELECT country, hits, visitors, round(100 * hits / sum(hits) OVER (), 2) AS share_pct
FROM
(
    SELECT country, countMerge(hits) AS hits, uniqCombinedMerge(visitors) AS visitors
    FROM traffic_hourly
    WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY country
)
ORDER BY hits DESC, country
LIMIT {limit:UInt32}
