//! The messages nodes send each other, in the Kafka protocol's terms. Every layer speaks through
//! them, so they sit below the layers.

use super::types::Strategy;
use super::config::Acks;
use super::types::{BrokerId, KafkaError, LogRecord, RecordId, Tp};
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
        /// The `transactional.id` (index) of a transactional producer's batch.
        #[serde(skip_serializing_if = "Option::is_none")]
        transactional_id: Option<u32>,
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
        /// Leader epoch per partition, in the same order.
        epochs: Vec<u32>,
        /// Partition count per topic, by topic index (0 for a topic not created yet).
        partitions: Vec<u32>,
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
    /// ListOffsets: the earliest (log start) or latest (high watermark, or last stable offset)
    /// offset.
    ListOffsets {
        /// Request id.
        req: u64,
        /// Partition.
        tp: Tp,
        /// Earliest or latest.
        earliest: bool,
        /// With `isolation.level = read_committed`, latest is the last stable offset.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        read_committed: bool,
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
    /// A consumer's OffsetsForLeaderEpoch (KIP-320): where the leader's log ends `leader_epoch`, the
    /// epoch of the last record the consumer read.
    ConsumerOffsetsForLeaderEpoch {
        /// Request id.
        req: u64,
        /// Partition.
        tp: Tp,
        /// The leader epoch the consumer believes current.
        current_leader_epoch: u32,
        /// The epoch of the consumer's last consumed record.
        leader_epoch: u32,
    },
    /// Its response: the largest epoch at most the one asked for and its end offset (none when the
    /// leader's epoch cache is empty), or the error.
    ConsumerOffsetsForLeaderEpochResponse {
        /// Request id.
        req: u64,
        /// Partition.
        tp: Tp,
        /// (epoch, end offset), or the error.
        result: Result<Option<(u32, u64)>, KafkaError>,
    },
    /// A consumer's Fetch: below the high watermark (read_uncommitted), or below the last
    /// stable offset (read_committed).
    ConsumerFetch {
        /// Fetch id.
        id: u64,
        /// Partition.
        tp: Tp,
        /// The consumer's position.
        offset: u64,
        /// `isolation.level` = read_committed.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        read_committed: bool,
    },
    /// FetchResponse to a consumer.
    ConsumerFetchResponse {
        /// Fetch id.
        id: u64,
        /// Partition.
        tp: Tp,
        /// Records from the position up to the high watermark (or the last stable offset).
        records: Vec<LogRecord>,
        /// The leader's high watermark.
        high_watermark: u64,
        /// Error, if any.
        error: Option<KafkaError>,
        /// For read_committed: the last stable offset.
        #[serde(skip_serializing_if = "Option::is_none")]
        last_stable_offset: Option<u64>,
        /// For read_committed: the aborted transactions among the records, as (producer id,
        /// first offset).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        aborted: Vec<(u32, u64)>,
    },
    /// FindCoordinator for a `transactional.id` (answered from the cluster metadata).
    FindTxnCoordinator {
        /// The `transactional.id` (index).
        txn: u32,
    },
    /// The broker leading the transactional id's `__transaction_state` partition.
    FindTxnCoordinatorResponse {
        /// The `transactional.id` (index).
        txn: u32,
        /// The coordinator, or none while that partition is offline.
        coordinator: Option<BrokerId>,
    },
    /// InitProducerId: a producer id and a new epoch for a `transactional.id`, or a new producer
    /// id for an idempotent producer.
    InitProducerId {
        /// Request id.
        req: u64,
        /// The `transactional.id` (index); none for an idempotent producer.
        txn: Option<u32>,
        /// `transaction.timeout.ms`.
        timeout_ms: u64,
    },
    /// InitProducerIdResponse.
    InitProducerIdResponse {
        /// Request id.
        req: u64,
        /// (producer id, epoch), or the error.
        result: Result<(u32, u16), KafkaError>,
    },
    /// AddPartitionsToTxn from a partition's leader (transaction version 2: the leader adds the
    /// partition before it appends the transaction's first batch there).
    AddPartitionsToTxn {
        /// Request id.
        req: u64,
        /// The `transactional.id` (index).
        txn: u32,
        /// Producer id.
        pid: u32,
        /// Producer epoch.
        epoch: u16,
        /// The partition.
        tp: Tp,
    },
    /// AddPartitionsToTxnResponse.
    AddPartitionsToTxnResponse {
        /// Request id.
        req: u64,
        /// The partition.
        tp: Tp,
        /// Error, if any.
        error: Option<KafkaError>,
    },
    /// EndTxn: commit or abort the open transaction.
    EndTxn {
        /// Request id.
        req: u64,
        /// The `transactional.id` (index).
        txn: u32,
        /// Producer id.
        pid: u32,
        /// Producer epoch.
        epoch: u16,
        /// Commit (else abort).
        commit: bool,
    },
    /// EndTxnResponse: with transaction version 2, the producer id and the new epoch.
    EndTxnResponse {
        /// Request id.
        req: u64,
        /// (producer id, epoch), or the error.
        result: Result<(u32, u16), KafkaError>,
    },
    /// WriteTxnMarkers from the transaction coordinator to a partition leader.
    WriteTxnMarkers {
        /// Request id.
        req: u64,
        /// The `transactional.id` (index), for narration.
        txn: u32,
        /// Producer id.
        pid: u32,
        /// The marker's producer epoch.
        epoch: u16,
        /// COMMIT (else ABORT).
        commit: bool,
        /// The partitions this leader leads.
        tps: Vec<Tp>,
    },
    /// WriteTxnMarkersResponse, one per partition once its marker is replicated.
    WriteTxnMarkersResponse {
        /// Request id.
        req: u64,
        /// The partition.
        tp: Tp,
        /// Error, if any.
        error: Option<KafkaError>,
    },
    /// TxnOffsetCommit (v5, transaction version 2) from a transactional producer to the group
    /// coordinator: offsets that become the group's committed offsets if the transaction
    /// commits (`sendOffsetsToTransaction`).
    TxnOffsetCommit {
        /// Request id.
        req: u64,
        /// The `transactional.id` (index).
        txn: u32,
        /// Group index.
        group: u32,
        /// Producer id.
        pid: u32,
        /// Producer epoch.
        epoch: u16,
        /// The consumer's generation from `groupMetadata()` (−1: none).
        generation: i32,
        /// The consumer's member id from `groupMetadata()` (empty: none).
        member_id: String,
        /// (partition, offset).
        offsets: Vec<(Tp, u64)>,
    },
    /// TxnOffsetCommitResponse (simplification: one error for every partition, as the group's
    /// errors are in Kafka).
    TxnOffsetCommitResponse {
        /// Request id.
        req: u64,
        /// Group index.
        group: u32,
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
            Msg::ConsumerOffsetsForLeaderEpoch { .. } => "OffsetsForLeaderEpoch",
            Msg::ConsumerOffsetsForLeaderEpochResponse { .. } => "OffsetsForLeaderEpochResponse",
            Msg::ConsumerFetch { .. } => "Fetch",
            Msg::ConsumerFetchResponse { .. } => "FetchResponse",
            Msg::FindTxnCoordinator { .. } => "FindCoordinator",
            Msg::FindTxnCoordinatorResponse { .. } => "FindCoordinatorResponse",
            Msg::InitProducerId { .. } => "InitProducerId",
            Msg::InitProducerIdResponse { .. } => "InitProducerIdResponse",
            Msg::AddPartitionsToTxn { .. } => "AddPartitionsToTxn",
            Msg::AddPartitionsToTxnResponse { .. } => "AddPartitionsToTxnResponse",
            Msg::EndTxn { .. } => "EndTxn",
            Msg::EndTxnResponse { .. } => "EndTxnResponse",
            Msg::WriteTxnMarkers { .. } => "WriteTxnMarkers",
            Msg::WriteTxnMarkersResponse { .. } => "WriteTxnMarkersResponse",
            Msg::TxnOffsetCommit { .. } => "TxnOffsetCommit",
            Msg::TxnOffsetCommitResponse { .. } => "TxnOffsetCommitResponse",
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
