//! Helpers shared by the integration tests.
#![allow(dead_code)]

use kafkasim::scenario::{self, Scenario};
use kafkasim::sim::describe::describe_step;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario file shipped in `scenarios/`, sorted.
pub fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Loads a shipped scenario by file stem.
pub fn load(stem: &str) -> Scenario {
    let path = root().join("scenarios").join(format!("{stem}.toml"));
    scenario::load(&path).unwrap_or_else(|e| panic!("{stem} is valid: {e:?}"))
}

/// The full narrated trace (every step, routine ones included) of a run.
pub fn trace(s: &Scenario, seed: u64) -> String {
    let mut out = String::new();
    s.run(seed, None, |sim, step| {
        out.push_str(&describe_step(sim, &step));
        out.push('\n');
    });
    out
}

/// Parses text as a scenario named `test.toml`.
pub fn parse(text: &str) -> Result<Scenario, Vec<scenario::ScenarioError>> {
    scenario::parse("test.toml", text)
}

/// A path relative to the root, as text.
pub fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}
