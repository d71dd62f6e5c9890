-- title: Top referrers
-- about: referring sites (domain of the Referer header, own site excluded when --site is set), from the raw table
-- column referrer: domain of the Referer header
-- column hits: requests with that referrer
-- column visitors: distinct visitors (exact)
-- compare: hits, visitors
-- compare by: referrer
SELECT domain(referer) AS referrer, count() AS hits, uniqExact(visitor_id) AS visitors
FROM access_log
WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String}) AND referer != '' AND domain(referer) != {site:String}
GROUP BY referrer
ORDER BY hits DESC, referrer
LIMIT {limit:UInt32}
