package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;

/**
 * One consumer of a case: a KafkaConsumer (classic group protocol) in a group, on its own thread, running
 * the application loop the simulator models for a consumer (docs/scenario-format.md, [[consumers]]):
 * subscribe, then poll; the records a poll returns are processed one by one (processing_ms each, a sleep)
 * and committed as its `commit` policy says: "auto" (only enable.auto.commit), "before-processing"
 * (commitSync() right after a poll that returned records), "after-processing" (commitSync() after the
 * batch), "after-processing-async" (commitAsync() after the batch). A close request ends the loop and
 * calls close() (which auto-commits when enabled, calls the listener's onPartitionsRevoked and sends
 * LeaveGroup). An exception from commitSync() is recorded and the loop goes on, as the simulator's
 * application carries on after a failed commit. An exception from poll() stops the loop: the consumer
 * is "failed" with that exception's class. It is not closed then, as the simulator's failed consumer
 * sends nothing more (an application that dies with the exception); the KafkaConsumer's heartbeat
 * thread keeps the member in its group, though, until max.poll.interval.ms, so a case must not look at
 * the group after a member failed. The harness closes it when the case is over, after the outcome has
 * been read.
 *
 * A crash request stands for the process dying: the loop stops at the end of its iteration and the
 * consumer is closed at once with GroupMembershipOperation.REMAIN_IN_GROUP (KIP-1092), so it sends no
 * LeaveGroup and the coordinator removes it only after session.timeout.ms; the listener calls its close
 * makes are not recorded (a dead process makes none). Only a consumer without auto-commit can crash
 * this way, since close() would commit for it.
 *
 * Everything the harness reports is recorded here, under this object's lock: the records poll()
 * returned, in order; the rebalance listener's calls; the assignment after the last poll; whether every
 * assigned partition has a position (so a case can wait until auto.offset.reset has been applied).
 */
