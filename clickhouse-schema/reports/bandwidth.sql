-- title: Bandwidth per day
-- about: bytes sent per day and per hit, with a 7-day moving average, from the hourly rollup
-- column day: day (UTC)
-- column bytes: response bytes sent that day
-- column bytes_per_hit: bytes / hits, rounded
-- column avg_7d: mean of bytes over this day and the 6 days before it that have traffic
SELECT day, bytes, round(bytes / hits) AS bytes_per_hit,
       round(avg(bytes) OVER (ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW)) AS avg_7d
FROM
(
    SELECT toDate(hour) AS day, sumMerge(bytes) AS bytes, countMerge(hits) AS hits
    FROM traffic_hourly
    WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY day
)
ORDER BY day
