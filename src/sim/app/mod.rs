//! Applications built on the clients: a consume-transform-produce pipeline (`pipeline`). An
//! application decides which call its clients make next from what they report; the root runs
//! the calls (`sim::pipeline_glue`), so this layer uses only the clients' state and the
//! foundation modules (`tests/layers.rs` checks).

pub mod effect;
pub mod pipeline;
