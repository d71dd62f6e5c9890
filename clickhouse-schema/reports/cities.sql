-- title: Cities
-- about: hits and visitors by city of the client IP, with its region and country, from the raw table
-- column country: ISO country code (GeoIP); (unknown) for private IPs or without a database
-- column region: first subdivision (state, province); (unknown) when the database names none
-- column city: city as the GeoIP database names it; (unknown) when it names none
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day), exact (uniqExact)
-- column share_pct: share of all hits in the range, %
-- labels: country, region, city
SELECT country, region, city, hits, visitors, round(100 * hits / sum(hits) OVER (), 2) AS share_pct
FROM
(
    SELECT country, region, city, count() AS hits, uniqExact(visitor_id) AS visitors
    FROM access_log
    WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY country, region, city
)
ORDER BY hits DESC, country, region, city
LIMIT {limit:UInt32}
