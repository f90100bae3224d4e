//! Identifiers and small value types shared by every part of the simulation.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A broker id, as in `node.id`. Brokers are numbered from 1.
pub type BrokerId = u32;

/// The ledger's id for one record a producer created (duplicates in a log share it).
pub type RecordId = u32;

/// A topic-partition, by topic index (order of declaration) and partition number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Tp {
    /// Index of the topic in the scenario's topic list.
    pub topic: u32,
    /// Partition number within the topic.
    pub partition: u32,
}

/// A participant that sends and receives messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum NodeId {
    /// The KRaft controller (modelled as one always-available quorum).
    Controller,
    /// A broker, by `node.id`.
    Broker(BrokerId),
    /// A producer client, by index in the scenario's producer list.
    Producer(u32),
    /// A consumer client, by index in the scenario's consumer list.
    Consumer(u32),
}

/// The error codes a real Kafka client or broker reports, by their protocol names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KafkaError {
    /// The broker is not the leader of the partition (or its metadata is stale).
    NotLeaderOrFollower,
    /// acks=all and the ISR is smaller than `min.insync.replicas`; nothing was appended.
    NotEnoughReplicas,
    /// acks=all; appended, but the ISR shrank below `min.insync.replicas` before the HW reached it.
    NotEnoughReplicasAfterAppend,
    /// An idempotent batch arrived with a gap in its sequence numbers.
    OutOfOrderSequenceNumber,
    /// An idempotent batch carried an older producer epoch than the leader has seen.
    InvalidProducerEpoch,
    /// The client gave up waiting for a response after `request.timeout.ms`.
    RequestTimedOut,
    /// A consumer's value deserializer could not read a record (the client's
    /// `RecordDeserializationException`, no error code on the wire).
    RecordDeserialization,
    /// The record was not acknowledged within `delivery.timeout.ms` (the client's TimeoutException).
    DeliveryTimeout,
    /// `commitSync()` kept meeting retriable errors until `default.api.timeout.ms` passed (the
    /// client's TimeoutException).
    CommitTimeout,
    /// The partition has no leader.
    LeaderNotAvailable,
    /// A follower's fetch carried an older leader epoch than the leader's.
    FencedLeaderEpoch,
    /// A follower's fetch carried a newer leader epoch than the broker knows.
    UnknownLeaderEpoch,
    /// A fetch asked for an offset outside the leader's log.
    OffsetOutOfRange,
    /// AlterPartition was based on an old partition epoch.
    InvalidUpdateVersion,
    /// AlterPartition tried to add a fenced broker to the ISR.
    IneligibleReplica,
    /// The connection to the broker failed (it crashed; its OS reset the connection).
    NetworkException,
    /// The broker is not the group's coordinator (any more).
    NotCoordinator,
    /// The coordinator could not write to `__consumer_offsets` (e.g. too few in-sync replicas).
    CoordinatorNotAvailable,
    /// The group is rebalancing: the member must rejoin.
    RebalanceInProgress,
    /// The request carried an old generation of the group.
    IllegalGeneration,
    /// The coordinator does not know this member (it was removed).
    UnknownMemberId,
    /// A newer member took over this `group.instance.id`.
    FencedInstanceId,
    /// `session.timeout.ms` is outside the broker's `group.min/max.session.timeout.ms`.
    InvalidSessionTimeout,
    /// No committed offset and `auto.offset.reset=none` (the client's `NoOffsetForPartitionException`).
    NoOffsetForPartition,
    /// A commit from a consumer that is no longer in the group (the client's `CommitFailedException`).
    CommitFailed,
    /// `send()` refused a record whose serialized size (its upper bound) exceeds
    /// `max.request.size`: the client's `RecordTooLargeException`, before any request.
    RecordTooLarge,
    /// The leader refused a batch larger than the topic's `max.message.bytes` (error code 10; the
    /// application receives it as a `RecordTooLargeException` too).
    MessageTooLarge,
    /// KIP-320: the consumer's position is past the end of its epoch on the new leader and
    /// `auto.offset.reset=none` (the client's `LogTruncationException`).
    LogTruncation,
    /// A newer instance with the same `transactional.id` took over: this producer is fenced
    /// (the client's fatal `ProducerFencedException`).
    ProducerFenced,
    /// The request does not fit the transaction's state (e.g. a commit of a transaction that
    /// was aborted meanwhile); fatal at the client.
    InvalidTxnState,
    /// The transaction coordinator is busy completing a previous transaction of the same
    /// `transactional.id`; the client retries.
    ConcurrentTransactions,
    /// The producer id does not belong to the `transactional.id` the coordinator knows.
    InvalidProducerIdMapping,
    /// A record that was still in the producer when the application aborted its transaction
    /// (the client's `TransactionAbortedException`): it was never sent.
    TransactionAborted,
    /// An OffsetFetch asked with `require_stable` for a partition whose offset a transaction
    /// has written but not yet committed or aborted; the consumer retries after
    /// `retry.backoff.ms`.
    UnstableOffsetCommit,
}

