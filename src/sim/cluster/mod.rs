//! The cluster layer, the bottom one: brokers (their lifecycle in `broker`, the produce path and
//! the high watermark in `produce`, leader and follower replication, truncation by leader epoch
//! and ISR checks in `replication`, retention), the KRaft controller (fencing, elections, eligible
//! leader replicas, controlled shutdown) and each replica's log. `effect` defines the effects the
//! layer produces and narrates them.
//!
//! It may use only the foundation modules of `sim` (types, config, topic, map, shared, ledger, msg,
//! timer, narrate, ctx, net), never the group or client layers or the root (`tests/layers.rs`
//! checks). The controller's handlers are methods of [`controller::Controller`]; replication's
//! (both the followers' and the leaders'), the leaders' appends, the high watermark's computation
//! and the leaders' answers to consumer fetches are methods of [`broker::Broker`]. They reach the
//! rest of the simulation only through a [`Ctx`](crate::sim::ctx::Ctx) (the clock, request ids,
//! and an outbox for messages, timers and [`effect::ClusterEffect`]s that the root drains in
//! order), a read-only `Layout` (partitions, topics and broker settings) and, for appends, the
//! ledger. What joins a broker to the other layers (its lifecycle, which resets the consumers'
//! connections and loses the groups it coordinated; the dispatch of what it receives; the produce
//! request's checks and what a moved high watermark sets off, which includes the group layer's
//! commits) is the root's, in `sim::broker_glue` and `sim::produce_glue`.

pub mod broker;
pub mod controller;
pub mod effect;
pub mod log;
pub(crate) mod produce;
pub(crate) mod replication;
pub mod txn_index;

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
