-- title: Exit pages
-- about: the pages visits end on, with the exit rate of each (exits / its page views in those visits); a visit is one visitor's page views (bots and static files left out) with gaps under --visit-gap (default 30 minutes); it counts in the range it starts in, and is followed up to one gap past the range's end; visitor_id changes at UTC midnight, so no visit spans two UTC days; from the raw table
-- column path: URL path of a visit's last page view
-- column exits: visits that ended there
-- column exits_pct: share of all visits in the range, %
-- column page_views: page views of that path in the visits of the range
-- column exit_rate_pct: exits / page_views, %
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
SELECT path, exits, round(100 * exits / sum(exits) OVER (), 2) AS exits_pct, page_views, round(100 * exits / page_views, 2) AS exit_rate_pct
FROM
(
    SELECT e.path AS path, e.exits AS exits, v.page_views AS page_views
    FROM (SELECT exit AS path, count() AS exits FROM visits GROUP BY path) AS e
    INNER JOIN
    (
        SELECT n.path AS path, count() AS page_views
        FROM numbered AS n
        INNER JOIN visits AS s ON n.visitor_id = s.visitor_id AND n.visit = s.visit
        GROUP BY path
    ) AS v ON e.path = v.path
)
ORDER BY exits DESC, path
LIMIT {limit:UInt32}
