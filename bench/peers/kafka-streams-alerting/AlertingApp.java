import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * bench/alerting/rules.yaml as a Kafka Streams application: the seven predicate rules write an
 * alert per matching event, the three windowed aggregations write one result per closed window,
 * in the JSON formats of `tideway alerting` (docs/alerting.md), exactly-once (exactly_once_v2).
 *
 * Settings are key=value arguments (or the environment variable of the same name in upper case
 * with _ for . and -): bootstrap, application.id, input, alerts, sink, state.dir,
 * allowed.lateness.ms (grace of every window, default 0), internal.partitions (of each repartition
 * topic, default 4), fetch.max.wait.ms (optional). It prints "STATE
 * RUNNING" when it has its partitions, and on SIGTERM "STATS {json}" with the records its windows
 * dropped as late.
 */
public final class AlertingApp {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> RISKY = Set.of("KP", "IR", "SY");
  private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

  /** One input event, parsed once, with where it came from (for alert ids and sources). */
  record Event(ObjectNode doc, String topic, int partition, long offset, long kafkaTime, long ts) {
    double amount() {
      return doc.path("amount").asDouble();
    }

    String text(String field) {
      JsonNode n = doc.get(field);
      return n == null || n.isNull() ? null : n.asText();
    }
  }

  /** A predicate rule: id, severity, whether its event time is `ts` (else the Kafka timestamp), condition. */
  record Rule(String id, String severity, boolean eventTimeTs, java.util.function.Predicate<Event> when) {}

  static final List<Rule> RULES =
      List.of(
          new Rule("amount-over-threshold", "high", false, e -> e.amount() > 9990),
          new Rule("country-mismatch", "medium", false, e -> !eq(e.text("country"), e.text("account_country"))),
          new Rule(
              "night-hours",
              "low",
              true,
              e -> {
                int h = Instant.ofEpochMilli(e.ts()).atZone(ZoneOffset.UTC).getHour();
                return h >= 23 || h < 5;
              }),
          new Rule("risky-country", "medium", false, e -> RISKY.contains(e.text("country")) && e.amount() > 100),
          new Rule("round-amount", "info", false, e -> e.amount() >= 5000.0 && e.amount() == (double) (long) e.amount()),
          new Rule(
              "weekend-large",
              "low",
              true,
              e -> Instant.ofEpochMilli(e.ts()).atZone(PARIS).getDayOfWeek() == DayOfWeek.SUNDAY && e.amount() > 9000),
          new Rule(
              "card-present-abroad",
              "medium",
              false,
              e -> "pos".equals(e.text("channel")) && !eq(e.text("country"), e.text("account_country")) && e.amount() > 2000));

  static boolean eq(String a, String b) {
    return a == null ? b == null : a.equals(b);
  }

  static String iso(long ms) {
    return Instant.ofEpochMilli(ms).toString().replaceFirst("(\\d{2}:\\d{2}:\\d{2})Z$", "$1.000Z");
  }

  /** sha256 of the parts joined by NUL, first 32 hex digits (the alert id of tideway alerting). */
  static String alertId(String... parts) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(String.join("\u0000", parts).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d).substring(0, 32);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses each input record once: its `ts` field is the event time, its Kafka timestamp is kept as `kafkaTime`. */
  static final class Parse implements Processor<String, String, String, Event> {
    private ProcessorContext<String, Event> context;

    @Override
    public void init(ProcessorContext<String, Event> context) {
      this.context = context;
    }

    @Override
    public void process(Record<String, String> record) {
      ObjectNode doc;
      try {
        doc = (ObjectNode) JSON.readTree(record.value());
      } catch (Exception e) {
        throw new IllegalArgumentException("not a JSON object", e);
      }
      var meta = context.recordMetadata().orElseThrow();
      long ts = Instant.parse(doc.path("ts").asText()).toEpochMilli();
      context.forward(new Record<>(record.key(), new Event(doc, meta.topic(), meta.partition(), meta.offset(), record.timestamp(), ts), record.timestamp()));
    }
  }

  /** The predicate rules: one alert record (key = account_id) per rule an event matches. */
  static final class Predicates implements Processor<String, Event, String, String> {
    private ProcessorContext<String, String> context;

    @Override
    public void init(ProcessorContext<String, String> context) {
      this.context = context;
    }

