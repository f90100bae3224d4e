//! kafkasim: a deterministic, step-by-step simulator of Apache Kafka for teaching.
//!
//! [`sim`] is the pure core (no I/O, virtual time, one seeded RNG); [`scenario`] reads lesson
//! files into a [`sim::Setup`] and checks their expectations; [`session`] plays a run back and
//! forth for the page; [`share`] packs a run into a link. `ui` (WebAssembly only) is the page.

pub mod scenario;
pub mod session;
pub mod share;
pub mod sim;
#[cfg(target_arch = "wasm32")]
mod ui;

pub mod explore;

/// The scenarios shipped in `scenarios/`, embedded at build time: natively their texts and their
/// catalogue, in the page only the catalogue (the page fetches a lesson's text when it opens it).
pub mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

    /// Whether `name` (a file name without `.toml`) is a shipped scenario.
    pub fn listed(name: &str) -> bool {
        CATALOG.iter().any(|(n, ..)| *n == name)
    }

    /// The text of a shipped scenario, by file name without `.toml`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn get(name: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
    }
}
