-- What kind of bot a row's user agent is (src/enrich/bot-categories.ts): ai_assistant, ai_search,
-- ai_training, search, seo, monitoring, feed_reader, scanner, http_library, other; '' for a person.
-- Rows stored before this migration read ''.
ALTER TABLE access_log ADD COLUMN IF NOT EXISTS bot_category LowCardinality(String) DEFAULT '' AFTER is_bot;
