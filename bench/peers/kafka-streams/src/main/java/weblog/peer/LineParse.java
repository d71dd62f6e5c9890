package weblog.peer;

import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Reads raw access-log lines (one per message, or bundles of lines), parses each combined-format line with one
 * regular expression and its time with java.time, and writes one JSON object per line to the output topic.
 * Lines that do not match are dropped (a KSQL/Streams user would route them elsewhere).
 * Usage: LineParse BROKERS INPUT_TOPIC OUTPUT_TOPIC APPLICATION_ID at_least_once|exactly_once_v2
 */
public final class LineParse {
  private static final Pattern LINE = Pattern.compile(
      "^(\\S+) \\S+ (\\S+) \\[([^\\]]+)\\] \"(\\S+) ([^ ?\"]*)(\\?[^ \"]*)? (HTTP/[0-9.]+)\" (\\d{3}) (\\d+|-)(?: \"([^\"]*)\" \"([^\"]*)\")?");
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);

  private LineParse() {}

  static void str(StringBuilder b, String name, String v) {
    b.append('"').append(name).append("\":\"");
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    b.append('"');
  }

  static String parse(String line) {
    Matcher m = LINE.matcher(line);
    if (!m.lookingAt()) return null;
    long time;
    try {
      time = OffsetDateTime.parse(m.group(3), TIME).toInstant().toEpochMilli();
    } catch (RuntimeException e) {
      return null;
    }
    StringBuilder b = new StringBuilder(line.length() + 160);
    b.append('{');
    str(b, "ip", m.group(1));
    b.append(',');
    str(b, "remote_user", m.group(2));
    b.append(",\"time\":").append(time).append(',');
    str(b, "method", m.group(4));
    b.append(',');
    str(b, "path", m.group(5));
    b.append(',');
    str(b, "query", m.group(6) == null ? "" : m.group(6).substring(1));
    b.append(',');
    str(b, "protocol", m.group(7));
    b.append(",\"status\":").append(m.group(8));
    b.append(",\"bytes\":").append(m.group(9).equals("-") ? "0" : m.group(9)).append(',');
    str(b, "referer", m.group(10) == null ? "" : m.group(10));
    b.append(',');
    str(b, "user_agent", m.group(11) == null ? "" : m.group(11));
    return b.append('}').toString();
  }

  static List<String> lines(String value) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int nl = value.indexOf('\n'); nl != -1; nl = value.indexOf('\n', start)) {
      int end = nl > start && value.charAt(nl - 1) == '\r' ? nl - 1 : nl;
      out.add(value.substring(start, end));
      start = nl + 1;
    }
    if (start < value.length() || start == 0) out.add(value.substring(start));
    return out;
  }

  public static void main(String[] args) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[3]);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args[4]);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    p.put("auto.offset.reset", "earliest");
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(args[1], Consumed.with(Serdes.ByteArray(), Serdes.String()))
        .flatMapValues(LineParse::lines)
        .mapValues(LineParse::parse)
        .filter((k, v) -> v != null)
        .to(args[2], Produced.with(Serdes.ByteArray(), Serdes.String()));
    KafkaStreams streams = new KafkaStreams(builder.build(), p);
    Runtime.getRuntime().addShutdownHook(new Thread(streams::close));
    streams.start();
  }
}
