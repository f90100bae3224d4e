//! The cluster layer, the bottom one: brokers (their lifecycle in `broker`, the produce path and
//! the high watermark in `produce`, leader and follower replication, truncation by leader epoch
//! and ISR checks in `replication`, retention), the KRaft controller (fencing, elections, eligible
//! leader replicas, controlled shutdown) and each replica's log. `effect` defines the effects the
//! layer produces and narrates them.
//!
//! It may use only the foundation modules of `sim` (types, config, map, shared, ledger, msg,
//! timer, narrate), never the group or client layers. Its handlers are still `impl Sim` blocks
//! that reach the simulation root for the clock, the queue and the RNG (and call the group layer
//! once, when a stopping broker forgets the groups it coordinated); giving them a narrow context of
//! their own is the next step of the layout (issue 21).

pub mod broker;
pub mod controller;
pub mod effect;
pub mod log;
mod produce;
mod replication;
