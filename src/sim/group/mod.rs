//! Consumer groups: the group coordinator that runs on the leader of a `__consumer_offsets`
//! partition (membership, rebalances, offset commits stored as records) and the partition
//! assignors the group leader runs.
//!
//! The assignors are pure functions over their inputs (they use only `sim::map`); the coordinator
//! writes through the cluster layer's logs.

pub mod effect;
pub mod assignor;
pub mod coordinator;
