package commerce.bench.peer;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams peer of the reservations benchmark: commands in, one
 * outcome per ReserveStock out, exactly once. Started and stopped by
 * bench/peers/kafka-streams.ts, which reads its stdout:
 * <pre>
 *   STATE &lt;state&gt;         on every KafkaStreams state change (RUNNING is "ready")
 *   STATS {...}             once, after a clean close
 * </pre>
 * Arguments (all --name=value):
 * <pre>
 *   --bootstrap, --application-id, --input, --output, --state-dir
 *   --schema=&lt;id&gt;:&lt;file.avsc&gt;  (repeated) the command schemas and the outcome schemas
 *   --client-config=&lt;file&gt;     optional client properties (TLS, SASL), kept off the command line
 *   --streams.&lt;config&gt;=&lt;value&gt;  the bench's settings, applied last
 * </pre>
 */
public final class ReservationPeer {
  private ReservationPeer() {}

  public static void main(String[] args) throws IOException {
    Map<String, List<String>> opts = parse(args);
    Properties props = new Properties();
    String clientConfig = single(opts, "client-config", false);
    if (clientConfig != null) {
      try (Reader r = Files.newBufferedReader(Path.of(clientConfig))) {
        props.load(r);
      }
    }
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, single(opts, "application-id", true));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, single(opts, "bootstrap", true));
    props.put(StreamsConfig.STATE_DIR_CONFIG, single(opts, "state-dir", true));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    opts.forEach((name, values) -> {
      if (name.startsWith("streams.")) props.put(name.substring("streams.".length()), values.get(values.size() - 1));
    });
    if (!StreamsConfig.EXACTLY_ONCE_V2.equals(props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG))) {
      throw new IllegalArgumentException("the peer is measured with exactly_once_v2 only");
    }

    List<ConfluentAvro.Registered> registered = new ArrayList<>();
    for (String spec : opts.getOrDefault("schema", List.of())) registered.add(ConfluentAvro.Registered.parse(spec));
    Map<Integer, Schema> schemas = ConfluentAvro.load(registered);
    ReservationProcessor.Stats stats = new ReservationProcessor.Stats();

    Topology topology = new Topology();
    topology.addSource("commands", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), single(opts, "input", true));
    topology.addProcessor("decide", () -> new ReservationProcessor(schemas, stats), "commands");
    // Caching on, as the DSL has it for its stores: a hot variant's updates
    // within one commit reach RocksDB and the changelog once.
    topology.addStateStore(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ReservationProcessor.VARIANTS), Serdes.String(), Serdes.ByteArray()).withCachingEnabled(),
        "decide");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ReservationProcessor.RESERVATIONS), Serdes.String(), Serdes.ByteArray()).withCachingEnabled(),
        "decide");
    topology.addSink("outcomes", single(opts, "output", true), Serdes.String().serializer(), Serdes.ByteArray().serializer(), "decide");

    KafkaStreams streams = new KafkaStreams(topology, props);
    streams.setStateListener((now, before) -> {
      System.out.println("STATE " + now);
      System.out.flush();
      if (now == KafkaStreams.State.ERROR) {
        // Close off the stream thread that reported it, then leave without the shutdown hook's second close.
        new Thread(() -> {
          streams.close(Duration.ofSeconds(10));
          Runtime.getRuntime().halt(2);
        }, "peer-error-exit").start();
      }
    });
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("peer: stream thread failed: " + e);
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      long commits = sum(streams.metrics(), "stream-thread-metrics", "commit-total");
      streams.close(Duration.ofSeconds(30));
      System.out.printf("STATS {\"commands\":%d,\"outcomes\":%d,\"skipped\":%d,\"commits\":%d}%n",
          stats.commands.sum(), stats.outcomes.sum(), stats.skipped.sum(), commits);
      System.out.flush();
    }, "peer-shutdown"));
    streams.start();
  }

  private static long sum(Map<MetricName, ? extends Metric> metrics, String group, String name) {
    double total = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      if (e.getKey().group().equals(group) && e.getKey().name().equals(name) && e.getValue().metricValue() instanceof Number n) total += n.doubleValue();
    }
    return Math.round(total);
  }

  private static Map<String, List<String>> parse(String[] args) {
    Map<String, List<String>> opts = new java.util.HashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (!a.startsWith("--") || eq < 3) throw new IllegalArgumentException("arguments are --name=value, got '" + a + "'");
      opts.computeIfAbsent(a.substring(2, eq), k -> new ArrayList<>()).add(a.substring(eq + 1));
    }
    return opts;
  }

  private static String single(Map<String, List<String>> opts, String name, boolean required) {
    List<String> values = opts.get(name);
    if (values == null || values.isEmpty()) {
      if (required) throw new IllegalArgumentException("missing --" + name + "=...");
      return null;
    }
    return values.get(values.size() - 1);
  }
}
