-- title: Visits
-- about: visits per UTC day with page views per visit, duration and bounce rate; a visit is one visitor's page views (bots and static files left out) with gaps under --visit-gap (default 30 minutes); it counts in the range it starts in, and is followed up to one gap past the range's end; visitor_id changes at UTC midnight, so no visit spans two UTC days; from the raw table
-- column day: UTC day the visits started
-- column visits: visits started that day
-- column page_views: page views in those visits
-- column pages_per_visit: page views per visit
-- column median_duration_s: median time from a visit's first to its last page view, seconds (one-page visits count 0)
-- column p90_duration_s: 90th percentile of that duration, seconds
-- column bounce_rate_pct: share of visits with one page view, %
-- include: visits
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
