package kafkasim.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.utils.LogContext;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.coordinator.group.classic.ClassicGroup;
import org.apache.kafka.coordinator.group.classic.ClassicGroupMember;
import org.apache.kafka.coordinator.group.classic.ClassicGroupState;

import java.util.Optional;

/**
 * {@code {"members": [["range", "cooperative-sticky"], ...]}} → {@code {"protocol": name}}.
 *
 * <p>The group coordinator's choice of the group's assignor ({@code ClassicGroup.selectProtocol}, Kafka
 * 4.1's classic group protocol): each member is added with its assignors in its order of preference, as
 * a consumer's JoinGroup lists them, and the group picks one.
 */
final class Protocols {
    private Protocols() {
    }

    static void answer(JsonNode request, ObjectNode reply) {
        ClassicGroup group = new ClassicGroup(new LogContext(), "g", ClassicGroupState.EMPTY, Time.SYSTEM);
        int i = 0;
        for (JsonNode member : request.path("members")) {
            JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestProtocolCollection();
            for (JsonNode name : member) {
                protocols.add(new JoinGroupRequestProtocol().setName(name.asText()).setMetadata(new byte[0]));
            }
            group.add(new ClassicGroupMember("m" + i, Optional.empty(), "client", "host", 300_000, 45_000, "consumer", protocols));
            i++;
        }
        try {
            reply.put("protocol", group.selectProtocol());
        } catch (RuntimeException e) {
            Main.error(reply, e);
        }
    }
}
