-- title: Exit pages
-- about: the pages visits end on, with the exit rate of each (exits / its page views in those visits); a visit is one visitor's page views (bots and static files left out) with gaps under --visit-gap (default 30 minutes); it counts in the range it starts in, and is followed up to one gap past the range's end; visitor_id changes at UTC midnight, so no visit spans two UTC days; from the raw table
-- column path: URL path of a visit's last page view
-- column exits: visits that ended there
-- column exits_pct: share of all visits in the range, %
-- column page_views: page views of that path in the visits of the range
-- column exit_rate_pct: exits / page_views, %
-- include: visits
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
