//! The registry's verdict on a new schema version under every compatibility level, in words a
//! student can act on: the CLI's `schema-check` and the page's schema tool print this text.

use super::compat::{Incompatibility, IncompatibilityType};
use super::{registry_level, Level, LevelFailure, Schema};

/// What every level says about registering `new` after `versions` (oldest first).
pub fn verdicts(new: &Schema, versions: &[Schema]) -> Vec<(Level, Vec<LevelFailure>)> {
    Level::ALL.into_iter().map(|level| (level, registry_level(level, new, versions))).collect()
}

/// One incompatibility, explained: where in the reader schema, Avro's type, and what it means.
pub fn explain(i: &Incompatibility) -> String {
    let meaning = match i.kind {
        IncompatibilityType::ReaderFieldMissingDefaultValue => format!("the reader's field \"{}\" has no default, and the writer's data does not have it", i.message),
        IncompatibilityType::TypeMismatch => format!("{} (no promotion joins them)", i.message),
        IncompatibilityType::NameMismatch => format!("the names differ, {}", i.message),
        IncompatibilityType::MissingEnumSymbols => format!("the writer may send the symbols {}, which the reader lacks, and the reader's enum has no default", i.message),
        IncompatibilityType::MissingUnionBranch => i.message.clone(),
        IncompatibilityType::FixedSizeMismatch => format!("the fixed sizes differ ({})", i.message),
    };
    format!("{}  {}: {meaning}", i.location, i.kind.java())
}

/// Which way a level's check failed, against which version, in words.
pub fn direction(f: &LevelFailure) -> String {
    if f.new_reads_old {
        format!("the new schema cannot read data written with version {}", f.version)
    } else {
        format!("version {} cannot read data written with the new schema", f.version)
    }
}

/// The whole verdict as text: one line per level, the incompatibilities under a refusal, then
/// which side of the applications to upgrade first.
pub fn describe(new: &Schema, versions: &[Schema]) -> String {
    let mut out = String::new();
    let all = verdicts(new, versions);
    let latest = versions.len();
    for (level, failures) in &all {
        let name = level.name();
        if failures.is_empty() {
            let what = match level {
                Level::None => "accepted: no check".to_string(),
                _ if latest == 0 => "accepted: the subject's first version".to_string(),
                _ => "accepted".to_string(),
            };
            out.push_str(&format!("{name:<20} {what}\n"));
            continue;
        }
        out.push_str(&format!("{name:<20} refused (409 Conflict): {}\n", direction(&failures[0])));
        for (n, f) in failures.iter().enumerate() {
            if n > 0 {
                out.push_str(&format!("{:<20}   and {}\n", "", direction(f)));
            }
            if f.incompatibilities.is_empty() {
                out.push_str(&format!("{:<20}     a reader field's name and aliases match two writer fields\n", ""));
            }
            for i in &f.incompatibilities {
                out.push_str(&format!("{:<20}     {}\n", "", explain(i)));
            }
        }
    }
    if latest > 0 {
        let passes = |level: Level| all.iter().any(|(l, f)| *l == level && f.is_empty());
        let advice = match (passes(Level::Backward), passes(Level::Forward)) {
            (true, true) => "Either order is safe: readers of either version read data of either version.",
            (true, false) => "Upgrade consumers first: the new schema reads old data, but old consumers cannot read new data.",
            (false, true) => "Upgrade producers first: old consumers read the new data, but the new schema cannot read old data.",
            (false, false) => "No order is safe: neither version reads the other's data; use a new topic or a new subject.",
        };
        out.push_str(&format!("\nAgainst the latest version: {advice}\n"));
    }
    out
}
