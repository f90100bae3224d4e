//! `kafkasim explore`: runs a scenario under many seeds with faults injected on top, checks the
//! [invariants](crate::sim::invariants) after every step, and shrinks the first fault schedule
//! that breaks one into a minimal scenario file a class can open.
//!
//! The search is a resumable state machine ([`Explorer::work`] takes a step budget), so the CLI
//! runs it flat out and the page runs it in slices without freezing the tab.

use crate::scenario::Scenario;
use crate::sim::config::LinkParams;
use crate::sim::invariants::{Checker, Violation};
use crate::sim::{Action, NodeId, Sim, TimedAction};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use crate::share::toml_string;
use std::fmt::Write;
use std::ops::Range;

/// The kinds of fault the explorer injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// A broker crashes and restarts later.
    Crash,
    /// A broker is cut off from the other brokers and the controller (clients still reach it).
    Partition,
    /// A link drops a share of its messages for a while.
    Loss,
    /// A link becomes slow for a while.
    Latency,
    /// A consumer crashes (no commit, no LeaveGroup) and starts again later.
    ConsumerCrash,
}

impl FaultKind {
    /// Every kind, as `--faults` lists them.
    pub const ALL: [FaultKind; 5] = [FaultKind::Crash, FaultKind::Partition, FaultKind::Loss, FaultKind::Latency, FaultKind::ConsumerCrash];

    /// The name `--faults` uses.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Partition => "partition",
            FaultKind::Loss => "loss",
            FaultKind::Latency => "latency",
            FaultKind::ConsumerCrash => "consumer-crash",
        }
    }

    /// Reads a comma-separated list such as `crash,partition`.
    pub fn parse_list(text: &str) -> Result<Vec<FaultKind>, String> {
        let mut kinds = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let kind = FaultKind::ALL.into_iter().find(|k| k.name() == word).ok_or_else(|| {
                let names: Vec<_> = FaultKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown fault {word:?}; expected some of {}", names.join(", "))
            })?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            return Err("no fault kinds given".into());
        }
        Ok(kinds)
    }
}

/// One injected fault, from `start` until `end` (virtual ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// When it begins.
    pub start: u64,
    /// When it is undone.
    pub end: u64,
    /// What it is.
    pub what: FaultWhat,
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultWhat {
    /// Crash this broker, restart it at the end.
    Crash(u32),
    /// Cut this broker off from every other broker and the controller, heal at the end.
    Partition(u32),
    /// Give a link (both ways) this loss, restore it at the end.
    Loss {
        /// One end.
        a: NodeId,
        /// The other end.
        b: NodeId,
        /// The share of messages dropped.
        loss: f64,
    },
    /// Give a link (both ways) this latency, restore it at the end.
    Latency {
        /// One end.
        a: NodeId,
        /// The other end.
        b: NodeId,
        /// One-way delay in ms.
        latency_ms: u64,
    },
    /// Crash this consumer, start it again at the end.
    ConsumerCrash(u32),
}

impl FaultWhat {
    fn broker(&self) -> Option<u32> {
        match *self {
            FaultWhat::Crash(b) | FaultWhat::Partition(b) => Some(b),
            _ => None,
        }
    }
}

/// The most faults one seed injects.
pub const MAX_FAULTS: u32 = 4;

/// Options of a search.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seeds to try, in order.
    pub seeds: Range<u64>,
    /// Fault kinds to draw from.
    pub kinds: Vec<FaultKind>,
}

/// A found violation, shrunk to the fewest faults that still cause it.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// The seed (of the simulation and of the fault schedule).
    pub seed: u64,
    /// What broke.
    pub violation: Violation,
    /// Step index at which it was seen.
    pub step: u64,
    /// Virtual time at which it was seen.
    pub time: u64,
    /// Whether the configuration was safe (then Kafka promises every invariant).
    pub safe: bool,
    /// The minimal fault schedule.
    pub faults: Vec<Fault>,
    /// How many faults the seed injected before shrinking.
    pub faults_before_shrinking: usize,
}

