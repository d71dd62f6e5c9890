-- A small hourly rollup, so that rollups are checked where the legacy schema
-- runs (the HTTP and cluster tests): hits, bytes and visitors per site and
-- hour, kept by a materialized view, merged with -Merge combinators on read.
CREATE TABLE IF NOT EXISTS traffic_hourly
(
    site String,
    hour DateTime,
    hits AggregateFunction(count),
    bytes AggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniq, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (site, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_hourly_mv TO traffic_hourly AS
SELECT site, toStartOfHour(time) AS hour, countState() AS hits, sumState(bytes) AS bytes, uniqState(visitor_id) AS visitors
FROM access_log
GROUP BY site, hour;
