-- title: Networks (ASN)
-- about: hits, visitors and bytes by autonomous system of the client IP; needs an ASN database (weblog process/run --asn FILE.mmdb), from the raw table
-- column asn: autonomous system number; 0 when unknown or without --asn
-- column as_org: organisation of the AS; (unknown) when unknown or without --asn
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day), exact (uniqExact)
-- column bytes: response bytes sent
-- column share_pct: share of all hits in the range, %
-- labels: as_org
SELECT asn, as_org, hits, visitors, bytes, round(100 * hits / sum(hits) OVER (), 2) AS share_pct
FROM
(
    SELECT asn, any(as_org) AS as_org, count() AS hits, uniqExact(visitor_id) AS visitors, sum(bytes) AS bytes
    FROM access_log
    WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY asn
)
ORDER BY hits DESC, asn
LIMIT {limit:UInt32}
