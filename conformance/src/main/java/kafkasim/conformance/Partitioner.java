package kafkasim.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

import java.util.HexFormat;

/**
 * {@code {"key_hex": "...", "partitions": N}} → {@code {"murmur2": int, "partition": int}}.
 *
 * <p>The key travels as hex so that empty, non-ASCII and long keys reach Kafka byte for byte.
 * {@code BuiltInPartitioner.partitionForKey(byte[], int)} is what {@code KafkaProducer} calls for a record
 * with a key and no explicit partition (4.1: {@code toPositive(murmur2(key)) % numPartitions}).
 */
final class Partitioner {
    private Partitioner() {
    }

    static void answer(JsonNode request, ObjectNode reply) {
        byte[] key = HexFormat.of().parseHex(request.path("key_hex").asText());
        int partitions = request.path("partitions").asInt();
        reply.put("murmur2", Utils.murmur2(key));
        try {
            reply.put("partition", BuiltInPartitioner.partitionForKey(key, partitions));
        } catch (ArithmeticException e) {
            Main.error(reply, e);
        }
    }
}
