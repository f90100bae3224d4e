//! The transaction coordinator's effects: producer ids given, partitions added, transactions
//! prepared, fenced, timed out and completed, each next to the sentence that narrates it.

use super::state::TxnState;
use crate::sim::narrate::{partitions, Names};
use crate::sim::types::{BrokerId, KafkaError, Tp};
use serde::Serialize;

/// A consequence of a step at a transaction coordinator.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum TxnEffect {
    /// The coordinator moved a transaction to a new state and wrote it to `__transaction_state`.
    TxnTransition {
        /// The `transactional.id` (index).
        txn: u32,
        /// The coordinator.
        coordinator: BrokerId,
        /// The state before.
        from: TxnState,
        /// The state now.
        to: TxnState,
        /// Producer id.
        pid: u32,
        /// Producer epoch now.
        epoch: u16,
        /// The transaction's partitions.
        partitions: Vec<Tp>,
        /// Why.
        cause: TxnCause,
    },
    /// The coordinator refused a request.
    TxnRequestRefused {
        /// The `transactional.id` (index).
        txn: u32,
        /// The coordinator.
        coordinator: BrokerId,
        /// Which request.
        request: &'static str,
        /// The error.
        error: KafkaError,
    },
    /// The coordinator sends the transaction's markers to the partitions' leaders.
    MarkersSent {
        /// The `transactional.id` (index).
        txn: u32,
        /// The coordinator.
        coordinator: BrokerId,
        /// COMMIT or ABORT.
        commit: bool,
        /// The partitions.
        partitions: Vec<Tp>,
    },
    /// A new coordinator loaded the transactions of a `__transaction_state` partition.
    TxnsLoaded {
        /// The coordinator.
        coordinator: BrokerId,
        /// The `transactional.id`s and their states.
        txns: Vec<(u32, TxnState)>,
    },
}

/// Why a transaction changed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnCause {
    /// InitProducerId from an idle `transactional.id`: a new epoch.
    InitProducerId,
    /// InitProducerId while a transaction was open: the old instance is fenced, its transaction
    /// aborted.
    Fenced,
    /// A partition's leader added its partition (transaction version 2's implicit add).
    PartitionAdded,
    /// EndTxn from the producer.
    EndTxn,
    /// Open longer than `transaction.timeout.ms`.
    TimedOut,
    /// Every marker was written.
    MarkersWritten,
}

impl TxnEffect {
    /// The effect as a sentence that says why.
    pub fn describe(&self, names: &dyn Names) -> String {
        match self {
            TxnEffect::TxnTransition { txn, coordinator, from, to, pid, epoch, partitions: parts, cause } => {
                let id = names.txn_name(*txn);
                let why = match cause {
                    TxnCause::InitProducerId => format!("InitProducerId: producer id {pid}, epoch {epoch}; any older epoch is fenced"),
                    TxnCause::Fenced => format!(
                        "a new instance called initTransactions while a transaction was open: the epoch goes to {epoch}, which fences the old instance, and its transaction is aborted"
                    ),
                    TxnCause::PartitionAdded => format!("the transaction now covers {}", partitions(names, parts)),
                    TxnCause::EndTxn => format!(
                        "EndTxn: the epoch goes to {epoch} (transaction version 2), markers will go to {}",
                        partitions(names, parts)
                    ),
                    TxnCause::TimedOut => format!(
                        "open longer than its transaction.timeout.ms: the coordinator aborts it and bumps the epoch to {epoch}, so the producer is fenced"
                    ),
                    TxnCause::MarkersWritten => "every partition has its marker".to_string(),
                };
                format!("broker-{coordinator} (transaction coordinator): {id} {} → {}: {why}", from.name(), to.name())
            }
            TxnEffect::TxnRequestRefused { txn, coordinator, request, error } => {
                let why = match error {
                    KafkaError::ConcurrentTransactions => "the previous transaction is still completing; the client retries",
                    KafkaError::ProducerFenced => "its producer epoch is older than the coordinator's: a newer instance took over",
                    KafkaError::InvalidTxnState => "the transaction is not in a state that allows it",
                    KafkaError::NotCoordinator => "this broker does not lead the transactional id's __transaction_state partition",
                    KafkaError::CoordinatorNotAvailable => "__transaction_state has too few in-sync replicas to write",
                    KafkaError::InvalidProducerIdMapping => "the producer id is not the one this transactional id has",
                    _ => "refused",
                };
                format!("broker-{coordinator}: {request} of {} refused with {}: {why}", names.txn_name(*txn), error.name())
            }
            TxnEffect::MarkersSent { txn, coordinator, commit, partitions: parts } => format!(
                "broker-{coordinator} sends {} markers for {} to the leaders of {}",
                if *commit { "COMMIT" } else { "ABORT" },
                names.txn_name(*txn),
                partitions(names, parts)
            ),
            TxnEffect::TxnsLoaded { coordinator, txns } => {
                let list: Vec<String> = txns.iter().map(|(t, s)| format!("{} {}", names.txn_name(*t), s.name())).collect();
                format!(
                    "broker-{coordinator} becomes transaction coordinator and loads {} from __transaction_state; a prepared commit or abort gets its markers again",
                    if list.is_empty() { "nothing".to_string() } else { list.join(", ") }
                )
            }
        }
    }
}
