package kafkasim.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The oracle of kafkasim's differential conformance harness.
 *
 * <p>Reads one case per line on stdin ({@code {"kind": "...", "id": N, ...}}) and writes one answer per
 * line on stdout ({@code {"id": N, ...}}, in the order of the cases), computed by the real Apache Kafka
 * client classes. One JVM answers every case of a run, so the start-up cost is paid once. A case whose Kafka call throws is
 * answered with the exception's class and message under {@code "error"}; a case the harness itself cannot
 * read is answered under {@code "harness_error"}, so that the Rust side can tell the two apart.
 */
public final class Main {
    static final ObjectMapper JSON = new ObjectMapper();

    private Main() {
    }

    /**
     * Cases are answered on a few threads: building and closing a real {@code KafkaProducer} mostly waits
     * for its sender thread to stop, so one thread would spend most of a run asleep.
     */
    private static final int THREADS = 8;

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<ObjectNode>> answers = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            if (!line.isBlank()) {
                String request = line;
                answers.add(pool.submit(() -> answer(request)));
            }
        }
        for (Future<ObjectNode> answer : answers) {
            out.write(JSON.writeValueAsString(answer.get()));
            out.newLine();
        }
        out.flush();
        pool.shutdown();
    }

    static ObjectNode answer(String line) {
        ObjectNode reply = JSON.createObjectNode();
        JsonNode request;
        try {
            request = JSON.readTree(line);
        } catch (Exception e) {
            reply.put("harness_error", "unreadable case: " + e.getMessage());
            return reply;
        }
        reply.set("id", request.get("id"));
        String kind = request.path("kind").asText();
        try {
            switch (kind) {
                case "partitioner" -> Partitioner.answer(request, reply);
                case "assignor" -> Assignors.answer(request, reply);
                case "producer_config" -> Configs.producer(request, reply);
                case "consumer_config" -> Configs.consumer(request, reply);
                case "group_protocol" -> Protocols.answer(request, reply);
                case "record_size" -> RecordSizes.answer(request, reply);
                case "avro_parse" -> Avro.parse(request, reply);
                case "avro_encode" -> Avro.encode(request, reply);
                case "avro_resolve" -> Avro.resolve(request, reply);
                case "avro_compat" -> Avro.compat(request, reply);
                default -> reply.put("harness_error", "unknown kind " + kind);
            }
        } catch (RuntimeException e) {
            // Anything a Kafka call throws is caught where it is made; what reaches here is the harness's.
            reply.put("harness_error", e + (e.getCause() == null ? "" : " caused by " + e.getCause()));
        }
        return reply;
    }

    /** The answer for a Kafka call that threw: what the Rust side compares is the class. */
    static void error(ObjectNode reply, Throwable e) {
        ObjectNode error = reply.putObject("error");
        error.put("class", e.getClass().getName());
        error.put("message", String.valueOf(e.getMessage()));
    }

    /** A case the harness cannot turn into a Kafka call (a bug in the case or in the harness). */
    static final class HarnessException extends RuntimeException {
        HarnessException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
