//! The per-record ledger: every record a producer created, each attempt to send it, every place a
//! leader appended it, and how it ended.

use super::map::VecMap;
use super::shared::{Chunked, History};
use super::serdes::Payload;
use super::size::record_size;
use super::types::{BrokerId, KafkaError, RecordId, Strategy, Tp};
use serde::Serialize;

/// The producer index the ledger gives the group coordinator's own records.
pub const COORDINATOR: u32 = u32::MAX;

/// A record the group coordinator writes to `__consumer_offsets`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InternalRecord {
    /// A committed offset (key: group, topic, partition; value: offset).
    OffsetCommit {
        /// Group index.
        group: u32,
        /// Partition.
        tp: Tp,
        /// The next offset to read.
        offset: u64,
    },
    /// The group's generation, leader and assignment, written when it stabilises.
    GroupMetadata {
        /// Group index.
        group: u32,
        /// Generation.
        generation: i32,
        /// Leader member id.
        leader: Option<String>,
        /// The assignor the group picked (Kafka's group `protocol`).
        protocol: Option<Strategy>,
        /// Every member and its assignment.
        members: Vec<StoredMember>,
        /// The coordinator's counter for new member ids, so a new coordinator never reuses one.
        next_member: u32,
    },
    /// A transaction coordinator's record in `__transaction_state` (key: the `transactional.id`):
    /// the metadata a transition led to, as `TransactionLog` writes it.
    TransactionState {
        /// The `transactional.id` (index).
        txn: u32,
        /// Producer id.
        pid: u32,
        /// Producer epoch.
        epoch: u16,
        /// Kafka's state id (0 Empty, 1 Ongoing, 2 PrepareCommit, 3 PrepareAbort, 4 CompleteCommit,
        /// 5 CompleteAbort).
        state: u8,
        /// The transaction's partitions.
        partitions: Vec<Tp>,
        /// `transaction.timeout.ms`.
        timeout_ms: u64,
        /// When the transaction started.
        start: u64,
    },
    /// An offset a transactional producer committed in its transaction (TxnOffsetCommit): an
    /// OffsetCommit record in a transactional batch of producer id `pid`, which counts only once
    /// the transaction's COMMIT marker follows it.
    TxnOffsetCommit {
        /// Group index.
        group: u32,
        /// Partition.
        tp: Tp,
        /// The next offset to read.
        offset: u64,
        /// The transaction's producer id.
        pid: u32,
    },
    /// A transaction marker (a control record) in a data partition or `__consumer_offsets`.
    TxnMarker {
        /// COMMIT, or ABORT.
        commit: bool,
        /// Producer id.
        pid: u32,
        /// Producer epoch of the marker.
        epoch: u16,
    },
}

/// One member as a GroupMetadata record stores it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredMember {
    /// Member id.
    pub member_id: String,
    /// The consumer behind it.
    pub consumer: u32,
    /// Its partitions.
    pub assignment: Vec<Tp>,
}

/// What one group did with one record.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Consumption {
    /// Times `poll()` returned it to a member.
    pub fetched: u32,
    /// Times a member finished processing it.
    pub processed: u32,
    /// Times a commit newly covered it (the committed offset moved past it).
    pub committed: u32,
}

/// One processing of a record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Processing {
    /// When.
    pub at: u64,
    /// Consumer.
    pub consumer: u32,
    /// Record.
    pub record: RecordId,
    /// Partition.
    pub tp: Tp,
    /// Offset.
    pub offset: u64,
}

/// One point of a lag curve.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LagSample {
    /// When.
    pub at: u64,
    /// Global partition index.
    pub pidx: u32,
    /// End offset (the leader's high watermark) minus the committed offset.
    pub lag: u64,
}

/// Everything one consumer group did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupLedger {
    /// Per record.
    pub records: Chunked<Consumption>,
    /// Every processing, in order.
    pub processing: History<Processing>,
    /// Where the group started reading each partition (its first position).
    pub start_offsets: VecMap<u32, u64>,
    /// The committed offset per partition, as last stored.
    pub committed: VecMap<u32, u64>,
    /// Lag over time (a sample whenever it changes).
    pub lag: History<LagSample>,
    /// Rebalances started.
    pub rebalances: u32,
    /// Per partition, records that retention deleted before the group read them and that a
    /// consumer then skipped (its position was out of range).
    #[serde(skip_serializing_if = "VecMap::is_empty")]
    pub deleted_unread: VecMap<u32, u64>,
    /// The latest lag per partition, so that only changes are sampled.
    #[serde(skip)]
    pub(crate) last_lag: VecMap<u32, u64>,
}

