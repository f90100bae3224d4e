package kafkasim.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Properties;

/**
 * {@code {"properties": {name: value as written}}} → either {@code {"error": {...}}} or
 * {@code {"effective": {name: value}}}.
 *
 * <p>A real {@code KafkaProducer} (or {@code KafkaConsumer}) is built from the properties, with
 * {@code bootstrap.servers=127.0.0.1:1} and String (de)serializers added, and closed at once: some rules live
 * only in the constructors (the producer's raised or rejected {@code delivery.timeout.ms}, the consumer's
 * heartbeat-below-session-timeout check), so {@code ProducerConfig} alone would not be the whole truth. The
 * producer's effective values are read from the objects that use them (the record accumulator, the sender),
 * through reflection on their private fields.
 */
final class Configs {
    private Configs() {
    }

    static Properties properties(JsonNode request) {
        Properties props = new Properties();
        for (Iterator<Map.Entry<String, JsonNode>> it = request.path("properties").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            props.put(p.getKey(), p.getValue().asText());
        }
        props.put("bootstrap.servers", "127.0.0.1:1");
        return props;
    }

    /**
     * The exception a user sees, and under it the one that says why: the constructors wrap what they catch
     * in {@code KafkaException("Failed to construct kafka producer")}.
     */
    static void error(ObjectNode reply, Throwable thrown) {
        Throwable cause = thrown;
        while (cause instanceof KafkaException && cause.getCause() != null
            && cause.getMessage() != null && cause.getMessage().startsWith("Failed to construct")) {
            cause = cause.getCause();
        }
        Main.error(reply, cause);
        ((ObjectNode) reply.get("error")).put("thrown", thrown.getClass().getName());
    }

    static Object field(Object owner, String name) {
        try {
            Field f = owner.getClass().getDeclaredField(name);
            f.setAccessible(true);
            return f.get(owner);
        } catch (ReflectiveOperationException e) {
            throw new Main.HarnessException("cannot read " + owner.getClass().getName() + "." + name
                + " (has Kafka's class changed?)", e);
        }
    }

    static void producer(JsonNode request, ObjectNode reply) {
        Properties props = properties(request);
        props.put("key.serializer", StringSerializer.class.getName());
        props.put("value.serializer", StringSerializer.class.getName());
        KafkaProducer<String, String> producer;
        try {
            producer = new KafkaProducer<>(props);
        } catch (RuntimeException e) {
            error(reply, e);
            return;
        }
        try {
            ProducerConfig config = (ProducerConfig) field(producer, "producerConfig");
            Object accumulator = field(producer, "accumulator");
            Object sender = field(producer, "sender");
            Object backoff = field(accumulator, "retryBackoff");
            ObjectNode effective = reply.putObject("effective");
            short acks = (Short) field(sender, "acks");
            effective.put("acks", acks == -1 ? "all" : Short.toString(acks));
            effective.put("retries", (Integer) field(sender, "retries"));
            // The producer is idempotent exactly when it has a transaction manager (which assigns the
            // producer id and sequence numbers); enable.idempotence as post-processed says the same.
            effective.put("enable.idempotence", field(producer, "transactionManager") != null);
            effective.put("max.in.flight.requests.per.connection",
                config.getInt(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION));
            effective.put("linger.ms", (Integer) field(accumulator, "lingerMs"));
            effective.put("batch.size", (Integer) field(accumulator, "batchSize"));
            // What ensureValidRecordSize compares a record's upper-bound size with.
            effective.put("max.request.size", (Integer) field(producer, "maxRequestSize"));
            effective.put("request.timeout.ms", (Integer) field(sender, "requestTimeoutMs"));
            effective.put("delivery.timeout.ms", (Integer) field(accumulator, "deliveryTimeoutMs"));
            // The batch retry backoff as ExponentialBackoff applies it: its first interval is
            // min(retry.backoff.ms, retry.backoff.max.ms).
            effective.put("retry.backoff.ms", (Long) field(backoff, "initialInterval"));
            effective.put("retry.backoff.max.ms", (Long) field(backoff, "maxInterval"));
            effective.put("metadata.max.age.ms", config.getLong(ProducerConfig.METADATA_MAX_AGE_CONFIG));
        } finally {
            producer.close(Duration.ZERO);
        }
    }

    static void consumer(JsonNode request, ObjectNode reply) {
        Properties props = properties(request);
        props.put("key.deserializer", StringDeserializer.class.getName());
        props.put("value.deserializer", StringDeserializer.class.getName());
        ConsumerConfig config;
        try {
            new KafkaConsumer<String, String>(props).close(Duration.ZERO);
            config = new ConsumerConfig(props);
        } catch (RuntimeException e) {
            error(reply, e);
            return;
        }
        ObjectNode effective = reply.putObject("effective");
        effective.put("group.id", config.getString(ConsumerConfig.GROUP_ID_CONFIG));
        effective.put("group.instance.id", config.getString(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        // The assignors in the consumer's order of preference. The default list holds Class objects, a
        // configured one class names.
        com.fasterxml.jackson.databind.node.ArrayNode assignors = effective.putArray("partition.assignment.strategy");
        for (Object assignor : (java.util.List<?>) config.getList(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG)) {
            assignors.add(assignor instanceof Class<?> c ? c.getName() : assignor.toString());
        }
        effective.put("enable.auto.commit", config.getBoolean(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG));
        effective.put("auto.commit.interval.ms", config.getInt(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG));
        effective.put("auto.offset.reset", config.getString(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG));
        effective.put("session.timeout.ms", config.getInt(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG));
        effective.put("heartbeat.interval.ms", config.getInt(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG));
        effective.put("max.poll.interval.ms", config.getInt(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG));
        effective.put("max.poll.records", config.getInt(ConsumerConfig.MAX_POLL_RECORDS_CONFIG));
        effective.put("fetch.max.wait.ms", config.getInt(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG));
        effective.put("max.partition.fetch.bytes", config.getInt(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG));
        effective.put("request.timeout.ms", config.getInt(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG));
        effective.put("retry.backoff.ms", config.getLong(ConsumerConfig.RETRY_BACKOFF_MS_CONFIG));
        effective.put("metadata.max.age.ms", config.getLong(ConsumerConfig.METADATA_MAX_AGE_CONFIG));
    }
}
