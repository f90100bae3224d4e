//! Plain data describing one step: the event that happened and every consequence, with its reason.

use super::assignor::Strategy;
use super::config::{Acks, OffsetReset};
use super::types::{BrokerId, KafkaError, LogRecord, NodeId, RecordId, Tp};
use serde::Serialize;

/// A message on the wire. Requests and responses use the Kafka protocol's names.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// ProduceRequest for one partition (one batch).
    Produce {
        /// Client request id.
        req: u64,
        /// Target partition.
        tp: Tp,
        /// The producer's `acks`.
        acks: Acks,
        /// Producer id (0 without idempotence).
        pid: u32,
        /// The producer's epoch for this partition (bumped to restart sequences at 0).
        producer_epoch: u16,
        /// Sequence number of the first record (-1 without idempotence).
        base_seq: i32,
        /// The batch's records.
        records: Vec<RecordId>,
    },
    /// ProduceResponse.
    ProduceResponse {
        /// Client request id.
        req: u64,
        /// Partition.
        tp: Tp,
        /// Base offset of the appended batch, or the error.
        result: Result<u64, KafkaError>,
    },
    /// A follower's FetchRequest to the leader.
    Fetch {
        /// Fetch id (to match the response).
        id: u64,
        /// Partition.
        tp: Tp,
        /// The fetching follower.
        replica: BrokerId,
        /// The follower's LEO: the next offset it wants.
        fetch_offset: u64,
        /// Epoch of the follower's last record (KIP-595 style divergence check).
        last_fetched_epoch: Option<u32>,
        /// The leader epoch the follower believes in.
        leader_epoch: u32,
    },
    /// FetchResponse to a follower.
    FetchResponse {
        /// Fetch id.
        id: u64,
        /// Partition.
        tp: Tp,
        /// The leader's epoch.
        leader_epoch: u32,
        /// Records from fetch_offset on.
        records: Vec<LogRecord>,
        /// The leader's high watermark.
        high_watermark: u64,
        /// The leader's log start offset.
        log_start_offset: u64,
        /// Set when the follower's log diverges: (epoch, end offset) on the leader.
        diverging: Option<(u32, u64)>,
        /// Error code, if any.
        error: Option<KafkaError>,
    },
    /// BrokerHeartbeat to the controller.
    Heartbeat {
        /// Sender.
        broker: BrokerId,
        /// The broker's incarnation: a new one means it restarted and lost its in-memory state.
        incarnation: u32,
        /// `wantShutDown`: the broker is in controlled shutdown (PENDING_CONTROLLED_SHUTDOWN).
        want_shut_down: bool,
        /// `previousBrokerEpoch`: the incarnation the broker last stopped cleanly in, read from
        /// its clean-shutdown file at start; none after a crash. The controller reads it when a
        /// new incarnation registers.
        previous_broker_epoch: Option<u32>,
    },
    /// BrokerHeartbeatResponse to a heartbeat that asked to shut down.
    HeartbeatResponse {
        /// `shouldShutDown`: the broker leads nothing and may stop now.
        should_shut_down: bool,
    },
    /// AlterPartition: a leader asks the controller to change the ISR.
    AlterPartition {
        /// Partition.
        tp: Tp,
        /// The requesting leader.
        leader: BrokerId,
        /// Its leader epoch.
        leader_epoch: u32,
        /// The partition epoch it knows.
        partition_epoch: u32,
        /// The ISR it proposes.
        new_isr: Vec<BrokerId>,
    },
    /// A partition change from the controller's metadata log, as a broker receives it.
    PartitionChange {
        /// Partition.
        tp: Tp,
        /// Leader, or none (offline).
        leader: Option<BrokerId>,
        /// Leader epoch.
        leader_epoch: u32,
        /// In-sync replicas.
        isr: Vec<BrokerId>,
        /// Partition epoch (bumped on every change).
        partition_epoch: u32,
    },
    /// ApiVersions: the first request on a new connection; the connection is ready once answered.
    ApiVersions,
    /// ApiVersionsResponse from this broker.
    ApiVersionsResponse {
        /// The answering broker.
        broker: BrokerId,
    },
    /// A client's MetadataRequest.
    MetadataRequest,
    /// MetadataResponse: the leader of every partition.
    MetadataResponse {
        /// Leader per partition, in global partition order.
        leaders: Vec<Option<BrokerId>>,
    },
    /// FindCoordinator for a group (answered from the cluster metadata).
    FindCoordinator {
        /// Group index.
        group: u32,
    },
    /// The broker leading the group's `__consumer_offsets` partition.
    FindCoordinatorResponse {
        /// Group index.
        group: u32,
        /// The coordinator, or none while that partition is offline.
        coordinator: Option<BrokerId>,
    },
    /// JoinGroup.
    JoinGroup {
        /// Request id.
        req: u64,
        /// Group index.
        group: u32,
        /// The member id, empty for a new member.
        member_id: String,
        /// `group.instance.id` for a static member.
        instance_id: Option<String>,
        /// Subscribed topic indices.
        topics: Vec<u32>,
        /// Partitions it owns now (the cooperative protocol keeps them through the rebalance).
        owned: Vec<Tp>,
        /// The generation those partitions are from (-1 for none).
        generation: i32,
    },
    /// JoinGroupResponse: the new generation, and for the leader every member's subscription.
    JoinGroupResponse {
        /// Request id.
        req: u64,
        /// Group index.
        group: u32,
        /// The result.
        result: Result<JoinResult, KafkaError>,
    },
    /// SyncGroup: the leader sends the assignment, the others ask for theirs.
    SyncGroup {
        /// Request id.
        req: u64,
        /// Group index.
        group: u32,
        /// Generation.
        generation: i32,
        /// Member id.
        member_id: String,
        /// The leader's assignment (member id → partitions); empty from followers.
        assignments: Vec<(String, Vec<Tp>)>,
    },
    /// SyncGroupResponse: this member's partitions.
    SyncGroupResponse {
        /// Request id.
        req: u64,
        /// Group index.
        group: u32,
        /// The assignment or the error.
        result: Result<Vec<Tp>, KafkaError>,
    },
    /// A group member's Heartbeat to its coordinator.
    GroupHeartbeat {
        /// Group index.
        group: u32,
        /// Generation.
        generation: i32,
        /// Member id.
        member_id: String,
    },
    /// HeartbeatResponse.
    GroupHeartbeatResponse {
        /// Group index.
        group: u32,
        /// Error, if any (REBALANCE_IN_PROGRESS tells the member to rejoin).
        error: Option<KafkaError>,
    },
    /// LeaveGroup.
    LeaveGroup {
        /// Group index.
        group: u32,
        /// Member id.
        member_id: String,
    },
    /// OffsetCommit: the next offset to read, per partition.
    OffsetCommit {
        /// Request id.
        req: u64,
        /// Group index.
        group: u32,
        /// Generation.
        generation: i32,
        /// Member id.
        member_id: String,
        /// (partition, offset) pairs.
        offsets: Vec<(Tp, u64)>,
    },
    /// OffsetCommitResponse.
    OffsetCommitResponse {
        /// Request id.
        req: u64,
        /// Group index.
        group: u32,
        /// Error, if any.
        error: Option<KafkaError>,
    },
    /// OffsetFetch: the group's committed offsets for some partitions.
    OffsetFetch {
        /// Request id.
        req: u64,
        /// Group index.
        group: u32,
        /// Partitions.
        partitions: Vec<Tp>,
    },
    /// OffsetFetchResponse.
    OffsetFetchResponse {
        /// Request id.
        req: u64,
        /// Group index.
        group: u32,
        /// Committed offset per partition (none = no commit yet), or the error.
        result: Result<Vec<(Tp, Option<u64>)>, KafkaError>,
    },
    /// ListOffsets: the earliest (log start) or latest (high watermark) offset.
    ListOffsets {
        /// Request id.
        req: u64,
        /// Partition.
        tp: Tp,
        /// Earliest or latest.
        earliest: bool,
    },
    /// ListOffsetsResponse.
    ListOffsetsResponse {
        /// Request id.
        req: u64,
        /// Partition.
        tp: Tp,
        /// The offset or the error.
        result: Result<u64, KafkaError>,
    },
    /// A consumer's Fetch (read_uncommitted: only records below the high watermark).
    ConsumerFetch {
        /// Fetch id.
        id: u64,
        /// Partition.
        tp: Tp,
        /// The consumer's position.
        offset: u64,
    },
    /// FetchResponse to a consumer.
    ConsumerFetchResponse {
        /// Fetch id.
        id: u64,
        /// Partition.
        tp: Tp,
        /// Records from the position up to the high watermark.
        records: Vec<LogRecord>,
        /// The leader's high watermark.
        high_watermark: u64,
        /// Error, if any.
        error: Option<KafkaError>,
    },
}