    @Override
    public void process(Record<String, Event> record) {
      Event e = record.value();
      for (Rule rule : RULES) {
        if (!rule.when().test(e)) continue;
        String id = alertId(rule.id(), e.topic(), String.valueOf(e.partition()), String.valueOf(e.offset()));
        String key = e.text("account_id");
        ObjectNode alert = JSON.createObjectNode();
        alert.put("id", id).put("rule", rule.id()).put("severity", rule.severity()).put("title", rule.id()).put("key", key);
        alert.put("eventTime", iso(rule.eventTimeTs() ? e.ts() : e.kafkaTime()));
        alert.set("values", e.doc());
        ObjectNode source = JSON.createObjectNode().put("topic", e.topic()).put("partition", e.partition()).put("offset", String.valueOf(e.offset()));
        alert.putArray("sources").add(source);
        alert.put("sourceCount", 1);
        RecordHeaders headers = new RecordHeaders();
        headers.add("tideway.alert.id", id.getBytes(StandardCharsets.UTF_8));
        headers.add("tideway.alert.rule", rule.id().getBytes(StandardCharsets.UTF_8));
        headers.add("tideway.alert.severity", rule.severity().getBytes(StandardCharsets.UTF_8));
        context.forward(new Record<>(key, alert.toString(), record.timestamp(), headers));
      }
    }
  }

  /** Re-keys an event by a field, its value the amount, its timestamp the event time `ts`. */
  static final class Project implements Processor<String, Event, String, Double> {
    private final String keyField;
    private ProcessorContext<String, Double> context;

    Project(String keyField) {
      this.keyField = keyField;
    }

    @Override
    public void init(ProcessorContext<String, Double> context) {
      this.context = context;
    }

    @Override
    public void process(Record<String, Event> record) {
      Event e = record.value();
      context.forward(new Record<>(e.text(keyField), e.amount(), e.ts()));
    }
  }

  /** Aggregates as [count, sum, max]: count for every event, sum and max of the amounts. */
  static final Serde<double[]> ACC =
      Serdes.serdeFrom(
          (Serializer<double[]>)
              (topic, a) -> {
                ByteBuffer b = ByteBuffer.allocate(8 * a.length);
                for (double x : a) b.putDouble(x);
                return b.array();
              },
          (Deserializer<double[]>)
              (topic, bytes) -> {
                if (bytes == null) return null;
                ByteBuffer b = ByteBuffer.wrap(bytes);
                double[] a = new double[bytes.length / 8];
                for (int i = 0; i < a.length; i++) a[i] = b.getDouble();
                return a;
              });

  static double[] empty() {
    return new double[] {0, 0, Double.NEGATIVE_INFINITY};
  }

  static double[] add(double[] acc, double amount) {
    return new double[] {acc[0] + 1, acc[1] + amount, Math.max(acc[2], amount)};
  }

  static double[] merge(double[] a, double[] b) {
    return new double[] {a[0] + b[0], a[1] + b[1], Math.max(a[2], b[2])};
  }

  /** A closed window as tideway alerting's aggregation result (key = the group key). */
  static final class Result implements Processor<Windowed<String>, double[], String, String> {
    private final String aggregation;
    private final String type;
    private final Function<double[], ObjectNode> values;
    private ProcessorContext<String, String> context;

    Result(String aggregation, String type, Function<double[], ObjectNode> values) {
      this.aggregation = aggregation;
      this.type = type;
      this.values = values;
    }

    @Override
    public void init(ProcessorContext<String, String> context) {
      this.context = context;
    }

    @Override
    public void process(Record<Windowed<String>, double[]> record) {
      double[] acc = record.value();
      if (acc == null) return;
      String key = record.key().key();
      long start = record.key().window().start();
      long end = record.key().window().end();
      ObjectNode out = JSON.createObjectNode().put("aggregation", aggregation).put("key", key);
      out.putObject("window").put("type", type).put("start", iso(start)).put("end", iso(end));
      out.set("values", values.apply(acc));
      out.put("final", true).put("sourceCount", (long) acc[0]);
      RecordHeaders headers = new RecordHeaders();
      headers.add("tideway.aggregation", aggregation.getBytes(StandardCharsets.UTF_8));
      headers.add("tideway.window.start", String.valueOf(start).getBytes(StandardCharsets.UTF_8));
      headers.add("tideway.window.end", String.valueOf(end).getBytes(StandardCharsets.UTF_8));
      context.forward(new Record<>(key, out.toString(), record.timestamp(), headers));
    }
  }

