//! Apache Avro, as much of it as records with structure need: schemas parsed from their JSON text
//! ([`schema`]), values and their binary encoding ([`value`]), reading with another schema
//! ([`resolve`]), and the compatibility check ([`compat`]) that Schema Registry's modes are made of
//! ([`registry_level`]), and the registry's verdict in words ([`verdict`]).
//!
//! Each part follows Avro 1.12's Java classes, which `tests/conformance_avro.rs` asks on generated
//! cases: `Schema.Parser`, `GenericDatumWriter` with a `BinaryEncoder`, `GenericDatumReader` with
//! a writer and a reader schema, and `SchemaCompatibility`. Logical types are read as the types
//! they annotate (a `timestamp-millis` is a `long`), as the compatibility check treats them.
//! Written here rather than taken from the `apache-avro` crate: that crate adds 108 KB (gzipped,
//! after `wasm-opt`) to the page, and its compatibility check answers differently (it stops at the
//! first problem, gives no locations, and calls a reader that lacks some writer enum symbols
//! partially compatible where Java calls it incompatible).

pub mod compat;
pub mod resolve;
pub mod schema;
pub mod value;
pub mod verdict;

pub use compat::{check, Compatibility, Incompatibility, IncompatibilityType};
pub use schema::{ErrorClass, Node, NodeId, Schema, SchemaError};
pub use value::{encode, Value};

/// A subject's compatibility level in Schema Registry (`compatibility` / `compatibilityLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    /// Every registration is accepted.
    None,
    /// The new schema reads data written with the latest version (the default).
    Backward,
    /// The new schema reads data written with every version.
    BackwardTransitive,
    /// The latest version reads data written with the new schema.
    Forward,
    /// Every version reads data written with the new schema.
    ForwardTransitive,
    /// Backward and forward against the latest version.
    Full,
    /// Backward and forward against every version.
    FullTransitive,
}

impl Level {
    /// Every level, in the registry's documented order.
    pub const ALL: [Level; 7] = [Level::None, Level::Backward, Level::BackwardTransitive, Level::Forward, Level::ForwardTransitive, Level::Full, Level::FullTransitive];

    /// The registry's name (`BACKWARD_TRANSITIVE`).
    pub fn name(self) -> &'static str {
        match self {
            Level::None => "NONE",
            Level::Backward => "BACKWARD",
            Level::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Level::Forward => "FORWARD",
            Level::ForwardTransitive => "FORWARD_TRANSITIVE",
            Level::Full => "FULL",
            Level::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// The level a registry name stands for.
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == name)
    }

    fn transitive(self) -> bool {
        matches!(self, Level::BackwardTransitive | Level::ForwardTransitive | Level::FullTransitive)
    }

    fn backward(self) -> bool {
        matches!(self, Level::Backward | Level::BackwardTransitive | Level::Full | Level::FullTransitive)
    }

    fn forward(self) -> bool {
        matches!(self, Level::Forward | Level::ForwardTransitive | Level::Full | Level::FullTransitive)
    }
}

/// Which direction a registry check failed in, against which version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelFailure {
    /// The version (1-based) the new schema was checked against.
    pub version: u32,
    /// True when the new schema could not read that version's data (backward), false when that
    /// version could not read the new schema's data (forward).
    pub new_reads_old: bool,
    /// What Avro found.
    pub incompatibilities: Vec<Incompatibility>,
}

/// Whether Schema Registry accepts `new` under `level`, given the subject's versions oldest first:
/// backward checks the new schema as the reader of each version's data, forward each version as
/// the reader of the new schema's data; a transitive level checks every version, newest first, any
/// other the latest alone. Every failure is listed; an empty list is acceptance. A reader field
/// that matches two writer fields (which Avro refuses to check) counts as a failure with no
/// incompatibilities.
pub fn registry_level(level: Level, new: &Schema, versions: &[Schema]) -> Vec<LevelFailure> {
    let against: Vec<(u32, &Schema)> = versions.iter().enumerate().rev().map(|(i, s)| (i as u32 + 1, s)).take(if level.transitive() { versions.len() } else { 1 }).collect();
    let mut failures = Vec::new();
    for (version, old) in against {
        let directions = [(level.backward(), true), (level.forward(), false)];
        for (wanted, new_reads_old) in directions {
            if !wanted {
                continue;
            }
            let (reader, writer) = if new_reads_old { (new, old) } else { (old, new) };
            let result = check(reader, writer);
            let incompatibilities = match result {
                Ok(c) if c.is_compatible() => continue,
                Ok(c) => c.incompatibilities,
                Err(_) => Vec::new(),
            };
            failures.push(LevelFailure { version, new_reads_old, incompatibilities });
        }
    }
    failures
}

#[cfg(test)]
mod tests;
