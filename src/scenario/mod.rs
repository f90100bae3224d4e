//! Scenario files: TOML lessons that set up a cluster, drive it along a timeline and state what
//! must hold. Parsing is serde + the `toml` crate; this module only validates and translates.

pub mod cost;
mod error;
mod expect;
mod file;
pub mod ranges;
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
    /// `[[schemas]]` entries: a transitive level checks a new version against every one before it.
    pub const SCHEMAS: usize = 64;
    /// Timeline entries.
    pub const TIMELINE: usize = 10_000;
    /// Records produced over the whole timeline.
    pub const RECORDS: u64 = 1_000_000;
    /// Virtual run length in ms (one day).
    pub const DURATION_MS: u64 = 86_400_000;
    /// Steps in one run.
    pub const STEPS: u64 = 50_000_000;
    /// Steps in a row at one virtual millisecond before a run is stopped as a loop that never
    /// advances the clock. The most a shipped lesson takes is about 46,000, in `heavy-load-100k`'s
    /// burst of records (a test keeps every lesson below a tenth of this).
    pub const STEPS_AT_ONE_TIME: u64 = 1_000_000;
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
    /// The one-line learning goal.
    pub goal: Option<String>,
    /// The curriculum module (1 to 9, see [`MODULES`]) the lesson belongs to.
    pub module: Option<u32>,
    /// The lesson's place in its module.
    pub lesson: u32,
    /// A goal the class reaches with its own actions.
    pub challenge: Option<Challenge>,
    /// The same run with one setting changed, for compare mode.
    pub compare: Option<Compare>,
}

/// The curriculum's modules, in the order a course follows them.
pub const MODULES: [&str; 10] = [
    "Topics, partitions, keys and ordering",
    "Replication: leader, followers, ISR, HW",
    "Producer durability: acks and min.insync.replicas",
    "Retries, duplicates and idempotence",
    "Consumers and offsets",
    "Consumer groups and rebalances",
    "Failures",
    "Flow: lag, backpressure and retention",
    "Exactly-once and transactions",
    "Schemas and evolution",
];

/// A goal the class must reach using only some actions; the page checks it live.
#[derive(Clone, Debug)]
pub struct Challenge {
    /// What to achieve, in words.
    pub goal: String,
    /// The page's actions the class may use (`crash`, `restart`, `cut`, `heal`, …).
    pub actions: Vec<String>,
    /// What must hold for the goal to be met; counts are minimums.
    pub expectation: Expectation,
    /// Timeline entries that meet the goal, which `kafkasim check` verifies.
    pub solution: Vec<crate::sim::TimedAction>,
    /// For a goal no action can meet: why, as the page says when the class gives up. `kafkasim
    /// check` then tries [`IMPOSSIBLE_TRIES`] schedules of the allowed actions and finds none
    /// that meets it.
    pub impossible: Option<String>,
}

/// How long the page's `stall_consumer` blocks a consumer's application: longer than a
/// heartbeat, shorter than the default `max.poll.interval.ms`, as a pause a class can watch
/// through.
pub const STALL_MS: u64 = 10_000;

/// How many random schedules of its actions `kafkasim check` tries on an impossible challenge.
pub const IMPOSSIBLE_TRIES: u64 = 40;

impl Challenge {
    /// Whether the class may use the page's action `kind` (as [`CHALLENGE_ACTIONS`] names it).
    pub fn allows(&self, kind: &str) -> bool {
        self.actions.iter().any(|a| a == kind)
    }
}

/// The page's actions a challenge may allow, named as in the timeline where they match.
pub const CHALLENGE_ACTIONS: [&str; 10] =
    ["crash", "restart", "cut", "heal", "crash_consumer", "close_consumer", "stall_consumer", "start_consumer", "add_consumer", "produce"];

/// A second run of the same scenario and seed with one setting changed.
#[derive(Clone, Debug)]
pub struct Compare {
    /// What the scenario as written is called (e.g. `acks=1`).
    pub left: String,
    /// What the changed run is called (e.g. `acks=all`).
    pub right: String,
    /// The changed scenario.
    pub variant: Box<Scenario>,
}

/// Parses and validates scenario text for a native run (the command line, the tests). `file`
/// names it in error messages.
pub fn parse(file: &str, text: &str) -> Result<Scenario, Vec<ScenarioError>> {
    file::parse(file, text, &cost::NATIVE)
}

