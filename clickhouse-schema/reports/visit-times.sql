-- title: Visit times
-- about: hits by hour of day (rows) and weekday (columns), in UTC, from the hourly rollup: when the site is busy
-- column hour_of_day: hour of the day, 0-23 (UTC); every hour has a row
-- column mon: hits on Mondays in that hour
-- column tue: hits on Tuesdays in that hour
-- column wed: hits on Wednesdays in that hour
-- column thu: hits on Thursdays in that hour
-- column fri: hits on Fridays in that hour
-- column sat: hits on Saturdays in that hour
-- column sun: hits on Sundays in that hour
-- column total: hits in that hour over all days
SELECT
    hour_of_day,
    sumIf(h, dow = 1) AS mon,
    sumIf(h, dow = 2) AS tue,
    sumIf(h, dow = 3) AS wed,
    sumIf(h, dow = 4) AS thu,
    sumIf(h, dow = 5) AS fri,
    sumIf(h, dow = 6) AS sat,
    sumIf(h, dow = 7) AS sun,
    sum(h) AS total
FROM
(
    SELECT toHour(hour) AS hour_of_day, toDayOfWeek(hour) AS dow, countMerge(hits) AS h
    FROM traffic_hourly
    WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY hour_of_day, dow
)
GROUP BY hour_of_day
ORDER BY hour_of_day WITH FILL FROM 0 TO 24
