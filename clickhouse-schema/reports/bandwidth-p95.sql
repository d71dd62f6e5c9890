-- title: 95th percentile bandwidth
-- about: burstable billing per month: the rate of each 5-minute interval from the month's first busy interval to its last (idle ones count as 0), the top 5% of intervals dropped, the highest left billed; from the raw table
-- column month: first day of the month (UTC)
-- column samples: 5-minute intervals from the first with traffic to the last, idle ones included
-- column busy_samples: intervals with at least one request
-- column hits: requests in the month
-- column bytes: response bytes sent in the month
-- column p95_mbps: 95th percentile rate, Mbit/s: the intervals' rates sorted ascending, the one at position ceil(0.95 × samples)
-- column max_mbps: rate of the busiest interval, Mbit/s
-- column avg_mbps: mean rate over all samples, Mbit/s
SELECT
    month,
    samples,
    busy_samples,
    hits,
    bytes,
    round(arraySort(arrayConcat(rates, arrayResize(CAST([], 'Array(Float64)'), samples - busy_samples, 0.)))[toUInt64(ceil(samples * 0.95))] / 1e6, 3) AS p95_mbps,
    round(arrayMax(rates) / 1e6, 3) AS max_mbps,
    round(arraySum(rates) / samples / 1e6, 3) AS avg_mbps
FROM
(
    SELECT
        toStartOfMonth(interval_start) AS month,
        toUInt64(intDiv(toUnixTimestamp(max(interval_start)) - toUnixTimestamp(min(interval_start)), 300) + 1) AS samples,
        count() AS busy_samples,
        sum(interval_hits) AS hits,
        sum(interval_bytes) AS bytes,
        groupArray(interval_bytes * 8 / 300) AS rates
    FROM
    (
        SELECT toStartOfInterval(toDateTime(time, 'UTC'), INTERVAL 5 MINUTE) AS interval_start, count() AS interval_hits, sum(bytes) AS interval_bytes
        FROM access_log
        WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
        GROUP BY interval_start
    )
    GROUP BY month
)
ORDER BY month
