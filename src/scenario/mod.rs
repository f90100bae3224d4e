//! Scenario files: TOML lessons that set up a cluster, drive it along a timeline and state what
//! must hold. Parsing is serde + the `toml` crate; this module only validates and translates.

mod error;
mod expect;
mod file;
pub(crate) mod walk;

pub use error::ScenarioError;
pub(crate) use error::Locator;
pub use expect::{Expectation, ExpectationResult};

use crate::sim::{Sim, Step};

/// Documented maxima, enforced before anything is allocated or run.
pub mod limits {
    /// Brokers in a cluster.
    pub const BROKERS: u32 = 64;
    /// Partitions in one topic.
    pub const PARTITIONS_PER_TOPIC: u32 = 1_000;
    /// Partitions in the whole cluster.
    pub const PARTITIONS_TOTAL: u32 = 4_096;
    /// Topics.
    pub const TOPICS: usize = 64;
    /// Producers.
    pub const PRODUCERS: usize = 64;
    /// Consumers.
    pub const CONSUMERS: usize = 64;
    /// Timeline entries.
    pub const TIMELINE: usize = 10_000;
    /// Records produced over the whole timeline.
    pub const RECORDS: u64 = 1_000_000;
    /// Virtual run length in ms (one day).
    pub const DURATION_MS: u64 = 86_400_000;
    /// Steps in one run.
    pub const STEPS: u64 = 50_000_000;
    /// Characters in any one text (narration, question, key, value).
    pub const TEXT: usize = 10_000;
    /// Bytes of a scenario file.
    pub const FILE_BYTES: usize = 1_048_576;
    /// Link latency in ms.
    pub const LATENCY_MS: u64 = 600_000;
}

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Title.
    pub title: String,
    /// One-paragraph summary.
    pub summary: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Seed (may be overridden at run time).
    pub seed: u64,
    /// How long to run, in virtual ms.
    pub duration_ms: u64,
    /// The cluster and timeline.
    pub setup: crate::sim::Setup,
    /// What must hold.
    pub expectations: Vec<Expectation>,
}

/// Parses and validates scenario text. `file` names it in error messages.
pub fn parse(file: &str, text: &str) -> Result<Scenario, Vec<ScenarioError>> {
    file::parse(file, text)
}

/// `text` with its top-level `seed` set to `seed` (replaced where it is written, or added as
/// the first line), everything else untouched. Text that does not parse is returned as it is,
/// with the seed line added.
pub fn with_seed(text: &str, seed: u64) -> String {
    if let Ok(root) = toml::de::DeTable::parse(text) {
        if let Some(value) = root.get_ref().get("seed") {
            let span = value.span();
            return format!("{}{seed}{}", &text[..span.start], &text[span.end..]);
        }
    }
    format!("seed = {seed}\n{text}")
}

/// Reads and parses a scenario file from disk.
#[cfg(not(target_arch = "wasm32"))]
pub fn load(path: &std::path::Path) -> Result<Scenario, Vec<ScenarioError>> {
    let name = path.display().to_string();
    let io_error = |message: String| {
        vec![ScenarioError { file: name.clone(), line: 1, column: 1, message, hint: None }]
    };
    let meta = std::fs::metadata(path).map_err(|e| io_error(format!("cannot read the file: {e}")))?;
    if meta.len() > limits::FILE_BYTES as u64 {
        return Err(io_error(format!("the file has {} bytes; the limit is {}", meta.len(), limits::FILE_BYTES)));
    }
    let bytes = std::fs::read(path).map_err(|e| io_error(format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| io_error(format!("the file is not UTF-8: {e}")))?;
    parse(&name, &text)
}

/// The result of running a scenario to its end.
pub struct RunOutcome {
    /// The simulation at the end.
    pub sim: Sim,
    /// Every expectation and whether it held.
    pub results: Vec<ExpectationResult>,
    /// Set when the run stopped at the step limit.
    pub step_limit_hit: bool,
}

impl Scenario {
    /// Builds the simulation with `seed`.
    pub fn start(&self, seed: u64) -> Sim {
        let mut setup = self.setup.clone();
        setup.seed = seed;
        Sim::new(setup)
    }

    /// Runs to `until` (default: the scenario's duration), checking each expectation at its time.
    pub fn run(&self, seed: u64, until: Option<u64>, mut on_step: impl FnMut(&Sim, Step)) -> RunOutcome {
        let until = until.unwrap_or(self.duration_ms);
        let mut sim = self.start(seed);
        let mut order: Vec<&Expectation> = self.expectations.iter().collect();
        order.sort_by_key(|e| e.at.unwrap_or(self.duration_ms));
        let mut results = Vec::new();
        let mut step_limit_hit = false;
        let mut advance = |sim: &mut Sim, to: u64| {
            while sim.next_event_time().is_some_and(|t| t <= to) {
                if sim.steps_taken() >= limits::STEPS {
                    step_limit_hit = true;
                    return;
                }
                match sim.step() {
                    Some(step) => on_step(sim, step),
                    None => return,
                }
            }
        };
        for exp in order {
            let at = exp.at.unwrap_or(self.duration_ms);
            if at > until {
                continue;
            }
            advance(&mut sim, at);
            let mut result = exp.check(&sim);
            result.time = at;
            results.push(result);
        }
        advance(&mut sim, until);
        RunOutcome { sim, results, step_limit_hit }
    }
}
