-- title: Entry pages
-- about: the pages visits start on, with the bounce rate of each; a visit is one visitor's page views (bots and static files left out) with gaps under --visit-gap (default 30 minutes); it counts in the range it starts in, and is followed up to one gap past the range's end; visitor_id changes at UTC midnight, so no visit spans two UTC days; from the raw table
-- column path: URL path of a visit's first page view
-- column entries: visits that started there
-- column entries_pct: share of all visits in the range, %
-- column bounces: of those, visits of one page view
-- column bounce_rate_pct: bounces / entries, %
-- include: visits
SELECT path, entries, round(100 * entries / sum(entries) OVER (), 2) AS entries_pct, bounces, round(100 * bounces / entries, 2) AS bounce_rate_pct
FROM
(
    SELECT entry AS path, count() AS entries, countIf(pages = 1) AS bounces
    FROM visits
    GROUP BY path
)
ORDER BY entries DESC, path
LIMIT {limit:UInt32}
