-- The raw table: one row per accepted access-log line, one column per record
-- field (names as in the `weblog parse` JSON), plus provenance.
CREATE TABLE IF NOT EXISTS access_log
(
    site                   LowCardinality(String) DEFAULT '',
    time                   DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    remote_addr            String CODEC(ZSTD(1)),
    remote_user            String CODEC(ZSTD(1)),
    ip                     IPv6,
    ip_version             UInt8,
    is_private             Bool,
    is_loopback            Bool,
    request                String CODEC(ZSTD(3)),
    method                 LowCardinality(String),
    url                    String CODEC(ZSTD(3)),
    path                   String CODEC(ZSTD(3)),
    query                  String CODEC(ZSTD(3)),
    protocol               LowCardinality(String),
    status                 UInt16,
    bytes                  UInt64 CODEC(T64, ZSTD(1)),
    referer                String CODEC(ZSTD(3)),
    user_agent             String CODEC(ZSTD(3)),
    vhost                  LowCardinality(String),
    request_time           Nullable(Float32),
    upstream_response_time String CODEC(ZSTD(1)),
    x_forwarded_for        String CODEC(ZSTD(1)),
    extra                  Map(String, String),
    browser                LowCardinality(String),
    browser_version        LowCardinality(String),
    os                     LowCardinality(String),
    os_version             LowCardinality(String),
    device_type            LowCardinality(String),
    device_vendor          LowCardinality(String),
    device_model           LowCardinality(String),
    is_bot                 Bool,
    country                LowCardinality(String),
    region                 LowCardinality(String),
    city                   LowCardinality(String),
    latitude               Nullable(Float32),
    longitude              Nullable(Float32),
    asn                    UInt32,
    as_org                 LowCardinality(String),
    ua_id                  UInt64,
    visitor_id             UInt64,
    -- provenance: where the line came from
    source                 LowCardinality(String) DEFAULT '',
    source_offset          UInt64 DEFAULT 0,
    kafka_topic            LowCardinality(String) DEFAULT '',
    kafka_partition        UInt16 DEFAULT 0,
    kafka_offset           UInt64 DEFAULT 0,
    ingested_at            DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (site, toStartOfHour(time), path, time)
SETTINGS index_granularity = 8192;
