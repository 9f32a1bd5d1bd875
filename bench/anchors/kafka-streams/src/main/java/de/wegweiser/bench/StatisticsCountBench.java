package de.wegweiser.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Kafka Streams counting the statistics replay topic into cells (indicator × region × period ×
 * breakdown) in its own state store (RocksDB with a changelog topic, the defaults).
 *
 * <p>Per record: the CloudEvents type from the headers, the JSON payload parsed, one count per
 * municipality and month ("total") and one per Kreis and month for each categorical field it carries
 * (type, channel, interpreter, fields of action, programme, reason, status, age band, sex). Counting
 * is less than the projection does (no latest-wins facets, no distinct persons): in Streams' favour.
 *
 * <p>Usage: {@code StatisticsCountBench BOOTSTRAP TOPIC EVENTS THREADS STATE_DIR}; prints one JSON line,
 * timed from {@code start()} to the last record applied.
 */
public final class StatisticsCountBench {
  static final String STORE = "cells";
  static final ObjectMapper JSON = new ObjectMapper();
  static final String[] CATEGORIES = {
    "type", "channel", "programme", "reason", "status", "handlungsfeld", "walk_in", "interpreter_used"
  };

  static final AtomicLong applied = new AtomicLong();
  static final AtomicLong firstApplied = new AtomicLong();
  static volatile long lastApplied;
  static volatile long target;
  static final CountDownLatch finished = new CountDownLatch(1);

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    target = Long.parseLong(args[2]);
    int threads = Integer.parseInt(args[3]);
    Path stateDir = Files.createDirectories(Path.of(args[4]));
    String applicationId = "bench-streams-" + UUID.randomUUID().toString().substring(0, 8);

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    Topology topology = new Topology();
    topology.addSource(
        "events", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), topic);
    topology.addProcessor("count", CellCounter::new, "events");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.Long()),
        "count");

    KafkaStreams streams = new KafkaStreams(topology, props);
    long started = System.nanoTime();
    streams.start();
    boolean complete = finished.await(1800, TimeUnit.SECONDS);
    long ended = lastApplied;
    long[] cells = complete ? countCells(streams) : new long[] {-1, -1};
    streams.close();
    streams.cleanUp();

    double seconds = (ended - started) / 1e9;
    System.out.printf(
        "{\"application_id\": \"%s\", \"events\": %d, \"complete\": %b, \"seconds\": %.3f,"
            + " \"events_per_s\": %.1f, \"seconds_to_first_record\": %.3f, \"cells\": %d,"
            + " \"counted\": %d, \"threads\": %d}%n",
        applicationId, applied.get(), complete, seconds, applied.get() / Math.max(seconds, 1e-9),
        (firstApplied.get() - started) / 1e9, cells[0], cells[1], threads);
    System.exit(complete ? 0 : 1);
  }

  /** (cells, sum of their counts) through an interactive query of the store. */
  private static long[] countCells(KafkaStreams streams) {
    ReadOnlyKeyValueStore<String, Long> store =
        streams.store(StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.keyValueStore()));
    long cells = 0;
    long sum = 0;
    try (KeyValueIterator<String, Long> all = store.all()) {
      while (all.hasNext()) {
        cells++;
        sum += all.next().value;
      }
    }
    return new long[] {cells, sum};
  }

  /** Folds each record into its cells' counts. */
  static final class CellCounter implements Processor<byte[], byte[], Void, Void> {
    private KeyValueStore<String, Long> store;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      store = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
      long now = System.nanoTime();
      firstApplied.compareAndSet(0, now);
      for (String cell : cells(record)) {
        Long count = store.get(cell);
        store.put(cell, count == null ? 1L : count + 1);
      }
      lastApplied = System.nanoTime();
      if (applied.incrementAndGet() == target) {
        finished.countDown();
      }
    }

    private static List<String> cells(Record<byte[], byte[]> record) {
      String type = header(record, "ce_type");
      String time = header(record, "ce_time");
      if (type == null || time == null || record.value() == null) {
        return List.of();
      }
      JsonNode payload;
      try {
        payload = JSON.readTree(record.value());
      } catch (IOException e) {
        return List.of();
      }
      String indicator = type.replace("de.wegweiser.", "").replace(".v1", "");
      String ags = payload.path("ags").asText("");
      String kreis = ags.length() >= 5 ? ags.substring(0, 5) : ags;
      String month = time.substring(0, 7);
      List<String> out = new ArrayList<>();
      out.add(String.join("|", indicator, ags, month, "total"));
      for (String field : CATEGORIES) {
        JsonNode value = payload.get(field);
        if (value != null && value.isValueNode()) {
          out.add(String.join("|", indicator, kreis, month, field + "=" + value.asText()));
        }
      }
      for (JsonNode value : payload.path("handlungsfelder")) {
        out.add(String.join("|", indicator, kreis, month, "handlungsfeld=" + value.asText()));
      }
      for (JsonNode person : payload.path("persons")) {
        out.add(String.join("|", indicator, kreis, month, "age_band=" + person.path("age_band").asText()));
        out.add(String.join("|", indicator, kreis, month, "sex=" + person.path("sex").asText()));
      }
      return out;
    }

    private static String header(Record<byte[], byte[]> record, String name) {
      Header header = record.headers().lastHeader(name);
      return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
  }
}
