//! The cluster layer, the bottom one: brokers (their lifecycle in `broker`, the produce path and
//! the high watermark in `produce`, leader and follower replication, truncation by leader epoch
//! and ISR checks in `replication`, retention), the KRaft controller (fencing, elections, eligible
//! leader replicas, controlled shutdown) and each replica's log. `effect` defines the effects the
//! layer produces and narrates them.
//!
//! It may use only the foundation modules of `sim` (types, config, topic, map, shared, ledger, msg,
//! timer, narrate, ctx), never the group or client layers. The controller's handlers are methods
//! of [`controller::Controller`], and replication's (both the followers' and the leaders'), the
//! leaders' appends, the high watermark's computation and the leaders' answers to consumer
//! fetches are methods of [`broker::Broker`]: they reach the rest of the simulation only through
//! a [`Ctx`](crate::sim::ctx::Ctx) (the clock, request ids, and an outbox for messages, timers
//! and [`effect::ClusterEffect`]s that the root drains in order), a read-only `Layout`
//! (partitions, topics and broker settings) and, for appends, the ledger. The rest of the
//! brokers' handlers (lifecycle, metadata changes, the produce request's checks and acks and what
//! a moved high watermark sets off, retention) are still `impl Sim` blocks that reach the
//! simulation root for the clock, the queue and the RNG, and reach the group coordinator only
//! through the root's glue in `sim::coordinator_glue` (a group request, a change of leadership of
//! a `__consumer_offsets` partition, a commit the high watermark completes, a stopping broker);
//! giving them a context too is the rest of issue 21.

pub mod broker;
pub mod controller;
pub mod effect;
pub mod log;
mod produce;
pub(crate) mod replication;

use crate::sim::config::BrokerConfig;
use crate::sim::topic::Topic;
use crate::sim::types::Tp;

/// What the layer's handlers read of the state the root owns, all fixed at setup: the partitions
/// by global index, the topics with their settings, and the brokers' settings.
pub(crate) struct Layout<'a> {
    pub(crate) tps: &'a [Tp],
    pub(crate) topics: &'a [Topic],
    pub(crate) config: &'a BrokerConfig,
}

impl Layout<'_> {
    /// Whether the cluster runs with eligible leader replicas (KIP-966).
    fn elr_enabled(&self) -> bool {
        self.config.eligible_leader_replicas_version >= 1
    }

    fn pidx(&self, tp: Tp) -> u32 {
        self.topics[tp.topic as usize].base + tp.partition
    }
}
