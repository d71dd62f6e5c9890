-- A retried INSERT block (the same insert_deduplication_token) is dropped by
-- access_log, but the materialized views still counted it into the rollups
-- (ClickHouse 26.7: the hourly rollup held the block twice after one retry).
-- Inserts ask for deduplicate_blocks_in_dependent_materialized_views = 1, and
-- that needs a window on each view's table too (non-replicated tables keep
-- none by default). Rejects carry tokens as well.
ALTER TABLE traffic_hourly MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE traffic_monthly MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE pages_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE top_hourly MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE rejects MODIFY SETTING non_replicated_deduplication_window = 1000;
