-- The visits of a range, shared by the visits reports (included where a report says `-- include: visits`):
-- page_views: human page views of the range widened by one gap at both ends; marked: whether each starts a
-- visit (first view, or a pause of at least the gap); numbered: each view's visit number per visitor;
-- visits: one row per visit starting in [from, to), with its start, end, page count, entry and exit.
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
