//! Plain data describing one step: the event that happened and every consequence, with its reason.

use super::config::Acks;
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
    /// A client's MetadataRequest.
    MetadataRequest,
    /// MetadataResponse: the leader of every partition.
    MetadataResponse {
        /// Leader per partition, in global partition order.
        leaders: Vec<Option<BrokerId>>,
    },
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
            Msg::AlterPartition { .. } => "AlterPartition",
            Msg::PartitionChange { .. } => "PartitionChange",
            Msg::MetadataRequest => "MetadataRequest",
            Msg::MetadataResponse { .. } => "MetadataResponse",
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
        /// True when the leader was not in the ISR (`unclean.leader.election.enable`).
        unclean: bool,
    },
    /// No replica can lead: the partition is offline.
    PartitionOffline {
        /// Partition.
        tp: Tp,
        /// The ISR, none of which is alive.
        isr: Vec<BrokerId>,
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
    },
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
    /// An unclean election reset the ISR to the new leader.
    UncleanElection,
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
