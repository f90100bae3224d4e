//! Consumer groups, above the cluster layer: the group coordinator that runs on the leader of a
//! `__consumer_offsets` partition (membership, rebalances, offset commits stored as records, and
//! the groups each broker holds in memory) and the partition assignors the group leader runs.
//! `effect` defines the coordinator's effects and narrates them.
//!
//! It may use the foundation modules of `sim` and the cluster layer (the coordinator writes through
//! the replicas' logs), never the client layer. The assignors are pure functions over their inputs
//! (they use only `sim::map`). The coordinator's handlers are `impl Sim` blocks, as in the cluster
//! layer.

pub mod assignor;
pub mod coordinator;
pub mod effect;
