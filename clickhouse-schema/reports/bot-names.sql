-- title: Bots by name
-- about: crawler hits by bot name (the first word of the user agent that contains bot, crawler, spider, slurp, fetcher or archiver; else its browser family; else the user agent up to its first /, ; or parenthesis), from the raw table
-- column bot: bot name as derived from the user agent
-- column hits: requests
-- column clients: distinct remote addresses it came from
-- column bytes: response bytes sent
-- column last_seen: last request in the range (UTC)
-- column user_agent: its most frequent user agent (approximate: topK), cut to 200 characters
-- labels: bot
SELECT bot, count() AS hits, uniqExact(remote_addr) AS clients, sum(bytes) AS bytes, toDateTime(max(time), 'UTC') AS last_seen, leftUTF8(topK(1)(user_agent)[1], 200) AS user_agent
FROM
(
    SELECT
        multiIf(
            extract(user_agent, '(?i)([a-z0-9._-]*(?:bot|crawler|spider|slurp|fetcher|archiver)[a-z0-9._-]*)') AS named != '', named,
            browser != '', toString(browser),
            trimBoth(extract(user_agent, '^([^/;()]+)'))) AS bot,
        remote_addr, bytes, time, user_agent
    FROM access_log
    WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String}) AND is_bot
)
GROUP BY bot
ORDER BY hits DESC, bot
LIMIT {limit:UInt32}
