package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs one durability case (a JSON file in cases/, described in README.md) on a fresh cluster and prints
 * its outcome as one JSON document on stdout: the result of every produced record, what a consumer reading
 * from the beginning got at each consume_all, the partition state at each wait and observe, the state at the end,
 * and the unclean elections the controller made; with consumers (Member), what each one's polls returned,
 * its listener calls, its state and the exception that stopped it, the group states at each group wait
 * and the committed offsets at the end; with transaction ops, the result of each (a failed one does not
 * stop the case). A case may have several producers, transactional or not. Every wait is bounded; a case
 * whose wait times out fails with exit code 2 and a message on stderr naming the step, and its cluster
 * directory is kept to inspect (KAFKASIM_CLUSTER_KEEP=1 keeps it after a successful case too).
 */
public final class Harness {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long DEFAULT_WAIT_MS = 30_000;

    private final JsonNode spec;
    private final String topic;
    private final List<List<Integer>> assignment = new ArrayList<>();
    private final Cluster cluster;
    /**
     * The case's producers by name, in the order the case lists them: `producer` (named "producer") when
     * the case has one or lists no `producers`, then those of `producers`.
     */
    private final Map<String, KafkaProducer<String, String>> producers = new LinkedHashMap<>();
    /** The producer a step uses when it names none: "producer" if the case has it, else the only one. */
    private String defaultProducer;
    private final ArrayNode transactions = JSON.createArrayNode();
    private final ArrayNode records = JSON.createArrayNode();
    private final ArrayNode reads = JSON.createArrayNode();
    private final ArrayNode states = JSON.createArrayNode();
    /** The case's consumers by name, in the order the case lists them. */
    private final Map<String, Member> members = new LinkedHashMap<>();
    private final ArrayNode groupStates = JSON.createArrayNode();

    /** Partition names ("orders-10") ordered by topic, then partition number, as the Rust side sorts them. */
    static final Comparator<String> PARTITION_ORDER = Comparator
            .comparing((String p) -> p.substring(0, p.lastIndexOf('-')))
            .thenComparingInt(p -> Integer.parseInt(p.substring(p.lastIndexOf('-') + 1)));

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
            for (Member m : h.members.values()) {
                try {
                    m.shutdown();
                } catch (Exception ignored) {
                    // The outcome is printed already; the cluster is torn down below anyway.
                }
            }
            // A fenced producer (ProducerFencedException) must still be closed; the outcome is printed
            // already, so none waits for anything.
            for (KafkaProducer<String, String> p : h.producers.values()) {
                try {
                    p.close(Duration.ZERO);
                } catch (Exception ignored) {
                    // The cluster is torn down below anyway.
                }
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
        // A consumer asks its least loaded broker for metadata and its coordinator; `consumer_bootstrap`
        // keeps it from ever connecting to others (it connects only to the brokers it must), as the
        // simulator's consumers ask an always-available controller. A case that pauses brokers names
        // the others, so that no request waits out request.timeout.ms on a paused one.
        String consumerBootstrap = cluster.bootstrap();
        if (spec.has("consumer_bootstrap")) {
            List<Integer> ids = new ArrayList<>();
            spec.path("consumer_bootstrap").forEach(b -> ids.add(b.asInt()));
            consumerBootstrap = cluster.bootstrapOf(ids);
        }
        for (JsonNode c : spec.path("consumers")) {
            Member m = new Member(c, consumerBootstrap);
            members.put(m.name, m);
        }
        if (!members.isEmpty() || !transactionGroups().isEmpty()) {
            createOffsetsTopic();
        }
        createTopic();
        if (spec.has("producer") || !spec.has("producers")) {
            producers.put("producer", new KafkaProducer<>(producerProperties(spec.path("producer"))));
        }
        for (JsonNode p : spec.path("producers")) {
            String name = p.path("name").asText();
            if (name.isEmpty() || producers.containsKey(name)) {
                throw new CaseFailure("producers: a producer without a name, or two named " + p.path("name"));
            }
            producers.put(name, new KafkaProducer<>(producerProperties(p.path("config"))));
        }
        defaultProducer = producers.containsKey("producer") || producers.size() != 1
                ? "producer" : producers.keySet().iterator().next();
        List<JsonNode> steps = new ArrayList<>();
        spec.path("steps").forEach(steps::add);
        for (int i = 0; i < steps.size(); i++) {
            step(i, steps.get(i));
        }
        for (KafkaProducer<String, String> p : producers.values()) {
            p.flush();
        }
        ObjectNode outcome = JSON.createObjectNode();
        outcome.put("case", spec.path("name").asText());
        outcome.set("records", records);
        outcome.set("reads", reads);
        outcome.set("states", states);
        // Only a case with transaction ops has the list, so that the other cases' outcomes are unchanged.
        if (!transactions.isEmpty() || usesTransactions()) {
            outcome.set("transactions", transactions);
        }
        outcome.set("final", describe());
        // The case topic's elections only: the controller logs by topic id, and a case with consumers
        // also has the __consumer_offsets partitions, whose single replicas are elected as last known
        // leaders (logged as unclean) when their broker returns after a crash.
        String topicId = "topicId " + topicDescription().topicId() + ",";
        outcome.put("unclean_elections", cluster.controllerLogLines("using an unclean election", topicId));
        if (!members.isEmpty()) {
            // Read before the harness closes the consumers that still run (a close would commit).
            ObjectNode consumers = outcome.putObject("consumers");
            members.forEach((name, m) -> consumers.set(name, m.outcome()));
            ObjectNode groups = outcome.putObject("groups");
            for (String g : groupIds()) {
                groups.putObject(g).set("committed", committed(g));
            }
            outcome.set("group_states", groupStates);
        } else if (!transactionGroups().isEmpty()) {
            // A case without consumers that commits offsets in transactions: the committed offsets of those
            // groups at the end, and what its list_group_offsets steps saw.
            ObjectNode groups = outcome.putObject("groups");
            for (String g : groupIds()) {
                groups.putObject(g).set("committed", committed(g));
            }
            outcome.set("group_states", groupStates);
        }
        ObjectNode info = outcome.putObject("info");
        info.put("kafka", org.apache.kafka.common.utils.AppInfoParser.getVersion());
        info.put("elr_elections", cluster.controllerLogLines("using ELR", topicId));
        return outcome;
    }

