-- title: Static files vs pages
-- about: requests for static files (stylesheets, scripts, images, fonts, media, downloads: by the path's extension) against pages (everything else), from the daily pages rollup
-- column kind: static (path ends in .css .js .mjs .map .png .jpg .jpeg .gif .svg .ico .webp .avif .bmp .woff .woff2 .ttf .otf .eot .mp3 .mp4 .webm .ogg .wav .pdf .zip .gz .tgz .bz2 .xz .7z .rar, any case) or page
-- column hits: requests
-- column visitors: distinct visitors; approximate: uniqCombined, exact for small counts, within about 1% beyond tens of thousands
-- column bytes: response bytes sent
-- column hits_pct: share of all hits in the range, %
-- column bytes_pct: share of all bytes in the range, %
SELECT kind, hits, visitors, bytes, round(100 * hits / sum(hits) OVER (), 2) AS hits_pct, round(100 * bytes / sum(bytes) OVER (), 2) AS bytes_pct
FROM
(
    SELECT
        if(match(path, '(?i)\\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|mp3|mp4|webm|ogg|wav|pdf|zip|gz|tgz|bz2|xz|7z|rar)$'), 'static', 'page') AS kind,
        countMerge(hits) AS hits,
        uniqCombinedMerge(visitors) AS visitors,
        sumMerge(bytes) AS bytes
    FROM pages_daily
    WHERE day >= toDate({from:DateTime64(3, 'UTC')}) AND day < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
    GROUP BY kind
)
ORDER BY hits DESC, kind
