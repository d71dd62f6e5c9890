-- title: Entry pages
-- about: the pages visits start on, with the bounce rate of each; a visit is one visitor's page views (bots and static files left out) with gaps under --visit-gap (default 30 minutes); it counts in the range it starts in, and is followed up to one gap past the range's end; visitor_id changes at UTC midnight, so no visit spans two UTC days; from the raw table
-- column path: URL path of a visit's first page view
-- column entries: visits that started there
-- column entries_pct: share of all visits in the range, %
-- column bounces: of those, visits of one page view
-- column bounce_rate_pct: bounces / entries, %
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
SELECT path, entries, round(100 * entries / sum(entries) OVER (), 2) AS entries_pct, bounces, round(100 * bounces / entries, 2) AS bounce_rate_pct
FROM
(
    SELECT entry AS path, count() AS entries, countIf(pages = 1) AS bounces
    FROM visits
    GROUP BY path
)
ORDER BY entries DESC, path
LIMIT {limit:UInt32}
