//! Playback of one run, as the page needs it: step forward and back, seek to any step, and fork
//! the run with a person's actions. Pure and deterministic like the core, so it is tested natively.
//!
//! The run is a function of (scenario, seed, user actions): a user action is pinned to the step
//! count at which it was taken, and applied just before the next step runs. Stepping back or
//! seeking restores the nearest earlier snapshot and replays forward, so every position lands on
//! exactly the state the forward run had.

use crate::scenario::{limits, Expectation, ExpectationResult, Scenario};
use crate::sim::describe::{self, is_routine, marker, MarkerKind, TraceHash};
use crate::sim::{Action, ClusterEffect, ConsumerEffect, Effect, ProducerEffect, ScenarioEffect, RecordId, Sim, Step, StepEvent, Timer};
use serde::Serialize;
use std::ops::Range;

mod action;

pub use action::{TimedUserAction, UserAction};
use action::pending_additions;

/// A snapshot of the whole simulation is kept every this many steps at first: seeking replays
/// fewer. A long run doubles the spacing whenever its snapshots outgrow [`SNAPSHOT_BUDGET`].
pub const SNAPSHOT_EVERY: u64 = 256;

/// The bytes (as [`Sim::clone_bytes_estimate`] counts them) that snapshots may hold together. The
/// page lives in a browser tab on a lecturer's laptop: a run of 100,000 records must stay within
/// tens of megabytes, and replaying a few thousand steps after a seek still takes milliseconds.
/// At 12 MB the 88,000 steps of `large-cluster` keep a snapshot every 2,048 steps (every 4,096 at
/// 10 MB: a seek replayed twice as many steps), while `heavy-load-100k` keeps one every 32,768, as
/// at 10 MB. (Snapshots really hold more than the estimate: what a step changes in the brokers'
/// maps and the ledger's chunks after a snapshot is copied, not shared.)
pub const SNAPSHOT_BUDGET: usize = 12 << 20;

/// Steps the page runs in one session at most (a run stops there with a note): the page's budget,
/// which a file must fit before it runs.
pub const MAX_STEPS: u64 = crate::scenario::cost::PAGE.steps;

/// Actions one session may carry (a share link holds them all).
pub const MAX_USER_ACTIONS: usize = 1_000;

/// A notable step, shown as a marker on the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Marker {
    /// Steps taken after it (so seeking to this lands just after the step).
    pub at: u64,
    /// What kind.
    pub kind: MarkerKind,
    /// Its narration.
    pub label: String,
}

/// Lecturer text from the scenario's timeline, as the look-ahead met it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Caption {
    /// Narration.
    Say {
        /// Steps taken after it.
        at: u64,
        /// The text.
        text: String,
    },
    /// A pause point: the run waits here.
    Pause {
        /// Steps taken after it.
        at: u64,
        /// The question for the class.
        question: String,
        /// The answer revealed on continue.
        answer: Option<String>,
        /// Answers the class picks from (none: an open question).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        choices: Vec<String>,
        /// The right choice's index (from 0), if one is right.
        #[serde(skip_serializing_if = "Option::is_none")]
        correct: Option<u32>,
    },
}

impl Caption {
    /// Steps taken after the step that carried it.
    pub fn at(&self) -> u64 {
        match self {
            Caption::Say { at, .. } | Caption::Pause { at, .. } => *at,
        }
    }
}

#[derive(Clone)]
struct Snapshot {
    sim: Sim,
    hash: TraceHash,
    expectations_done: usize,
    bytes: usize,
}

/// One run being watched: the current position, the snapshots behind it, and a look-ahead that
/// finds the run's length, its markers, its expectation results and its trace hash.
pub struct Session {
    scenario: Scenario,
    seed: u64,
    actions: Vec<TimedUserAction>,
    resolved: Vec<(u64, Action)>,
    expectations: Vec<Expectation>,
    current: Sim,
    /// The state at the last multiple of [`SNAPSHOT_EVERY`] steps that a seek replayed through:
    /// stepping back from there replays at most that many steps, however far apart the
    /// snapshots of a long run have grown.
    checkpoint: Option<Sim>,
    last: Option<Step>,
    snapshots: Vec<Snapshot>,
    /// Steps between snapshots: `snapshots[i]` is the state after `i * snapshot_every` steps.
    snapshot_every: u64,
    snapshot_budget: usize,
    ahead: Sim,
    ahead_hash: TraceHash,
    ahead_done: bool,
    markers: Vec<Marker>,
    captions: Vec<Caption>,
    /// (position, record) for every step that decided a record's fate. Positions fit in 32 bits
    /// (a run stops at `MAX_STEPS`), which halves this list on a run of 100,000 records.
    fates: Vec<(u32, RecordId)>,
    /// The positions after non-routine steps, as ranges of consecutive positions: a busy run has
    /// hundreds of thousands of them, nearly all next to each other.
    narrated: Vec<Range<u64>>,
    results: Vec<ExpectationResult>,
}

