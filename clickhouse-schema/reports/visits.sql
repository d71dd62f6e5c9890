-- title: Visits
-- about: visits per UTC day with page views per visit, duration and bounce rate; a visit is one visitor's page views (bots and static files left out) with gaps under --visit-gap (default 30 minutes); it counts in the range it starts in, and is followed up to one gap past the range's end; visitor_id changes at UTC midnight, so no visit spans two UTC days; from the raw table
-- column day: UTC day the visits started
-- column visits: visits started that day
-- column page_views: page views in those visits
-- column pages_per_visit: page views per visit
-- column median_duration_s: median time from a visit's first to its last page view, seconds (one-page visits count 0)
-- column p90_duration_s: 90th percentile of that duration, seconds
-- column bounce_rate_pct: share of visits with one page view, %
WITH
    page_views AS
    (
        SELECT visitor_id, toUnixTimestamp64Milli(time) AS ms, path
        FROM access_log
        WHERE time >= {from:DateTime64(3, 'UTC')} - toIntervalSecond({gap:UInt32})
          AND time < {to:DateTime64(3, 'UTC')} + toIntervalSecond({gap:UInt32})
          AND ({site:String} = '' OR site = {site:String})
          AND NOT is_bot
          AND NOT match(path, '(?i)\\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|mp3|mp4|webm|ogg|wav|pdf|zip|gz|tgz|bz2|xz|7z|rar)$')
    ),
    marked AS
    (
        SELECT visitor_id, ms, path,
            ms - lagInFrame(ms, 1, toInt64(0)) OVER (PARTITION BY visitor_id ORDER BY ms, path ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) >= {gap:UInt32} * 1000 AS starts
        FROM page_views
    ),
    numbered AS
    (
        SELECT visitor_id, ms, path,
            sum(starts) OVER (PARTITION BY visitor_id ORDER BY ms, path ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS visit
        FROM marked
    ),
    visits AS
    (
        SELECT visitor_id, visit, min(ms) AS started, max(ms) AS ended, count() AS pages,
            argMin(path, (ms, path)) AS entry, argMax(path, (ms, path)) AS exit
        FROM numbered
        GROUP BY visitor_id, visit
        HAVING started >= toUnixTimestamp64Milli({from:DateTime64(3, 'UTC')}) AND started < toUnixTimestamp64Milli({to:DateTime64(3, 'UTC')})
    )
SELECT
    toDate(toDateTime(intDiv(started, 1000), 'UTC')) AS day,
    count() AS visits,
    sum(pages) AS page_views,
    round(page_views / visits, 2) AS pages_per_visit,
    round(quantileExact(0.5)((ended - started) / 1000), 3) AS median_duration_s,
    round(quantileExact(0.9)((ended - started) / 1000), 3) AS p90_duration_s,
    round(100 * countIf(pages = 1) / visits, 2) AS bounce_rate_pct
FROM visits
GROUP BY day
ORDER BY day
