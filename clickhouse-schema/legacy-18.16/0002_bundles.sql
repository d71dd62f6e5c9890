-- A line is identified by its Kafka message's offset and its index in the
-- message (see migrations/0004_bundles.sql).
ALTER TABLE access_log ADD COLUMN kafka_line UInt32 DEFAULT 0 AFTER kafka_offset;

ALTER TABLE rejects ADD COLUMN kafka_line UInt32 DEFAULT 0 AFTER kafka_offset;
