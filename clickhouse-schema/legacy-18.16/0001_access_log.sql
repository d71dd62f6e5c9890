-- Test schema for ClickHouse 18.16 (Debian's clickhouse-server), used only to
-- exercise weblog over HTTP (inserts, errors, outages) on our machines.
-- Same column names as migrations/, older types: no LowCardinality,
-- DateTime64, Bool, IPv6 or Map. Not for production.
CREATE TABLE IF NOT EXISTS access_log
(
    site String DEFAULT '',
    time DateTime,
    remote_addr String,
    remote_user String,
    ip String,
    ip_version UInt8,
    is_private UInt8,
    is_loopback UInt8,
    request String,
    method String,
    url String,
    path String,
    query String,
    protocol String,
    status UInt16,
    bytes UInt64,
    referer String,
    user_agent String,
    vhost String,
    request_time Nullable(Float32),
    upstream_response_time String,
    x_forwarded_for String,
    browser String,
    browser_version String,
    os String,
    os_version String,
    device_type String,
    device_vendor String,
    device_model String,
    is_bot UInt8,
    country String,
    region String,
    city String,
    latitude Nullable(Float32),
    longitude Nullable(Float32),
    asn UInt32,
    as_org String,
    ua_id UInt64,
    visitor_id UInt64,
    source String DEFAULT '',
    source_offset UInt64 DEFAULT 0,
    kafka_topic String DEFAULT '',
    kafka_partition UInt16 DEFAULT 0,
    kafka_offset UInt64 DEFAULT 0
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (site, kafka_topic, kafka_partition, kafka_offset);

CREATE TABLE IF NOT EXISTS rejects
(
    received_at DateTime,
    reason String,
    detail String,
    line String,
    source String,
    source_offset UInt64,
    kafka_topic String,
    kafka_partition UInt16,
    kafka_offset UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (kafka_topic, kafka_partition, kafka_offset);
