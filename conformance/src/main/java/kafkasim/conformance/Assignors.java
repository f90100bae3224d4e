package kafkasim.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupAssignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.consumer.StickyAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code {"strategy", "partitions_per_topic": {topic: n}, "members": [{"id", "subscriptions",
 * "owned_partitions": [[topic, p]], "generation", "group_instance_id"}]}} →
 * {@code {"assignment": {member: [[topic, p]]}}}, each member's list sorted by topic then partition.
 *
 * <p>Each member's {@link Subscription} is built the way its own consumer builds it for JoinGroup
 * ({@code ConsumerCoordinator.metadata()}): a fresh assignor of the strategy is told the member's last
 * assignment and generation through {@code onAssignment}, and its {@code subscriptionUserData} goes into the
 * subscription. That matters for the sticky assignors, which read the previous assignment from different
 * places: {@code StickyAssignor} only from its user data (an eager member has revoked everything before it
 * joins, so the subscription's owned-partitions field is empty), {@code CooperativeStickyAssignor} from the
 * subscription's owned partitions and generation fields. The group leader then receives the subscriptions
 * in a {@code HashMap} filled in member order, as {@code ConsumerCoordinator.onLeaderElected} does.
 */
final class Assignors {
    private static final String GROUP = "conformance-group";

    private Assignors() {
    }

    static Supplier<ConsumerPartitionAssignor> strategy(String name) {
        return switch (name) {
            case "range" -> RangeAssignor::new;
            case "roundrobin" -> RoundRobinAssignor::new;
            case "sticky" -> StickyAssignor::new;
            case "cooperative-sticky" -> CooperativeStickyAssignor::new;
            default -> throw new Main.HarnessException("unknown strategy " + name, null);
        };
    }

    static void answer(JsonNode request, ObjectNode reply) {
        Supplier<ConsumerPartitionAssignor> make = strategy(request.path("strategy").asText());
        boolean eager = !request.path("strategy").asText().equals("cooperative-sticky");

        Node node = new Node(0, "localhost", 9092);
        Node[] replicas = {node};
        List<PartitionInfo> partitions = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = request.path("partitions_per_topic").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> topic = it.next();
            for (int p = 0; p < topic.getValue().asInt(); p++) {
                partitions.add(new PartitionInfo(topic.getKey(), p, node, replicas, replicas));
            }
        }
        Cluster cluster = new Cluster("conformance", List.of(node), partitions, Collections.emptySet(), Collections.emptySet());

        Map<String, Subscription> subscriptions = new HashMap<>();
        for (JsonNode member : request.path("members")) {
            String id = member.path("id").asText();
            List<String> topics = new ArrayList<>();
            member.path("subscriptions").forEach(t -> topics.add(t.asText()));
            List<TopicPartition> owned = new ArrayList<>();
            member.path("owned_partitions").forEach(tp -> owned.add(new TopicPartition(tp.get(0).asText(), tp.get(1).asInt())));
            JsonNode generationNode = member.path("generation");
            Optional<Integer> generation = generationNode.isInt() ? Optional.of(generationNode.asInt()) : Optional.empty();
            JsonNode instanceNode = member.path("group_instance_id");
            Optional<String> instance = instanceNode.isTextual() ? Optional.of(instanceNode.asText()) : Optional.empty();

            // The member's own assignor has seen its last assignment if it had one (a generation or partitions).
            ConsumerPartitionAssignor own = make.get();
            if (generation.isPresent() || !owned.isEmpty()) {
                own.onAssignment(new Assignment(owned),
                    new ConsumerGroupMetadata(GROUP, generation.orElse(-1), id, instance));
            }
            ByteBuffer userData = own.subscriptionUserData(new HashSet<>(topics));
            Subscription subscription = new Subscription(topics, userData, eager ? List.of() : owned,
                generation.orElse(-1), Optional.empty());
            subscription.setGroupInstanceId(instance);
            subscriptions.put(id, subscription);
        }

        GroupAssignment result;
        try {
            result = make.get().assign(cluster, new GroupSubscription(subscriptions));
        } catch (RuntimeException e) {
            Main.error(reply, e);
            return;
        }
        ObjectNode assignment = reply.putObject("assignment");
        for (Map.Entry<String, Assignment> member : result.groupAssignment().entrySet()) {
            List<TopicPartition> list = new ArrayList<>(member.getValue().partitions());
            list.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
            ArrayNode out = assignment.putArray(member.getKey());
            for (TopicPartition tp : list) {
                out.addArray().add(tp.topic()).add(tp.partition());
            }
        }
    }
}
