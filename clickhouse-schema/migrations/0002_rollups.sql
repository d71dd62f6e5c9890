-- Hourly and monthly rollups, kept by materialized views as rows arrive.
-- Each view reads only the inserted block, so late and out-of-order lines
-- simply add partial states to their hour; queries merge states with the
-- -Merge combinators and GROUP BY, never relying on background merges.

CREATE TABLE IF NOT EXISTS traffic_hourly
(
    site          LowCardinality(String),
    hour          DateTime('UTC'),
    country       LowCardinality(String),
    browser       LowCardinality(String),
    os            LowCardinality(String),
    device_type   LowCardinality(String),
    hits          AggregateFunction(count),
    bot_hits      AggregateFunction(countIf, UInt8),
    hits_2xx      AggregateFunction(countIf, UInt8),
    hits_3xx      AggregateFunction(countIf, UInt8),
    hits_4xx      AggregateFunction(countIf, UInt8),
    hits_5xx      AggregateFunction(countIf, UInt8),
    bytes         AggregateFunction(sum, UInt64),
    visitors      AggregateFunction(uniqCombined, UInt64),
    human_visitors AggregateFunction(uniqCombinedIf, UInt64, UInt8),
    response_time AggregateFunction(quantilesTDigestIf(0.5, 0.95, 0.99), Float32, UInt8),
    first_seen    AggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen     AggregateFunction(max, DateTime64(3, 'UTC')),
    first_path    AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
    last_path     AggregateFunction(argMax, String, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (site, hour, country, browser, os, device_type);

CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_hourly_mv TO traffic_hourly AS
SELECT
    site,
    toStartOfHour(time) AS hour,
    country, browser, os, device_type,
    countState() AS hits,
    countStateIf(toUInt8(is_bot)) AS bot_hits,
    countStateIf(toUInt8(intDiv(status, 100) = 2)) AS hits_2xx,
    countStateIf(toUInt8(intDiv(status, 100) = 3)) AS hits_3xx,
    countStateIf(toUInt8(intDiv(status, 100) = 4)) AS hits_4xx,
    countStateIf(toUInt8(intDiv(status, 100) = 5)) AS hits_5xx,
    sumState(bytes) AS bytes,
    uniqCombinedState(visitor_id) AS visitors,
    uniqCombinedStateIf(visitor_id, toUInt8(NOT is_bot)) AS human_visitors,
    quantilesTDigestStateIf(0.5, 0.95, 0.99)(assumeNotNull(request_time), toUInt8(request_time IS NOT NULL)) AS response_time,
    minState(time) AS first_seen,
    maxState(time) AS last_seen,
    argMinState(path, time) AS first_path,
    argMaxState(path, time) AS last_path
FROM access_log
GROUP BY site, hour, country, browser, os, device_type;

CREATE TABLE IF NOT EXISTS traffic_monthly AS traffic_hourly
ENGINE = AggregatingMergeTree
PARTITION BY toYear(hour)
ORDER BY (site, hour, country, browser, os, device_type);

-- The monthly rollup is fed from the hourly one (a view on a view): it merges
-- partial hourly states into monthly ones, so the raw rows are aggregated once.
CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_monthly_mv TO traffic_monthly AS
SELECT
    site,
    toDateTime(toStartOfMonth(hour), 'UTC') AS hour,
    country, browser, os, device_type,
    countMergeState(hits) AS hits,
    countIfMergeState(bot_hits) AS bot_hits,
    countIfMergeState(hits_2xx) AS hits_2xx,
    countIfMergeState(hits_3xx) AS hits_3xx,
    countIfMergeState(hits_4xx) AS hits_4xx,
    countIfMergeState(hits_5xx) AS hits_5xx,
    sumMergeState(bytes) AS bytes,
    uniqCombinedMergeState(visitors) AS visitors,
    uniqCombinedIfMergeState(human_visitors) AS human_visitors,
    quantilesTDigestIfMergeState(0.5, 0.95, 0.99)(response_time) AS response_time,
    minMergeState(first_seen) AS first_seen,
    maxMergeState(last_seen) AS last_seen,
    argMinMergeState(first_path) AS first_path,
    argMaxMergeState(last_path) AS last_path
FROM traffic_hourly
GROUP BY site, hour, country, browser, os, device_type;

-- Pages per day, exact: top pages, 404 paths, per-page visitors and bytes.
CREATE TABLE IF NOT EXISTS pages_daily
(
    site      LowCardinality(String),
    day       Date,
    path      String,
    hits      AggregateFunction(count),
    not_found AggregateFunction(countIf, UInt8),
    bot_hits  AggregateFunction(countIf, UInt8),
    visitors  AggregateFunction(uniqCombined, UInt64),
    bytes     AggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site, day, path);

CREATE MATERIALIZED VIEW IF NOT EXISTS pages_daily_mv TO pages_daily AS
SELECT
    site,
    toDate(time) AS day,
    path,
    countState() AS hits,
    countStateIf(toUInt8(status = 404)) AS not_found,
    countStateIf(toUInt8(is_bot)) AS bot_hits,
    uniqCombinedState(visitor_id) AS visitors,
    sumState(bytes) AS bytes
FROM access_log
GROUP BY site, day, path;

-- Approximate heavy hitters per hour for dashboards (topK is approximate by design).
CREATE TABLE IF NOT EXISTS top_hourly
(
    site          LowCardinality(String),
    hour          DateTime('UTC'),
    top_paths     AggregateFunction(topK(20), String),
    top_referrers AggregateFunction(topKIf(20), String, UInt8)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (site, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS top_hourly_mv TO top_hourly AS
SELECT
    site,
    toStartOfHour(time) AS hour,
    topKState(20)(path) AS top_paths,
    topKStateIf(20)(domain(referer), toUInt8(referer != '')) AS top_referrers
FROM access_log
GROUP BY site, hour;
