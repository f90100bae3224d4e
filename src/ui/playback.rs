//! Playback: where the cursor of the run stands and how it moves (play, step, seek, markers,
//! speed, routine steps skipped or not), the look-ahead that computes the run ahead of the cursor
//! in slices, landing on a step once the look-ahead reaches it, and the ledger catching up after
//! the picture. The session holds the simulation and its snapshots; [`Playback`] holds only how the
//! page moves through it. The hooks at the end are the timers that drive it. It uses the session
//! and the words, nothing else of the page.

use super::i18n::{fill, Tr};
use crate::session::Session;
use crate::sim::{Effect, ScenarioEffect};
use gloo::render::{request_animation_frame, AnimationFrame};
use gloo::timers::callback::{Interval, Timeout};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use yew::prelude::*;

/// Playback speeds: ms between steps shown; 0 shows one step in every animation frame. Their
/// names are in the translation tables.
pub const SPEEDS: [u32; 5] = [1200, 500, 200, 60, 0];

/// Steps of look-ahead per slice: small enough that one slice stays far below 100 ms.
const LOOK_AHEAD_SLICE: u64 = 4_000;

/// How long stepping must pause before the ledger catches up with the picture (ms).
const LEDGER_PAUSE_MS: u32 = 100;
/// How often the ledger catches up during playback (ms).
const LEDGER_PLAYING_MS: u32 = 500;

/// How the page moves through the run.
pub struct Playback {
    /// Whether it plays.
    pub playing: bool,
    /// The index of its speed in [`SPEEDS`].
    pub speed: usize,
    /// Whether stepping stops at routine steps (heartbeats, empty fetches) too.
    pub show_routine: bool,
    /// A step to land on once the look-ahead has reached it (a link's step, or the end): the
    /// run is computed in slices rather than in one long block.
    pub landing: Option<u64>,
    /// The ledger's catch-up after the picture moved on.
    pub ledger: LedgerCatchUp,
}

impl Playback {
    /// Stopped, at the second speed, skipping routine steps.
    pub fn new() -> Playback {
        Playback { playing: false, speed: 1, show_routine: false, landing: None, ledger: LedgerCatchUp::default() }
    }

    /// A new run starts: stopped, landing on `step` once the look-ahead reaches it.
    pub fn start(&mut self, step: u64) {
        self.landing = (step > 0).then_some(step);
        self.playing = false;
    }

    /// One tick of playback: the next narrated step (or the next step when routine ones show).
    /// It stops at a pause point and at the end.
    pub fn tick(&mut self, s: &mut Session) {
        if s.at_end() {
            self.playing = false;
            return;
        }
        self.forward(s);
        let waits = s.last_step().is_some_and(|st| st.effects.iter().any(|e| matches!(e, Effect::Scenario(ScenarioEffect::Pause { .. }))));
        if waits || s.at_end() {
            self.playing = false;
        }
    }

    /// Starts playing, unless the run is over; or stops.
    pub fn toggle(&mut self, s: Option<&Session>) {
        self.playing = !self.playing && !s.is_some_and(Session::at_end);
    }

    /// To the next narrated step (or the next step when routine ones show).
    pub fn forward(&self, s: &mut Session) {
        match s.next_narrated(true) {
            Some(target) if !self.show_routine => s.seek(target),
            _ => {
                s.step_forward();
            }
        }
    }

    /// To the previous narrated step (or the previous step when routine ones show).
    pub fn back(&self, s: &mut Session) {
        match s.next_narrated(false) {
            Some(target) if !self.show_routine => s.seek(target),
            _ => s.step_back(),
        }
    }

    /// To the end of the run: at once when it is known, otherwise once the look-ahead reaches it.
    pub fn end(&mut self, s: &mut Session) {
        match s.total_steps() {
            Some(total) => s.seek(total),
            None => self.landing = Some(u64::MAX),
        }
    }

    /// To the next (`forward`) or previous marker, if there is one.
    pub fn marker(s: &mut Session, forward: bool) {
        let here = s.position();
        let target = if forward {
            s.markers().iter().find(|m| m.at > here).map(|m| m.at)
        } else {
            s.markers().iter().rev().find(|m| m.at < here).map(|m| m.at)
        };
        if let Some(t) = target {
            s.seek(t);
        }
    }

    /// Sets the speed, by its index in [`SPEEDS`].
    pub fn set_speed(&mut self, i: usize) {
        self.speed = i.min(SPEEDS.len() - 1);
    }

