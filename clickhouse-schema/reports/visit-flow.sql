-- title: Visit flow
-- about: which page visitors go to next: pairs of consecutive page views within visits, most taken first; a visit is one visitor's page views (bots and static files left out) with gaps under --visit-gap (default 30 minutes); it counts in the range it starts in, and is followed up to one gap past the range's end; visitor_id changes at UTC midnight, so no visit spans two UTC days; from the raw table
-- column from_path: URL path of a page view
-- column to_path: URL path of the next page view in the same visit
-- column transitions: times a visit went from from_path to to_path
-- column visits: distinct visits that did
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
SELECT from_path, to_path, count() AS transitions, uniqExact(visitor_id, visit) AS visits
FROM
(
    SELECT n.visitor_id AS visitor_id, n.visit AS visit, n.path AS from_path,
        leadInFrame(n.path, 1, '') OVER (PARTITION BY n.visitor_id, n.visit ORDER BY n.ms, n.path ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) AS to_path,
        row_number() OVER (PARTITION BY n.visitor_id, n.visit ORDER BY n.ms, n.path) AS position,
        s.pages AS pages
    FROM numbered AS n
    INNER JOIN visits AS s ON n.visitor_id = s.visitor_id AND n.visit = s.visit
)
WHERE position < pages
GROUP BY from_path, to_path
ORDER BY transitions DESC, from_path, to_path
LIMIT {limit:UInt32}
