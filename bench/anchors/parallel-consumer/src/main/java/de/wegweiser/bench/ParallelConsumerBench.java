package de.wegweiser.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelConsumerOptions.CommitMode;
import io.confluent.parallelconsumer.ParallelConsumerOptions.ProcessingOrder;
import io.confluent.parallelconsumer.ParallelStreamProcessor;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Confluent's Parallel Consumer on the isolation-throughput topic: KEY ordering, at most
 * {@code maxInFlight} records in flight, and per record what the engine's benchmark handler does:
 * decode the CloudEvents headers, check the type, parse and check the JSON payload, sleep the simulated
 * I/O, record the ce_id in an inbox (in memory here, where the engine's is SQLite: in PC's favour).
 *
 * <p>Usage: {@code ParallelConsumerBench BOOTSTRAP TOPIC EVENTS MAX_IN_FLIGHT IO_MS}; prints one JSON
 * line with events/s from the first record started to the last one done (as the engine's figure).
 */
public final class ParallelConsumerBench {
  private static final String CE_TYPE = "de.wegweiser.intake.arrival.registered.v1";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final long ioMs;
  private final long target;
  private final Set<String> inbox = ConcurrentHashMap.newKeySet();
  private final AtomicLong done = new AtomicLong();
  private final AtomicLong firstStart = new AtomicLong();
  private volatile long lastDone;
  private final CountDownLatch finished = new CountDownLatch(1);

  private ParallelConsumerBench(long ioMs, long target) {
    this.ioMs = ioMs;
    this.target = target;
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    long events = Long.parseLong(args[2]);
    int maxInFlight = Integer.parseInt(args[3]);
    long ioMs = Long.parseLong(args[4]);
    ParallelConsumerBench bench = new ParallelConsumerBench(ioMs, events);

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-pc-" + UUID.randomUUID());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false); // PC commits itself
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000); // the engine's fetch_max_records
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props);

    ParallelConsumerOptions<String, byte[]> options =
        ParallelConsumerOptions.<String, byte[]>builder()
            .ordering(ProcessingOrder.KEY)
            .maxConcurrency(maxInFlight)
            .commitMode(CommitMode.PERIODIC_CONSUMER_ASYNCHRONOUS)
            .consumer(consumer)
            .build();
    ParallelStreamProcessor<String, byte[]> processor =
        ParallelStreamProcessor.createEosStreamProcessor(options);
    processor.subscribe(List.of(topic));
    processor.poll(context -> bench.handle(context.getSingleConsumerRecord()));
    boolean complete = bench.finished.await(600, TimeUnit.SECONDS);
    processor.closeDontDrainFirst();

    long handled = bench.done.get();
    double seconds = (bench.lastDone - bench.firstStart.get()) / 1e9;
    System.out.printf(
        "{\"events\": %d, \"complete\": %b, \"seconds\": %.3f, \"events_per_s\": %.1f,"
            + " \"inbox\": %d, \"max_in_flight\": %d, \"io_ms\": %d}%n",
        handled, complete, seconds, handled / Math.max(seconds, 1e-9), bench.inbox.size(),
        maxInFlight, ioMs);
    System.exit(complete ? 0 : 1);
  }

  private void handle(ConsumerRecord<String, byte[]> record) {
    firstStart.compareAndSet(0, System.nanoTime());
    Map<String, String> envelope = new HashMap<>();
    for (Header header : record.headers()) {
      if (header.key().startsWith("ce_")) {
        envelope.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
      }
    }
    if (!CE_TYPE.equals(envelope.get("ce_type"))) {
      throw new IllegalArgumentException("unknown type " + envelope.get("ce_type"));
    }
    validate(record.value());
    if (ioMs > 0) {
      try {
        Thread.sleep(ioMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    inbox.add(envelope.get("ce_id"));
    lastDone = System.nanoTime();
    if (done.incrementAndGet() == target) {
      finished.countDown();
    }
  }

  /** The checks of the engine benchmark's pydantic model: arrival_id, ags, household_size, registered_at. */
  private static void validate(byte[] value) {
    try {
      JsonNode payload = JSON.readTree(value);
      UUID.fromString(payload.get("arrival_id").asText());
      if (!payload.get("ags").isTextual() || !payload.get("household_size").canConvertToInt()) {
        throw new IllegalArgumentException("invalid payload");
      }
      OffsetDateTime.parse(payload.get("registered_at").asText());
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalArgumentException("invalid payload: " + e, e);
    }
  }
}
