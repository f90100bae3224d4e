//! A transaction's state at its coordinator (`TransactionState`, `TransactionMetadata`): the
//! states, which may follow which, and what the coordinator keeps per `transactional.id`.

use crate::sim::types::Tp;
use serde::Serialize;

/// The coordinator's states of a transaction (Kafka's `TransactionState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TxnState {
    /// No transaction open: after InitProducerId.
    Empty,
    /// A transaction is open: partitions have been added to it.
    Ongoing,
    /// The producer asked to commit: the markers are being written.
    PrepareCommit,
    /// The producer asked to abort, or the coordinator fenced or timed it out: the markers are
    /// being written.
    PrepareAbort,
    /// Every partition has its COMMIT marker.
    CompleteCommit,
    /// Every partition has its ABORT marker.
    CompleteAbort,
    /// A new instance is fencing an open transaction: never written, turned at once into
    /// PrepareAbort with a bumped epoch.
    PrepareEpochFence,
}

impl TxnState {
    /// Kafka's name.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }

    /// Every state, for validating names written in scenario files.
    pub const ALL: [TxnState; 7] = [
        TxnState::Empty,
        TxnState::Ongoing,
        TxnState::PrepareCommit,
        TxnState::PrepareAbort,
        TxnState::CompleteCommit,
        TxnState::CompleteAbort,
        TxnState::PrepareEpochFence,
    ];

    /// Kafka's `TransactionState.validPreviousStates` (with transaction version 2, where an abort
    /// may start from Empty and the Complete states too).
    pub fn may_follow(self, from: TxnState) -> bool {
        use TxnState::*;
        match self {
            Empty => matches!(from, Empty | CompleteCommit | CompleteAbort),
            Ongoing => matches!(from, Ongoing | Empty | CompleteCommit | CompleteAbort),
            PrepareCommit => from == Ongoing,
            PrepareAbort => matches!(from, Ongoing | PrepareEpochFence | Empty | CompleteCommit | CompleteAbort),
            CompleteCommit => from == PrepareCommit,
            CompleteAbort => from == PrepareAbort,
            PrepareEpochFence => from == Ongoing,
        }
    }

    /// A state in which no transaction is open or finishing.
    pub fn is_idle(self) -> bool {
        matches!(self, TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort)
    }
}

/// What the coordinator keeps of one `transactional.id` (`TransactionMetadata`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxnMetadata {
    /// The producer id given to this `transactional.id`.
    pub pid: u32,
    /// The current producer epoch; older ones are fenced.
    pub epoch: u16,
    /// The state.
    pub state: TxnState,
    /// The partitions the open transaction has written to, sorted.
    pub partitions: Vec<Tp>,
    /// The producer's `transaction.timeout.ms`.
    pub timeout_ms: u64,
    /// When the open transaction started (its first partition was added).
    pub start: u64,
}

/// A record of `__transaction_state`: the metadata a transition leads to, which the next
/// coordinator loads after a failover (the last record per `transactional.id` wins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxnLogEntry {
    /// The `transactional.id` (index).
    pub txn: u32,
    /// The metadata after the transition.
    pub metadata: TxnMetadata,
}

#[cfg(test)]
mod tests {
    use super::TxnState::{self, *};

    /// Kafka 4.1's `TransactionState` table, written out pair by pair: every legal transition
    /// is allowed and every other is refused.
    #[test]
    fn the_transitions_are_kafkas() {
        let legal: &[(TxnState, TxnState)] = &[
            (Empty, Empty),
            (CompleteCommit, Empty),
            (CompleteAbort, Empty),
            (Ongoing, Ongoing),
            (Empty, Ongoing),
            (CompleteCommit, Ongoing),
            (CompleteAbort, Ongoing),
            (Ongoing, PrepareCommit),
            (Ongoing, PrepareAbort),
            (PrepareEpochFence, PrepareAbort),
            (Empty, PrepareAbort),
            (CompleteCommit, PrepareAbort),
            (CompleteAbort, PrepareAbort),
            (PrepareCommit, CompleteCommit),
            (PrepareAbort, CompleteAbort),
            (Ongoing, PrepareEpochFence),
        ];
        let mut checked = 0;
        for from in TxnState::ALL {
            for to in TxnState::ALL {
                let expected = legal.contains(&(from, to));
                assert_eq!(to.may_follow(from), expected, "{} → {}", from.name(), to.name());
                checked += 1;
            }
        }
        assert_eq!(checked, 49);
    }
}