  static String setting(Map<String, String> args, String name, String fallback) {
    String v = args.get(name);
    if (v == null) v = System.getenv(name.toUpperCase().replace('.', '_').replace('-', '_'));
    if (v == null) v = fallback;
    if (v == null) throw new IllegalArgumentException("missing setting " + name);
    return v;
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (String a : argv) {
      int eq = a.indexOf('=');
      if (eq > 0) args.put(a.substring(0, eq), a.substring(eq + 1));
    }
    String input = setting(args, "input", null);
    String alerts = setting(args, "alerts", null);
    String sink = setting(args, "sink", null);
    Duration grace = Duration.ofMillis(Long.parseLong(setting(args, "allowed.lateness.ms", "0")));
    int partitions = Integer.parseInt(setting(args, "internal.partitions", "4"));

    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, Event> events = builder.stream(input, Consumed.with(Serdes.String(), Serdes.String())).process(Parse::new);
    events.process(Predicates::new).to(alerts, Produced.with(Serdes.String(), Serdes.String()));

    // spend-1m: tumbling 1 minute per account, n = count, total = sum(amount).
    KTable<Windowed<String>, double[]> spend =
        events
            .process(() -> new Project("account_id"))
            .repartition(repartitioned("spend-1m", partitions))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.Double()))
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(1), grace))
            .aggregate(AlertingApp::empty, (k, v, acc) -> add(acc, v), Materialized.with(Serdes.String(), ACC));
    emit(spend, "spend-1m", "tumbling", acc -> JSON.createObjectNode().put("n", (long) acc[0]).put("total", acc[1]), sink);

    // country-5m: hopping 5 minutes every minute per country, n = count, top = max(amount).
    KTable<Windowed<String>, double[]> country =
        events
            .process(() -> new Project("country"))
            .repartition(repartitioned("country-5m", partitions))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.Double()))
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(5), grace).advanceBy(Duration.ofMinutes(1)))
            .aggregate(AlertingApp::empty, (k, v, acc) -> add(acc, v), Materialized.with(Serdes.String(), ACC));
    emit(country, "country-5m", "hopping", acc -> JSON.createObjectNode().put("n", (long) acc[0]).put("top", acc[2]), sink);

    // sessions: per account, events less than 30 s apart join (tideway alerting: "less than gap";
    // Kafka Streams joins at exactly the gap, so its gap is 29,999 ms and its grace 1 ms longer:
    // a session closes at last event + 30 s + allowed lateness in both).
    KTable<Windowed<String>, double[]> sessions =
        events
            .process(() -> new Project("account_id"))
            .repartition(repartitioned("sessions", partitions))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.Double()))
            .windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(29_999), grace.plusMillis(1)))
            .aggregate(AlertingApp::empty, (k, v, acc) -> add(acc, v), (k, a, b) -> merge(a, b), Materialized.with(Serdes.String(), ACC));
    emit(sessions, "sessions", "session", acc -> JSON.createObjectNode().put("n", (long) acc[0]).put("avg", acc[1] / acc[0]), sink);

    Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, setting(args, "bootstrap", "127.0.0.1:9092"));
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, setting(args, "application.id", null));
    props.put(StreamsConfig.STATE_DIR_CONFIG, setting(args, "state.dir", System.getProperty("java.io.tmpdir") + "/kafka-streams"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    String fetchWait = setting(args, "fetch.max.wait.ms", "");
    if (!fetchWait.isEmpty()) props.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), Integer.parseInt(fetchWait));

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch closed = new CountDownLatch(1);
    streams.setStateListener(
        (now, before) -> {
          System.out.println("STATE " + now);
          System.out.flush();
        });
    streams.setUncaughtExceptionHandler(
        e -> {
          e.printStackTrace();
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  double dropped = 0;
                  for (Map.Entry<MetricName, ? extends Metric> m : streams.metrics().entrySet())
                    if (m.getKey().name().equals("dropped-records-total") && m.getValue().metricValue() instanceof Double d) dropped += d;
                  streams.close(Duration.ofSeconds(30));
                  System.out.println("STATS {\"droppedRecords\":" + (long) dropped + "}");
                  System.out.flush();
                  closed.countDown();
                }));
    streams.start();
    closed.await();
  }

  /** The topic `<application.id>-<name>-repartition` with `partitions` partitions, keyed by group key. */
  static Repartitioned<String, Double> repartitioned(String name, int partitions) {
    return Repartitioned.<String, Double>as(name).withKeySerde(Serdes.String()).withValueSerde(Serdes.Double()).withNumberOfPartitions(partitions);
  }

  /** Publishes each window once, when it closes (window end + grace reached by stream time). */
  static void emit(KTable<Windowed<String>, double[]> table, String aggregation, String type, Function<double[], ObjectNode> values, String sink) {
    table
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName(aggregation + "-final"))
        .toStream()
        .process(() -> new Result(aggregation, type, values))
        .to(sink, Produced.with(Serdes.String(), Serdes.String()));
  }
}
