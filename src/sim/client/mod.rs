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
