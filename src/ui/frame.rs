//! What one render shows, computed from the session: the components only read this. It also
//! owns how much of the state a render reads (the cells per log strip, when the picture turns
//! compact, the ledger's rows), so the views it asks the core for are exactly what the picture and
//! the panels draw. It uses the session and the core, and nothing else of the page.

use crate::scenario::ExpectationResult;
use crate::session::{Caption, Marker, Session};
use crate::sim::describe::{describe_effect, describe_headline, is_routine, node_name};
use crate::sim::view::{LedgerView, StateView};
use crate::sim::{Effect, NodeId, ScenarioEffect, Sim, StepEvent};
use std::cell::RefCell;
use std::rc::Rc;

/// Cells drawn per log strip; older records are summarised as one "…" cell.
pub const MAX_CELLS: usize = 12;

/// Above this many replica rows the picture draws each log as a bar instead of cells: a large
/// cluster stays readable, and the page stays quick (a cell costs four SVG elements).
const COMPACT_ROWS: usize = 60;

/// Whether a picture of this many replica rows draws each log as a bar rather than cells.
pub fn is_compact(replica_rows: usize) -> bool {
    replica_rows > COMPACT_ROWS
}

/// Rows the ledger table draws at most (see `Sim::ledger_view_limited`): a large run keeps its
/// table, and the page, light; the badges still count every record.
pub const LEDGER_ROWS: usize = 200;

/// Messages in flight that carry a number in the picture and a line in the list beside it, at
/// most: a large run has hundreds on their way, and both are drawn again on every step.
pub const FLIGHTS_NUMBERED: usize = 12;

/// A message on its way, with how far along its link it is at the current virtual time.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    /// Message id (keeps the element, so the move animates).
    pub id: u64,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// Kind.
    pub kind: &'static str,
    /// 0 at the sender, 1 at the receiver.
    pub progress: f64,
}

/// The lecturer's pause point: the question while the run waits at it, then its answer from the
/// step after it until the next lecturer text (the answer is revealed on continue).
#[derive(Clone, Debug, PartialEq)]
pub struct PauseView {
    /// The step it is at.
    pub at: u64,
    /// The question.
    pub question: String,
    /// The answer.
    pub answer: Option<String>,
    /// Answers the class picks from.
    pub choices: Vec<String>,
    /// The right choice, if one is right.
    pub correct: Option<usize>,
    /// The choice the class picked here, if it did.
    pub picked: Option<usize>,
    /// Whether the run waits at it now (otherwise it has moved on and the answer shows).
    pub waiting: bool,
}

/// The class's pick at each pause point, by its step.
pub type Picks = crate::sim::map::VecMap<u64, usize>;

