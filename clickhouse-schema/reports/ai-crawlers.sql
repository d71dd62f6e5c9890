-- title: AI crawlers
-- about: which AI clients (bot_category ai_training, ai_search or ai_assistant) fetch which paths, and how much, from the raw table
-- column bot: the client's product token (the first word of its user agent naming a bot, crawler, spider or user fetcher; else the user agent up to its first /, ; or parenthesis)
-- column bot_category: ai_training (collecting text for models), ai_search (indexing for an AI search product) or ai_assistant (fetching a page a person asked an assistant for)
-- column path: URL path
-- column hits: requests
-- column bytes: response bytes sent
-- column last_seen: last request in the range (UTC)
SELECT bot, bot_category, path, count() AS hits, sum(bytes) AS bytes, toDateTime(max(time), 'UTC') AS last_seen
FROM
(
    SELECT
        multiIf(
            extract(user_agent, '(?i)([a-z0-9._-]*(?:bot|crawler|spider|-user|fetcher|-ai|agent)[a-z0-9._-]*)') AS named != '', named,
            trimBoth(extract(user_agent, '^([^/;()]+)'))) AS bot,
        bot_category, path, bytes, time
    FROM access_log
    WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
      AND bot_category IN ('ai_training', 'ai_search', 'ai_assistant')
)
GROUP BY bot, bot_category, path
ORDER BY hits DESC, bot, path
LIMIT {limit:UInt32}
