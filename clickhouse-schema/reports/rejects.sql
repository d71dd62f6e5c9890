-- title: Rejected lines
-- about: lines that were not stored, by reason, with the first example of each; the range applies to when weblog processed them (received_at), and --site does not apply (a line that did not parse has no site)
-- column reason: why the line was rejected (parse_error, empty_line, line_too_long, ...)
-- column lines: rejected lines with that reason
-- column example_line: the first such line (by arrival, then Kafka position), cut to 300 characters
-- column example_detail: what was wrong with it
-- column first_at: first such reject (UTC, processing time)
-- column last_at: last such reject (UTC, processing time)
SELECT
    reason,
    count() AS lines,
    leftUTF8(argMin(line, (received_at, kafka_topic, kafka_partition, kafka_offset, kafka_line)), 300) AS example_line,
    argMin(detail, (received_at, kafka_topic, kafka_partition, kafka_offset, kafka_line)) AS example_detail,
    toDateTime(min(received_at), 'UTC') AS first_at,
    toDateTime(max(received_at), 'UTC') AS last_at
FROM rejects
WHERE received_at >= {from:DateTime64(3, 'UTC')} AND received_at < {to:DateTime64(3, 'UTC')}
GROUP BY reason
ORDER BY lines DESC, reason