/// How a record ended at the producer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Outcome {
    /// Not yet acknowledged or failed.
    Pending,
    /// The producer's callback saw success.
    Acknowledged {
        /// When.
        at: u64,
        /// Offset reported (none for acks=0).
        offset: Option<u64>,
    },
    /// The producer's callback saw an error.
    Failed {
        /// When.
        at: u64,
        /// The error.
        error: KafkaError,
    },
}

/// One leader append of the record.
#[derive(Clone, Debug, Serialize)]
pub struct Append {
    /// When.
    pub at: u64,
    /// The leader that appended it.
    pub broker: BrokerId,
    /// Offset.
    pub offset: u64,
    /// Leader epoch.
    pub epoch: u32,
}

/// Everything known about one record.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerRecord {
    /// Id (creation order).
    pub id: RecordId,
    /// Producer index.
    pub producer: u32,
    /// Partition.
    pub tp: Tp,
    /// Key, if any.
    pub key: Option<String>,
    /// Value: its text (a scenario's `value_bytes` pads it, without the padding being kept).
    pub value: String,
    /// The value's length in bytes: the text's, or `value_bytes` when the scenario pads it.
    pub value_bytes: u32,
    /// Its size in bytes in the batch it joined at `send()` (`DefaultRecord.sizeInBytes`).
    pub size: u32,
    /// When send() was called.
    pub created_at: u64,
    /// Send attempts: the produce requests that carried it.
    pub attempts: u32,
    /// Leader appends (more than one means a duplicate was written).
    pub appends: Vec<Append>,
    /// Final outcome at the producer.
    pub outcome: Outcome,
    /// For the coordinator's own records in `__consumer_offsets`: what it says.
    pub internal: Option<Box<InternalRecord>>,
    /// When retention first deleted a copy of it: a record gone from the final log for this
    /// reason was kept as long as `retention.ms`/`retention.bytes` promised, and is not a loss.
    pub deleted_by_retention_at: Option<u64>,
    /// For a transactional producer's record: what became of its transaction.
    #[serde(skip_serializing_if = "TxnFate::is_none")]
    pub txn: TxnFate,
    /// For a pipeline's output record: the input record it was made from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<RecordId>,
    /// The value's bytes, when its serializer was not `StringSerializer` (whose bytes are the
    /// text): what a consumer's deserializer reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Box<Payload>>,
}

/// What became of a record's transaction, as its partition's leader wrote the marker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnFate {
    /// Not written in a transaction.
    #[default]
    None,
    /// In the log, its transaction not ended yet there.
    Open,
    /// Its partition has the transaction's COMMIT marker.
    Committed,
    /// Its partition has the transaction's ABORT marker.
    Aborted,
}

impl TxnFate {
    /// Not a transaction's record.
    pub fn is_none(&self) -> bool {
        *self == TxnFate::None
    }
}

impl LedgerRecord {
    /// Whether the producer saw success.
    pub fn acknowledged(&self) -> bool {
        matches!(self.outcome, Outcome::Acknowledged { .. })
    }
}

/// All records.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Ledger {
    /// Records by id.
    pub records: Chunked<LedgerRecord>,
    /// Consumption per consumer group (by group index).
    pub groups: Vec<GroupLedger>,
    /// Every rebalance listener call the consumers' applications saw, in order.
    pub listener_calls: History<ListenerCall>,
    /// The exception that last stopped each consumer's poll loop, by consumer index.
    pub stopped_by: VecMap<u32, KafkaError>,
}

/// A `ConsumerRebalanceListener` method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ListenerMethod {
    /// `onPartitionsAssigned`.
    #[serde(rename = "onPartitionsAssigned")]
    Assigned,
    /// `onPartitionsRevoked`.
    #[serde(rename = "onPartitionsRevoked")]
    Revoked,
    /// `onPartitionsLost`.
    #[serde(rename = "onPartitionsLost")]
    Lost,
}

