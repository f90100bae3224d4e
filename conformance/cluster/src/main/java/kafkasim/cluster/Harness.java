package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs one durability case (a JSON file in cases/, described in README.md) on a fresh cluster and prints
 * its outcome as one JSON document on stdout: the result of every produced record, what a consumer reading
 * from the beginning got at each consume_all, the partition state at each wait and observe, the state at the end,
 * and the unclean elections the controller made. Every wait is bounded; a case whose wait times out fails
 * with exit code 2 and a message on stderr naming the step, and its cluster directory is kept to inspect
 * (KAFKASIM_CLUSTER_KEEP=1 keeps it after a successful case too).
 */
public final class Harness {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long DEFAULT_WAIT_MS = 30_000;

    private final JsonNode spec;
    private final String topic;
    private final List<List<Integer>> assignment = new ArrayList<>();
    private final Cluster cluster;
    private KafkaProducer<String, String> producer;
    private final ArrayNode records = JSON.createArrayNode();
    private final ArrayNode reads = JSON.createArrayNode();
    private final ArrayNode states = JSON.createArrayNode();

    private Harness(JsonNode spec) throws Exception {
        this.spec = spec;
        this.topic = spec.path("topic").path("name").asText();
        for (JsonNode replicas : spec.path("topic").path("replica_assignment")) {
            List<Integer> r = new ArrayList<>();
            replicas.forEach(b -> r.add(b.asInt()));
            assignment.add(r);
        }
        this.cluster = new Cluster(spec.path("brokers").asInt(3), strings(spec.path("broker_config")));
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Harness CASE.json");
            System.exit(64);
        }
        JsonNode spec = JSON.readTree(Files.readString(Path.of(args[0])));
        Harness h = new Harness(spec);
        boolean ok = false;
        try {
            ObjectNode outcome = h.run();
            System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(outcome));
            ok = true;
        } catch (CaseFailure e) {
            System.err.println("case " + spec.path("name").asText() + ": " + e.getMessage()
                    + " (cluster logs kept in " + h.cluster.dir() + ")");
        } finally {
            if (h.producer != null) {
                h.producer.close(Duration.ZERO);
            }
            boolean keep = !ok || System.getenv("KAFKASIM_CLUSTER_KEEP") != null;
            if (keep && ok) {
                System.err.println("case " + spec.path("name").asText() + ": cluster logs kept in " + h.cluster.dir());
            }
            h.cluster.close(keep);
        }
        System.exit(ok ? 0 : 2);
    }

    /** A case that could not be run as written: a wait timed out or an operation is unknown. */
    private static final class CaseFailure extends Exception {
        CaseFailure(String message) {
            super(message);
        }
    }

    private ObjectNode run() throws Exception {
        cluster.start(60_000);
        createTopic();
        producer = new KafkaProducer<>(producerProperties());
        List<JsonNode> steps = new ArrayList<>();
        spec.path("steps").forEach(steps::add);
        for (int i = 0; i < steps.size(); i++) {
            step(i, steps.get(i));
        }
        producer.flush();
        ObjectNode outcome = JSON.createObjectNode();
        outcome.put("case", spec.path("name").asText());
        outcome.set("records", records);
        outcome.set("reads", reads);
        outcome.set("states", states);
        outcome.set("final", describe());
        outcome.put("unclean_elections", cluster.controllerLogLines("using an unclean election"));
        ObjectNode info = outcome.putObject("info");
        info.put("kafka", org.apache.kafka.common.utils.AppInfoParser.getVersion());
        info.put("elr_elections", cluster.controllerLogLines("using ELR"));
        return outcome;
    }

    private void step(int index, JsonNode s) throws Exception {
        String op = s.path("op").asText();
        long timeout = s.path("timeout_ms").asLong(DEFAULT_WAIT_MS);
        switch (op) {
            case "produce" -> produce(s);
            case "flush" -> producer.flush();
            case "stop_broker" -> cluster.kill(s.path("broker").asInt());
            case "pause_broker" -> cluster.signal(s.path("broker").asInt(), "STOP");
            case "resume_broker" -> cluster.signal(s.path("broker").asInt(), "CONT");
            case "shutdown_broker" -> cluster.shutdown(s.path("broker").asInt(), timeout);
            case "start_broker" -> {
                try {
                    cluster.restart(s.path("broker").asInt(), timeout);
                } catch (IllegalStateException e) {
                    throw new CaseFailure("step " + index + " (" + op + "): " + e.getMessage());
                }
            }
            case "sleep" -> Thread.sleep(s.path("ms").asLong());
            case "wait_isr", "wait_leader", "wait_hw" -> {
                await(index, s, timeout);
                states.add(state(index, op));
            }
            case "observe" -> states.add(state(index, op));
            case "consume_all" -> reads.add(consumeAll(index, timeout));
            default -> throw new CaseFailure("step " + index + ": unknown op " + op);
        }
    }

    private void createTopic() throws Exception {
        Map<Integer, List<Integer>> replicas = new LinkedHashMap<>();
        for (int p = 0; p < assignment.size(); p++) {
            replicas.put(p, assignment.get(p));
        }
        NewTopic t = new NewTopic(topic, replicas).configs(strings(spec.path("topic").path("config")));
        cluster.admin().createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
        // The case starts from a settled partition: the preferred leader leads and every replica is in sync.
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            boolean settled = true;
            try {
                TopicDescription d = cluster.admin().describeTopics(List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS).get(topic);
                for (TopicPartitionInfo p : d.partitions()) {
                    List<Integer> want = assignment.get(p.partition());
                    settled &= p.leader() != null && p.leader().id() == want.get(0)
                            && ids(p.isr()).equals(new TreeSet<>(want));
                }
            } catch (Exception notYet) {
                settled = false;
            }
            if (settled) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new CaseFailure("topic " + topic + " did not settle with its preferred leaders and full ISRs within 30 s");
            }
            Thread.sleep(100);
        }
    }

    private Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.putAll(strings(spec.path("producer")));
        return p;
    }

    private void produce(JsonNode s) {
        String key = s.hasNonNull("key") ? s.get("key").asText() : null;
        String value = s.path("value").asText();
        Integer partition = s.hasNonNull("partition") ? s.get("partition").asInt() : null;
        ObjectNode r = records.addObject();
        r.put("key", key);
        r.put("value", value);
        r.put("result", "pending");
        producer.send(new ProducerRecord<>(topic, partition, key, value), (md, e) -> {
            synchronized (records) {
                if (e == null) {
                    r.put("partition", topic + "-" + md.partition());
                    r.put("result", "acknowledged");
                    r.put("offset", md.offset());
                } else {
                    r.put("result", "failed");
                    r.put("error", e.getClass().getSimpleName());
                    r.put("message", e.getMessage());
                }
            }
        });
    }

    /** Polls the partition state until the wait's condition holds, or fails the case at its timeout. */
    private void await(int index, JsonNode s, long timeoutMs) throws Exception {
        int partition = s.path("partition").asInt(0);
        long deadline = System.currentTimeMillis() + timeoutMs;
        String last = "nothing";
        while (System.currentTimeMillis() < deadline) {
            try {
                TopicPartitionInfo p = partitionInfo(partition);
                Integer leader = leaderId(p);
                last = "leader " + leader + ", isr " + ids(p.isr());
                boolean reached = switch (s.path("op").asText()) {
                    case "wait_isr" -> ids(p.isr()).equals(intSet(s.path("isr")));
                    case "wait_hw" -> highWatermark(partition) >= s.path("offset").asLong();
                    default -> Objects.equals(leader, s.path("leader").isNull() ? null : s.path("leader").asInt());
                };
                if (reached) {
                    return;
                }
            } catch (Exception retry) {
                last = retry.toString();
            }
            Thread.sleep(100);
        }
        throw new CaseFailure("step " + index + " (" + s + ") not reached within " + timeoutMs + " ms; last seen: " + last);
    }

    private ObjectNode state(int index, String op) throws Exception {
        ObjectNode st = JSON.createObjectNode();
        st.put("step", index);
        st.put("op", op);
        ObjectNode parts = describe();
        if (op.equals("wait_hw")) {
            for (int p = 0; p < assignment.size(); p++) {
                ((ObjectNode) parts.get(topic + "-" + p)).put("high_watermark", highWatermark(p));
            }
        }
        st.set("partitions", parts);
        return st;
    }

    /**
     * The partition's high watermark: the leader's answer to ListOffsets for the latest offset with
     * read_uncommitted. Once it has passed a record, every member of the ISR has that record, which is how
     * a case makes sure the followers replicated an acks=1 record before it stops them.
     */
    private long highWatermark(int partition) throws Exception {
        TopicPartition tp = new TopicPartition(topic, partition);
        return cluster.admin()
                .listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
                .partitionResult(tp).get(10, TimeUnit.SECONDS).offset();
    }

    /**
     * Leader and ISR of every partition, as the brokers' metadata reports them, and the eligible leader
     * replicas (KIP-966), which the simulator does not model: those are reported, not compared.
     */
    private ObjectNode describe() throws Exception {
        ObjectNode out = JSON.createObjectNode();
        for (TopicPartitionInfo p : topicDescription().partitions()) {
            ObjectNode o = out.putObject(topic + "-" + p.partition());
            Integer leader = leaderId(p);
            if (leader == null) {
                o.putNull("leader");
            } else {
                o.put("leader", leader);
            }
            ArrayNode isr = o.putArray("isr");
            ids(p.isr()).forEach(isr::add);
            ArrayNode elr = o.putArray("elr");
            ids(p.elr()).forEach(elr::add);
            ArrayNode lastKnown = o.putArray("last_known_elr");
            ids(p.lastKnownElr()).forEach(lastKnown::add);
        }
        return out;
    }

    private TopicDescription topicDescription() throws Exception {
        return cluster.admin().describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
    }

    private TopicPartitionInfo partitionInfo(int partition) throws Exception {
        return topicDescription().partitions().get(partition);
    }

    /**
     * A fresh consumer without a group (assign, not subscribe) reads every partition from its log start to
     * its end offset, which for read_uncommitted is the high watermark. A partition whose end offset cannot
     * be had within the timeout (no leader) is reported as unavailable.
     */
    private ObjectNode consumeAll(int index, long timeoutMs) {
        ObjectNode read = JSON.createObjectNode();
        read.put("step", index);
        ObjectNode parts = read.putObject("partitions");
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapLive());
        // Later metadata requests may still pick a paused broker (it is in the metadata); a short request
        // timeout sends them elsewhere soon enough for the end-offset lookup's own timeout.
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            Map<TopicPartition, Long> ends = new HashMap<>();
            for (int i = 0; i < assignment.size(); i++) {
                TopicPartition tp = new TopicPartition(topic, i);
                try {
                    ends.put(tp, consumer.endOffsets(List.of(tp), Duration.ofMillis(8_000)).get(tp));
                    parts.putObject(tp.toString()).putArray("records");
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    parts.putObject(tp.toString()).put("unavailable", e.getMessage());
                }
            }
            consumer.assign(ends.keySet());
            consumer.seekToBeginning(ends.keySet());
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (ends.entrySet().stream().anyMatch(e -> consumer.position(e.getKey(), Duration.ofMillis(5_000)) < e.getValue())) {
                if (System.currentTimeMillis() > deadline) {
                    for (Iterator<Map.Entry<TopicPartition, Long>> it = ends.entrySet().iterator(); it.hasNext(); ) {
                        Map.Entry<TopicPartition, Long> e = it.next();
                        ((ObjectNode) parts.get(e.getKey().toString())).put("incomplete",
                                "position " + consumer.position(e.getKey()) + " short of end offset " + e.getValue());
                    }
                    break;
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() < ends.get(tp)) {
                        ObjectNode rec = ((ArrayNode) parts.get(tp.toString()).get("records")).addObject();
                        rec.put("offset", r.offset());
                        rec.put("key", r.key());
                        rec.put("value", r.value());
                    }
                }
            }
        }
        return read;
    }

    private static Integer leaderId(TopicPartitionInfo p) {
        Node l = p.leader();
        return l == null || l.isEmpty() || l.id() < 0 ? null : l.id();
    }

    private static TreeSet<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).collect(Collectors.toCollection(TreeSet::new));
    }

    private static TreeSet<Integer> intSet(JsonNode array) {
        TreeSet<Integer> s = new TreeSet<>();
        array.forEach(n -> s.add(n.asInt()));
        return s;
    }

    /** A JSON object of settings as Kafka's string properties (numbers and booleans as their text). */
    private static Map<String, String> strings(JsonNode obj) {
        Map<String, String> m = new LinkedHashMap<>();
        obj.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
        return m;
    }
}