    private void step(int index, JsonNode s) throws Exception {
        String op = s.path("op").asText();
        long timeout = s.path("timeout_ms").asLong(DEFAULT_WAIT_MS);
        switch (op) {
            case "produce" -> produce(index, s);
            case "flush" -> {
                // Without `producer`, every producer of the case.
                if (s.has("producer")) {
                    producer(index, s).flush();
                } else {
                    for (KafkaProducer<String, String> p : producers.values()) {
                        p.flush();
                    }
                }
            }
            case "init_transactions", "begin_transaction", "commit_transaction", "abort_transaction",
                    "send_offsets_to_transaction" -> transaction(index, s);
            case "end_offsets" -> states.add(state(index, op));
            case "list_group_offsets" -> {
                ObjectNode st = groupStates.addObject();
                st.put("step", index);
                st.put("op", op);
                st.put("group", s.path("group").asText());
                st.set("committed", committed(s.path("group").asText()));
            }
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
            case "alter_topic_config" -> alterTopicConfig(s.path("config"), timeout);
            case "create_partitions" -> createPartitions(s.path("replica_assignment"), timeout);
            case "wait_isr", "wait_leader", "wait_hw", "wait_log_start", "wait_lso" -> {
                await(index, s, timeout);
                states.add(state(index, op));
            }
            case "observe" -> states.add(state(index, op));
            case "consume_all" -> reads.add(consumeAll(index, s, timeout));
            case "stall_consumer" -> member(index, s).stall(s.path("ms").asLong());
            case "subscribe" -> {
                List<String> topics = new ArrayList<>();
                s.path("topics").forEach(t -> topics.add(t.asText()));
                try {
                    member(index, s).subscribe(topics, timeout);
                } catch (IllegalStateException e) {
                    throw new CaseFailure("step " + index + " (" + op + "): " + e.getMessage());
                }
            }
            case "start_consumer" -> {
                try {
                    member(index, s).start();
                } catch (IllegalStateException e) {
                    throw new CaseFailure("step " + index + " (" + op + "): " + e.getMessage());
                }
            }
            case "close_consumer", "crash_consumer" -> {
                try {
                    if (op.equals("close_consumer")) {
                        member(index, s).close(timeout);
                    } else {
                        member(index, s).crash(timeout);
                    }
                } catch (IllegalStateException e) {
                    throw new CaseFailure("step " + index + " (" + op + "): " + e.getMessage());
                }
            }
            case "wait_group", "wait_consumed", "wait_committed", "wait_consumer" -> {
                awaitGroup(index, s, timeout);
                groupStates.add(groupState(index, s));
            }
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
        settle(topic, assignment);
        // `extra_topics`: more topics for the consumers (a subscription to several), made the same way.
        for (JsonNode extra : spec.path("extra_topics")) {
            List<List<Integer>> a = new ArrayList<>();
            Map<Integer, List<Integer>> r = new LinkedHashMap<>();
            for (JsonNode rs : extra.path("replica_assignment")) {
                List<Integer> l = new ArrayList<>();
                rs.forEach(b -> l.add(b.asInt()));
                r.put(a.size(), l);
                a.add(l);
            }
            String name = extra.path("name").asText();
            NewTopic nt = new NewTopic(name, r).configs(strings(extra.path("config")));
            cluster.admin().createTopics(List.of(nt)).all().get(30, TimeUnit.SECONDS);
            settle(name, a);
            extraPartitions += a.size();
        }
    }

    /** Partitions of the extra topics. */
    private int extraPartitions;

    /**
     * The group coordinator's topic, made before any consumer asks for a coordinator (which would have a
     * broker create it with a random placement): offsets.topic.num.partitions partitions (50 unless the case
     * says) with offsets.topic.replication.factor replicas (1 unless the case says, at most the brokers),
     * placed as the simulator places it: Kafka's rack-unaware placement with the start index and the shift
     * fixed at 0 (AdminUtils.assignReplicasToBrokers; src/sim/setup.rs default_assignment). So a group's
     * coordinator is the same broker on both sides. The topic configs are the coordinator's own
     * (GroupCoordinatorConfig offsetsTopicConfigs: compacted, producer compression).
     */
    private void createOffsetsTopic() throws Exception {
        JsonNode bc = spec.path("broker_config");
        int brokers = spec.path("brokers").asInt(3);
        int partitions = bc.path("offsets.topic.num.partitions").asInt(50);
        int rf = Math.min(bc.path("offsets.topic.replication.factor").asInt(1), brokers);
        List<List<Integer>> placement = new ArrayList<>();
        int shift = 0;
        for (int p = 0; p < partitions; p++) {
            if (p > 0 && p % brokers == 0) {
                shift++;
            }
            int first = p % brokers;
            List<Integer> r = new ArrayList<>(List.of(first + 1));
            for (int j = 0; j < rf - 1; j++) {
                int sh = 1 + (shift + j) % Math.max(brokers - 1, 1);
                r.add((first + sh) % brokers + 1);
            }
            placement.add(r);
        }
        Map<Integer, List<Integer>> replicas = new LinkedHashMap<>();
        for (int p = 0; p < partitions; p++) {
            replicas.put(p, placement.get(p));
        }
        NewTopic t = new NewTopic(Topic.GROUP_METADATA_TOPIC_NAME, replicas)
                .configs(Map.of("cleanup.policy", "compact", "compression.type", "producer", "segment.bytes", "104857600"));
        cluster.admin().createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
        settle(Topic.GROUP_METADATA_TOPIC_NAME, placement);
    }

    /** Waits until every partition of the topic has its preferred leader and a full ISR. */
    private void settle(String name, List<List<Integer>> replicaAssignment) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            boolean settled = true;
            try {
                TopicDescription d = cluster.admin().describeTopics(List.of(name)).allTopicNames().get(5, TimeUnit.SECONDS).get(name);
                settled = d.partitions().size() == replicaAssignment.size();
                for (TopicPartitionInfo p : d.partitions()) {
                    List<Integer> want = replicaAssignment.get(p.partition());
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
                throw new CaseFailure("topic " + name + " did not settle with its preferred leaders and full ISRs within 30 s");
            }
            Thread.sleep(100);
        }
    }

