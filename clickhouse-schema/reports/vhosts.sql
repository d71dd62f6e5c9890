-- title: Virtual hosts
-- about: hits, visitors and bytes per virtual host (the vhost field: %v / %V in Apache, $host / $server_name in nginx), from the raw table
-- column vhost: virtual host as logged; (unknown) when the format logs none
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day), exact (uniqExact)
-- column bytes: response bytes sent
-- column share_pct: share of all hits in the range, %
-- labels: vhost
SELECT vhost, hits, visitors, bytes, round(100 * hits / sum(hits) OVER (), 2) AS share_pct
FROM
(
    SELECT vhost, count() AS hits, uniqExact(visitor_id) AS visitors, sum(bytes) AS bytes
    FROM access_log
    WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY vhost
)
ORDER BY hits DESC, vhost
LIMIT {limit:UInt32}
