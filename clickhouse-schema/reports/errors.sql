-- title: Error rate per day
-- about: 4xx and 5xx responses per day and their rate, from the hourly rollup
-- column day: day (UTC)
-- column hits: requests
-- column client_errors: 4xx responses
-- column server_errors: 5xx responses
-- column error_pct: (4xx + 5xx) / hits, %
SELECT
    toDate(hour) AS day,
    countMerge(hits) AS hits,
    countMerge(hits_4xx) AS client_errors,
    countMerge(hits_5xx) AS server_errors,
    round(100 * (client_errors + server_errors) / hits, 2) AS error_pct
FROM traffic_hourly
WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
GROUP BY day
ORDER BY day