/// How a search is going.
#[derive(Clone, Debug)]
pub enum Progress {
    /// Still searching or shrinking; call [`Explorer::work`] again.
    Working,
    /// A counterexample, shrunk.
    Found(Counterexample),
    /// Every seed passed.
    Exhausted,
}

/// The outcome of one run.
enum RunEnd {
    Passed,
    Violated { step: u64, time: u64, violation: Violation },
}

/// One simulation under a fault schedule, checked after every step.
struct Run {
    sim: Sim,
    checker: Checker,
    duration: u64,
}

impl Run {
    fn new(scenario: &Scenario, seed: u64, faults: &[Fault]) -> Run {
        let mut setup = scenario.setup.clone();
        setup.seed = seed;
        setup.timeline.extend(fault_actions(scenario, faults));
        Run { sim: Sim::new(setup), checker: Checker::new(), duration: scenario.duration_ms }
    }

    /// Runs up to `budget` steps (counting them down); `None` while unfinished.
    fn advance(&mut self, budget: &mut u64) -> Option<RunEnd> {
        while *budget > 0 {
            if self.sim.steps_taken() >= crate::scenario::limits::STEPS {
                return Some(RunEnd::Passed);
            }
            if self.sim.next_event_time().is_none_or(|t| t > self.duration) {
                return Some(RunEnd::Passed);
            }
            let Some(step) = self.sim.step() else { return Some(RunEnd::Passed) };
            *budget -= 1;
            if let Some(violation) = self.checker.check(&self.sim) {
                return Some(RunEnd::Violated { step: step.index, time: step.time, violation });
            }
        }
        None
    }
}

/// Runs `scenario` under `seed` with exactly these faults to its end, checking after every step:
/// the first violation with its step index and time, if any.
pub fn run_schedule(scenario: &Scenario, seed: u64, faults: &[Fault]) -> Option<(u64, u64, Violation)> {
    let mut run = Run::new(scenario, seed, faults);
    // No run has u64::MAX steps (the step limit ends it first), so this budget always finishes it.
    let mut budget = u64::MAX;
    match run.advance(&mut budget) {
        Some(RunEnd::Violated { step, time, violation }) => Some((step, time, violation)),
        _ => None,
    }
}

enum Phase {
    Search { seed: u64, faults: Vec<Fault>, run: Run },
    Shrink { best: Counterexample, index: usize, removed_in_pass: bool, run: Run },
    Found(Counterexample),
    Done,
}

/// A resumable search over seeds.
pub struct Explorer {
    scenario: Scenario,
    options: Options,
    phase: Phase,
    /// Seeds fully run so far.
    pub seeds_done: u64,
    /// Steps simulated so far (search and shrinking).
    pub steps_done: u64,
    /// Runs made while shrinking.
    pub shrink_runs: u64,
}

impl Explorer {
    /// A search that has not started.
    pub fn new(scenario: Scenario, options: Options) -> Explorer {
        let mut explorer = Explorer { scenario, options, phase: Phase::Done, seeds_done: 0, steps_done: 0, shrink_runs: 0 };
        explorer.phase = explorer.search_from(explorer.options.seeds.start);
        explorer
    }

    /// The scenario being explored.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Whether Kafka promises every invariant for this scenario.
    pub fn safe(&self) -> bool {
        Checker::safe(&Sim::new(self.scenario.setup.clone()))
    }

    /// Whether a counterexample was found and is being shrunk.
    pub fn shrinking(&self) -> bool {
        matches!(self.phase, Phase::Shrink { .. })
    }

    /// The seed being run now (the end of the range once done).
    pub fn current_seed(&self) -> u64 {
        match &self.phase {
            Phase::Search { seed, .. } => *seed,
            Phase::Shrink { best, .. } | Phase::Found(best) => best.seed,
            Phase::Done => self.options.seeds.end,
        }
    }

