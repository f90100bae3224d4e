//! Transactions: the transaction coordinator that runs on the brokers (`coordinator`), the
//! states of a transaction (`state`) and the coordinator's effects (`effect`). The producer's
//! side of the protocol is the client layer's (`client::transactions`); the partitions' side
//! (markers, the last stable offset, the aborted index) is the cluster layer's
//! (`cluster::txn_index`).
//!
//! Like the group layer, it sits on the cluster layer and uses only it and the foundation
//! modules (`tests/layers.rs` checks). The root joins it to the rest in `sim::txn_glue`: the
//! coordinator's appends to `__transaction_state`, the markers' appends at the leaders, and the
//! leaders' AddPartitionsToTxn before a transaction's first write to a partition.

pub mod coordinator;
pub mod effect;
pub mod state;

pub use coordinator::{TxnCoordinator, TxnLayout, TxnOut};
pub use effect::{TxnCause, TxnEffect};
pub use state::{TxnMetadata, TxnState};

use serde::Serialize;

/// A `transactional.id` of the scenario and where its coordinator lives.
#[derive(Clone, Debug, Serialize)]
pub struct TxnId {
    /// The `transactional.id`.
    pub name: String,
    /// Its `__transaction_state` partition (global index): `abs(hashCode) % partitions`.
    pub pidx: u32,
}
