//! The client layer: the producer (partitioning, batching, the Sender, retries, idempotence,
//! connections) and the consumer (the poll loop, fetching, offset commits, group membership), after
//! the Java clients.
//!
//! It may use the foundation modules of `sim` and speaks to the cluster only through messages. Its
//! handlers are still `impl Sim` blocks, as in the cluster layer.

pub mod effect;
pub mod consumer;
pub mod producer;
