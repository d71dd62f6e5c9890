-- title: Impostor crawlers
-- about: requests whose user agent claims a major crawler whose operator publishes its address ranges (Googlebot, ...; the ranges weblog bundles, see bot_claim) from an address outside those ranges, by client, from the raw table
-- column claim: the operator the user agent claims to crawl for (google, bing, openai, ...)
-- column client: remote address as logged
-- column hits: requests
-- column paths: distinct paths requested (exact)
-- column country: ISO country of the client IP (GeoIP); (unknown) for private IPs
-- column first_seen: first request in the range (UTC)
-- column last_seen: last request in the range (UTC)
-- column user_agent: a user agent it sent (the first in byte order, when it sent several)
-- labels: country
SELECT
    bot_claim AS claim,
    remote_addr AS client,
    count() AS hits,
    uniqExact(path) AS paths,
    min(country) AS country,
    toDateTime(min(time), 'UTC') AS first_seen,
    toDateTime(max(time), 'UTC') AS last_seen,
    min(user_agent) AS user_agent
FROM access_log
WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    AND bot_claim != '' AND NOT bot_verified
GROUP BY claim, client
ORDER BY hits DESC, claim, client
LIMIT {limit:UInt32}