/// A successful JoinGroupResponse.
#[derive(Clone, Debug, Serialize)]
pub struct JoinResult {
    /// The new generation.
    pub generation: i32,
    /// The member's id (assigned by the coordinator for new members).
    pub member_id: String,
    /// The leader's member id.
    pub leader: String,
    /// The assignor in use.
    pub strategy: Strategy,
    /// Every member, for the leader only (others get an empty list).
    pub members: Vec<JoinMember>,
}

/// One member as the group leader sees it in JoinGroupResponse.
#[derive(Clone, Debug, Serialize)]
pub struct JoinMember {
    /// Member id.
    pub member_id: String,
    /// The consumer behind it (the simulation's stand-in for Kafka's client id).
    pub consumer: u32,
    /// `group.instance.id`.
    pub instance_id: Option<String>,
    /// Subscribed topic indices.
    pub topics: Vec<u32>,
    /// Owned partitions.
    pub owned: Vec<Tp>,
    /// Generation of the owned partitions.
    pub generation: i32,
}

impl Msg {
    /// A short name for the message kind (used by animation and narration).
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Produce { .. } => "Produce",
            Msg::ProduceResponse { .. } => "ProduceResponse",
            Msg::Fetch { .. } => "Fetch",
            Msg::FetchResponse { .. } => "FetchResponse",
            Msg::Heartbeat { .. } => "BrokerHeartbeat",
            Msg::HeartbeatResponse { .. } => "BrokerHeartbeatResponse",
            Msg::AlterPartition { .. } => "AlterPartition",
            Msg::PartitionChange { .. } => "PartitionChange",
            Msg::ApiVersions => "ApiVersions",
            Msg::ApiVersionsResponse { .. } => "ApiVersionsResponse",
            Msg::MetadataRequest => "MetadataRequest",
            Msg::MetadataResponse { .. } => "MetadataResponse",
            Msg::FindCoordinator { .. } => "FindCoordinator",
            Msg::FindCoordinatorResponse { .. } => "FindCoordinatorResponse",
            Msg::JoinGroup { .. } => "JoinGroup",
            Msg::JoinGroupResponse { .. } => "JoinGroupResponse",
            Msg::SyncGroup { .. } => "SyncGroup",
            Msg::SyncGroupResponse { .. } => "SyncGroupResponse",
            Msg::GroupHeartbeat { .. } => "Heartbeat",
            Msg::GroupHeartbeatResponse { .. } => "HeartbeatResponse",
            Msg::LeaveGroup { .. } => "LeaveGroup",
            Msg::OffsetCommit { .. } => "OffsetCommit",
            Msg::OffsetCommitResponse { .. } => "OffsetCommitResponse",
            Msg::OffsetFetch { .. } => "OffsetFetch",
            Msg::OffsetFetchResponse { .. } => "OffsetFetchResponse",
            Msg::ListOffsets { .. } => "ListOffsets",
            Msg::ListOffsetsResponse { .. } => "ListOffsetsResponse",
            Msg::ConsumerFetch { .. } => "Fetch",
            Msg::ConsumerFetchResponse { .. } => "FetchResponse",
        }
    }
}

