//! The client layer, the top one: the producer (partitioning, batching, the Sender, retries,
//! idempotence, connections) and the consumer (its lifecycle in `consumer`, the poll loop and the
//! fetcher in `consumer::poll`, group membership and offset commits in `consumer::membership`),
//! after the Java clients. `effect` defines the effects both produce and narrates them.
//!
//! It may use the foundation modules of `sim`, the cluster layer's metadata (the producer starts
//! from the controller's leaders) and the group layer's assignors (the group leader runs them, as
//! the Java consumer does); it speaks to brokers and coordinators only through messages. Its
//! handlers are still `impl Sim` blocks, as in the cluster layer.

pub mod consumer;
pub mod effect;
pub mod producer;

use super::ledger::Ledger;
use super::topic::Topic;
use super::types::Tp;

/// What a client's handler reads of the cluster's layout and writes to the ledger. A client knows
/// the topics as its metadata names them; the ledger is the observer's record of every record's
/// fate, which the clients keep as they act (a real client keeps no such book).
pub struct ClientEnv<'a> {
    /// Every partition by global index.
    pub tps: &'a [Tp],
    /// Topics in declaration order.
    pub topics: &'a [Topic],
    /// The per-record ledger.
    pub ledger: &'a mut Ledger,
}

impl ClientEnv<'_> {
    /// The topic-partition with global index `pidx`.
    pub fn tp(&self, pidx: u32) -> Tp {
        self.tps[pidx as usize]
    }

    /// Global index of a topic-partition.
    pub fn pidx(&self, tp: Tp) -> u32 {
        self.topics[tp.topic as usize].base + tp.partition
    }
}
