// A probe, not a test: it runs a few transactional behaviours on a real 3-broker Kafka 4.1.2 cluster
// (the conformance harness's Cluster, with the transaction log at RF 3 and min ISR 2) and prints what
// the cluster and the clients report. docs/design/transactions.md (section 6a) gives one run's output.
// It is kept so that the observations can be repeated until the harness has transactional cases.
//
//   cd conformance/cluster && mvn -q -B package -DskipTests
//   javac -d /tmp/probe -cp "target/classes:target/lib/*" ../probes/TxnProbe.java
//   java -cp "/tmp/probe:target/classes:target/lib/*" kafkasim.cluster.TxnProbe 2>/dev/null | grep '^O'
package kafkasim.cluster;

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.serialization.*;
import java.time.Duration;
import java.util.*;

/** Observes a few transactional behaviours on a real 3-broker cluster (a probe, not a test). */
public final class TxnProbe {
    public static void main(String[] args) throws Exception {
        Map<String, String> cfg = new HashMap<>();
        cfg.put("transaction.state.log.replication.factor", "3");
        cfg.put("transaction.state.log.min.isr", "2");
        Cluster c = new Cluster(3, cfg);
        try {
            c.start(60_000);
            Admin a = c.admin();
            FeatureMetadata f = a.describeFeatures().featureMetadata().get();
            System.out.println("O1 finalized features: " + f.finalizedFeatures());
            a.createTopics(List.of(new NewTopic("t", Optional.of(1), Optional.of((short) 3)))).all().get();
            Thread.sleep(1000);
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, c.bootstrap());
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-1");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            KafkaProducer<String, String> pa = new KafkaProducer<>(p);
            pa.initTransactions();
            TopicPartition tp = new TopicPartition("t", 0);
            print(a, tp, "after init");
            for (int i = 0; i < 2; i++) {
                pa.beginTransaction();
                RecordMetadata m = pa.send(new ProducerRecord<>("t", 0, "k", "v" + i)).get();
                System.out.println("O2 sent v" + i + " at offset " + m.offset());
                pa.commitTransaction();
                print(a, tp, "after commit " + (i + 1));
            }
            pa.beginTransaction();
            RecordMetadata m = pa.send(new ProducerRecord<>("t", 0, "k", "open")).get();
            System.out.println("O3 open txn record at offset " + m.offset());
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> hw = a.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get();
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> lso = a.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get();
            System.out.println("O3 latest read_uncommitted " + hw.get(tp).offset() + " read_committed " + lso.get(tp).offset());
            KafkaProducer<String, String> pb = new KafkaProducer<>(p);
            pb.initTransactions();
            print(a, tp, "after the second instance's initTransactions");
            try {
                pa.commitTransaction();
                System.out.println("O4 zombie commit: succeeded");
            } catch (Exception e) {
                System.out.println("O4 zombie commit: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            Properties cp = new Properties();
            cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, c.bootstrap());
            cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            try (KafkaConsumer<String, String> con = new KafkaConsumer<>(cp)) {
                con.assign(List.of(tp));
                con.seekToBeginning(List.of(tp));
                List<String> got = new ArrayList<>();
                long end = System.currentTimeMillis() + 5000;
                while (System.currentTimeMillis() < end) {
                    for (ConsumerRecord<String, String> r : con.poll(Duration.ofMillis(200))) got.add(r.value() + "@" + r.offset());
                }
                System.out.println("O5 read_committed got " + got + " position " + con.position(tp) + " endOffsets " + con.endOffsets(List.of(tp)));
            }
            pa.close(Duration.ofSeconds(1));
            pb.close(Duration.ofSeconds(1));
        } finally {
            c.close(false);
        }
    }

    static void print(Admin a, TopicPartition tp, String when) throws Exception {
        TransactionDescription d = a.describeTransactions(List.of("tx-1")).description("tx-1").get();
        List<ProducerState> ps = a.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers();
        System.out.println("O " + when + ": coordinator txn state " + d.state() + " producerId " + d.producerId() + " epoch " + d.producerEpoch()
                + "; partition producers " + ps.stream().map(s -> "pid " + s.producerId() + " epoch " + s.producerEpoch() + " lastSeq " + s.lastSequence() + " txnStart " + s.currentTransactionStartOffset()).toList());
    }
}