    /// One slice of background work: the look-ahead of both runs, then landing on a pending step
    /// once it is known. True when nothing is left to do.
    pub fn look_ahead_slice(&mut self, session: Option<&mut Session>, compare: Option<&mut Session>) -> bool {
        if let Some(right) = compare {
            right.look_ahead(LOOK_AHEAD_SLICE);
        }
        let Some(s) = session else { return true };
        let done = s.look_ahead(LOOK_AHEAD_SLICE);
        if let Some(target) = self.landing {
            if done || s.known_steps() >= target {
                s.seek(target);
                self.landing = None;
            }
        }
        done && self.landing.is_none()
    }
}

/// The ledger's catch-up after the picture moved on (see `Frame::new`): the timer, the (run,
/// position) it is due for while it has not fired, and whether the next render computes the
/// ledger of its position. The cells are shared with the timer, which sets them when it fires.
#[derive(Default)]
pub struct LedgerCatchUp {
    timer: RefCell<Option<Timeout>>,
    due: Rc<Cell<Option<(u64, u64)>>>,
    now: Rc<Cell<bool>>,
}

impl LedgerCatchUp {
    /// Whether this render may show an earlier position's ledger: not when the catch-up is due.
    pub fn defer(&self) -> bool {
        !self.now.replace(false)
    }

    /// After a render that showed an earlier ledger at `position` (run, step): the ledger catches
    /// up once stepping pauses for a moment; while `playing`, a few times a second, so that no
    /// frame of the animation waits for it. Redraws that do not move the position (the
    /// look-ahead's) leave the timer alone. `redraw` renders the page again when it is due.
    pub fn follow(&self, position: (u64, u64), playing: bool, redraw: Callback<()>) {
        let due = self.due.get();
        if due.is_some() && (playing || due == Some(position)) {
            return;
        }
        self.due.set(Some(position));
        let (due, now) = (self.due.clone(), self.now.clone());
        *self.timer.borrow_mut() = Some(Timeout::new(if playing { LEDGER_PLAYING_MS } else { LEDGER_PAUSE_MS }, move || {
            due.set(None);
            now.set(true);
            redraw.emit(());
        }));
    }
}

/// The note that the page is computing its way to a step, while it is.
pub fn landing_note(t: Tr, landing: Option<u64>, known: u64) -> Html {
    let Some(target) = landing else { return html! {} };
    html! {
        <div class="notice" role="status" data-testid="landing">
            {if target == u64::MAX { fill(t.landing_end, &[&known]) }
             else { fill(t.landing_step, &[&target, &known]) }}
        </div>
    }
}

/// Calls `tick` in every animation frame until the returned handle is dropped: the fastest speed
/// shows one step in each frame the browser draws, never more than the screen can show.
fn every_frame(tick: Rc<dyn Fn()>) -> Rc<RefCell<Option<AnimationFrame>>> {
    // The pending frame holds only a weak handle, so dropping the strong one stops the loop.
    fn schedule(slot: Weak<RefCell<Option<AnimationFrame>>>, tick: Rc<dyn Fn()>) {
        let Some(strong) = slot.upgrade() else { return };
        *strong.borrow_mut() = Some(request_animation_frame(move |_| {
            tick();
            schedule(slot, tick);
        }));
    }
    let slot = Rc::new(RefCell::new(None));
    schedule(Rc::downgrade(&slot), tick);
    slot
}

/// Calls `tick` once per step shown while `playing`: on a timer at the speed `SPEEDS[speed]`, or
/// in every animation frame at the fastest.
#[hook]
pub fn use_ticker(playing: bool, speed: usize, tick: impl Fn() + 'static) {
    use_effect_with((playing, speed), move |(playing, speed)| {
        // A timer, or the animation frames at the fastest speed: held only to be dropped.
        let ticker: Option<Box<dyn std::any::Any>> = playing.then(|| match SPEEDS[*speed] {
            0 => Box::new(every_frame(Rc::new(tick))) as Box<dyn std::any::Any>,
            ms => Box::new(Interval::new(ms, tick)),
        });
        move || drop(ticker)
    });
}

/// Runs `slice` every millisecond until it returns true; starts again whenever `epoch` changes.
/// Long work runs this way so that no single block holds the tab.
#[hook]
pub fn use_slices(epoch: u64, slice: impl Fn() -> bool + 'static) {
    use_effect_with(epoch, move |_| {
        let handle: Rc<RefCell<Option<Interval>>> = Rc::new(RefCell::new(None));
        let inner = handle.clone();
        *handle.borrow_mut() = Some(Interval::new(1, move || {
            if slice() {
                inner.borrow_mut().take();
            }
        }));
        move || drop(handle.borrow_mut().take())
    });
}
