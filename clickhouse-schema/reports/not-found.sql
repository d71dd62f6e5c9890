-- title: 404 paths
-- about: paths answered with 404, most frequent first
-- column path: URL path (no query string)
-- column not_found: 404 responses for the path
-- column hits: all requests for the path
SELECT path, countMerge(not_found) AS not_found, countMerge(hits) AS hits
FROM pages_daily
WHERE day >= toDate({from:DateTime64(3, 'UTC')}) AND day < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
GROUP BY path
HAVING not_found > 0
ORDER BY not_found DESC, path
LIMIT {limit:UInt32}