/// Parses and validates scenario text for a run within `budget`: a file whose estimated cost
/// is beyond it is refused (see [`cost`]).
pub fn parse_within(file: &str, text: &str, budget: &cost::Budget) -> Result<Scenario, Vec<ScenarioError>> {
    file::parse(file, text, budget)
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
    // A byte order mark must stay the file's first character, or the parser sees it as text.
    match text.strip_prefix('\u{feff}') {
        Some(rest) => format!("\u{feff}seed = {seed}\n{rest}"),
        None => format!("seed = {seed}\n{text}"),
    }
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
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            // Locate the first bad byte by the line and column of the valid text before it.
            let valid = e.utf8_error().valid_up_to();
            let before = std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default();
            let (line, column) = Locator::new(&name, before).line_col(valid);
            let byte = e.as_bytes()[valid];
            return Err(vec![ScenarioError {
                file: name,
                line,
                column,
                message: format!("the file is not UTF-8: byte 0x{byte:02x} here starts no UTF-8 character"),
                hint: Some("save the file as UTF-8 (most editors offer it under \"Save with encoding\")".into()),
            }]);
        }
    };
    parse(&name, &text)
}

/// What `kafkasim check` found for one scenario.
pub struct Verification {
    /// Checks made, over every run.
    pub checks: usize,
    /// Each check that failed, in words.
    pub failures: Vec<String>,
}

fn failures(run: &str, outcome: &RunOutcome, out: &mut Verification) {
    out.checks += outcome.results.iter().map(|r| r.checks.len()).sum::<usize>();
    for r in outcome.results.iter().filter(|r| !r.passed()) {
        for c in r.checks.iter().filter(|c| !c.passed) {
            out.failures.push(format!("{run}line {} at {} ms: expected {}, got {}", r.line, r.time, c.description, c.actual));
        }
    }
    if outcome.step_limit_hit {
        out.failures.push(format!("{run}stopped at the limit of {} steps", limits::STEPS));
    }
    if let Some(stall) = &outcome.stalled {
        out.failures.push(format!("{run}{stall}"));
    }
}

/// The result of running a scenario to its end.
pub struct RunOutcome {
    /// The simulation at the end.
    pub sim: Sim,
    /// Every expectation and whether it held.
    pub results: Vec<ExpectationResult>,
    /// Set when the run stopped at the step limit.
    pub step_limit_hit: bool,
    /// Set when the run stopped because virtual time stopped advancing.
    pub stalled: Option<Stall>,
}

/// A run whose virtual time stopped advancing: [`limits::STEPS_AT_ONE_TIME`] steps in a row at
/// one virtual millisecond, which only a loop of events that take no time can cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    /// The virtual time that stopped.
    pub at_ms: u64,
    /// The last step, in words: one turn of the loop.
    pub step: String,
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "virtual time stopped at {} ms: {} steps in a row took no time, a loop of events that never advances the clock (the last was: {})",
            self.at_ms,
            limits::STEPS_AT_ONE_TIME,
            self.step
        )
    }
}

impl Scenario {
    /// Builds the simulation with `seed`.
    pub fn start(&self, seed: u64) -> Sim {
        let mut setup = self.setup.clone();
        setup.seed = seed;
        Sim::new(setup)
    }

    /// The scenario with a few of the challenge's allowed actions added at random times (seeded by
    /// `attempt`): brokers crashed and restarted, links cut and healed, consumers crashed, stalled
    /// and started again, as a class might try them.
    fn with_random_actions(&self, challenge: &Challenge, attempt: u64) -> Scenario {
        use crate::sim::{Action, NodeId, TimedAction};
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(attempt);
        let mut tried = self.clone();
        let brokers = self.setup.brokers;
        let consumers = self.setup.consumers.len() as u32;
        for _ in 0..rng.random_range(1..=4u32) {
            let at = rng.random_range(0..self.duration_ms.max(1));
            // Some faults are undone a while later, some never.
            let back = (at + rng.random_range(500..20_000u64)).min(self.duration_ms);
            let broker = rng.random_range(1..=brokers.max(1));
            let consumer = rng.random_range(0..consumers.max(1));
            let kinds: Vec<&str> = challenge.actions.iter().map(String::as_str).collect();
            let pair: Option<(Action, Option<Action>)> = match kinds[rng.random_range(0..kinds.len())] {
                "crash" | "restart" => Some((Action::Crash(broker), Some(Action::Restart(broker)))),
                "cut" | "heal" => {
                    // The controller, another broker, or a client.
                    let other = match rng.random_range(0..3u32) {
                        0 => NodeId::Controller,
                        1 if brokers > 1 => NodeId::Broker(broker % brokers + 1),
                        _ if consumers > 0 => NodeId::Consumer(consumer),
                        _ => NodeId::Controller,
                    };
                    Some((Action::Cut { from: NodeId::Broker(broker), to: other, both: true }, Some(Action::Heal { from: NodeId::Broker(broker), to: other, both: true })))
                }
                "crash_consumer" | "start_consumer" if consumers > 0 => Some((Action::CrashConsumer(consumer), Some(Action::StartConsumer(consumer)))),
                "close_consumer" if consumers > 0 => Some((Action::CloseConsumer(consumer), Some(Action::StartConsumer(consumer)))),
                "stall_consumer" if consumers > 0 => Some((Action::StallConsumer { consumer, ms: STALL_MS }, None)),
                _ => None,
            };
            if let Some((first, then)) = pair {
                tried.setup.timeline.push(TimedAction { at, action: first });
                if let Some(then) = then.filter(|_| rng.random_bool(0.7)) {
                    tried.setup.timeline.push(TimedAction { at: back, action: then });
                }
            }
        }
        tried.setup.timeline.sort_by_key(|a| a.at);
        tried
    }

