-- title: Traffic per month
-- about: hits, unique visitors and bytes per month from the monthly rollup, with running total and change vs the previous month
-- column month: first day of the month (UTC)
-- column hits: requests
-- column visitors: distinct visitors (visitor_id: IP + user agent + UTC day); approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column bytes: response bytes sent
-- column running_hits: hits from the start of the range to this month
-- column change_pct: hits vs the previous row, % (null on the first row)
-- compare: hits, visitors, bytes
-- compare by: month
SELECT
    toDate(hour) AS month,
    hits,
    visitors,
    bytes,
    sum(hits) OVER (ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_hits,
    round(100 * (hits / lagInFrame(toNullable(hits), 1) OVER (ORDER BY hour ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) - 1), 1) AS change_pct
FROM
(
    SELECT hour, countMerge(hits) AS hits, uniqCombinedMerge(visitors) AS visitors, sumMerge(bytes) AS bytes
    FROM traffic_monthly
    WHERE hour >= toStartOfMonth({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY hour
)
ORDER BY hour
