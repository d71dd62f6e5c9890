-- What the stream processor needs besides access_log.

-- Lines that were not stored as rows, with the reason: parse rejects and rows
-- ClickHouse refused. accepted + rejected = consumed:
--   SELECT (SELECT count() FROM access_log) + (SELECT count() FROM rejects)
CREATE TABLE IF NOT EXISTS rejects
(
    received_at     DateTime64(3, 'UTC') DEFAULT now64(3),
    reason          LowCardinality(String),
    detail          String CODEC(ZSTD(1)),
    line            String CODEC(ZSTD(3)),
    source          LowCardinality(String),
    source_offset   UInt64,
    kafka_topic     LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset    UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (kafka_topic, kafka_partition, kafka_offset);

-- Resume look-ups read max(kafka_offset) of one partition from the newest
-- offsets: a min/max index lets them skip older granules.
ALTER TABLE access_log ADD INDEX IF NOT EXISTS kafka_offset_idx kafka_offset TYPE minmax GRANULARITY 1;

-- Retried INSERTs carry insert_deduplication_token; a non-replicated
-- MergeTree honours it only with a deduplication window.
ALTER TABLE access_log MODIFY SETTING non_replicated_deduplication_window = 1000;