/// Why a message never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The link is cut (network partition).
    LinkCut,
    /// Random loss on the link.
    Loss,
    /// The receiver is crashed.
    ReceiverDown,
    /// The sender crashed after sending; a hard stop loses what it had in flight.
    SenderCrashed,
    /// An earlier message on this producer's connection was lost, so the connection is broken:
    /// TCP delivers in order, so nothing later gets through until the client reconnects.
    ConnectionBroken,
}

/// Timers that fire inside the simulation.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "timer", rename_all = "snake_case")]
pub enum Timer {
    /// A scenario timeline entry is due.
    Action {
        /// Index in the timeline.
        index: usize,
    },
    /// The next record of a rate-limited produce action.
    ProduceTick {
        /// Timeline entry.
        index: usize,
        /// Which record of the action (0-based).
        n: u32,
    },
    /// A broker sends its heartbeat (`broker.heartbeat.interval.ms`).
    Heartbeat {
        /// Broker.
        broker: BrokerId,
        /// Incarnation that set it.
        incarnation: u32,
    },
    /// A broker in controlled shutdown heartbeats again: 50 ms after the first answer, then every
    /// `broker.heartbeat.interval.ms`, or once that long after a heartbeat that got no answer.
    ShutdownHeartbeat {
        /// Broker.
        broker: BrokerId,
        /// Incarnation that set it.
        incarnation: u32,
        /// The broker's shutdown sequence number when it was set; a later heartbeat or answer
        /// voids it.
        seq: u32,
    },
    /// The controller checks a broker's session (`broker.session.timeout.ms`).
    SessionCheck {
        /// Broker.
        broker: BrokerId,
    },
    /// A parked follower fetch reaches `replica.fetch.wait.max.ms`.
    FetchWait {
        /// Leader.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Global partition index.
        pidx: u32,
        /// The parked fetch's id.
        fetch: u64,
    },
    /// A follower fetches again after `replica.fetch.backoff.ms`.
    FetchBackoff {
        /// Follower.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Global partition index.
        pidx: u32,
    },
    /// A follower checks its outstanding fetch against `replica.socket.timeout.ms`.
    FetchWatchdog {
        /// Follower.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Global partition index.
        pidx: u32,
    },
    /// A leader's periodic ISR check (every `replica.lag.time.max.ms` / 2).
    IsrCheck {
        /// Broker.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
    },
    /// A broker's periodic retention check.
    RetentionCheck {
        /// Broker.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
    },
    /// A producer checks request and delivery deadlines.
    ProducerDeadline {
        /// Producer.
        producer: u32,
    },
    /// A producer's backoff or linger has passed; it tries to send.
    ProducerWake {
        /// Producer.
        producer: u32,
    },
    /// A producer's connection attempt to a broker hit `socket.connection.setup.timeout.ms`.
    ProducerConnectTimeout {
        /// Producer.
        producer: u32,
        /// Broker.
        broker: BrokerId,
        /// Which attempt set it (a later attempt voids it).
        attempt: u32,
    },
    /// A consumer's background tick: heartbeat, request deadlines, `max.poll.interval.ms`.
    ConsumerTick {
        /// Consumer.
        consumer: u32,
        /// Its incarnation (a restart voids older timers).
        incarnation: u32,
    },
    /// A consumer's application finished processing one record.
    ConsumerProcessed {
        /// Consumer.
        consumer: u32,
        /// Incarnation.
        incarnation: u32,
    },
    /// A consumer's application calls `poll()` again (after a backoff or a stall).
    ConsumerPoll {
        /// Consumer.
        consumer: u32,
        /// Incarnation.
        incarnation: u32,
    },
    /// A parked consumer fetch reaches `fetch.max.wait.ms`.
    ConsumerFetchWait {
        /// Leader.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Global partition index.
        pidx: u32,
        /// The parked fetch's id.
        fetch: u64,
    },
    /// The coordinator's join phase ends (all members joined, initial delay or rebalance timeout).
    GroupJoinDeadline {
        /// Coordinator.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Group index.
        group: u32,
        /// Which rebalance round set it.
        round: u32,
    },
    /// The coordinator checks a member's session.
    MemberSessionCheck {
        /// Coordinator.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Group index.
        group: u32,
        /// Member id.
        member_id: String,
    },
}

