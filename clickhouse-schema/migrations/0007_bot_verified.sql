-- Verified crawlers (src/enrich/crawler-ranges.ts): the operator a row's user agent claims to crawl for
-- (google, bing, ...; only operators whose published ranges are bundled), and whether its address lies in
-- those ranges. bot_claim != '' AND NOT bot_verified is an impostor. Rows stored before read '' and false.
ALTER TABLE access_log ADD COLUMN IF NOT EXISTS bot_claim LowCardinality(String) DEFAULT '' AFTER bot_category;
ALTER TABLE access_log ADD COLUMN IF NOT EXISTS bot_verified Bool DEFAULT false AFTER bot_claim;
