-- title: Response time per day
-- about: request_time p50/p95/p99 in seconds per day (t-digest, approximate), for formats that log it
-- column day: day (UTC)
-- column hits: requests (with or without a logged time)
-- column p50_s: median request_time, seconds; approximate (t-digest); null when the format logs no time
-- column p95_s: 95th percentile of request_time, seconds; approximate (t-digest)
-- column p99_s: 99th percentile of request_time, seconds; approximate (t-digest)
SELECT
    day,
    hits,
    round(q[1], 3) AS p50_s,
    round(q[2], 3) AS p95_s,
    round(q[3], 3) AS p99_s
FROM
(
    SELECT toDate(hour) AS day, countMerge(hits) AS hits, quantilesTDigestIfMerge(0.5, 0.95, 0.99)(response_time) AS q
    FROM traffic_hourly
    WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY day
)
ORDER BY day