/// What one step was: a message arrived (or was dropped on arrival), or a timer fired.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepEvent {
    /// A message arrived.
    Deliver {
        /// Message id.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// When it was sent.
        sent_at: u64,
        /// The message.
        msg: Msg,
    },
    /// A message reached the end of its link but was not received.
    Dropped {
        /// Message id.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Message kind.
        msg: &'static str,
        /// Why.
        reason: DropReason,
    },
    /// A timer fired.
    Timer {
        /// Which.
        timer: Timer,
    },
}

/// One consequence of a step, with the reason in its fields.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// A message left a node.
    Sent {
        /// Message id.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Kind.
        msg: &'static str,
        /// Arrival time, or none when it is dropped at once.
        arrives_at: Option<u64>,
        /// Set when the message will never arrive.
        dropped: Option<DropReason>,
    },
    /// A producer created records (the application called send()).
    RecordsCreated {
        /// Producer.
        producer: u32,
        /// Partition chosen.
        tp: Tp,
        /// Records.
        records: Vec<RecordId>,
        /// How the partition was chosen.
        how: Partitioning,
    },
    /// A leader appended a batch.
    LeaderAppended {
        /// Partition.
        tp: Tp,
        /// Leader.
        broker: BrokerId,
        /// First offset.
        first_offset: u64,
        /// Records.
        records: Vec<RecordId>,
        /// Leader epoch.
        epoch: u32,
    },
    /// A follower appended fetched records.
    FollowerAppended {
        /// Partition.
        tp: Tp,
        /// Follower.
        broker: BrokerId,
        /// First offset.
        first_offset: u64,
        /// Count.
        count: u32,
        /// Its new LEO.
        leo: u64,
    },
    /// An idempotent batch was recognised as a retry of one already in the log.
    DuplicateIgnored {
        /// Partition.
        tp: Tp,
        /// Leader.
        broker: BrokerId,
        /// Producer id.
        pid: u32,
        /// First sequence number.
        first_seq: i32,
        /// Offset where the original sits.
        offset: u64,
    },
    /// A leader refused a produce request.
    ProduceRejected {
        /// Partition.
        tp: Tp,
        /// Broker.
        broker: BrokerId,
        /// Error sent back.
        error: KafkaError,
        /// ISR size at the time (for NOT_ENOUGH_REPLICAS).
        isr_size: u32,
        /// `min.insync.replicas`.
        min_isr: u32,
        /// For OUT_OF_ORDER_SEQUENCE_NUMBER: the expected sequence.
        expected_seq: Option<i32>,
    },
    /// An idempotent producer bumped its epoch for a partition after OUT_OF_ORDER_SEQUENCE_NUMBER,
    /// numbering its unacknowledged batches there again from sequence 0.
    ProducerEpochBumped {
        /// Producer.
        producer: u32,
        /// Partition.
        tp: Tp,
        /// The new producer epoch.
        epoch: u16,
    },
    /// A producer's connection to a broker broke or could not be made: it is not used until
    /// `reconnect_at` (`reconnect.backoff.ms`, doubling up to `reconnect.backoff.max.ms`).
    ProducerDisconnected {
        /// Producer.
        producer: u32,
        /// Broker.
        broker: BrokerId,
        /// Why: the connection was refused, reset, or timed out.
        cause: &'static str,
        /// When it may connect again.
        reconnect_at: u64,
    },
    /// A producer's new connection to a broker is ready (its ApiVersions was answered).
    ProducerConnected {
        /// Producer.
        producer: u32,
        /// Broker.
        broker: BrokerId,
    },
    /// acks=all: the leader parked the response until the HW passes `required_offset`.
    AwaitingReplication {
        /// Partition.
        tp: Tp,
        /// Leader.
        broker: BrokerId,
        /// HW needed.
        required_offset: u64,
    },
    /// A replica's high watermark moved.
    HighWatermark {
        /// Partition.
        tp: Tp,
        /// Replica.
        broker: BrokerId,
        /// Old HW.
        from: u64,
        /// New HW.
        to: u64,
        /// True on the leader (computed from ISR LEOs), false on a follower (learned by fetch).
        leader: bool,
    },
    /// The leader's high watermark would have moved, but the ISR is below the effective
    /// `min.insync.replicas`, so it stays (Kafka 3.7+, KAFKA-15583).
    HighWatermarkHeld {
        /// Partition.
        tp: Tp,
        /// Leader.
        broker: BrokerId,
        /// The HW that stays.
        hw: u64,
        /// Where it would have moved with the rule of Kafka before 3.7.
        would_be: u64,
        /// Committed ISR size.
        isr_size: u32,
        /// `min.insync.replicas`, at most the replica count.
        min_isr: u32,
    },
    /// A leader asked the controller to remove lagging followers from the ISR.
    IsrShrinkRequested {
        /// Partition.
        tp: Tp,
        /// Leader.
        leader: BrokerId,
        /// Removed followers.
        removed: Vec<BrokerId>,
        /// How long since each was last caught up, in ms.
        lag_ms: u64,
        /// `replica.lag.time.max.ms`.
        max_lag_ms: u64,
    },
    /// A leader asked the controller to add a caught-up follower to the ISR.
    IsrExpandRequested {
        /// Partition.
        tp: Tp,
        /// Leader.
        leader: BrokerId,
        /// The follower.
        added: BrokerId,
        /// Its LEO.
        follower_leo: u64,
    },
    /// The controller committed a new ISR.
    IsrChanged {
        /// Partition.
        tp: Tp,
        /// Before.
        from: Vec<BrokerId>,
        /// After.
        to: Vec<BrokerId>,
        /// Eligible leader replicas before (always empty without them).
        elr_from: Vec<BrokerId>,
        /// Eligible leader replicas after.
        elr_to: Vec<BrokerId>,
        /// New partition epoch.
        partition_epoch: u32,
        /// What caused it.
        cause: IsrCause,
    },
    /// The controller rejected an AlterPartition that was based on stale state.
    AlterPartitionRejected {
        /// Partition.
        tp: Tp,
        /// Requester.
        leader: BrokerId,
        /// Why.
        error: KafkaError,
    },
    /// The controller fenced a broker that stopped heartbeating.
    BrokerFenced {
        /// Broker.
        broker: BrokerId,
        /// ms since its last heartbeat.
        silent_ms: u64,
        /// `broker.session.timeout.ms`.
        timeout_ms: u64,
    },
    /// The controller put a broker that wants to shut down and still leads partitions in
    /// CONTROLLED_SHUTDOWN: it leaves every ISR and may not lead.
    BrokerInControlledShutdown {
        /// Broker.
        broker: BrokerId,
    },
    /// The controller granted a shutdown (SHUTDOWN_NOW): the broker leads nothing, so it is
    /// fenced and told it may stop.
    ShutdownGranted {
        /// Broker.
        broker: BrokerId,
    },
    /// The controller unfenced a broker that heartbeats again.
    BrokerUnfenced {
        /// Broker.
        broker: BrokerId,
    },
    /// The controller chose a new leader.
    LeaderElected {
        /// Partition.
        tp: Tp,
        /// New leader.
        leader: BrokerId,
        /// Previous leader.
        previous: Option<BrokerId>,
        /// New leader epoch.
        epoch: u32,
        /// Where the leader came from.
        election: Election,
    },
    /// No replica can lead: the partition is offline.
    PartitionOffline {
        /// Partition.
        tp: Tp,
        /// The ISR, none of which is alive (empty with eligible leader replicas).
        isr: Vec<BrokerId>,
        /// The eligible leader replicas, none of which is alive.
        elr: Vec<BrokerId>,
        /// The leader it had, which may lead again when it returns (eligible leader replicas only).
        last_known_leader: Option<BrokerId>,
        /// Whether unclean election is allowed (and no live replica exists at all).
        unclean_allowed: bool,
    },
    /// A broker learned it leads a partition.
    BecameLeader {
        /// Partition.
        tp: Tp,
        /// Broker.
        broker: BrokerId,
        /// Epoch.
        epoch: u32,
        /// Its LEO (the epoch starts here).
        leo: u64,
    },
    /// A broker learned it follows a partition.
    BecameFollower {
        /// Partition.
        tp: Tp,
        /// Broker.
        broker: BrokerId,
        /// The leader to fetch from.
        leader: Option<BrokerId>,
        /// Epoch.
        epoch: u32,
    },
    /// A follower truncated its divergent tail.
    Truncated {
        /// Partition.
        tp: Tp,
        /// Follower.
        broker: BrokerId,
        /// LEO before.
        from: u64,
        /// LEO after.
        to: u64,
        /// Removed records.
        removed: Vec<RecordId>,
        /// The leader's (epoch, end offset) that showed the divergence.
        leader_epoch_end: (u32, u64),
    },
    /// A produce request completed successfully at the producer.
    Acknowledged {
        /// Producer.
        producer: u32,
        /// Partition.
        tp: Tp,
        /// Records.
        records: Vec<RecordId>,
        /// Base offset (none for acks=0).
        offset: Option<u64>,
        /// `acks`.
        acks: Acks,
    },
    /// A producer got an error for a batch.
    ProduceError {
        /// Producer.
        producer: u32,
        /// Partition.
        tp: Tp,
        /// Records.
        records: Vec<RecordId>,
        /// Error.
        error: KafkaError,
        /// Attempts so far.
        attempt: u32,
        /// When it retries, or none if the records failed for good.
        retry_at: Option<u64>,
    },
    /// A producer refreshed its metadata.
    MetadataUpdated {
        /// Producer.
        producer: u32,
        /// Partitions whose leader it now sees differently.
        changed: Vec<(Tp, Option<BrokerId>)>,
    },
    /// A late response for a request the producer already gave up on.
    StaleResponse {
        /// Producer.
        producer: u32,
        /// Request id.
        req: u64,
    },
    /// A follower's fetch timed out or failed; it will fetch again later.
    FetchFailed {
        /// Partition.
        tp: Tp,
        /// Follower.
        broker: BrokerId,
        /// Why.
        error: KafkaError,
        /// When it fetches again.
        retry_at: u64,
    },
    /// Retention deleted old records.
    RetentionDeleted {
        /// Partition.
        tp: Tp,
        /// Broker.
        broker: BrokerId,
        /// Records deleted.
        records: Vec<RecordId>,
        /// New log start offset.
        log_start: u64,
    },
    /// A broker crashed (hard stop).
    BrokerCrashed {
        /// Broker.
        broker: BrokerId,
    },
    /// A broker began a controlled shutdown (the operator's SIGTERM): it asks the controller to
    /// move its leaderships away before it stops.
    ControlledShutdownBegan {
        /// Broker.
        broker: BrokerId,
    },
    /// The controller answered the broker's shutdown heartbeat with `shouldShutDown = true`, and
    /// the broker stopped cleanly, leaving a clean-shutdown file.
    BrokerShutDown {
        /// Broker.
        broker: BrokerId,
    },
    /// A broker restarted with its log intact.
    BrokerRestarted {
        /// Broker.
        broker: BrokerId,
    },
    /// A link was cut.
    LinkCut {
        /// One end.
        from: NodeId,
        /// The other end.
        to: NodeId,
        /// Both directions.
        both: bool,
    },
    /// A link was healed.
    LinkHealed {
        /// One end.
        from: NodeId,
        /// The other end.
        to: NodeId,
        /// Both directions.
        both: bool,
    },
    /// A link's latency or loss changed.
    LinkChanged {
        /// One end.
        from: NodeId,
        /// The other end.
        to: NodeId,
        /// New latency.
        latency_ms: u64,
        /// New jitter.
        jitter_ms: u64,
        /// New loss probability.
        loss: f64,
    },
    /// A new consumer was added to a group.
    ConsumerAdded {
        /// The new consumer.
        consumer: u32,
        /// The consumer whose settings it copies.
        like: u32,
    },
    /// A consumer process started (or restarted).
    ConsumerStarted {
        /// Consumer.
        consumer: u32,
    },
    /// A consumer process crashed: no commit, no LeaveGroup.
    ConsumerCrashed {
        /// Consumer.
        consumer: u32,
        /// Records it had fetched or was processing, now gone with it.
        unprocessed: u32,
    },
    /// A consumer closed gracefully.
    ConsumerClosed {
        /// Consumer.
        consumer: u32,
        /// Whether it sent LeaveGroup (static members do not).
        left_group: bool,
    },
    /// The application thread blocks (a slow call): no poll until `until`.
    ConsumerStalled {
        /// Consumer.
        consumer: u32,
        /// When it resumes.
        until: u64,
    },
    /// A consumer learned its group's coordinator.
    CoordinatorFound {
        /// Consumer.
        consumer: u32,
        /// Coordinator broker.
        coordinator: BrokerId,
        /// The `__consumer_offsets` partition it leads.
        offsets_partition: u32,
    },
    /// The coordinator started a rebalance.
    RebalanceStarted {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Why.
        reason: RebalanceReason,
        /// When the join phase ends at the latest.
        deadline: u64,
    },
    /// The coordinator removed a member.
    MemberRemoved {
        /// Group index.
        group: u32,
        /// Member id.
        member_id: String,
        /// Consumer.
        consumer: u32,
        /// Why.
        reason: RemoveReason,
    },
    /// The join phase ended: a new generation with these members.
    GenerationStarted {
        /// Group index.
        group: u32,
        /// Generation.
        generation: i32,
        /// Leader's member id.
        leader: String,
        /// Members (consumer index, member id).
        members: Vec<(u32, String)>,
        /// The assignor.
        strategy: Strategy,
    },
    /// The group leader computed the assignment.
    AssignmentComputed {
        /// Group index.
        group: u32,
        /// Leader consumer.
        consumer: u32,
        /// Consumer index → partitions.
        assignment: Vec<(u32, Vec<Tp>)>,
        /// Partitions withheld this round because their owner must revoke them first (cooperative).
        withheld: Vec<Tp>,
    },
    /// The group leader's assignor failed (the group cannot stabilise).
    AssignmentFailed {
        /// Group index.
        group: u32,
        /// Why.
        reason: String,
    },
    /// The coordinator stored the assignment: the group is stable.
    GroupStable {
        /// Group index.
        group: u32,
        /// Generation.
        generation: i32,
    },
    /// A static member came back under the same `group.instance.id`: no rebalance.
    StaticMemberReplaced {
        /// Group index.
        group: u32,
        /// Consumer.
        consumer: u32,
        /// The old member id (now fenced).
        old_member: String,
        /// The new member id.
        new_member: String,
    },
    /// `onPartitionsRevoked` (or `onPartitionsLost`).
    PartitionsRevoked {
        /// Consumer.
        consumer: u32,
        /// Partitions.
        partitions: Vec<Tp>,
        /// Why they go.
        how: Revocation,
    },
    /// `onPartitionsAssigned`.
    PartitionsAssigned {
        /// Consumer.
        consumer: u32,
        /// Partitions newly assigned.
        partitions: Vec<Tp>,
        /// Generation.
        generation: i32,
    },
    /// `poll()` returned records to the application; the position moved past them.
    Polled {
        /// Consumer.
        consumer: u32,
        /// (partition, offset, record) in the order returned.
        records: Vec<(Tp, u64, RecordId)>,
    },
    /// The application finished processing a record.
    RecordProcessed {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// Offset.
        offset: u64,
        /// Record.
        record: RecordId,
        /// How many times this group has processed it now.
        times: u32,
    },
    /// A consumer sent an offset commit.
    CommitSent {
        /// Consumer.
        consumer: u32,
        /// (partition, next offset).
        offsets: Vec<(Tp, u64)>,
        /// Why now.
        kind: CommitKind,
    },
    /// The coordinator stored committed offsets (replicated to `min.insync.replicas`).
    OffsetsCommitted {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Consumer that committed.
        consumer: u32,
        /// (partition, offset).
        offsets: Vec<(Tp, u64)>,
    },
    /// A commit failed at the consumer.
    CommitFailed {
        /// Consumer.
        consumer: u32,
        /// The error.
        error: KafkaError,
        /// What it tried to commit.
        offsets: Vec<(Tp, u64)>,
    },
    /// The consumer set its position from the group's committed offset.
    PositionFromCommit {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// Offset.
        offset: u64,
    },
    /// The consumer applied `auto.offset.reset`.
    OffsetReset {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// New position.
        offset: u64,
        /// The policy.
        policy: OffsetReset,
        /// True when the old position was out of range, false when there was no committed offset.
        out_of_range: bool,
    },
    /// A consumer request failed; it will retry.
    ConsumerRequestFailed {
        /// Consumer.
        consumer: u32,
        /// Request kind.
        request: &'static str,
        /// Error.
        error: KafkaError,
    },
    /// The heartbeat thread found `max.poll.interval.ms` exceeded.
    PollTimeout {
        /// Consumer.
        consumer: u32,
        /// Time since the last poll.
        since_poll_ms: u64,
        /// `max.poll.interval.ms`.
        max_ms: u64,
        /// Whether it sent LeaveGroup (static members do not).
        left_group: bool,
    },
    /// A consumer hit an error that stops its poll loop (e.g. NoOffsetForPartitionException).
    ConsumerFailed {
        /// Consumer.
        consumer: u32,
        /// The error.
        error: KafkaError,
        /// Partition.
        tp: Tp,
    },
    /// A broker became coordinator of a group and loaded it from `__consumer_offsets`.
    GroupLoaded {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Generation found.
        generation: i32,
        /// Committed offsets found.
        offsets: Vec<(Tp, u64)>,
    },
    /// Lecturer narration.
    Say {
        /// Text.
        text: String,
    },
    /// A pause point with a question for the class.
    Pause {
        /// Question.
        question: String,
        /// Answer revealed on continue.
        answer: Option<String>,
        /// Answers the class picks from (none: an open question).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        choices: Vec<String>,
        /// The right choice's index (from 0), if one is right.
        #[serde(skip_serializing_if = "Option::is_none")]
        correct: Option<u32>,
    },
}

