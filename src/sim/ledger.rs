//! The per-record ledger: every record a producer created, each attempt to send it, every place a
//! leader appended it, and how it ended.

use super::types::{BrokerId, KafkaError, RecordId, Tp};
use serde::Serialize;

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

/// One send attempt.
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    /// When it was sent.
    pub at: u64,
    /// To which broker.
    pub broker: BrokerId,
    /// Request id.
    pub req: u64,
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
    /// Value.
    pub value: String,
    /// Size in bytes as counted by the simulation.
    pub size: u32,
    /// When send() was called.
    pub created_at: u64,
    /// Send attempts.
    pub attempts: Vec<Attempt>,
    /// Leader appends (more than one means a duplicate was written).
    pub appends: Vec<Append>,
    /// Follower copies made.
    pub replica_copies: u32,
    /// Errors the producer saw for it.
    pub errors: Vec<(u64, KafkaError)>,
    /// Final outcome at the producer.
    pub outcome: Outcome,
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
    pub records: Vec<LedgerRecord>,
}

impl Ledger {
    pub(crate) fn create(&mut self, producer: u32, tp: Tp, key: Option<String>, value: String, size: u32, now: u64) -> RecordId {
        let id = self.records.len() as RecordId;
        self.records.push(LedgerRecord {
            id,
            producer,
            tp,
            key,
            value,
            size,
            created_at: now,
            attempts: Vec::new(),
            appends: Vec::new(),
            replica_copies: 0,
            errors: Vec::new(),
            outcome: Outcome::Pending,
        });
        id
    }

    pub(crate) fn record_append(&mut self, id: RecordId, broker: BrokerId, offset: u64, epoch: u32, at: u64) {
        self.records[id as usize].appends.push(Append { at, broker, offset, epoch });
    }

    pub(crate) fn record_replica_append(&mut self, id: RecordId) {
        self.records[id as usize].replica_copies += 1;
    }

    /// The record with this id.
    pub fn get(&self, id: RecordId) -> &LedgerRecord {
        &self.records[id as usize]
    }
}
