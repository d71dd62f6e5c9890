-- Kafka messages may hold a bundle of lines (weblog ship sends up to 1,000
-- consecutive lines per message): a line is identified by its message's
-- offset and its index in the message, 0 for one-line messages.
ALTER TABLE access_log ADD COLUMN IF NOT EXISTS kafka_line UInt32 DEFAULT 0 AFTER kafka_offset;

ALTER TABLE rejects ADD COLUMN IF NOT EXISTS kafka_line UInt32 DEFAULT 0 AFTER kafka_offset;