impl ListenerMethod {
    /// The Java method's name.
    pub fn name(self) -> &'static str {
        match self {
            ListenerMethod::Assigned => "onPartitionsAssigned",
            ListenerMethod::Revoked => "onPartitionsRevoked",
            ListenerMethod::Lost => "onPartitionsLost",
        }
    }
}

/// One call of a consumer's rebalance listener.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListenerCall {
    /// When.
    pub at: u64,
    /// Consumer index.
    pub consumer: u32,
    /// Which method.
    pub method: ListenerMethod,
    /// The partitions it was given.
    pub partitions: Vec<Tp>,
}

impl Ledger {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create(&mut self, producer: u32, tp: Tp, key: Option<String>, value: String, value_bytes: u32, size: u32, now: u64) -> RecordId {
        let id = self.records.len() as RecordId;
        self.records.push(LedgerRecord {
            id,
            producer,
            tp,
            key,
            value,
            value_bytes,
            size,
            created_at: now,
            attempts: 0,
            appends: Vec::new(),
            outcome: Outcome::Pending,
            internal: None,
            deleted_by_retention_at: None,
            txn: TxnFate::None,
            source: None,
            payload: None,
        });
        id
    }

    /// A coordinator record, with key and value as `kafka-console-consumer` would print them.
    pub(crate) fn create_internal(&mut self, tp: Tp, record: InternalRecord, key: String, value: String, now: u64) -> RecordId {
        // Each coordinator write is a batch of its own.
        let size = record_size(0, 0, Some(key.len() as u32), Some(value.len() as u32));
        let value_bytes = value.len() as u32;
        let id = self.create(COORDINATOR, tp, Some(key), value, value_bytes, size, now);
        let r = &mut self.records[id as usize];
        r.internal = Some(Box::new(record));
        r.outcome = Outcome::Acknowledged { at: now, offset: None };
        id
    }

    pub(crate) fn group_mut(&mut self, g: u32) -> &mut GroupLedger {
        let g = g as usize;
        if self.groups.len() <= g {
            self.groups.resize_with(g + 1, GroupLedger::default);
        }
        &mut self.groups[g]
    }

    pub(crate) fn record_fetched(&mut self, g: u32, id: RecordId) {
        self.group_mut(g).records.entry(id as usize).fetched += 1;
    }

    /// Counts a processing and returns how many times the group has processed the record.
    pub(crate) fn record_processed(&mut self, g: u32, id: RecordId, consumer: u32, tp: Tp, offset: u64, at: u64) -> u32 {
        let gl = self.group_mut(g);
        gl.processing.push(Processing { at, consumer, record: id, tp, offset });
        let c = gl.records.entry(id as usize);
        c.processed += 1;
        c.processed
    }

    /// The first position the group took on a partition (records before it were never its to read).
    pub(crate) fn note_start(&mut self, g: u32, pidx: u32, offset: u64) {
        self.group_mut(g).start_offsets.entry(pidx).or_insert(offset);
    }

    pub(crate) fn record_append(&mut self, id: RecordId, broker: BrokerId, offset: u64, epoch: u32, at: u64) {
        push_exact(&mut self.records[id as usize].appends, Append { at, broker, offset, epoch });
    }

    /// Retention deleted a replica's copy of the record.
    pub(crate) fn record_deleted_by_retention(&mut self, id: RecordId, at: u64) {
        self.records[id as usize].deleted_by_retention_at.get_or_insert(at);
    }

    pub(crate) fn record_attempt(&mut self, id: RecordId) {
        self.records[id as usize].attempts += 1;
    }

    /// A consumer's application saw a rebalance listener call.
    pub(crate) fn record_listener_call(&mut self, at: u64, consumer: u32, method: ListenerMethod, partitions: &[Tp]) {
        self.listener_calls.push(ListenerCall { at, consumer, method, partitions: partitions.to_vec() });
    }

    /// An exception stopped a consumer's poll loop.
    pub(crate) fn record_stopped(&mut self, consumer: u32, error: KafkaError) {
        self.stopped_by.insert(consumer, error);
    }

    /// The record with this id.
    pub fn get(&self, id: RecordId) -> &LedgerRecord {
        &self.records[id as usize]
    }
}

/// Appends without the spare capacity a `Vec` usually reserves: a record has one or two appends,
/// and on a run of 100,000 records the spare room of four would cost megabytes.
fn push_exact<T>(items: &mut Vec<T>, item: T) {
    items.reserve_exact(1);
    items.push(item);
}
