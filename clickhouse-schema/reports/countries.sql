-- title: Countries
-- about: hits, unique visitors and share of hits by country, from the hourly rollup
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
