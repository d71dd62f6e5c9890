-- title: Visit flow
-- about: which page visitors go to next: pairs of consecutive page views within visits, most taken first; a visit is one visitor's page views (bots and static files left out) with gaps under --visit-gap (default 30 minutes); it counts in the range it starts in, and is followed up to one gap past the range's end; visitor_id changes at UTC midnight, so no visit spans two UTC days; from the raw table
-- column from_path: URL path of a page view
-- column to_path: URL path of the next page view in the same visit
-- column transitions: times a visit went from from_path to to_path
-- column visits: distinct visits that did
-- include: visits
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
