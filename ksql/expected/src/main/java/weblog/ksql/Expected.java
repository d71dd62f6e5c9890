package weblog.ksql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Computes what ksql/weblog.sql outputs for ksql/cases/input.json, independently of weblog's parser: the
 * script's own patterns (read from the script) through java.util.regex with find(), as ksqlDB's REGEXP_EXTRACT
 * does, and its STRINGTOTIMESTAMP format through java.time (ksqlDB's parser; US English month names, as in the
 * ksqlDB images). The rest of each statement (SPLIT on LF keeping empty elements, WHERE, CASE, COALESCE, CAST)
 * is written out below, statement by statement.
 * Usage: Expected SCRIPT INPUT_JSON CASES_JSON OUTPUT_JSON EXPECTED_JSON
 */
public final class Expected {
  /** REGEXP_EXTRACT('pattern', `SRC`, n) ... AS `NAME`, with the pattern's '' unescaped. */
  private static final Pattern EXTRACT =
      Pattern.compile("REGEXP_EXTRACT\\('((?:[^']|'')*)', `(\\w+)`, (\\d+)\\)(?:, '[^']*'\\))? AS `(\\w+)`");
  private static final Pattern TIMESTAMP = Pattern.compile("STRINGTOTIMESTAMP\\(`(\\w+)`, '([^']*)'\\) AS `(\\w+)`");

  record Extract(Pattern pattern, String source, int group) {}

  private final Map<String, Extract> extracts = new LinkedHashMap<>();
  private final DateTimeFormatter time;

  Expected(String script) {
    Matcher m = EXTRACT.matcher(script);
    while (m.find()) extracts.put(m.group(4), new Extract(Pattern.compile(m.group(1).replace("''", "'")), m.group(2), Integer.parseInt(m.group(3))));
    Matcher t = TIMESTAMP.matcher(script);
    if (!t.find()) throw new IllegalStateException("no STRINGTOTIMESTAMP in the script");
    time = DateTimeFormatter.ofPattern(t.group(2), Locale.US);
  }

  /** REGEXP_EXTRACT: the group of the first match (find), NULL without one. */
  String extract(String name, Map<String, Object> row) {
    Extract e = extracts.get(name);
    if (e == null) throw new IllegalStateException("the script has no REGEXP_EXTRACT ... AS `" + name + "`");
    Object src = row.get(e.source());
    if (src == null) return null;
    Matcher m = e.pattern().matcher((String) src);
    return m.find() ? m.group(e.group()) : null;
  }

  static String dashEmpty(String v) {
    return v == null || v.equals("-") ? "" : v;
  }

  static String orEmpty(String v) {
    return v == null ? "" : v;
  }

  /** The rows of one message through statements 2-5: each line's parsed row, reject, or nothing (dropped). */
  List<Map<String, Object>> lines(String value) {
    List<Map<String, Object>> out = new ArrayList<>();
    // 2. SPLIT(`LINE`, CHR(10)) keeps empty elements (a bundle's last one, empty lines)
    for (String line : value.split("\n", -1)) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("line", line);
      // 3. WHERE `LINE` != ''
      if (line.isEmpty()) {
        r.put("dropped", true);
        out.add(r);
        continue;
      }
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("LINE", line);
      for (String name : List.of("REMOTE_ADDR", "REMOTE_USER", "TIME_LOCAL", "REQUEST", "STATUS", "BYTES", "REFERER", "USER_AGENT"))
        f.put(name, extract(name, f));
      if (f.get("REMOTE_ADDR") == null) {
        // 5. the reject stream
        Map<String, Object> rej = new LinkedHashMap<>();
        rej.put("LINE", line);
        rej.put("REASON", "no_match");
        r.put("reject", rej);
        out.add(r);
        continue;
      }
      // 4. the parsed stream
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("REMOTE_ADDR", f.get("REMOTE_ADDR"));
      p.put("REMOTE_USER", "-".equals(f.get("REMOTE_USER")) ? "" : f.get("REMOTE_USER"));
      Long ms;
      try {
        ms = ZonedDateTime.parse((String) f.get("TIME_LOCAL"), time).toInstant().toEpochMilli();
      } catch (RuntimeException e) {
        ms = null; // STRINGTOTIMESTAMP fails: NULL (and a processing-log entry)
      }
      p.put("TIME", ms);
      p.put("REQUEST", f.get("REQUEST"));
      for (String name : List.of("METHOD", "URL", "PATH", "QUERY", "PROTOCOL")) p.put(name, orEmpty(extract(name, f)));
      p.put("STATUS", Integer.parseInt((String) f.get("STATUS")));
      p.put("BYTES", "-".equals(f.get("BYTES")) ? 0L : Long.parseLong((String) f.get("BYTES")));
      p.put("REFERER", dashEmpty((String) f.get("REFERER")));
      p.put("USER_AGENT", dashEmpty((String) f.get("USER_AGENT")));
      r.put("parsed", p);
      out.add(r);
    }
    return out;
  }

  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    byte[] scriptBytes = Files.readAllBytes(Path.of(args[0]));
    Expected ex = new Expected(new String(scriptBytes, StandardCharsets.UTF_8));
    JsonNode cases = json.readTree(Path.of(args[2]).toFile()).get("cases");
    ArrayNode parsed = json.createArrayNode();
    ArrayNode rejects = json.createArrayNode();
    ArrayNode perCase = json.createArrayNode();
    for (JsonNode c : cases) {
      ObjectNode cn = perCase.addObject();
      cn.put("name", c.get("name").asText());
      ArrayNode ls = cn.putArray("lines");
      for (Map<String, Object> r : ex.lines(c.get("value").asText())) {
        ls.add(json.valueToTree(r));
        if (r.containsKey("parsed")) parsed.add(record("weblog_parsed", json.valueToTree(r.get("parsed")), json));
        if (r.containsKey("reject")) rejects.add(record("weblog_rejects", json.valueToTree(r.get("reject")), json));
      }
    }
    ObjectNode output = json.createObjectNode();
    ArrayNode outputs = output.putArray("outputs");
    outputs.addAll(parsed);
    outputs.addAll(rejects);
    json.writeValue(Path.of(args[3]).toFile(), output);
    ObjectNode expected = json.createObjectNode();
    expected.put("comment", "Generated by npm run ksql:expected from ksql/weblog.sql (java.util.regex, java.time); do not edit.");
    expected.put("script_sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(scriptBytes)));
    expected.set("cases", perCase);
    json.writeValue(Path.of(args[4]).toFile(), expected);
    System.out.println("expected outputs: " + parsed.size() + " parsed, " + rejects.size() + " rejects");
  }

  static ObjectNode record(String topic, JsonNode value, ObjectMapper json) {
    ObjectNode o = json.createObjectNode();
    o.put("topic", topic);
    o.putNull("key");
    o.set("value", value);
    o.put("timestamp", 0);
    return o;
  }
}
