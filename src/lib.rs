//! kafkasim: a deterministic, step-by-step simulator of Apache Kafka for teaching.
//!
//! [`sim`] is the pure core (no I/O, virtual time, one seeded RNG); [`scenario`] reads lesson
//! files into a [`sim::Setup`] and checks their expectations.

pub mod scenario;
pub mod sim;
