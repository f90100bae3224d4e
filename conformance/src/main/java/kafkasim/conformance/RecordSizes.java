package kafkasim.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code {"batch_size": N, "records": [{"key": text or null, "value": text or null, "timestamp": ms}]}} →
 * {@code {"upper_bounds": [int], "batches": [{"records", "size_in_bytes", "record_sizes": [int], "full"}]}}.
 *
 * <p>The records are appended in order as {@code RecordAccumulator} appends records to one partition: a
 * record joins the open batch when {@code MemoryRecordsBuilder.hasRoomFor} says so, and otherwise starts a
 * new batch whose buffer is {@code max(batch.size, estimateSizeInBytesUpperBound)} bytes
 * ({@code RecordAccumulator.append}), built by {@code MemoryRecords.builder} with magic 2, no compression,
 * CreateTime and base offset 0, as {@code RecordAccumulator.recordsBuilder} does. {@code upper_bounds} is
 * what {@code KafkaProducer.send} compares with {@code max.request.size}. Each batch is then built and
 * read back: its size, whether the builder was full before it was closed, and every record's
 * {@code sizeInBytes()} ({@code DefaultRecord.sizeInBytes}). Keys and values are their UTF-8 bytes; the
 * simulator's records have no headers.
 */
final class RecordSizes {
    private RecordSizes() {
    }

    private static byte[] bytes(JsonNode field) {
        return field == null || field.isNull() ? null : field.asText().getBytes(StandardCharsets.UTF_8);
    }

    static void answer(JsonNode request, ObjectNode reply) {
        int batchSize = request.path("batch_size").asInt();
        ArrayNode bounds = reply.putArray("upper_bounds");
        List<MemoryRecordsBuilder> builders = new ArrayList<>();
        MemoryRecordsBuilder open = null;
        for (JsonNode r : request.path("records")) {
            byte[] key = bytes(r.get("key"));
            byte[] value = bytes(r.get("value"));
            long timestamp = r.path("timestamp").asLong();
            int bound = AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE,
                CompressionType.NONE, key, value, Record.EMPTY_HEADERS);
            bounds.add(bound);
            if (open == null || !open.hasRoomFor(timestamp, key, value, Record.EMPTY_HEADERS)) {
                ByteBuffer buffer = ByteBuffer.allocate(Math.max(batchSize, bound));
                open = MemoryRecords.builder(buffer, RecordBatch.CURRENT_MAGIC_VALUE, Compression.NONE,
                    TimestampType.CREATE_TIME, 0L);
                builders.add(open);
            }
            open.append(timestamp, key, value, Record.EMPTY_HEADERS);
        }
        ArrayNode batches = reply.putArray("batches");
        for (MemoryRecordsBuilder builder : builders) {
            boolean full = builder.isFull();
            MemoryRecords built = builder.build();
            ObjectNode batch = batches.addObject();
            ArrayNode sizes = Main.JSON.createArrayNode();
            int count = 0;
            for (Record record : built.records()) {
                sizes.add(record.sizeInBytes());
                count++;
            }
            batch.put("records", count);
            batch.put("size_in_bytes", built.sizeInBytes());
            batch.set("record_sizes", sizes);
            batch.put("full", full);
        }
    }
}
