-- title: Scanners
-- about: clients probing for weaknesses: requests for probe paths (/.env, /.git/, /wp-login.php, /xmlrpc.php, /cgi-bin/, /phpmyadmin, /admin.php, /.aws/, /actuator, /server-status, /vendor/phpunit, /boaform, /HNAP1, /shell.php, /config.json and similar) or with SQL injection or path traversal in the URL, or from a scanner's user agent (bot_category scanner), by client address, from the raw table
-- column remote_addr: client address
-- column hits: probing requests
-- column paths: distinct paths probed
-- column not_found: of those, answered 404
-- column tried: the paths probed, most frequent first, then by name (at most 10)
-- column first_seen: first probing request in the range (UTC)
-- column last_seen: last probing request in the range (UTC)
SELECT
    remote_addr,
    sum(n) AS hits,
    count() AS paths,
    sum(nf) AS not_found,
    arrayStringConcat(arraySlice(arrayMap(x -> x.2, arraySort(x -> (-x.1, x.2), groupArray((n, path)))), 1, 10), ' ') AS tried,
    toDateTime(min(first), 'UTC') AS first_seen,
    toDateTime(max(last), 'UTC') AS last_seen
FROM
(
    SELECT remote_addr, path, count() AS n, countIf(status = 404) AS nf, min(time) AS first, max(time) AS last
    FROM access_log
    WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')} AND ({site:String} = '' OR site = {site:String})
      AND (
        bot_category = 'scanner'
        OR match(path, '(?i)(^|/)(\\.env|\\.git/|\\.svn/|\\.hg/|\\.aws/|\\.ssh/|\\.DS_Store|wp-login\\.php|xmlrpc\\.php|wp-config|cgi-bin/|phpmyadmin|pma/|myadmin|admin\\.php|setup\\.php|install\\.php|actuator|server-status|vendor/phpunit|boaform|HNAP1|shell\\.php|cmd\\.php|c99\\.php|r57\\.php|eval-stdin\\.php|config\\.json|\\.htaccess|\\.htpasswd|web\\.config|etc/passwd|manager/html)')
        OR match(url, '(?i)(\\.\\./|%2e%2e(%2f|/)|union(\\s|\\+|%20)+select|select(\\s|\\+|%20).+from|sleep\\(|benchmark\\(|information_schema|/etc/passwd|<script|%3cscript|\\$\\{jndi:)')
      )
    GROUP BY remote_addr, path
)
GROUP BY remote_addr
ORDER BY hits DESC, remote_addr
LIMIT {limit:UInt32}
