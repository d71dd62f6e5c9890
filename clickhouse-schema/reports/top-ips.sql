-- title: Top clients
-- about: client addresses with the most requests (the remote address as logged: an IP, or a host name where the server resolves them), from the raw table
-- column client: remote address as logged; (unknown) when the format logs none
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day), exact (uniqExact); more than one for a client behind NAT or with several browsers
-- column bytes: response bytes sent
-- column country: ISO country of the client IP (GeoIP); (unknown) for private IPs or host names
-- column first_seen: first request in the range (UTC)
-- column last_seen: last request in the range (UTC)
-- labels: client, country
SELECT
    remote_addr AS client,
    count() AS hits,
    uniqExact(visitor_id) AS visitors,
    sum(bytes) AS bytes,
    min(country) AS country,
    toDateTime(min(time), 'UTC') AS first_seen,
    toDateTime(max(time), 'UTC') AS last_seen
FROM access_log
WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
GROUP BY client
ORDER BY hits DESC, client
LIMIT {limit:UInt32}