/// Why a rebalance started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RebalanceReason {
    /// A new member joined (consumer index).
    MemberJoined {
        /// Consumer.
        consumer: u32,
    },
    /// A known member rejoined (e.g. after its partitions were revoked, cooperative second round).
    MemberRejoined {
        /// Consumer.
        consumer: u32,
    },
    /// A member was removed.
    MemberRemoved {
        /// Consumer.
        consumer: u32,
    },
}

/// How a consumer gives up partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// Eager protocol: everything, before rejoining.
    Eager,
    /// Cooperative protocol: only the partitions that move.
    Cooperative,
    /// `onPartitionsLost`: the member was thrown out of the group, another may own them already.
    Lost,
}

/// Why the coordinator removed a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoveReason {
    /// No heartbeat for `session.timeout.ms`.
    SessionTimeout,
    /// It sent LeaveGroup.
    LeftGroup,
    /// It did not rejoin before the rebalance timeout (`max.poll.interval.ms`).
    RebalanceTimeout,
}

/// Why a consumer committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitKind {
    /// `enable.auto.commit`: inside `poll()`, every `auto.commit.interval.ms`.
    Auto,
    /// Auto-commit before joining a rebalance.
    BeforeRebalance,
    /// Auto-commit on `close()`.
    OnClose,
    /// `commitSync()` before processing (at-most-once).
    SyncBeforeProcessing,
    /// `commitSync()` after processing (at-least-once).
    SyncAfterProcessing,
    /// `commitAsync()` after processing.
    AsyncAfterProcessing,
}