/// Everything one render of the page reads.
pub struct Frame {
    /// The cluster.
    pub state: Rc<StateView>,
    /// The ledger.
    pub ledger: Rc<LedgerView>,
    /// Whether `ledger` is of an earlier position of this run (see [`Frame::new`]).
    pub ledger_stale: bool,
    /// Messages in flight.
    pub flights: Vec<Flight>,
    /// The message delivered in the current step, if any (drawn as a highlighted link).
    pub delivered: Option<(NodeId, NodeId, &'static str)>,
    /// Narration of the current step: headline, then one line per effect.
    pub narration: Vec<String>,
    /// Whether the current step is routine (heartbeats, empty fetches).
    pub routine: bool,
    /// The latest lecturer narration at or before this step.
    pub caption: Option<String>,
    /// The pause point at this step.
    pub pause: Option<PauseView>,
    /// Steps taken.
    pub position: u64,
    /// Run length, once known.
    pub total: Option<u64>,
    /// Steps the look-ahead has covered.
    pub known: u64,
    /// Timeline markers.
    pub markers: Rc<Vec<Marker>>,
    /// Trace hash, once known.
    pub trace_hash: Option<String>,
    /// Expectations and whether they held (once the look-ahead has passed their time).
    pub expectations: Vec<ExpectationResult>,
    /// Number of expectations in the scenario.
    pub expectation_count: usize,
    /// Node names for the action menu.
    pub node_names: Vec<(NodeId, String)>,
    /// The scenario's topics (not the internal `__consumer_offsets`), for the produce form.
    pub topics: Vec<String>,
    /// Whether the run is over.
    pub at_end: bool,
    /// Whether each broker is up, by `node.id` - 1.
    pub brokers_up: Vec<bool>,
    /// The seed.
    pub seed: u64,
    /// Virtual time.
    pub now: u64,
    /// The actions a challenge allows (none: every action).
    pub allowed_actions: Option<Vec<String>>,
}

fn nodes(sim: &Sim) -> Vec<(NodeId, String)> {
    let mut list = vec![(NodeId::Controller, node_name(sim, NodeId::Controller))];
    list.extend((1..=sim.brokers.len() as u32).map(|b| (NodeId::Broker(b), node_name(sim, NodeId::Broker(b)))));
    list.extend((0..sim.producers.len() as u32).map(|p| (NodeId::Producer(p), node_name(sim, NodeId::Producer(p)))));
    list.extend((0..sim.consumers.len() as u32).map(|c| (NodeId::Consumer(c), node_name(sim, NodeId::Consumer(c)))));
    list
}

/// The state and ledger views of one run, kept between renders: the page redraws after every
/// slice of the look-ahead too, and on a large run these views cost the most.
#[derive(Default)]
pub struct ViewCache {
    state: Cached<StateView>,
    ledger: Cached<LedgerView>,
    /// The markers, with the run and how many the look-ahead had found: they only grow, so the
    /// control row draws them again only when one is added.
    markers: RefCell<Option<((u64, usize), Rc<Vec<Marker>>)>>,
}

/// A view kept with the (run, position) it is of.
type Cached<T> = RefCell<Option<((u64, u64), Rc<T>)>>;

impl Frame {
    /// Reads the session at its current position. `run` names the run (it changes whenever the
    /// run starts again or forks), so `cache` is reused while the run and the position stay.
    /// With `defer_ledger`, a new position of the same run keeps the previous position's ledger
    /// (and says so in `ledger_stale`): the ledger sits below the picture and costs more than it,
    /// so the page draws the picture at once and the ledger when the person pauses.
    pub fn new(session: &Session, run: u64, cache: &ViewCache, picks: &Picks, defer_ledger: bool) -> Frame {
        let sim = session.sim();
        let key = (run, session.position());
        let state = {
            let mut cached = cache.state.borrow_mut();
            match cached.as_ref() {
                Some((k, state)) if *k == key => state.clone(),
                _ => {
                    // A large cluster's picture draws no cells, so its view carries no records.
                    let records = if is_compact(sim.replica_count()) { 0 } else { MAX_CELLS };
                    cached.insert((key, Rc::new(sim.state_view_tail(records)))).1.clone()
                }
            }
        };
        let (ledger, ledger_stale) = {
            let mut cached = cache.ledger.borrow_mut();
            match cached.as_ref() {
                Some((k, ledger)) if *k == key => (ledger.clone(), false),
                Some(((r, _), ledger)) if *r == run && defer_ledger => (ledger.clone(), true),
                _ => (cached.insert((key, Rc::new(sim.ledger_view_limited(LEDGER_ROWS)))).1.clone(), false),
            }
        };
        let now = sim.now();
        let flights = sim
            .in_flight()
            .into_iter()
            .map(|m| {
                let span = m.arrives_at.saturating_sub(m.sent_at).max(1) as f64;
                let progress = (now.saturating_sub(m.sent_at) as f64 / span).clamp(0.0, 1.0);
                Flight { id: m.id, from: m.from, to: m.to, kind: m.kind, progress }
            })
            .collect();
        let step = session.last_step();
        let delivered = step.and_then(|s| match &s.event {
            StepEvent::Deliver { from, to, msg, .. } => Some((*from, *to, msg.kind())),
            _ => None,
        });
        // The lecturer's text and the pause question have their own panels (the answer must stay
        // hidden until it is revealed), so the effect list leaves them out.
        let narration = step
            .map(|s| {
                let headline = describe_headline(sim, s);
                let effects = s.effects.iter().filter(|e| !matches!(e, Effect::Scenario(ScenarioEffect::Say { .. }) | Effect::Scenario(ScenarioEffect::Pause { .. }))).filter_map(|e| describe_effect(sim, e));
                std::iter::once(headline).chain(effects).collect()
            })
            .unwrap_or_default();
        let position = session.position();
        let captions = session.captions();
        let caption = captions.iter().rev().find_map(|c| match c {
            Caption::Say { at, text } if *at <= position => Some(text.clone()),
            _ => None,
        });
        // The latest caption at or before this step: a pause shows while it is the latest.
        let pause = captions.iter().rev().find(|c| c.at() <= position).and_then(|c| match c {
            Caption::Pause { at, question, answer, choices, correct } => Some(PauseView {
                at: *at,
                question: question.clone(),
                answer: answer.clone(),
                choices: choices.clone(),
                correct: correct.map(|c| c as usize),
                picked: picks.get(at).copied(),
                waiting: *at == position,
            }),
            Caption::Say { .. } => None,
        });
        let markers = {
            let mut cached = cache.markers.borrow_mut();
            let key = (run, session.markers().len());
            match cached.as_ref() {
                Some((k, markers)) if *k == key => markers.clone(),
                _ => cached.insert((key, Rc::new(session.markers().to_vec()))).1.clone(),
            }
        };
        Frame {
            state,
            ledger,
            ledger_stale,
            flights,
            delivered,
            narration,
            routine: step.is_some_and(is_routine),
            caption,
            pause,
            position,
            total: session.total_steps(),
            known: session.known_steps(),
            markers,
            trace_hash: session.trace_hash(),
            expectations: session.expectation_results().to_vec(),
            expectation_count: session.expectations().len(),
            node_names: nodes(sim),
            topics: sim.topics.iter().filter(|t| !t.internal).map(|t| t.name.clone()).collect(),
            at_end: session.at_end(),
            brokers_up: (1..=sim.brokers.len() as u32).map(|b| sim.is_up(NodeId::Broker(b))).collect(),
            seed: session.seed(),
            now,
            allowed_actions: session.scenario().challenge.as_ref().map(|c| c.actions.clone()),
        }
    }
}
