-- title: Status codes
-- about: responses by status code with their share, from the raw table
-- column status: HTTP status code
-- column hits: responses
-- column share_pct: share of all hits in the range, %
SELECT status, count() AS hits, round(100 * hits / sum(hits) OVER (), 2) AS share_pct
FROM access_log
WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
GROUP BY status
ORDER BY hits DESC, status