    /// Simulates up to `budget` steps and reports where the search stands.
    pub fn work(&mut self, budget: u64) -> Progress {
        let mut left = budget;
        loop {
            let end = match &mut self.phase {
                Phase::Done => return Progress::Exhausted,
                Phase::Found(found) => return Progress::Found(found.clone()),
                Phase::Search { run, .. } | Phase::Shrink { run, .. } => {
                    let before = left;
                    let end = run.advance(&mut left);
                    self.steps_done += before - left;
                    match end {
                        Some(end) => end,
                        None => return Progress::Working,
                    }
                }
            };
            let phase = std::mem::replace(&mut self.phase, Phase::Done);
            self.phase = self.next_phase(phase, end);
        }
    }

    fn next_phase(&mut self, phase: Phase, end: RunEnd) -> Phase {
        match (phase, end) {
            (Phase::Search { seed, .. }, RunEnd::Passed) => {
                self.seeds_done += 1;
                self.search_from(seed + 1)
            }
            (Phase::Search { seed, faults, run }, RunEnd::Violated { step, time, violation }) => {
                self.seeds_done += 1;
                let safe = Checker::safe(&run.sim);
                let best = Counterexample { seed, violation, step, time, safe, faults_before_shrinking: faults.len(), faults };
                self.shrink_at(best, 0, false)
            }
            (Phase::Shrink { mut best, index, .. }, RunEnd::Violated { step, time, violation })
                if violation.invariant == best.violation.invariant =>
            {
                self.shrink_runs += 1;
                best.faults.remove(index);
                best.step = step;
                best.time = time;
                best.violation = violation;
                self.shrink_at(best, index, true)
            }
            (Phase::Shrink { best, index, removed_in_pass, .. }, _) => {
                self.shrink_runs += 1;
                self.shrink_at(best, index + 1, removed_in_pass)
            }
            (other, _) => other,
        }
    }

    fn search_from(&self, seed: u64) -> Phase {
        if seed >= self.options.seeds.end {
            return Phase::Done;
        }
        let faults = plan(&self.scenario, seed, &self.options.kinds);
        let run = Run::new(&self.scenario, seed, &faults);
        Phase::Search { seed, faults, run }
    }

    /// Tries the schedule without fault `index`; passes repeat until no single fault can go.
    fn shrink_at(&self, best: Counterexample, index: usize, removed_in_pass: bool) -> Phase {
        if index < best.faults.len() {
            let mut candidate = best.faults.clone();
            candidate.remove(index);
            let run = Run::new(&self.scenario, best.seed, &candidate);
            Phase::Shrink { best, index, removed_in_pass, run }
        } else if removed_in_pass {
            self.shrink_at(best, 0, false)
        } else {
            Phase::Found(best)
        }
    }
}

/// How many brokers may be faulty (crashed or cut off) at once: `replication.factor −
/// min.insync.replicas` for the strictest topic, so that a safe configuration keeps its promise;
/// at least one, so that every scenario sees some broker fault.
fn broker_budget(scenario: &Scenario) -> usize {
    let broker = &scenario.setup.broker_config;
    scenario
        .setup
        .topics
        .iter()
        .map(|t| {
            let min_isr = t.config.resolve(broker).min_insync_replicas as usize;
            t.assignment.first().map_or(1, |r| r.len()).saturating_sub(min_isr)
        })
        .min()
        .unwrap_or(1)
        .max(1)
}