    /** A producer's settings: the case's (Kafka's names, unchanged) on top of the bootstrap and serializers. */
    private Properties producerProperties(JsonNode config) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.putAll(strings(config));
        return p;
    }

    /** The step's producer: the one it names in `producer`, else the case's default one. */
    private KafkaProducer<String, String> producer(int index, JsonNode s) throws CaseFailure {
        String name = producerName(s);
        KafkaProducer<String, String> p = producers.get(name);
        if (p == null) {
            throw new CaseFailure("step " + index + ": no producer " + name
                    + (s.has("producer") ? "" : " (the case has several; the step must name one)"));
        }
        return p;
    }

    private String producerName(JsonNode s) {
        return s.path("producer").asText(defaultProducer);
    }

    private void produce(int index, JsonNode s) throws CaseFailure {
        KafkaProducer<String, String> producer = producer(index, s);
        String key = s.hasNonNull("key") ? s.get("key").asText() : null;
        String value = s.path("value").asText();
        Integer partition = s.hasNonNull("partition") ? s.get("partition").asInt() : null;
        String topic = s.path("topic").asText(this.topic);
        ObjectNode r = records.addObject();
        r.put("key", key);
        r.put("value", value);
        // Only when the step names its producer, so that the older cases' outcomes are unchanged.
        if (s.has("producer")) {
            r.put("producer", producerName(s));
        }
        r.put("result", "pending");
        try {
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
        } catch (RuntimeException e) {
            // send() itself threw: a transactional producer outside a transaction (IllegalStateException),
            // or one in a fatal or abortable error state (KafkaException). The record was not sent.
            synchronized (records) {
                r.put("result", "failed");
                r.put("error", e.getClass().getSimpleName());
                r.put("message", e.getMessage());
                r.put("thrown", true);
            }
        }
    }

    /**
     * A transaction op on the step's producer, recorded in `transactions`: ok, or failed with the class
     * of the exception the call threw (and its cause's class, when it wraps one of another class). A
     * failed call does not stop the case: the producer stays as Kafka leaves it (a fenced one is
     * unusable; every later call throws), and it is closed at the end.
     */
    private void transaction(int index, JsonNode s) throws CaseFailure {
        String op = s.path("op").asText();
        KafkaProducer<String, String> producer = producer(index, s);
        ObjectNode t = transactions.addObject();
        t.put("step", index);
        t.put("op", op);
        t.put("producer", producerName(s));
        try {
            switch (op) {
                case "init_transactions" -> producer.initTransactions();
                case "begin_transaction" -> producer.beginTransaction();
                case "commit_transaction" -> producer.commitTransaction();
                case "abort_transaction" -> producer.abortTransaction();
                default -> {
                    String group = s.path("group").asText();
                    t.put("group", group);
                    // With `member` and `generation`: the metadata a member of the group would pass, with
                    // that consumer's member id as it last saw it and the generation the step gives
                    // (a stale one is fenced); without: new ConsumerGroupMetadata(group).
                    ConsumerGroupMetadata metadata = s.has("member")
                            ? new ConsumerGroupMetadata(group, s.path("generation").asInt(), members.get(s.path("member").asText()).memberId(), Optional.empty())
                            : new ConsumerGroupMetadata(group);
                    producer.sendOffsetsToTransaction(transactionOffsets(s.path("offsets")), metadata);
                }
            }
            t.put("result", "ok");
        } catch (Exception e) {
            t.put("result", "failed");
            t.put("error", e.getClass().getSimpleName());
            t.put("message", e.getMessage());
            if (e.getCause() != null && e.getCause().getClass() != e.getClass()) {
                t.put("cause", e.getCause().getClass().getSimpleName());
            }
        }
    }

    /**
     * send_offsets_to_transaction's `offsets`: partition → offset, a partition as its number on the case's
     * topic ("0") or as "topic-N", as wait_committed writes it.
     */
    private Map<TopicPartition, OffsetAndMetadata> transactionOffsets(JsonNode offsets) {
        Map<TopicPartition, OffsetAndMetadata> out = new LinkedHashMap<>();
        offsets.fields().forEachRemaining(e -> {
            String k = e.getKey();
            TopicPartition tp = k.matches("\\d+") ? new TopicPartition(topic, Integer.parseInt(k))
                    : new TopicPartition(k.substring(0, k.lastIndexOf('-')), Integer.parseInt(k.substring(k.lastIndexOf('-') + 1)));
            out.put(tp, new OffsetAndMetadata(e.getValue().asLong()));
        });
        return out;
    }

    /** Whether a step is a transaction op (the outcome then has `transactions`, even if empty). */
    private boolean usesTransactions() {
        for (JsonNode st : spec.path("steps")) {
            switch (st.path("op").asText()) {
                case "init_transactions", "begin_transaction", "commit_transaction", "abort_transaction",
                        "send_offsets_to_transaction" -> {
                    return true;
                }
                default -> {
                }
            }
        }
        return false;
    }

    /** The groups of the case's send_offsets_to_transaction and list_group_offsets steps, in order. */
    private List<String> transactionGroups() {
        List<String> out = new ArrayList<>();
        for (JsonNode st : spec.path("steps")) {
            String op = st.path("op").asText();
            if (op.equals("send_offsets_to_transaction") || op.equals("list_group_offsets")) {
                String g = st.path("group").asText();
                if (!out.contains(g)) {
                    out.add(g);
                }
            }
        }
        return out;
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
                    case "wait_lso" -> lastStableOffset(partition) >= s.path("offset").asLong();
                    case "wait_log_start" -> logStart(partition) >= s.path("offset").asLong();
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
        if (op.equals("wait_lso") || op.equals("end_offsets")) {
            // Two requests, the LSO first: the HW may move between them (a marker being replicated), and
            // in this order the pair still has LSO <= HW, as the leader's own figures always do.
            for (int p = 0; p < assignment.size(); p++) {
                ObjectNode o = (ObjectNode) parts.get(topic + "-" + p);
                long lso = lastStableOffset(p);
                o.put("high_watermark", highWatermark(p));
                o.put("last_stable_offset", lso);
            }
        }
        if (op.equals("wait_log_start")) {
            for (int p = 0; p < assignment.size(); p++) {
                ((ObjectNode) parts.get(topic + "-" + p)).put("log_start_offset", logStart(p));
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
     * The partition's last stable offset: the leader's answer to ListOffsets for the latest offset with
     * read_committed, the first offset of the oldest open transaction, or the high watermark when none is
     * open below it.
     */
    private long lastStableOffset(int partition) throws Exception {
        TopicPartition tp = new TopicPartition(topic, partition);
        return cluster.admin()
                .listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .partitionResult(tp).get(10, TimeUnit.SECONDS).offset();
    }

    /** The partition's log start offset: the leader's answer to ListOffsets for the earliest offset. */
    private long logStart(int partition) throws Exception {
        TopicPartition tp = new TopicPartition(topic, partition);
        return cluster.admin().listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get(10, TimeUnit.SECONDS).offset();
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
     * its end offset, which for read_uncommitted (the default) is the high watermark and for
     * read_committed the last stable offset; a read_committed consumer gets no aborted records, and
     * neither gets the transaction markers, so the offsets have gaps. A partition whose end offset cannot
     * be had within the timeout (no leader) is reported as unavailable.
     */
    private ObjectNode consumeAll(int index, JsonNode s, long timeoutMs) throws CaseFailure {
        String isolation = s.path("isolation_level").asText("read_uncommitted");
        if (!isolation.equals("read_uncommitted") && !isolation.equals("read_committed")) {
            throw new CaseFailure("step " + index + ": isolation_level " + isolation + " is neither read_uncommitted nor read_committed");
        }
        ObjectNode read = JSON.createObjectNode();
        read.put("step", index);
        // Only when the step gives one, so that the older cases' outcomes are unchanged.
        if (s.has("isolation_level")) {
            read.put("isolation_level", isolation);
        }
        ObjectNode parts = read.putObject("partitions");
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapLive());
        // Later metadata requests may still pick a paused broker (it is in the metadata); a short request
        // timeout sends them elsewhere soon enough for the end-offset lookup's own timeout.
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
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

    private Member member(int index, JsonNode s) throws CaseFailure {
        Member m = members.get(s.path("consumer").asText());
        if (m == null) {
            throw new CaseFailure("step " + index + ": no consumer " + s.path("consumer"));
        }
        return m;
    }

    /**
     * The groups of the case's consumers, in order of first appearance, then those its transactions commit
     * offsets for (send_offsets_to_transaction) or that it lists (list_group_offsets).
     */
    private List<String> groupIds() {
        List<String> out = new ArrayList<>();
        members.values().forEach(m -> {
            if (!out.contains(m.group)) {
                out.add(m.group);
            }
        });
        transactionGroups().forEach(g -> {
            if (!out.contains(g)) {
                out.add(g);
            }
        });
        return out;
    }

    /** Admin.incrementalAlterConfigs with a SET of each of the step's settings on the case's topic. */
    /**
     * Admin.createPartitions with NewPartitions.increaseTo: the topic grows by one partition per list of
     * `replicaAssignment` (explicit, so that both sides place them alike), and the harness waits until
     * every new partition has its preferred leader and a full ISR. The clients learn of them only at
     * their next metadata refresh, which the case's metadata.max.age.ms and sleeps decide.
     */
    private void createPartitions(JsonNode replicaAssignment, long timeoutMs) throws Exception {
        List<List<Integer>> added = new ArrayList<>();
        replicaAssignment.forEach(list -> {
            List<Integer> r = new ArrayList<>();
            list.forEach(b -> r.add(b.asInt()));
            added.add(r);
        });
        NewPartitions increase = NewPartitions.increaseTo(assignment.size() + added.size(), added);
        cluster.admin().createPartitions(Map.of(topic, increase)).all().get(timeoutMs, TimeUnit.MILLISECONDS);
        assignment.addAll(added);
        settle(topic, assignment);
    }

    private void alterTopicConfig(JsonNode config, long timeoutMs) throws Exception {
        List<AlterConfigOp> ops = new ArrayList<>();
        config.fields().forEachRemaining(e -> ops.add(new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue().asText()), AlterConfigOp.OpType.SET)));
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        cluster.admin().incrementalAlterConfigs(Map.of(resource, ops)).all().get(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** The group's committed offsets, as the Admin client lists them (partitions without one are absent). */
    private ObjectNode committed(String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = cluster.admin().listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        TreeMap<String, Long> sorted = new TreeMap<>(PARTITION_ORDER);
        offsets.forEach((tp, om) -> {
            if (om != null) {
                sorted.put(tp.topic() + "-" + tp.partition(), om.offset());
            }
        });
        ObjectNode out = JSON.createObjectNode();
        sorted.forEach(out::put);
        return out;
    }

    /**
     * Each member's assignment as the group's coordinator has it, by the name of the case's consumer whose
     * member id it is (as that consumer last saw its own id), or else by its client id, which is the
     * consumer's name too, except for a static member that replaced another: the coordinator keeps the
     * replaced member's client id then (ClassicGroup.replaceStaticMember).
     */
    private Map<String, TreeSet<String>> coordinatorAssignment(ConsumerGroupDescription d) {
        Map<String, TreeSet<String>> out = new TreeMap<>();
        for (MemberDescription md : d.members()) {
            TreeSet<String> parts = new TreeSet<>(PARTITION_ORDER);
            md.assignment().topicPartitions().forEach(tp -> parts.add(tp.topic() + "-" + tp.partition()));
            String name = members.values().stream().filter(m -> m.running() && m.memberId().equals(md.consumerId()))
                    .map(m -> m.name).findFirst().orElse(md.clientId());
            out.put(name, parts);
        }
        return out;
    }

    private ConsumerGroupDescription describeGroup(String group) throws Exception {
        return cluster.admin().describeConsumerGroups(List.of(group)).describedGroups().get(group).get(10, TimeUnit.SECONDS);
    }

    /**
     * Waits for a group state. wait_group: the group is Stable with exactly the named members, every
     * partition of the topic is assigned, each member's own assignment (after its last poll) is what the
     * coordinator gave it, and each has a position for every partition it owns. With cooperative-sticky
     * that is after the second round. wait_consumed: the consumer's polls have returned at least `count`
     * records and the loop iteration after them (its commit) is done. wait_committed: the group's
     * committed offsets (Admin listConsumerGroupOffsets) are `offsets` for the partitions it names.
     * wait_consumer: the consumer is in `state` (running, closed or failed).
     */
    private void awaitGroup(int index, JsonNode s, long timeoutMs) throws Exception {
        String op = s.path("op").asText();
        long deadline = System.currentTimeMillis() + timeoutMs;
        String last = "nothing";
        while (System.currentTimeMillis() < deadline) {
            try {
                boolean reached;
                switch (op) {
                    case "wait_group" -> {
                        ConsumerGroupDescription d = describeGroup(s.path("group").asText());
                        Map<String, TreeSet<String>> coord = coordinatorAssignment(d);
                        TreeSet<String> want = new TreeSet<>();
                        s.path("members").forEach(n -> want.add(n.asText()));
                        TreeSet<String> all = new TreeSet<>(PARTITION_ORDER);
                        coord.values().forEach(all::addAll);
                        last = "state " + d.groupState() + ", assignment " + coord;
                        reached = coord.keySet().equals(want)
                                && (want.isEmpty() ? d.groupState().toString().equals("Empty") : d.groupState().toString().equals("Stable"))
                                && (want.isEmpty() || all.size() == assignment.size() + extraPartitions);
                        for (String n : want) {
                            Member m = members.get(n);
                            reached &= m != null && m.running() && m.assignment().equals(coord.get(n)) && m.positionsKnown();
                        }
                    }
                    case "wait_consumed" -> {
                        Member m = member(index, s);
                        last = m.recordsAtIterationEnd() + " records, state " + m.state();
                        reached = m.recordsAtIterationEnd() >= s.path("count").asInt();
                    }
                    case "wait_consumer" -> {
                        Member m = member(index, s);
                        last = "state " + m.state();
                        reached = m.state().equals(s.path("state").asText());
                    }
                    default -> {
                        ObjectNode c = committed(s.path("group").asText());
                        last = "committed " + c;
                        reached = true;
                        for (Iterator<Map.Entry<String, JsonNode>> it = s.path("offsets").fields(); it.hasNext(); ) {
                            Map.Entry<String, JsonNode> e = it.next();
                            reached &= c.path(e.getKey()).isNumber() && c.path(e.getKey()).asLong() == e.getValue().asLong();
                        }
                    }
                }
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

    /** What a group wait saw once it was reached. */
    private ObjectNode groupState(int index, JsonNode s) throws Exception {
        ObjectNode st = JSON.createObjectNode();
        st.put("step", index);
        String op = s.path("op").asText();
        st.put("op", op);
        switch (op) {
            case "wait_group" -> {
                ConsumerGroupDescription d = describeGroup(s.path("group").asText());
                st.put("group", s.path("group").asText());
                st.put("state", d.groupState().toString());
                st.put("assignor", d.partitionAssignor());
                ObjectNode a = st.putObject("assignment");
                coordinatorAssignment(d).forEach((n, parts) -> {
                    ArrayNode arr = a.putArray(n);
                    parts.forEach(arr::add);
                });
            }
            case "wait_consumed" -> {
                Member m = member(index, s);
                st.put("consumer", m.name);
                st.put("consumed", m.recordsAtIterationEnd());
            }
            case "wait_consumer" -> {
                Member m = member(index, s);
                st.put("consumer", m.name);
                st.put("state", m.state());
                st.set("error", m.outcome().get("error"));
            }
            default -> {
                st.put("group", s.path("group").asText());
                st.set("committed", committed(s.path("group").asText()));
            }
        }
        return st;
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