impl KafkaError {
    /// The protocol name, e.g. `NOT_ENOUGH_REPLICAS`.
    pub fn name(self) -> &'static str {
        match self {
            KafkaError::NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
            KafkaError::NotEnoughReplicas => "NOT_ENOUGH_REPLICAS",
            KafkaError::NotEnoughReplicasAfterAppend => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
            KafkaError::OutOfOrderSequenceNumber => "OUT_OF_ORDER_SEQUENCE_NUMBER",
            KafkaError::InvalidProducerEpoch => "INVALID_PRODUCER_EPOCH",
            KafkaError::RequestTimedOut => "REQUEST_TIMED_OUT",
            KafkaError::RecordDeserialization => "RECORD_DESERIALIZATION",
            KafkaError::DeliveryTimeout => "DELIVERY_TIMEOUT",
            KafkaError::CommitTimeout => "COMMIT_TIMEOUT",
            KafkaError::LeaderNotAvailable => "LEADER_NOT_AVAILABLE",
            KafkaError::FencedLeaderEpoch => "FENCED_LEADER_EPOCH",
            KafkaError::UnknownLeaderEpoch => "UNKNOWN_LEADER_EPOCH",
            KafkaError::OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
            KafkaError::InvalidUpdateVersion => "INVALID_UPDATE_VERSION",
            KafkaError::IneligibleReplica => "INELIGIBLE_REPLICA",
            KafkaError::NetworkException => "NETWORK_EXCEPTION",
            KafkaError::NotCoordinator => "NOT_COORDINATOR",
            KafkaError::CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
            KafkaError::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            KafkaError::IllegalGeneration => "ILLEGAL_GENERATION",
            KafkaError::UnknownMemberId => "UNKNOWN_MEMBER_ID",
            KafkaError::FencedInstanceId => "FENCED_INSTANCE_ID",
            KafkaError::InvalidSessionTimeout => "INVALID_SESSION_TIMEOUT",
            KafkaError::NoOffsetForPartition => "NO_OFFSET_FOR_PARTITION",
            KafkaError::CommitFailed => "COMMIT_FAILED",
            KafkaError::RecordTooLarge => "RECORD_TOO_LARGE",
            KafkaError::MessageTooLarge => "MESSAGE_TOO_LARGE",
            KafkaError::LogTruncation => "LOG_TRUNCATION",
            KafkaError::ProducerFenced => "PRODUCER_FENCED",
            KafkaError::InvalidTxnState => "INVALID_TXN_STATE",
            KafkaError::ConcurrentTransactions => "CONCURRENT_TRANSACTIONS",
            KafkaError::InvalidProducerIdMapping => "INVALID_PRODUCER_ID_MAPPING",
            KafkaError::TransactionAborted => "TRANSACTION_ABORTED",
            KafkaError::UnstableOffsetCommit => "UNSTABLE_OFFSET_COMMIT",
        }
    }

    /// Every error, for validating names written in scenario files.
    pub const ALL: [KafkaError; 34] = [
        KafkaError::NotLeaderOrFollower,
        KafkaError::NotEnoughReplicas,
        KafkaError::NotEnoughReplicasAfterAppend,
        KafkaError::OutOfOrderSequenceNumber,
        KafkaError::InvalidProducerEpoch,
        KafkaError::RequestTimedOut,
        KafkaError::DeliveryTimeout,
        KafkaError::CommitTimeout,
        KafkaError::LeaderNotAvailable,
        KafkaError::FencedLeaderEpoch,
        KafkaError::UnknownLeaderEpoch,
        KafkaError::OffsetOutOfRange,
        KafkaError::InvalidUpdateVersion,
        KafkaError::IneligibleReplica,
        KafkaError::NetworkException,
        KafkaError::NotCoordinator,
        KafkaError::CoordinatorNotAvailable,
        KafkaError::RebalanceInProgress,
        KafkaError::IllegalGeneration,
        KafkaError::UnknownMemberId,
        KafkaError::FencedInstanceId,
        KafkaError::InvalidSessionTimeout,
        KafkaError::NoOffsetForPartition,
        KafkaError::CommitFailed,
        KafkaError::RecordTooLarge,
        KafkaError::MessageTooLarge,
        KafkaError::LogTruncation,
        KafkaError::ProducerFenced,
        KafkaError::InvalidTxnState,
        KafkaError::ConcurrentTransactions,
        KafkaError::InvalidProducerIdMapping,
        KafkaError::TransactionAborted,
        KafkaError::UnstableOffsetCommit,
        KafkaError::RecordDeserialization,
    ];

    /// Whether the Java producer retries this error (a `RetriableException`).
    pub fn retriable(self) -> bool {
        // `RecordTooLargeException` is an `ApiException`, not a `RetriableException`.
        !matches!(
            self,
            KafkaError::DeliveryTimeout
                | KafkaError::CommitTimeout
                | KafkaError::InvalidProducerEpoch
                | KafkaError::RecordTooLarge
                | KafkaError::MessageTooLarge
                | KafkaError::ProducerFenced
                | KafkaError::InvalidTxnState
                | KafkaError::InvalidProducerIdMapping
                | KafkaError::TransactionAborted
                | KafkaError::RecordDeserialization
        )
    }
}