/// How the producer chose a record's partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Partitioning {
    /// The record named its partition.
    Explicit,
    /// murmur2 of the key.
    Key,
    /// No key: the sticky partitioner's current partition.
    Sticky,
}

/// Why the ISR changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IsrCause {
    /// The leader asked (AlterPartition).
    AlterPartition,
    /// The controller removed a fenced broker.
    BrokerFenced,
    /// A broker was unfenced and the controller tried an election again.
    BrokerUnfenced,
    /// A broker entered controlled shutdown: it leaves the ISR, and leadership moves away.
    ControlledShutdown,
    /// A broker re-registered after an unclean shutdown: it leaves the ISR and the ELR.
    UncleanShutdown,
    /// A leader was elected from the ELR and is now the whole ISR.
    ElrElection,
    /// The last known leader was elected and is now the whole ISR.
    LastKnownLeaderElection,
    /// An unclean election reset the ISR to the new leader.
    UncleanElection,
}

/// How the controller chose a leader (`PartitionChangeBuilder.electAnyLeader`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Election {
    /// The first live ISR member in assignment order.
    Isr,
    /// The ISR was empty: the first live eligible leader replica (KIP-966). Clean: it has every
    /// committed record.
    Elr,
    /// The ISR and the ELR were empty: the partition's last leader came back and leads again,
    /// with the ISR reset to it (leader recovery state RECOVERING). Kafka allows this even with
    /// `unclean.leader.election.enable=false`.
    LastKnownLeader,
    /// No ISR or ELR member was alive and `unclean.leader.election.enable` let an out-of-sync
    /// replica lead.
    Unclean,
}

/// One step of the simulation: exactly one event and what followed from it.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// 0-based step number.
    pub index: u64,
    /// Virtual time in ms.
    pub time: u64,
    /// The event.
    pub event: StepEvent,
    /// Its consequences, in order.
    pub effects: Vec<Effect>,
}
