-- weblog's parse step as KSQL (ksqlDB 0.29), for people moving from a ksqlDB
-- transform to weblog: the same field names as weblog's record, for the
-- `combined` and `common` formats. Run it on a ksqlDB server, or check it
-- without a cluster with ksqlDB's own test runner:
--   ksql-test-runner -s ksql/weblog.sql -i ksql/cases/input.json -o ksql/cases/output.json
-- Every pattern below is Java regex syntax (KSQL string literals keep
-- backslashes as they are; a quote is written twice). Column names are
-- quoted: TIME, BYTES and others are also KSQL type names; the JSON output
-- has them in upper case (weblog's names in lower case). The expected outputs
-- in ksql/cases/output.json are computed from this file's own patterns with
-- java.util.regex and java.time (npm run ksql:expected), not by weblog.
--
-- What KSQL cannot do here without Java UDFs, and weblog does:
--   * unescape quoted fields (\" \\ \xHH): KSQL keeps the raw bytes;
--   * reject lines with a reason (bad_time, bad_status, unterminated_quote ...):
--     KSQL has one reject stream for lines the pattern does not match, and
--     keeps a NULL time for an impossible date (31/Feb);
--   * count empty lines (KSQL drops them: a bundle's last element is empty too);
--   * read the server's own format string (nginx log_format, Apache LogFormat);
--   * the first public IP of X-Forwarded-For, IPv6 normalisation, private and
--     loopback flags, user agent (browser, OS, device, bot), GeoIP and ASN,
--     ua_id and visitor_id hashes;
--   * exactly-once rows in ClickHouse with their Kafka position.

-- 1. The raw topic: one line per message, or a bundle of lines (weblog ship).
CREATE STREAM weblog_raw (`LINE` VARCHAR)
  WITH (KAFKA_TOPIC = 'weblog.raw', VALUE_FORMAT = 'KAFKA', PARTITIONS = 1);

-- 2. One row per line: bundles are split on LF (CHR(10)); a one-line message
--    stays one row. A bundle ends with LF, so its last element is empty.
CREATE STREAM weblog_lines WITH (KAFKA_TOPIC = 'weblog_lines', VALUE_FORMAT = 'JSON') AS
  SELECT EXPLODE(SPLIT(`LINE`, CHR(10))) AS `LINE`
  FROM weblog_raw
  EMIT CHANGES;

-- 3. The fields of the line, by one pattern (combined; common lines lack the
--    last two quoted fields). Groups: 1 remote_addr, 2 ident, 3 remote_user,
--    4 time, 5 request, 6 status, 7 bytes, 8 referer, 9 user agent.
--    A line the pattern does not match gets NULL everywhere.
CREATE STREAM weblog_fields WITH (KAFKA_TOPIC = 'weblog_fields', VALUE_FORMAT = 'JSON') AS
  SELECT
    `LINE`,
    REGEXP_EXTRACT('^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?', `LINE`, 1) AS `REMOTE_ADDR`,
    REGEXP_EXTRACT('^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?', `LINE`, 3) AS `REMOTE_USER`,
    REGEXP_EXTRACT('^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?', `LINE`, 4) AS `TIME_LOCAL`,
    REGEXP_EXTRACT('^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?', `LINE`, 5) AS `REQUEST`,
    REGEXP_EXTRACT('^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?', `LINE`, 6) AS `STATUS`,
    REGEXP_EXTRACT('^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?', `LINE`, 7) AS `BYTES`,
    REGEXP_EXTRACT('^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?', `LINE`, 8) AS `REFERER`,
    REGEXP_EXTRACT('^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?', `LINE`, 9) AS `USER_AGENT`
  FROM weblog_lines
  WHERE `LINE` != ''
  EMIT CHANGES;

-- 4. Parsed lines, typed, with weblog's field names: `-` becomes '', the time
--    becomes epoch milliseconds in UTC, the request is split into method, url
--    (everything between the method and a final HTTP/x token), path, query
--    (after the first ?) and protocol; a request of another shape keeps them ''.
CREATE STREAM weblog_parsed WITH (KAFKA_TOPIC = 'weblog_parsed', VALUE_FORMAT = 'JSON') AS
  SELECT
    `REMOTE_ADDR`,
    CASE WHEN `REMOTE_USER` = '-' THEN '' ELSE `REMOTE_USER` END AS `REMOTE_USER`,
    STRINGTOTIMESTAMP(`TIME_LOCAL`, 'dd/MMM/yyyy:HH:mm:ss Z') AS `TIME`,
    `REQUEST`,
    COALESCE(REGEXP_EXTRACT('^([A-Z][A-Z0-9_-]{0,31})(?: |$)', `REQUEST`, 1), '') AS `METHOD`,
    COALESCE(REGEXP_EXTRACT('^[A-Z][A-Z0-9_-]{0,31} (.*?)(?: HTTP/[^ ]{0,4})?$', `REQUEST`, 1), '') AS `URL`,
    COALESCE(REGEXP_EXTRACT('^[A-Z][A-Z0-9_-]{0,31} ([^?]*?)(?:\?.*?)?(?: HTTP/[^ ]{0,4})?$', `REQUEST`, 1), '') AS `PATH`,
    COALESCE(REGEXP_EXTRACT('^[A-Z][A-Z0-9_-]{0,31} [^?]*?\?(.*?)(?: HTTP/[^ ]{0,4})?$', `REQUEST`, 1), '') AS `QUERY`,
    COALESCE(REGEXP_EXTRACT('^[A-Z][A-Z0-9_-]{0,31} .*? (HTTP/[^ ]{0,4})$', `REQUEST`, 1), '') AS `PROTOCOL`,
    CAST(`STATUS` AS INTEGER) AS `STATUS`,
    CASE WHEN `BYTES` = '-' THEN CAST(0 AS BIGINT) ELSE CAST(`BYTES` AS BIGINT) END AS `BYTES`,
    CASE WHEN `REFERER` IS NULL OR `REFERER` = '-' THEN '' ELSE `REFERER` END AS `REFERER`,
    CASE WHEN `USER_AGENT` IS NULL OR `USER_AGENT` = '-' THEN '' ELSE `USER_AGENT` END AS `USER_AGENT`
  FROM weblog_fields
  WHERE `REMOTE_ADDR` IS NOT NULL
  EMIT CHANGES;

-- 5. Lines the pattern does not match, with weblog's reason for them.
CREATE STREAM weblog_rejects WITH (KAFKA_TOPIC = 'weblog_rejects', VALUE_FORMAT = 'JSON') AS
  SELECT `LINE`, 'no_match' AS `REASON`
  FROM weblog_fields
  WHERE `REMOTE_ADDR` IS NULL
  EMIT CHANGES;