/// The fault schedule of `seed`: one to [`MAX_FAULTS`] faults of the given kinds, never more
/// faulty brokers at once than [`broker_budget`] allows. Drawn from its own RNG so that the
/// simulation's RNG (jitter, loss) sees the same seed as a plain run.
pub fn plan(scenario: &Scenario, seed: u64, kinds: &[FaultKind]) -> Vec<Fault> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6b61_666b_6173_696d);
    let setup = &scenario.setup;
    let duration = scenario.duration_ms.max(1);
    let budget = broker_budget(scenario);
    let consumers: Vec<u32> = (0..setup.consumers.len() as u32).filter(|&c| setup.consumers[c as usize].autostart).collect();
    let mut nodes: Vec<NodeId> = (1..=setup.brokers).map(NodeId::Broker).collect();
    nodes.extend((0..setup.producers.len() as u32).map(NodeId::Producer));
    nodes.extend(consumers.iter().map(|&c| NodeId::Consumer(c)));
    let count = rng.random_range(1..=MAX_FAULTS);
    let mut faults: Vec<Fault> = Vec::new();
    for _ in 0..count {
        let kind = kinds[rng.random_range(0..kinds.len())];
        let start = rng.random_range(0..duration * 4 / 5 + 1);
        let end = (start + rng.random_range(duration / 50 + 1..duration / 3 + 2)).min(duration);
        let what = match kind {
            FaultKind::Crash => FaultWhat::Crash(rng.random_range(1..=setup.brokers)),
            FaultKind::Partition => FaultWhat::Partition(rng.random_range(1..=setup.brokers)),
            FaultKind::Loss | FaultKind::Latency => {
                let a = NodeId::Broker(rng.random_range(1..=setup.brokers));
                let b = nodes[rng.random_range(0..nodes.len())];
                if a == b {
                    continue;
                }
                if kind == FaultKind::Loss {
                    FaultWhat::Loss { a, b, loss: [0.1, 0.3, 0.5, 1.0][rng.random_range(0..4)] }
                } else {
                    FaultWhat::Latency { a, b, latency_ms: [50, 200, 1000, 5000][rng.random_range(0..4)] }
                }
            }
            FaultKind::ConsumerCrash => {
                if consumers.is_empty() {
                    continue;
                }
                FaultWhat::ConsumerCrash(consumers[rng.random_range(0..consumers.len())])
            }
        };
        if let Some(broker) = what.broker() {
            let overlapping: Vec<u32> =
                faults.iter().filter(|f| f.start < end && start < f.end).filter_map(|f| f.what.broker()).collect();
            let mut faulty = overlapping.clone();
            faulty.sort_unstable();
            faulty.dedup();
            if overlapping.contains(&broker) || faulty.len() + 1 > budget {
                continue;
            }
        }
        faults.push(Fault { start, end, what });
    }
    faults
}

/// The link's properties before any fault: its `[[links]]` entry, or the cluster's network.
fn base_link(scenario: &Scenario, a: NodeId, b: NodeId) -> LinkParams {
    scenario.setup.links.iter().find(|(f, t, _)| (*f, *t) == (a, b)).map_or(scenario.setup.network, |(_, _, p)| *p)
}

/// The timeline actions that start and undo each fault.
fn fault_actions(scenario: &Scenario, faults: &[Fault]) -> Vec<TimedAction> {
    let mut actions = Vec::new();
    for f in faults {
        let mut at = |at: u64, action: Action| actions.push(TimedAction { at, action });
        match f.what {
            FaultWhat::Crash(b) => {
                at(f.start, Action::Crash(b));
                at(f.end, Action::Restart(b));
            }
            FaultWhat::Partition(b) => {
                for other in cut_off_from(scenario, b) {
                    at(f.start, Action::Cut { from: NodeId::Broker(b), to: other, both: true });
                }
                for other in cut_off_from(scenario, b) {
                    at(f.end, Action::Heal { from: NodeId::Broker(b), to: other, both: true });
                }
            }
            FaultWhat::Loss { a, b, loss } => {
                let base = base_link(scenario, a, b);
                at(f.start, Action::SetLink { from: a, to: b, both: true, params: LinkParams { loss, ..base } });
                at(f.end, Action::SetLink { from: a, to: b, both: true, params: base });
            }
            FaultWhat::Latency { a, b, latency_ms } => {
                let base = base_link(scenario, a, b);
                at(f.start, Action::SetLink { from: a, to: b, both: true, params: LinkParams { latency_ms, ..base } });
                at(f.end, Action::SetLink { from: a, to: b, both: true, params: base });
            }
            FaultWhat::ConsumerCrash(c) => {
                at(f.start, Action::CrashConsumer(c));
                at(f.end, Action::StartConsumer(c));
            }
        }
    }
    actions.sort_by_key(|a| a.at);
    actions
}