impl fmt::Display for KafkaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One record batch entry as stored in a replica's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LogRecord {
    /// Offset in the partition.
    pub offset: u64,
    /// Leader epoch of the leader that appended it (the batch's partitionLeaderEpoch).
    pub epoch: u32,
    /// Which ledger record this is (key and value live in the ledger).
    pub record: RecordId,
    /// Producer id for idempotent producers, 0 otherwise.
    pub pid: u32,
    /// Sequence number of this record for its producer and partition (-1 without idempotence).
    pub seq: i32,
    /// True on the first record of a producer batch (batch boundaries drive duplicate detection).
    pub batch_start: bool,
    /// The idempotent producer's epoch for this partition (it bumps it to restart sequences at 0).
    pub producer_epoch: u16,
    /// Virtual time the leader appended it (used by `retention.ms`).
    pub append_time: u64,
    /// A plain record, a record of a transaction, or a transaction marker (a control record).
    #[serde(skip_serializing_if = "RecordKind::is_plain")]
    pub kind: RecordKind,
    /// Size in bytes in the log: the record's v2 size in its batch (`DefaultRecord.sizeInBytes`),
    /// and on a batch's first record also the batch header (61), so that a log's bytes are its
    /// batches' (`sim::size`).
    pub size: u32,
}

/// What a log entry is: Kafka marks a batch `isTransactional` when a transactional producer
/// wrote it, and `isControl` for a transaction marker, which takes an offset but holds no data a
/// consumer sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// An ordinary record.
    #[default]
    Plain,
    /// A record written inside a transaction.
    Transactional,
    /// A COMMIT marker: the producer's transaction up to here is committed.
    Commit,
    /// An ABORT marker: the producer's transaction up to here is aborted.
    Abort,
}

impl RecordKind {
    /// Not part of a transaction.
    pub fn is_plain(&self) -> bool {
        *self == RecordKind::Plain
    }

    /// A transaction marker (a control record).
    pub fn is_marker(self) -> bool {
        matches!(self, RecordKind::Commit | RecordKind::Abort)
    }
}

/// The `partition.assignment.strategy` names. The assignors are the group layer's
/// (`group::assignor`); the names are here because the consumer's settings and the group
/// protocol's messages carry them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// `RangeAssignor`.
    Range,
    /// `RoundRobinAssignor`.
    #[serde(rename = "roundrobin")]
    RoundRobin,
    /// `StickyAssignor` (eager).
    Sticky,
    /// `CooperativeStickyAssignor` (KIP-429).
    CooperativeSticky,
}

impl Strategy {
    /// The name Kafka gives the assignor.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Range => "range",
            Strategy::RoundRobin => "roundrobin",
            Strategy::Sticky => "sticky",
            Strategy::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// Parses a strategy name.
    pub fn parse(name: &str) -> Option<Strategy> {
        [Strategy::Range, Strategy::RoundRobin, Strategy::Sticky, Strategy::CooperativeSticky].into_iter().find(|s| s.name() == name)
    }

    /// Whether the strategy uses the cooperative rebalance protocol.
    pub fn cooperative(self) -> bool {
        self == Strategy::CooperativeSticky
    }
}