final class Member implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final String name;
    final String group;
    private final List<String> topics = new ArrayList<>();
    private final Properties props = new Properties();
    private final String commit;
    private final long processingMs;
    private volatile Thread thread;

    private volatile boolean closeRequested;
    private volatile boolean crashRequested;
    /** The application thread blocks until then (System.currentTimeMillis()) before its next poll. */
    private volatile long stalledUntil;
    /** A subscribe() the application thread makes before its next poll (null: none asked). */
    private volatile List<String> resubscribe;
    /** The subscribe() asked for has been made. */
    private volatile boolean resubscribed = true;
    private volatile KafkaConsumer<String, String> failedConsumer;
    private String state = "not_started";
    private String error;
    private String errorMessage;
    private final ArrayNode records = JSON.createArrayNode();
    private final ArrayNode listener = JSON.createArrayNode();
    private final ArrayNode commitErrors = JSON.createArrayNode();
    private final ArrayNode syncCommitErrors = JSON.createArrayNode();
    private TreeSet<String> assignment = new TreeSet<>();
    private boolean positionsKnown;
    /** Its member id after its last poll (groupMetadata()), "" before it has one. */
    private String memberId = "";
    /** Set when the consumer crashed: the listener's later calls (its close's) are not recorded. */
    private boolean crashed;
    /** Completed loop iterations (poll, processing and the policy's commit). */
    private long iterations;
    /** Records returned by poll() when the last iteration ended. */
    private int recordsAtIterationEnd;

    Member(JsonNode spec, String bootstrap) {
        this.name = spec.path("name").asText();
        spec.path("topics").forEach(t -> topics.add(t.asText()));
        this.commit = spec.path("commit").asText("auto");
        this.processingMs = spec.path("processing_ms").asLong(5);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        // As the simulator: a manual commit policy turns auto-commit off unless the case says otherwise.
        if (!commit.equals("auto")) {
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        }
        spec.path("config").fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue().asText()));
        this.group = props.getProperty(ConsumerConfig.GROUP_ID_CONFIG);
    }

    /**
     * Starts the loop on a new KafkaConsumer: the first time, or again after a crash, a close or a
     * failure, with empty memory as the simulator's start_consumer restarts it (a failed one's old
     * KafkaConsumer is closed first). What it reads and its listener calls go on the same lists.
     */
    void start() throws InterruptedException {
        if (thread != null && thread.isAlive()) {
            throw new IllegalStateException("consumer " + name + " is running already");
        }
        KafkaConsumer<String, String> old = failedConsumer;
        if (old != null) {
            failedConsumer = null;
            old.close(Duration.ofSeconds(5));
        }
        synchronized (this) {
            state = "running";
            error = null;
            errorMessage = null;
            crashed = false;
            assignment = new TreeSet<>();
            positionsKnown = false;
            memberId = "";
        }
        closeRequested = false;
        crashRequested = false;
        Thread t = new Thread(this, "consumer-" + name);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /**
     * Asks the loop to stop and close the consumer, and waits until it has. A consumer that is not
     * running (not started, failed, closed) is left as it is, as the simulator's close_consumer does.
     */
    void close(long timeoutMs) throws InterruptedException {
        Thread thread = this.thread;
        if (thread == null || !thread.isAlive()) {
            return;
        }
        closeRequested = true;
        thread.join(timeoutMs);
        if (thread.isAlive()) {
            throw new IllegalStateException("consumer " + name + " did not close within " + timeoutMs + " ms");
        }
    }

    /**
     * Blocks the application thread for `ms` from now, as the simulator's stall_consumer: no poll()
     * meanwhile (the loop is between polls at most 100 ms later), while the heartbeat thread goes on and
     * enforces max.poll.interval.ms.
     */
    void stall(long ms) {
        stalledUntil = System.currentTimeMillis() + ms;
    }

    /**
     * Has the application thread call subscribe(topics) before its next poll (it is between polls at
     * most 100 ms later), as the simulator's subscribe action, and waits until it has. A consumer that is
     * not running keeps the topics for its next start, as the simulator does.
     */
    void subscribe(List<String> newTopics, long timeoutMs) throws InterruptedException {
        if (!running()) {
            synchronized (this) {
                topics.clear();
                topics.addAll(newTopics);
            }
            return;
        }
        resubscribed = false;
        resubscribe = new ArrayList<>(newTopics);
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!resubscribed) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("consumer " + name + " did not subscribe within " + timeoutMs + " ms");
            }
            Thread.sleep(5);
        }
    }

    /** Stops the loop as a process that dies: no commit, no LeaveGroup, no listener call. */
    void crash(long timeoutMs) throws InterruptedException {
        if (Boolean.parseBoolean(props.getProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true"))) {
            throw new IllegalStateException("consumer " + name + " has enable.auto.commit=true: its close would commit, so it cannot crash in the harness");
        }
        if (!running()) {
            return;
        }
        crashRequested = true;
        close(timeoutMs);
    }

    /** The end of the case: stops the loop and closes the consumer, a failed one too. */
    void shutdown() throws InterruptedException {
        close(30_000);
        KafkaConsumer<String, String> c = failedConsumer;
        if (c != null) {
            failedConsumer = null;
            c.close(Duration.ofSeconds(5));
        }
    }

    boolean running() {
        Thread t = thread;
        return t != null && t.isAlive();
    }

    @Override
    public void run() {
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props);
        try {
            consumer.subscribe(new ArrayList<>(topics), new Listener());
            while (!closeRequested && !crashRequested) {
                long stall = stalledUntil - System.currentTimeMillis();
                if (stall > 0) {
                    Thread.sleep(stall);
                    continue;
                }
                List<String> next = resubscribe;
                if (next != null) {
                    resubscribe = null;
                    synchronized (this) {
                        topics.clear();
                        topics.addAll(next);
                    }
                    consumer.subscribe(next, new Listener());
                    resubscribed = true;
                }
                ConsumerRecords<String, String> polled = consumer.poll(Duration.ofMillis(100));
                List<ConsumerRecord<String, String>> batch = new ArrayList<>();
                polled.forEach(batch::add);
                synchronized (this) {
                    for (ConsumerRecord<String, String> r : batch) {
                        ObjectNode o = records.addObject();
                        o.put("partition", r.topic() + "-" + r.partition());
                        o.put("offset", r.offset());
                        o.put("key", r.key());
                        o.put("value", r.value());
                    }
                }
                if (!batch.isEmpty()) {
                    if (commit.equals("before-processing")) {
                        commitSync(consumer);
                    }
                    if (processingMs > 0) {
                        Thread.sleep(processingMs * batch.size());
                    }
                    switch (commit) {
                        case "after-processing" -> commitSync(consumer);
                        case "after-processing-async" -> consumer.commitAsync((offsets, e) -> {
                            if (e != null) {
                                synchronized (Member.this) {
                                    commitErrors.add(e.getClass().getSimpleName());
                                }
                            }
                        });
                        default -> { }
                    }
                }
                TreeSet<String> now = names(consumer.assignment());
                boolean known = true;
                for (TopicPartition tp : consumer.assignment()) {
                    try {
                        consumer.position(tp, Duration.ZERO);
                    } catch (org.apache.kafka.common.errors.TimeoutException notYet) {
                        known = false;
                    }
                }
                String id = consumer.groupMetadata().memberId();
                synchronized (this) {
                    assignment = now;
                    positionsKnown = known;
                    memberId = id;
                    iterations++;
                    recordsAtIterationEnd = records.size();
                }
            }
            if (crashRequested) {
                synchronized (this) {
                    state = "crashed";
                    crashed = true;
                }
                consumer.close(CloseOptions.timeout(Duration.ZERO)
                        .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP));
            } else {
                consumer.close();
                synchronized (this) {
                    state = "closed";
                }
            }
        } catch (Exception e) {
            synchronized (this) {
                state = "failed";
                error = e.getClass().getSimpleName();
                errorMessage = e.getMessage();
            }
            failedConsumer = consumer;
        }
    }

    /**
     * commitSync() as the simulator's application calls it: an exception it throws is recorded and the
     * loop goes on (the simulator's application carries on after a failed commit).
     */
    private void commitSync(KafkaConsumer<String, String> consumer) {
        try {
            consumer.commitSync();
        } catch (org.apache.kafka.common.KafkaException e) {
            synchronized (this) {
                ObjectNode o = syncCommitErrors.addObject();
                o.put("error", e.getClass().getSimpleName());
                o.put("message", e.getMessage());
            }
        }
    }

    /** The consumer's account for the outcome. */
    synchronized ObjectNode outcome() {
        ObjectNode o = JSON.createObjectNode();
        o.put("group", group);
        o.put("state", state);
        if (error == null) {
            o.putNull("error");
        } else {
            o.put("error", error);
            o.put("error_message", errorMessage);
        }
        ArrayNode a = o.putArray("assignment");
        if (state.equals("running")) {
            assignment.forEach(a::add);
        }
        o.set("records", records.deepCopy());
        o.set("listener", listener.deepCopy());
        o.set("commit_errors", syncCommitErrors.deepCopy());
        o.set("async_commit_errors", commitErrors.deepCopy());
        return o;
    }

    synchronized TreeSet<String> assignment() {
        return new TreeSet<>(assignment);
    }

    synchronized String memberId() {
        return memberId;
    }

    synchronized boolean positionsKnown() {
        return positionsKnown;
    }

    synchronized String state() {
        return state;
    }

    synchronized long iterations() {
        return iterations;
    }

    synchronized int recordsAtIterationEnd() {
        return recordsAtIterationEnd;
    }

    private static TreeSet<String> names(Collection<TopicPartition> tps) {
        TreeSet<String> s = new TreeSet<>(Harness.PARTITION_ORDER);
        tps.forEach(tp -> s.add(tp.topic() + "-" + tp.partition()));
        return s;
    }

    /** Records every call of the rebalance listener, with its partitions sorted. */
    private final class Listener implements ConsumerRebalanceListener {
        private void note(String call, Collection<TopicPartition> partitions) {
            synchronized (Member.this) {
                if (crashed) {
                    return;
                }
                ObjectNode c = listener.addObject();
                c.put("call", call);
                ArrayNode p = c.putArray("partitions");
                names(partitions).forEach(p::add);
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            note("revoked", partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            note("assigned", partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            note("lost", partitions);
        }
    }
}
