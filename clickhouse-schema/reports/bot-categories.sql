-- title: Bots by category
-- about: automated traffic per UTC day by kind of client (bot_category: ai_assistant, ai_search, ai_training, search, seo, monitoring, feed_reader, scanner, http_library, other; from the user agent's product token, src/enrich/bot-categories.ts), from the raw table; rows stored before the category existed count as people
-- column day: UTC day
-- column bot_category: kind of bot
-- column hits: requests
-- column pages: requests for pages (not static files, by the rule of static-files)
-- column bytes: response bytes sent
-- column clients: distinct remote addresses
SELECT
    toDate(time) AS day,
    bot_category,
    count() AS hits,
    countIf(NOT match(path, '(?i)\\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|mp3|mp4|webm|ogg|wav|pdf|zip|gz|tgz|bz2|xz|7z|rar)$')) AS pages,
    sum(bytes) AS bytes,
    uniqExact(remote_addr) AS clients
FROM access_log
WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String}) AND bot_category != ''
GROUP BY day, bot_category
ORDER BY day, hits DESC, bot_category
