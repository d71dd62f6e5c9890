-- title: Top pages per day
-- about: the five most requested paths of each day (row_number over a partition by day)
-- column day: day (UTC)
-- column n: rank of the path that day (1 = most hits; ties by path)
-- column path: URL path
-- column hits: requests
SELECT day, n, path, hits
FROM
(
    SELECT day, path, hits, row_number() OVER (PARTITION BY day ORDER BY hits DESC, path) AS n
    FROM
    (
        SELECT day, path, countMerge(hits) AS hits
        FROM pages_daily
        WHERE day >= toDate({from:DateTime64(3, 'UTC')}) AND day < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
        GROUP BY day, path
    )
)
WHERE n <= 5
ORDER BY day, n