    /// The scenario with its challenge's solution added to the timeline.
    pub fn with_solution(&self) -> Option<Scenario> {
        let challenge = self.challenge.as_ref()?;
        let mut solved = self.clone();
        solved.setup.timeline.extend(challenge.solution.iter().cloned());
        solved.setup.timeline.sort_by_key(|a| a.at);
        Some(solved)
    }

    /// Runs everything the file promises with its own seed: its expectations, the compare run's
    /// expectations, and its challenge (not met by the timeline alone, met with the solution).
    pub fn verify(&self) -> Verification {
        let mut out = Verification { checks: 0, failures: Vec::new() };
        let outcome = self.run(self.seed, None, |_, _| {});
        failures("", &outcome, &mut out);
        if let Some(c) = &self.compare {
            failures(&format!("[{}] ", c.right), &c.variant.run(self.seed, None, |_, _| {}), &mut out);
        }
        if let Some(challenge) = self.challenge.as_ref().filter(|c| c.impossible.is_some()) {
            out.checks += 1 + IMPOSSIBLE_TRIES as usize;
            if challenge.expectation.check(&outcome.sim).passed() {
                out.failures.push("[challenge] the goal of an impossible challenge is met without any action".into());
            }
            for attempt in 0..IMPOSSIBLE_TRIES {
                let tried = self.with_random_actions(challenge, attempt);
                let run = tried.run(self.seed, None, |_, _| {});
                if challenge.expectation.check(&run.sim).passed() {
                    out.failures.push(format!("[challenge] the impossible goal is met by random schedule {attempt} of the allowed actions"));
                }
            }
        } else if let (Some(challenge), Some(solved)) = (&self.challenge, self.with_solution()) {
            out.checks += 2;
            if challenge.expectation.check(&outcome.sim).passed() {
                out.failures.push("[challenge] the goal is met without any action: there is nothing to do".into());
            }
            let with = solved.run(self.seed, None, |_, _| {});
            let result = challenge.expectation.check(&with.sim);
            if challenge.solution.is_empty() {
                out.failures.push("[challenge] no [[challenge.solution]] shows that the goal can be met".into());
            } else if !result.passed() {
                for c in result.checks.iter().filter(|c| !c.passed) {
                    out.failures.push(format!("[challenge] the solution does not meet the goal: expected {}, got {}", c.description, c.actual));
                }
            }
        }
        out
    }

    /// Runs to `until` (default: the scenario's duration), checking each expectation at its time.
    pub fn run(&self, seed: u64, until: Option<u64>, mut on_step: impl FnMut(&Sim, Step)) -> RunOutcome {
        let until = until.unwrap_or(self.duration_ms);
        let mut sim = self.start(seed);
        let mut order: Vec<&Expectation> = self.expectations.iter().collect();
        order.sort_by_key(|e| e.at.unwrap_or(self.duration_ms));
        let mut results = Vec::new();
        let mut step_limit_hit = false;
        let mut stalled = None;
        let (mut last_time, mut same_time) = (0, 0u64);
        let mut advance = |sim: &mut Sim, to: u64| {
            while stalled.is_none() && sim.next_event_time().is_some_and(|t| t <= to) {
                if sim.steps_taken() >= limits::STEPS {
                    step_limit_hit = true;
                    return;
                }
                // Never past `to`: a stale timer before it is no step, and the event after it may be later.
                match sim.step_until(to) {
                    Some(step) => {
                        if sim.now() == last_time {
                            same_time += 1;
                        } else {
                            (last_time, same_time) = (sim.now(), 0);
                        }
                        if same_time >= limits::STEPS_AT_ONE_TIME {
                            stalled = Some(Stall { at_ms: last_time, step: crate::sim::describe::describe_step(sim, &step) });
                        }
                        on_step(sim, step);
                    }
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
        RunOutcome { sim, results, step_limit_hit, stalled }
    }
}
