//! The cluster layer: brokers (leader and follower replication, the ISR and the high watermark,
//! truncation by leader epoch, retention), the KRaft controller (fencing, elections, eligible
//! leader replicas, controlled shutdown) and each replica's log.
//!
//! It may use the foundation modules of `sim` (types, config, map, shared, step). Its handlers are
//! still `impl Sim` blocks that reach the simulation root for the clock, the queue and the RNG;
//! giving them a narrow context of their own is the next step of the layout (issue 21).

pub mod effect;
pub mod broker;
pub mod controller;
pub mod log;
mod produce;
mod replication;