/// The nodes a partitioned broker loses: the controller and every other broker.
fn cut_off_from(scenario: &Scenario, b: u32) -> impl Iterator<Item = NodeId> {
    std::iter::once(NodeId::Controller).chain((1..=scenario.setup.brokers).filter(move |&o| o != b).map(NodeId::Broker))
}

impl Counterexample {
    /// A scenario file that reproduces the violation: `original` with its seed set to this one,
    /// and the fault schedule appended to its timeline, with a pause where the guarantee breaks.
    pub fn scenario_text(&self, original: &str, scenario: &Scenario, command: &str) -> String {
        let mut text = crate::scenario::with_seed(original, self.seed);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let sim = scenario.start(self.seed);
        let name = |node: NodeId| crate::sim::describe::node_name(&sim, node);
        let _ = write!(
            text,
            "\n# Found by `{command}` (seed {seed}): {sentence} — broken at {time} ms.\n# {kind} configuration; \
             the fault schedule below was shrunk from {before} to {after} fault(s).\n",
            seed = self.seed,
            sentence = self.violation.invariant.sentence(),
            time = self.time,
            kind = if self.safe { "A safe" } else { "An unsafe" },
            before = self.faults_before_shrinking,
            after = self.faults.len(),
        );
        for action in fault_actions(scenario, &self.faults) {
            if let Some(line) = action_toml(&action.action, &name) {
                let _ = write!(text, "\n[[timeline]]\nat = {}\n{line}\n", action.at);
            }
        }
        // Actions at a virtual time run before the events due then, so a pause at the break's own
        // time would stop one step early: it goes at the next millisecond, after the break,
        // unless that is past the run's end.
        let pause_at = if self.time < scenario.duration_ms { self.time + 1 } else { self.time };
        let question = "Which guarantee just broke, and which fault or setting made it possible?";
        let answer = format!("{}: {}.", capitalised(self.violation.invariant.sentence()), self.violation.detail);
        let _ = write!(
            text,
            "\n[[timeline]]\nat = {}\npause = {{ question = {}, answer = {} }}\n",
            pause_at,
            toml_string(question),
            toml_string(&answer)
        );
        text
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// One fault action as a `[[timeline]]` key (none for actions faults never make).
fn action_toml(action: &Action, name: &dyn Fn(NodeId) -> String) -> Option<String> {
    let link = |from: NodeId, to: NodeId| format!("from = {}, to = {}", toml_string(&name(from)), toml_string(&name(to)));
    Some(match action {
        Action::Crash(b) => format!("crash = {b}"),
        Action::PowerLoss(b) => format!("power_loss = {b}"),
        Action::ControlledShutdown(b) => format!("controlled_shutdown = {b}"),
        Action::Restart(b) => format!("restart = {b}"),
        Action::Cut { from, to, .. } => format!("cut = {{ {} }}", link(*from, *to)),
        Action::Heal { from, to, .. } => format!("heal = {{ {} }}", link(*from, *to)),
        Action::SetLink { from, to, params, .. } => format!(
            "link = {{ {}, latency_ms = {}, jitter_ms = {}, loss = {:?} }}",
            link(*from, *to),
            params.latency_ms,
            params.jitter_ms,
            params.loss
        ),
        Action::CrashConsumer(c) => format!("crash_consumer = {}", toml_string(&name(NodeId::Consumer(*c)))),
        Action::StartConsumer(c) => format!("start_consumer = {}", toml_string(&name(NodeId::Consumer(*c)))),
        _ => return None,
    })
}