impl Session {
    /// Starts a run of `scenario` with `seed` and the given user actions (from a share link, say).
    pub fn new(scenario: Scenario, seed: u64, actions: Vec<TimedUserAction>) -> Result<Session, String> {
        if actions.len() > MAX_USER_ACTIONS {
            return Err(format!("{} user actions; the limit is {MAX_USER_ACTIONS}", actions.len()));
        }
        if actions.windows(2).any(|w| w[0].step > w[1].step) {
            return Err("user actions are not in step order".to_string());
        }
        let start = scenario.start(seed);
        let resolved = actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let added = pending_additions(&start, actions[..i].iter().map(|a| &a.action));
                a.action.resolve(&start, &added).map(|r| (a.step, r)).map_err(|e| format!("user action {}: {e}", i + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut expectations = scenario.expectations.clone();
        expectations.sort_by_key(|e| e.at.unwrap_or(scenario.duration_ms));
        Ok(Session {
            seed,
            actions,
            resolved,
            expectations,
            current: start.clone(),
            checkpoint: None,
            last: None,
            snapshots: vec![Snapshot { bytes: start.clone_bytes_estimate(), sim: start.clone(), hash: TraceHash::default(), expectations_done: 0 }],
            snapshot_every: SNAPSHOT_EVERY,
            snapshot_budget: SNAPSHOT_BUDGET,
            ahead: start,
            ahead_hash: TraceHash::default(),
            ahead_done: false,
            markers: Vec::new(),
            captions: Vec::new(),
            fates: Vec::new(),
            narrated: Vec::new(),
            results: Vec::new(),
            scenario,
        })
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The person's actions so far, in step order.
    pub fn actions(&self) -> &[TimedUserAction] {
        &self.actions
    }

    /// The state at the current position.
    pub fn sim(&self) -> &Sim {
        &self.current
    }

    /// The step that led to the current position (none at the start).
    pub fn last_step(&self) -> Option<&Step> {
        self.last.as_ref()
    }

    /// Steps taken at the current position.
    pub fn position(&self) -> u64 {
        self.current.steps_taken()
    }

    /// Applies the actions pinned to `sim`'s step count, then runs one step, unless the run is over.
    /// Adds the user's actions due at this step, then runs one step due by `limit`. A stale timer
    /// is never a step, so `step_until` keeps it from carrying the run past `limit`.
    fn advance(resolved: &[(u64, Action)], limit: u64, sim: &mut Sim) -> Option<Step> {
        let taken = sim.steps_taken();
        if taken >= MAX_STEPS {
            return None;
        }
        let first = resolved.partition_point(|(s, _)| *s < taken);
        for (_, action) in resolved[first..].iter().take_while(|(s, _)| *s == taken) {
            sim.add_action(sim.now(), action.clone());
        }
        if sim.next_event_time().is_none_or(|t| t > limit) {
            return None;
        }
        sim.step_until(limit)
    }

    /// Runs the look-ahead for at most `budget` steps; true once it has reached the end of the run.
    /// The page calls this in slices so that a long run never blocks it.
    pub fn look_ahead(&mut self, budget: u64) -> bool {
        let duration = self.scenario.duration_ms;
        for _ in 0..budget {
            if self.ahead_done {
                break;
            }
            let taken = self.ahead.steps_taken();
            if taken.is_multiple_of(self.snapshot_every) && taken / self.snapshot_every == self.snapshots.len() as u64 {
                self.take_snapshot();
            }
            // An expectation holds "at" its time: after every event up to and including it.
            let next = self.ahead.next_event_time().filter(|t| *t <= duration);
            self.check_expectations(next);
            // Run no further than the next expectation's time, so that it is checked after the last
            // event at or before it even when stale timers come first. (An action the user added at
            // this step is a step itself, so a stop here never adds it twice.)
            let pending = self.expectations.get(self.results.len()).map(|e| e.at.unwrap_or(duration)).filter(|&at| at < duration);
            match Session::advance(&self.resolved, pending.unwrap_or(duration), &mut self.ahead) {
                Some(step) => {
                    self.ahead_hash.add(&self.ahead, &step);
                    let at = self.ahead.steps_taken();
                    if let Some((kind, label)) = marker(&self.ahead, &step) {
                        self.markers.push(Marker { at, kind, label });
                    }
                    self.note(at, &step);
                    if !is_routine(&step) {
                        match self.narrated.last_mut() {
                            Some(run) if run.end == at => run.end += 1,
                            _ => self.narrated.push(at..at + 1),
                        }
                    }
                }
                None => match pending {
                    Some(at) => self.check_expectations(Some(at + 1)),
                    None => {
                        self.check_expectations(None);
                        self.ahead_done = true;
                    }
                },
            }
        }
        self.ahead_done
    }

    /// Keeps a snapshot of the look-ahead, and halves the snapshots (doubling their spacing) while
    /// together they are over budget.
    fn take_snapshot(&mut self) {
        let bytes = self.ahead.clone_bytes_estimate();
        self.snapshots.push(Snapshot { sim: self.ahead.clone(), hash: self.ahead_hash, expectations_done: self.results.len(), bytes });
        while self.snapshots.len() > 2 && self.snapshots.iter().map(|s| s.bytes).sum::<usize>() > self.snapshot_budget {
            let mut index = 0;
            self.snapshots.retain(|_| {
                index += 1;
                index % 2 == 1
            });
            self.snapshot_every *= 2;
        }
    }

    /// The index of the last snapshot taken at or before `position`.
    fn snapshot_before(&self, position: u64) -> usize {
        ((position / self.snapshot_every) as usize).min(self.snapshots.len() - 1)
    }

    /// Sets the bytes snapshots may hold together (instead of [`SNAPSHOT_BUDGET`]), before the
    /// look-ahead starts.
    pub fn set_snapshot_budget(&mut self, bytes: usize) {
        self.snapshot_budget = bytes;
    }

    /// Steps between snapshots at present (it grows on long runs).
    pub fn snapshot_spacing(&self) -> u64 {
        self.snapshot_every
    }

    /// Keeps the lecturer's text, and for each record the latest step that changed its fate.
    fn note(&mut self, at: u64, step: &Step) {
        for effect in &step.effects {
            match effect {
                Effect::Scenario(ScenarioEffect::Say { text }) => self.captions.push(Caption::Say { at, text: text.clone() }),
                Effect::Scenario(ScenarioEffect::Pause { question, answer, choices, correct }) => self.captions.push(Caption::Pause {
                    at,
                    question: question.clone(),
                    answer: answer.clone(),
                    choices: choices.clone(),
                    correct: *correct,
                }),
                Effect::Producer(ProducerEffect::Acknowledged { records, .. }) | Effect::Producer(ProducerEffect::ProduceError { records, .. }) | Effect::Cluster(ClusterEffect::Truncated { removed: records, .. }) => {
                    self.fates.extend(records.iter().map(|r| (at as u32, *r)));
                }
                // A record refused by send() has its fate decided there.
                Effect::Producer(ProducerEffect::RecordTooLarge { record, .. }) => self.fates.push((at as u32, *record)),
                Effect::Consumer(ConsumerEffect::RecordProcessed { record, times, .. }) if *times > 1 => {
                    self.fates.push((at as u32, *record));
                }
                _ => {}
            }
        }
    }

    fn check_expectations(&mut self, next_event: Option<u64>) {
        while let Some(e) = self.expectations.get(self.results.len()) {
            let at = e.at.unwrap_or(self.scenario.duration_ms);
            if next_event.is_some_and(|t| t <= at) {
                break;
            }
            let mut result = e.check(&self.ahead);
            result.time = at;
            self.results.push(result);
        }
    }

    /// Runs the look-ahead to the end (tests and the CLI; the page slices it).
    pub fn look_ahead_all(&mut self) {
        while !self.look_ahead(1 << 16) {}
    }

    /// Replays the run from its start to the current position, calling `f` after every step.
    pub fn replay(&self, mut f: impl FnMut(&Sim, &Step)) {
        let mut sim = self.snapshots[0].sim.clone();
        while sim.steps_taken() < self.position() {
            match Session::advance(&self.resolved, self.scenario.duration_ms, &mut sim) {
                Some(step) => f(&sim, &step),
                None => break,
            }
        }
    }

    /// The narrated trace from the start to the current position, as `kafkasim run` prints it
    /// (with routine steps), for the page's export.
    pub fn trace_text(&self) -> String {
        let mut out = format!("# {}\n# seed {} · {} user action(s) · up to step {}\n", self.scenario.title, self.seed, self.actions.len(), self.position());
        self.replay(|sim, step| {
            out.push_str(&describe::describe_step(sim, step));
            out.push('\n');
        });
        out
    }

    /// The trace from the start to the current position as JSON: every step with its text, then
    /// the state and the ledger at the position (the shape of `kafkasim run --format json`).
    pub fn trace_json(&self) -> String {
        let mut steps = Vec::new();
        self.replay(|sim, step| steps.push(describe::step_json(sim, step)));
        let doc = serde_json::json!({
            "title": self.scenario.title,
            "seed": self.seed,
            "position": self.position(),
            "until_ms": self.current.now(),
            "steps": steps,
            "final_state": self.current.state_view(),
            "ledger": self.current.ledger_view(),
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }

    /// The state at the end of the run, once the look-ahead has finished.
    pub fn final_state(&self) -> Option<&Sim> {
        self.ahead_done.then_some(&self.ahead)
    }

    /// Moves to the last step at or before virtual time `t` (compare mode keeps two runs of
    /// different lengths at the same time). Starts from the last snapshot before `t`.
    pub fn seek_time(&mut self, t: u64) {
        let from = self.snapshots.iter().rposition(|s| s.sim.now() <= t).unwrap_or(0);
        let start = from as u64 * self.snapshot_every;
        if self.current.now() > t || self.position() < start {
            self.seek(start);
        }
        while self.current.next_event_time().is_some_and(|next| next <= t) && !self.at_end() {
            if self.step_forward().is_none() {
                break;
            }
        }
    }

    /// The run's length in steps, once the look-ahead has finished.
    pub fn total_steps(&self) -> Option<u64> {
        self.ahead_done.then(|| self.ahead.steps_taken())
    }

    /// Steps the look-ahead has covered so far.
    pub fn known_steps(&self) -> u64 {
        self.ahead.steps_taken()
    }

    /// The trace hash of the whole run, once the look-ahead has finished.
    pub fn trace_hash(&self) -> Option<String> {
        self.ahead_done.then(|| self.ahead_hash.hex())
    }

    /// Timeline markers found so far.
    pub fn markers(&self) -> &[Marker] {
        &self.markers
    }

    /// Lecturer text found so far, in step order.
    pub fn captions(&self) -> &[Caption] {
        &self.captions
    }

    /// The position just after the step that last decided a record's fate (acknowledged,
    /// failed, truncated away or processed again), as far as the look-ahead has seen.
    pub fn fate_step(&self, record: RecordId) -> Option<u64> {
        self.fates.iter().rev().find(|(_, r)| *r == record).map(|(at, _)| u64::from(*at))
    }

    /// The position after the next (`forward`) or previous step that is not routine (heartbeats
    /// and fetches that changed nothing), as far as the look-ahead has seen.
    pub fn next_narrated(&self, forward: bool) -> Option<u64> {
        let here = self.position();
        if forward {
            let i = self.narrated.partition_point(|run| run.end <= here + 1);
            self.narrated.get(i).map(|run| run.start.max(here + 1))
        } else {
            let j = self.narrated.partition_point(|run| run.start < here);
            j.checked_sub(1).map(|k| (self.narrated[k].end - 1).min(here - 1))
        }
    }

    /// Expectation results found so far (all of them once the look-ahead has finished).
    pub fn expectation_results(&self) -> &[ExpectationResult] {
        &self.results
    }

    /// The expectations, in the order they are checked.
    pub fn expectations(&self) -> &[Expectation] {
        &self.expectations
    }

    /// Runs one step forward; `None` at the end of the run.
    pub fn step_forward(&mut self) -> Option<&Step> {
        let step = Session::advance(&self.resolved, self.scenario.duration_ms, &mut self.current)?;
        self.last = Some(step);
        self.last.as_ref()
    }

    /// Whether the current position is the end of the run.
    pub fn at_end(&self) -> bool {
        let taken = self.current.steps_taken();
        // Only an action pinned to this very step can start more events: one pinned to a later
        // step (a share link can hold any) is never reached once no event is left.
        let pending = self.resolved.iter().any(|(s, _)| *s == taken);
        taken >= MAX_STEPS || (!pending && self.current.next_event_time().is_none_or(|t| t > self.scenario.duration_ms))
    }

    /// Goes back one step (to exactly the state before it).
    pub fn step_back(&mut self) {
        if let Some(target) = self.position().checked_sub(1) {
            self.seek(target);
        }
    }

    /// Moves to the state after `target` steps (or the end of the run, if it is shorter).
    pub fn seek(&mut self, target: u64) {
        let target = target.min(MAX_STEPS);
        while self.known_steps() < target && !self.look_ahead(1 << 14) {}
        let target = target.min(self.known_steps());
        if target == self.position() {
            return;
        }
        // Replay from the latest known state *before* the target, so the step that led there is
        // known: the current state, the checkpoint or the last snapshot before it.
        let base = self.snapshot_before(target.saturating_sub(1));
        let mut from = base as u64 * self.snapshot_every;
        let checkpoint = self.checkpoint.as_ref().map(Sim::steps_taken).filter(|&at| at > from && at < target);
        if let Some(at) = checkpoint {
            from = at;
        }
        if !(self.position() > from && self.position() < target) {
            self.current = checkpoint.and(self.checkpoint.as_ref()).unwrap_or(&self.snapshots[base].sim).clone();
            self.last = None;
        }
        let mark = target.saturating_sub(1) / SNAPSHOT_EVERY * SNAPSHOT_EVERY;
        while self.current.steps_taken() < target {
            if self.current.steps_taken() == mark && checkpoint != Some(mark) {
                self.checkpoint = Some(self.current.clone());
            }
            match Session::advance(&self.resolved, self.scenario.duration_ms, &mut self.current) {
                Some(step) => self.last = Some(step),
                None => break,
            }
        }
    }

    /// Steps forward until the person's latest action has run (other events due at the same
    /// moment may come first), so the page shows its effect at once.
    pub fn step_to_latest_action(&mut self) {
        let here = self.position();
        let pending = self.resolved.iter().filter(|(s, _)| *s == here).count();
        if pending == 0 {
            return;
        }
        let index = self.current.timeline().len() + pending - 1;
        for _ in 0..limits::TIMELINE + 1_000 {
            match self.step_forward() {
                Some(Step { event: StepEvent::Timer { timer: Timer::Action { index: i } }, .. }) if *i >= index => return,
                Some(_) => {}
                None => return,
            }
        }
    }

    /// Adds a person's action at the current position. The run forks here: actions that were
    /// later on the old timeline are dropped, and the look-ahead starts again from this point.
    pub fn act(&mut self, action: UserAction) -> Result<(), String> {
        let here = self.position();
        let added = pending_additions(&self.current, self.actions.iter().filter(|a| a.step <= here).map(|a| &a.action));
        let resolved = action.resolve(&self.current, &added)?;
        if self.actions.iter().filter(|a| a.step <= here).count() >= MAX_USER_ACTIONS {
            return Err(format!("the limit of {MAX_USER_ACTIONS} user actions is reached"));
        }
        self.actions.retain(|a| a.step <= here);
        self.resolved.retain(|(s, _)| *s <= here);
        self.actions.push(TimedUserAction { step: here, action });
        self.resolved.push((here, resolved));
        // The snapshot at or before `here` was taken before the actions at its step, so it holds.
        let base = self.snapshot_before(here);
        self.snapshots.truncate(base + 1);
        let snap = self.snapshots[base].clone();
        let from = base as u64 * self.snapshot_every;
        self.markers.retain(|m| m.at <= from);
        self.captions.retain(|c| c.at() <= from);
        self.fates.retain(|(at, _)| u64::from(*at) <= from);
        self.narrated.retain(|run| run.start <= from);
        if let Some(run) = self.narrated.last_mut() {
            run.end = run.end.min(from + 1);
        }
        self.results.truncate(snap.expectations_done);
        self.checkpoint = None;
        self.ahead = snap.sim;
        self.ahead_hash = snap.hash;
        self.ahead_done = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
