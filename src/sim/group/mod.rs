//! Consumer groups, above the cluster layer: the group coordinator that runs on the leader of a
//! `__consumer_offsets` partition (membership, rebalances, offset commits stored as records, and
//! the groups each broker holds in memory), the group's choice of an assignor among those its
//! members list (`protocol`) and the partition assignors the group leader runs.
//! `effect` defines the coordinator's effects and narrates them.
//!
//! It may use the foundation modules of `sim` and the cluster layer (the coordinator writes through
//! the replicas' logs), never the client layer. The assignors are pure functions over their inputs
//! (they use only `sim::map`). The coordinator's handlers are methods of
//! [`coordinator::Coordinator`], one per broker: they reach the rest of the simulation only
//! through a [`Ctx`](crate::sim::ctx::Ctx) whose outbox holds, in order, their messages, timers,
//! [`effect::GroupEffect`]s and their appends to `__consumer_offsets`
//! ([`coordinator::CoordinatorOut`]), a read-only `GroupLayout` (the groups, partitions and
//! settings, and each consumer's name, settings and subscription), and the ledger where they
//! count rebalances and read the records they load. The root's glue (`sim::coordinator_glue`)
//! runs them and does the parts that cross layers: an append goes through the cluster layer's
//! produce path, a commit comes back from the high watermark, and the ledger counts what a
//! stored commit covers.

pub mod assignor;
pub mod coordinator;
pub mod effect;
pub mod protocol;
