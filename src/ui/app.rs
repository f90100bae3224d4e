//! The page's root component and its playback state (what runs, where the cursor is, how fast
//! it plays), kept apart from the model: the session holds the simulation and its snapshots.

use super::browser::{location_hash, publish_link, toggle_fullscreen};
use super::cluster::Cluster;
use super::export::{export, Export, ExportMenu};
use super::frame::{Frame, Picks, ViewCache};
use super::i18n::{fill, Lang, Tr};
use super::panels::{ActionMenu, Cmd, Controls, Expectations, Ledger, Narration, SPEEDS};
use crate::explore::{Explorer, FaultKind, Options, Progress};
use crate::scenario::{self, ScenarioError};
use crate::session::{Session, TimedUserAction};
use crate::share::{self, ScenarioRef, ShareState};
use crate::sim::{Effect, NodeId};
use gloo::events::{EventListener, EventListenerOptions};
use gloo::render::{request_animation_frame, AnimationFrame};
use gloo::timers::callback::{Interval, Timeout};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

/// Steps of look-ahead per slice: small enough that one slice stays far below 100 ms.
const LOOK_AHEAD_SLICE: u64 = 4_000;

/// Steps the explorer simulates per slice (with every invariant checked after each): a few
/// milliseconds of work, so that the tab stays responsive while it searches.
const EXPLORE_SLICE: u64 = 8_000;

/// Seeds the page's explorer tries.
const EXPLORE_SEEDS: u64 = 1_000;

/// The shipped scenario opened when a link names none.
const DEFAULT_SCENARIO: &str = "acks1-acknowledged-loss";
/// How long stepping must pause before the ledger catches up with the picture (ms).
const LEDGER_PAUSE_MS: u32 = 100;
/// How often the ledger catches up during playback (ms).
const LEDGER_PLAYING_MS: u32 = 500;

struct BuiltinInfo {
    name: &'static str,
    title: String,
    /// The curriculum module (none: the scale and exploration extras).
    module: Option<u32>,
    lesson: u32,
}

/// Playback and page state; the model lives in `session`.
struct Ui {
    builtins: Vec<BuiltinInfo>,
    session: Option<Session>,
    running: ScenarioRef,
    editor: String,
    editor_errors: Vec<ScenarioError>,
    notice: Option<String>,
    playing: bool,
    speed: usize,
    show_routine: bool,
    selected: Option<NodeId>,
    epoch: u64,
    /// The views of the current position, kept between renders.
    views: ViewCache,
    /// The ledger's catch-up after the picture moved on (see `Frame::new`): the timer, the (run,
    /// position) it is due for while it has not fired, and whether the next render computes the
    /// ledger of its position.
    ledger_timer: RefCell<Option<Timeout>>,
    ledger_due: Cell<Option<(u64, u64)>>,
    ledger_now: Cell<bool>,
    /// The class's pick at each pause point of this run.
    picks: Picks,
    /// The page's language.
    lang: Lang,
    /// Compare mode: the scenario's `[compare]` run, kept at the same virtual time as the main one.
    compare: Option<Session>,
    compare_views: ViewCache,
    /// The challenge's goal in the current run, checked once per position.
    challenge: ChallengeStatus,
    share_url: Option<String>,
    reader: Option<gloo::file::callbacks::FileReader>,
    presenter: bool,
    dark: bool,
    reduce_motion: bool,
    seed_input: String,
    /// A step to land on once the look-ahead has reached it (a link's step, or the end): the
    /// run is computed in slices rather than in one long block.
    landing: Option<u64>,
    /// A search for a counterexample running in slices, with the text of the scenario it explores.
    explorer: Option<(Explorer, String)>,
    explore_epoch: u64,
}

impl Ui {
    fn new() -> Ui {
        let mut builtins: Vec<BuiltinInfo> = crate::builtin::BUILTIN
            .iter()
            .map(|(name, text)| {
                let parsed = scenario::parse(name, text).ok();
                BuiltinInfo {
                    name,
                    title: parsed.as_ref().map_or_else(|| name.to_string(), |s| s.title.clone()),
                    module: parsed.as_ref().and_then(|s| s.module),
                    lesson: parsed.as_ref().map_or(0, |s| s.lesson),
                }
            })
            .collect();
        // The course order: module by module, lesson by lesson; the extras last.
        builtins.sort_by_key(|b| (b.module.unwrap_or(u32::MAX), b.lesson));
        let dark = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches());
        let mut ui = Ui {
            builtins,
            session: None,
            running: ScenarioRef::Builtin(DEFAULT_SCENARIO.to_string()),
            editor: String::new(),
            editor_errors: Vec::new(),
            notice: None,
            playing: false,
            speed: 1,
            views: ViewCache::default(),
            ledger_timer: RefCell::new(None),
            ledger_due: Cell::new(None),
            ledger_now: Cell::new(false),
            picks: Picks::new(),
            lang: Lang::En,
            compare: None,
            compare_views: ViewCache::default(),
            challenge: ChallengeStatus::default(),
            show_routine: false,
            selected: None,
            epoch: 0,
            share_url: None,
            reader: None,
            presenter: false,
            dark,
            reduce_motion: false,
            seed_input: String::new(),
            landing: None,
            explorer: None,
            explore_epoch: 0,
        };
        let hash = location_hash();
        if hash.len() > 1 {
            ui.open_link(&hash);
        } else {
            ui.open(ScenarioRef::Builtin(DEFAULT_SCENARIO.into()), None, Vec::new(), 0);
        }
        ui
    }

    /// Opens the run a share link's fragment names: at start-up, and whenever the fragment
    /// changes (a link pasted into the address bar of the open page, or the browser's back button).
    fn open_link(&mut self, hash: &str) {
        match share::decode(hash) {
            Ok(state) => {
                match state.lang.as_deref().map(|code| (code, Lang::from_code(code))) {
                    Some((_, Some(lang))) => self.lang = lang,
                    Some((code, None)) => self.notice = Some(fill(Tr(Lang::En).notice_unknown_lang, &[&format!("{code:?}")])),
                    None => {}
                }
                let compare = state.compare;
                self.open(state.scenario, Some(state.seed), state.actions, state.step);
                if compare {
                    self.toggle_compare();
                }
            }
            Err(e) => self.notice = Some(fill(Tr(self.lang).notice_bad_link, &[&e])),
        }
        if self.session.is_none() {
            // Nothing runs yet (the page is starting) and the link did not load: the class gets the
            // default scenario, and the link's text and errors, if it had any, stay in the editor.
            let notice = self.notice.take();
            let editor = std::mem::take(&mut self.editor);
            let errors = std::mem::take(&mut self.editor_errors);
            self.open(ScenarioRef::Builtin(DEFAULT_SCENARIO.into()), None, Vec::new(), 0);
            if !editor.is_empty() {
                self.editor = editor;
                self.editor_errors = errors;
            }
            self.notice = notice;
        }
    }

    /// Loads a scenario. On any error the previous run stays, and the text stays in the editor.
    fn open(&mut self, source: ScenarioRef, seed: Option<u64>, actions: Vec<TimedUserAction>, step: u64) {
        let (file, text) = match &source {
            ScenarioRef::Builtin(name) => match crate::builtin::get(name) {
                Some(text) => (format!("{name}.toml"), text.to_string()),
                None => {
                    self.notice = Some(fill(Tr(self.lang).notice_no_builtin, &[&format!("{name:?}")]));
                    return;
                }
            },
            ScenarioRef::Text(text) => ("scenario.toml".to_string(), text.clone()),
        };
        self.editor = text.clone();
        match scenario::parse(&file, &text) {
            Err(errors) => {
                self.editor_errors = errors;
                self.notice = Some(Tr(self.lang).notice_editor_errors.into());
            }
            Ok(parsed) => {
                self.editor_errors.clear();
                let seed = seed.unwrap_or(parsed.seed);
                match Session::new(parsed, seed, actions) {
                    Ok(session) => {
                        self.landing = (step > 0).then_some(step);
                        self.session = Some(session);
                        self.running = source;
                        self.notice = None;
                        self.playing = false;
                        self.selected = None;
                        self.share_url = None;
                        self.seed_input = seed.to_string();
                        self.picks.clear();
                        self.compare = None;
                        self.epoch += 1;
                    }
                    Err(e) => self.notice = Some(fill(Tr(self.lang).notice_run_failed, &[&e])),
                }
            }
        }
    }

    fn share_state(&self) -> Option<ShareState> {
        let s = self.session.as_ref()?;
        let lang = (self.lang != Lang::En).then(|| self.lang.code().to_string());
        Some(ShareState { scenario: self.running.clone(), seed: s.seed(), actions: s.actions().to_vec(), step: s.position(), lang, compare: self.compare.is_some() })
    }

    /// Starts or stops compare mode: the scenario's `[compare]` run with the same seed.
    fn toggle_compare(&mut self) {
        if self.compare.take().is_some() {
            return;
        }
        let Some(s) = self.session.as_ref() else { return };
        let Some(c) = s.scenario().compare.as_ref() else { return };
        match Session::new((*c.variant).clone(), s.seed(), Vec::new()) {
            Ok(mut right) => {
                right.seek_time(s.sim().now());
                self.compare = Some(right);
                self.epoch += 1;
            }
            Err(e) => self.notice = Some(fill(Tr(self.lang).notice_compare_failed, &[&e])),
        }
    }

    /// Keeps the compare run at the main run's virtual time, and checks a challenge's goal where
    /// the run stands (once per position: the page redraws after every look-ahead slice too) and
    /// at its end (once, when the look-ahead reaches it).
    fn sync(&mut self) {
        let Some(s) = self.session.as_ref() else { return };
        if let Some(right) = self.compare.as_mut() {
            right.seek_time(s.sim().now());
        }
        let Some(challenge) = s.scenario().challenge.as_ref() else { return };
        let st = &mut self.challenge;
        if st.checked.map(|(epoch, _)| epoch) != Some(self.epoch) {
            *st = ChallengeStatus::default();
        }
        let key = (self.epoch, s.position());
        if st.checked != Some(key) {
            st.here = challenge.expectation.check(s.sim()).passed();
            st.seen |= st.here;
            st.checked = Some(key);
        }
        if st.end.is_none() {
            st.end = s.final_state().map(|sim| challenge.expectation.check(sim).passed());
        }
    }

    /// One tick of playback: the next narrated step (or the next step when routine ones show).
    fn tick(&mut self) {
        let Some(s) = self.session.as_mut() else { return };
        if s.at_end() {
            self.playing = false;
            return;
        }
        self.forward();
        let waits = self.session.as_ref().and_then(|s| s.last_step()).is_some_and(|st| st.effects.iter().any(|e| matches!(e, Effect::Pause { .. })));
        if waits || self.session.as_ref().is_some_and(Session::at_end) {
            self.playing = false;
        }
    }

    fn forward(&mut self) {
        let Some(s) = self.session.as_mut() else { return };
        match s.next_narrated(true) {
            Some(target) if !self.show_routine => s.seek(target),
            _ => {
                s.step_forward();
            }
        }
    }

    fn back(&mut self) {
        let Some(s) = self.session.as_mut() else { return };
        match s.next_narrated(false) {
            Some(target) if !self.show_routine => s.seek(target),
            _ => s.step_back(),
        }
    }

    fn apply(&mut self, cmd: Cmd) {
        self.share_url = None;
        match cmd {
            Cmd::TogglePlay => {
                self.playing = !self.playing && !self.session.as_ref().is_some_and(Session::at_end);
            }
            Cmd::Forward => {
                self.playing = false;
                self.forward();
            }
            Cmd::Back => {
                self.playing = false;
                self.back();
            }
            Cmd::Restart => {
                self.playing = false;
                if let Some(s) = self.session.as_mut() {
                    s.seek(0);
                }
            }
            Cmd::End => {
                self.playing = false;
                if let Some(s) = self.session.as_mut() {
                    match s.total_steps() {
                        Some(total) => s.seek(total),
                        None => self.landing = Some(u64::MAX),
                    }
                }
            }
            Cmd::Seek(to) => {
                if let Some(s) = self.session.as_mut() {
                    s.seek(to);
                }
            }
            Cmd::Marker(forward) => {
                if let Some(s) = self.session.as_mut() {
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
            }
            Cmd::Speed(i) => self.speed = i.min(SPEEDS.len() - 1),
            Cmd::Act(action) => {
                let refused = self.session.as_ref().and_then(|s| s.scenario().challenge.as_ref()).filter(|c| !c.allows(action.kind()));
                if let Some(challenge) = refused {
                    self.notice = Some(fill(Tr(self.lang).not_allowed, &[&challenge.actions.join(", ")]));
                    return;
                }
                if let Some(s) = self.session.as_mut() {
                    match s.act(action) {
                        Ok(()) => {
                            self.epoch += 1;
                            self.selected = None;
                            s.step_to_latest_action();
                        }
                        Err(e) => self.notice = Some(fill(Tr(self.lang).notice_action_failed, &[&e])),
                    }
                }
            }
            Cmd::Deselect => self.selected = None,
            Cmd::Pick(at, choice) => {
                self.picks.insert(at, choice);
            }
        }
    }

    /// One slice of background work: the look-ahead, then landing on a pending step once it is
    /// known. True when nothing is left to do.
    fn look_ahead_slice(&mut self) -> bool {
        if let Some(right) = self.compare.as_mut() {
            right.look_ahead(LOOK_AHEAD_SLICE);
        }
        let Some(s) = self.session.as_mut() else { return true };
        let done = s.look_ahead(LOOK_AHEAD_SLICE);
        if let Some(target) = self.landing {
            if done || s.known_steps() >= target {
                s.seek(target);
                self.landing = None;
            }
        }
        done && self.landing.is_none()
    }

    /// Starts searching seeds for a schedule of faults that breaks a guarantee of the running scenario.
    fn start_explore(&mut self) {
        let Some(s) = self.session.as_ref() else { return };
        let text = match &self.running {
            ScenarioRef::Builtin(name) => crate::builtin::get(name).unwrap_or_default().to_string(),
            ScenarioRef::Text(text) => text.clone(),
        };
        let options = Options { seeds: 0..EXPLORE_SEEDS, kinds: FaultKind::ALL.to_vec() };
        self.explorer = Some((Explorer::new(s.scenario().clone(), options), text));
        self.playing = false;
        self.notice = None;
        self.explore_epoch += 1;
    }

    /// One slice of the search; true when it has ended (found, exhausted or stopped).
    fn explore_slice(&mut self) -> bool {
        let Some((explorer, _)) = self.explorer.as_mut() else { return true };
        match explorer.work(EXPLORE_SLICE) {
            Progress::Working => false,
            Progress::Exhausted => {
                self.notice = Some(fill(Tr(self.lang).explore_held, &[&explorer.seeds_done]));
                self.explorer = None;
                true
            }
            Progress::Found(found) => {
                let Some((explorer, text)) = self.explorer.take() else { return true };
                let counterexample = found.scenario_text(&text, explorer.scenario(), "the page's Explore button");
                self.open(ScenarioRef::Text(counterexample), None, Vec::new(), 0);
                let t = Tr(self.lang);
                let unsafe_note = if found.safe { "" } else { t.explore_unsafe };
                self.notice = Some(fill(t.explore_found, &[&found.seed, &found.violation.invariant.sentence(), &found.time, &unsafe_note, &found.faults.len()]));
                true
            }
        }
    }

    fn key(&mut self, e: &KeyboardEvent) -> bool {
        let cmd = match (e.key().as_str(), e.shift_key()) {
            (" ", _) => Cmd::TogglePlay,
            ("ArrowRight", false) | (".", _) | ("PageDown", _) => Cmd::Forward,
            ("ArrowLeft", false) | ("PageUp", _) => Cmd::Back,
            ("ArrowRight", true) => Cmd::Marker(true),
            ("ArrowLeft", true) => Cmd::Marker(false),
            ("Home", _) => Cmd::Restart,
            ("End", _) => Cmd::End,
            ("p", _) => {
                self.presenter = !self.presenter;
                return true;
            }
            ("t", _) => {
                self.dark = !self.dark;
                return true;
            }
            ("f", _) => {
                toggle_fullscreen();
                return true;
            }
            ("Escape", _) => Cmd::Deselect,
            _ => return false,
        };
        self.apply(cmd);
        true
    }
}

/// A challenge's goal in one run (one `epoch`).
#[derive(Default)]
struct ChallengeStatus {
    /// The run and position `here` was checked at.
    checked: Option<(u64, u64)>,
    /// Whether the goal holds at the step shown.
    here: bool,
    /// Whether it holds at the end of the run, once the look-ahead has reached it.
    end: Option<bool>,
    /// Whether it has held at any step shown in this run.
    seen: bool,
}

/// The challenge: its goal, the actions it allows, and whether the goal holds here and at the
/// end of the run (with the class's actions).
fn challenge_panel(t: Tr, challenge: &scenario::Challenge, status: &ChallengeStatus) -> Html {
    let (here, end) = (status.here, status.end);
    let met = status.seen || end == Some(true);
    let word = |ok: bool| if ok { t.met } else { t.not_yet };
    html! {
        <section class={classes!("challenge", met.then_some("met"))} data-testid="challenge" data-met={met.to_string()} aria-live="polite">
            <p><span class="caption-label">{t.challenge}</span><strong dir="auto">{challenge.goal.clone()}</strong></p>
            <p class="hint">{fill(t.challenge_actions, &[&challenge.actions.join(", ")])}{" · "}{t.challenge_how}</p>
            if met {
                <p class="status" data-testid="challenge-met">{t.challenge_met}</p>
            }
            <p>
                {fill(t.challenge_here, &[&word(here)])}
                if let Some(end) = end { {" · "}{fill(t.challenge_end, &[&word(end)])} }
            </p>
        </section>
    }
}

/// Compare mode's outcome table: each total for both runs at the same virtual time, with the
/// rows that differ highlighted and named.
fn compare_panel(t: Tr, compare: &scenario::Compare, left: &Frame, right: &Frame) -> Html {
    let totals = |f: &Frame| {
        let l = &f.ledger.totals;
        let errors: u32 = f.state.producers.iter().map(|p| p.errors_seen.values().sum::<u32>()).sum();
        let rebalances: u32 = f.ledger.groups.iter().map(|g| g.rebalances).sum();
        [l.acknowledged as u64, l.acknowledged_lost as u64, l.lost as u64, l.duplicated as u64, l.failed as u64, errors as u64, rebalances as u64]
    };
    let (a, b) = (totals(left), totals(right));
    let differ: Vec<&str> = t.compare_rows.iter().zip(a.iter().zip(&b)).filter(|(_, (x, y))| x != y).map(|(name, _)| *name).collect();
    html! {
        <section class="compare" data-testid="compare-panel" data-differ={differ.len().to_string()}>
            <h2>{fill(t.compare_heading, &[&compare.left, &compare.right, &left.now])}</h2>
            <table class="compare-table">
                <thead><tr><th>{t.compare_outcome}</th><th>{compare.left.clone()}</th><th>{compare.right.clone()}</th></tr></thead>
                <tbody>
                    { for t.compare_rows.iter().enumerate().map(|(i, name)| {
                        let diff = a[i] != b[i];
                        html! {
                            <tr data-row={i.to_string()}>
                                <td>{*name}</td>
                                <td class={classes!(diff.then_some("diff"))} data-testid={format!("left-{i}")}>{a[i].to_string()}</td>
                                <td class={classes!(diff.then_some("diff"))} data-testid={format!("right-{i}")}>{b[i].to_string()}</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            <p data-testid="compare-summary">{if differ.is_empty() { t.compare_same.to_string() } else { fill(t.compare_differ, &[&differ.join(", ")]) }}</p>
        </section>
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

/// Runs `slice` on the page's state every millisecond, redrawing after each, until it returns
/// true; starts again whenever `epoch` changes. Long work runs this way so that no single block
/// holds the tab.
#[hook]
fn use_slices(ui: Rc<RefCell<Ui>>, redraw: UseForceUpdateHandle, epoch: u64, slice: fn(&mut Ui) -> bool) {
    use_effect_with(epoch, move |_| {
        let handle: Rc<RefCell<Option<Interval>>> = Rc::new(RefCell::new(None));
        let inner = handle.clone();
        *handle.borrow_mut() = Some(Interval::new(1, move || {
            let done = slice(&mut ui.borrow_mut());
            redraw.force_update();
            if done {
                inner.borrow_mut().take();
            }
        }));
        move || drop(handle.borrow_mut().take())
    });
}

/// The page.
#[function_component]
pub fn App() -> Html {
    let ui = use_mut_ref(Ui::new);
    let redraw = use_force_update();
    let (playing, speed, epoch) = {
        let u = ui.borrow();
        (u.playing, u.speed, u.epoch)
    };

    // Playback: one tick per interval while playing.
    {
        let ui = ui.clone();
        let redraw = redraw.clone();
        use_effect_with((playing, speed), move |(playing, speed)| {
            let tick = move || {
                ui.borrow_mut().tick();
                redraw.force_update();
            };
            // A timer, or the animation frames at the fastest speed: held only to be dropped.
            let ticker: Option<Box<dyn std::any::Any>> = playing.then(|| match SPEEDS[*speed] {
                0 => Box::new(every_frame(Rc::new(tick))) as Box<dyn std::any::Any>,
                ms => Box::new(Interval::new(ms, tick)),
            });
            move || drop(ticker)
        });
    }
    // The look-ahead, in slices, whenever a run starts or forks; the explorer while a search runs.
    use_slices(ui.clone(), redraw.clone(), epoch, Ui::look_ahead_slice);
    let explore_epoch = ui.borrow().explore_epoch;
    use_slices(ui.clone(), redraw.clone(), explore_epoch, Ui::explore_slice);
    // A link pasted into the address bar of the open page changes only the fragment, which does
    // not load the page again: the run it names is opened here. (The share button writes the
    // fragment with `replaceState`, which fires no event.)
    {
        let ui = ui.clone();
        let redraw = redraw.clone();
        use_effect_with((), move |_| {
            let listener = EventListener::new(&gloo::utils::window(), "hashchange", move |_| {
                let hash = location_hash();
                if hash.len() > 1 {
                    ui.borrow_mut().open_link(&hash);
                    redraw.force_update();
                }
            });
            move || drop(listener)
        });
    }
    // Keyboard, for presenters and clickers.
    {
        let ui = ui.clone();
        let redraw = redraw.clone();
        use_effect_with((), move |_| {
            let options = EventListenerOptions::enable_prevent_default();
            let listener = EventListener::new_with_options(&gloo::utils::document(), "keydown", options, move |e| {
                let Some(e) = e.dyn_ref::<KeyboardEvent>() else { return };
                if e.ctrl_key() || e.meta_key() || e.alt_key() {
                    return;
                }
                let typing = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .is_some_and(|el| match el.tag_name().as_str() {
                        "TEXTAREA" | "SELECT" => true,
                        // The timeline slider and the checkboxes leave the keys to the page.
                        "INPUT" => !matches!(el.get_attribute("type").as_deref(), Some("range" | "checkbox")),
                        _ => false,
                    });
                if typing {
                    return;
                }
                if ui.borrow_mut().key(e) {
                    e.prevent_default();
                    redraw.force_update();
                }
            });
            move || drop(listener)
        });
    }

    let cmd = {
        let ui = ui.clone();
        let redraw = redraw.clone();
        Callback::from(move |c: Cmd| {
            ui.borrow_mut().apply(c);
            redraw.force_update();
        })
    };
    let with_ui = |f: Rc<dyn Fn(&mut Ui)>| {
        let ui = ui.clone();
        let redraw = redraw.clone();
        Callback::from(move |_: MouseEvent| {
            f(&mut ui.borrow_mut());
            redraw.force_update();
        })
    };

    ui.borrow_mut().sync();
    let u = ui.borrow();
    let t = Tr(u.lang);
    {
        let root = gloo::utils::document().document_element();
        if let Some(root) = root {
            // Written only when they change: setting an attribute of <html>, even to its own value,
            // can make the browser restyle the whole page, and this runs on every frame of playback.
            let set = |name: &str, value: &str| {
                if root.get_attribute(name).as_deref() != Some(value) {
                    let _ = root.set_attribute(name, value);
                }
            };
            set("lang", u.lang.code());
            set("dir", u.lang.dir());
            set("data-theme", if u.dark { "dark" } else { "light" });
            set("class", &format!("{}{}", if u.presenter { "presenter " } else { "" }, if u.reduce_motion { "reduce-motion" } else { "" }));
        }
    }
    let Some(session) = u.session.as_ref() else {
        return html! { <div class="notice" role="alert">{u.notice.clone().unwrap_or_default()}</div> };
    };
    // Compare mode shows both runs' totals side by side, so there neither ledger is ever behind.
    let frame = Rc::new(Frame::new(session, u.epoch, &u.views, &u.picks, !u.ledger_now.replace(false) && u.compare.is_none()));
    let right_frame = u.compare.as_ref().map(|c| Rc::new(Frame::new(c, u.epoch, &u.compare_views, &u.picks, false)));
    if frame.ledger_stale {
        // The ledger catches up once stepping pauses for a moment; while playing, a few times a
        // second, so that no frame of the animation waits for it. Redraws that do not move the
        // position (the look-ahead's) leave the timer alone.
        let (playing, position) = (u.playing, (u.epoch, frame.position));
        let due = u.ledger_due.get();
        if !(due.is_some() && (playing || due == Some(position))) {
            let (ui, redraw) = (ui.clone(), redraw.clone());
            u.ledger_due.set(Some(position));
            *u.ledger_timer.borrow_mut() = Some(Timeout::new(if playing { LEDGER_PLAYING_MS } else { LEDGER_PAUSE_MS }, move || {
                let u = ui.borrow();
                u.ledger_due.set(None);
                u.ledger_now.set(true);
                drop(u);
                redraw.force_update();
            }));
        }
    }
    let scenario = session.scenario();

    let on_pick = {
        let ui = ui.clone();
        let redraw = redraw.clone();
        Callback::from(move |e: Event| {
            let name = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            ui.borrow_mut().open(ScenarioRef::Builtin(name), None, Vec::new(), 0);
            redraw.force_update();
        })
    };
    let current_builtin = match &u.running {
        ScenarioRef::Builtin(n) => n.clone(),
        ScenarioRef::Text(_) => String::new(),
    };
    let mut modules: Vec<Option<u32>> = u.builtins.iter().map(|b| b.module).collect();
    modules.dedup();
    let module_label = |m: Option<u32>| match m {
        Some(m) => format!("{m}. {}", t.modules.get(m as usize - 1).copied().unwrap_or_default()),
        None => t.more_scenarios.to_string(),
    };
    let picker = html! {
        <select onchange={on_pick} aria-label={t.scenario} data-testid="picker" dir="auto">
            if current_builtin.is_empty() { <option selected=true disabled=true>{t.edited_scenario}</option> }
            { for modules.iter().map(|m| html! {
                <optgroup label={module_label(*m)}>
                    { for u.builtins.iter().filter(|b| b.module == *m).map(|b| html! {
                        <option value={b.name} selected={b.name == current_builtin}>
                            {match b.module { Some(m) => format!("{m}.{} {}", b.lesson, b.title), None => b.title.clone() }}
                        </option>
                    }) }
                </optgroup>
            }) }
        </select>
    };

    let on_share = with_ui(Rc::new(|u: &mut Ui| {
        if let Some(state) = u.share_state() {
            u.share_url = Some(publish_link(&share::encode(&state)));
        }
    }));
    let on_theme = with_ui(Rc::new(|u: &mut Ui| u.dark = !u.dark));
    let on_lang = with_ui(Rc::new(|u: &mut Ui| {
        u.lang = if u.lang == Lang::En { Lang::Fa } else { Lang::En };
        u.share_url = None;
    }));
    let on_compare = with_ui(Rc::new(Ui::toggle_compare));
    let on_export = {
        let ui = ui.clone();
        let redraw = redraw.clone();
        Callback::from(move |kind: Export| {
            let u = ui.borrow();
            if let Some(s) = u.session.as_ref() {
                export(kind, s, &u.running, u.dark);
            }
            drop(u);
            redraw.force_update();
        })
    };
    let on_presenter = with_ui(Rc::new(|u: &mut Ui| u.presenter = !u.presenter));
    let on_motion = with_ui(Rc::new(|u: &mut Ui| u.reduce_motion = !u.reduce_motion));
    let on_routine = with_ui(Rc::new(|u: &mut Ui| u.show_routine = !u.show_routine));
    let on_fullscreen = with_ui(Rc::new(|_: &mut Ui| toggle_fullscreen()));
    let on_run_editor = with_ui(Rc::new(|u: &mut Ui| {
        let text = u.editor.clone();
        u.open(ScenarioRef::Text(text), None, Vec::new(), 0);
    }));
    let on_download = with_ui(Rc::new(|u: &mut Ui| {
        let name = match &u.running {
            ScenarioRef::Builtin(n) => format!("{n}.toml"),
            ScenarioRef::Text(_) => "scenario.toml".to_string(),
        };
        super::browser::download(&name, &u.editor, "application/toml");
    }));
    let on_seed = {
        let ui = ui.clone();
        let redraw = redraw.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut u = ui.borrow_mut();
            match u.seed_input.trim().parse::<u64>() {
                Ok(seed) => {
                    let running = u.running.clone();
                    let text = u.editor.clone();
                    // A builtin keeps its name (short links) unless its text was edited.
                    let source = match running {
                        ScenarioRef::Builtin(n) if crate::builtin::get(&n) == Some(text.as_str()) => ScenarioRef::Builtin(n),
                        _ => ScenarioRef::Text(text),
                    };
                    u.open(source, Some(seed), Vec::new(), 0);
                }
                Err(_) => u.notice = Some(fill(Tr(u.lang).notice_bad_seed, &[&format!("{:?}", u.seed_input), &u64::MAX])),
            }
            drop(u);
            redraw.force_update();
        })
    };
    let on_seed_input = {
        let ui = ui.clone();
        Callback::from(move |e: InputEvent| ui.borrow_mut().seed_input = e.target_unchecked_into::<HtmlInputElement>().value())
    };
    let on_edit = {
        let ui = ui.clone();
        let redraw = redraw.clone();
        Callback::from(move |e: InputEvent| {
            let text = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            let mut u = ui.borrow_mut();
            u.editor_errors = scenario::parse("scenario.toml", &text).err().unwrap_or_default();
            u.editor = text;
            drop(u);
            redraw.force_update();
        })
    };
    let read_file = {
        let ui = ui.clone();
        let redraw = redraw.clone();
        move |file: web_sys::File| {
            if file.size() > scenario::limits::FILE_BYTES as f64 {
                let mut u = ui.borrow_mut();
                u.notice = Some(fill(Tr(u.lang).notice_file_too_large, &[&file.name(), &scenario::limits::FILE_BYTES]));
                drop(u);
                redraw.force_update();
                return;
            }
            let file = gloo::file::File::from(file);
            let ui2 = ui.clone();
            let redraw2 = redraw.clone();
            let reader = gloo::file::callbacks::read_as_text(&file, move |result| {
                let mut u = ui2.borrow_mut();
                match result {
                    Ok(text) => u.open(ScenarioRef::Text(text), None, Vec::new(), 0),
                    Err(e) => u.notice = Some(fill(Tr(u.lang).notice_file_unreadable, &[&e])),
                }
                u.reader = None;
                drop(u);
                redraw2.force_update();
            });
            ui.borrow_mut().reader = Some(reader);
        }
    };
    let on_file = {
        let read_file = read_file.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                read_file(file);
            }
            input.set_value("");
        })
    };
    let on_drop = Callback::from(move |e: DragEvent| {
        e.prevent_default();
        if let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            read_file(file);
        }
    });
    let on_dragover = Callback::from(|e: DragEvent| e.prevent_default());
    let on_select = {
        let ui = ui.clone();
        let redraw = redraw.clone();
        Callback::from(move |node: NodeId| {
            let mut u = ui.borrow_mut();
            u.selected = if u.selected == Some(node) { None } else { Some(node) };
            drop(u);
            redraw.force_update();
        })
    };
    let on_record = {
        let ui = ui.clone();
        let redraw = redraw.clone();
        Callback::from(move |record: u32| {
            let mut u = ui.borrow_mut();
            if let Some(s) = u.session.as_mut() {
                if s.total_steps().is_none() {
                    u.notice = Some(Tr(u.lang).notice_still_computing.into());
                    drop(u);
                    redraw.force_update();
                    return;
                }
                match s.fate_step(record) {
                    Some(at) => s.seek(at),
                    None => u.notice = Some(fill(Tr(u.lang).notice_record_pending, &[&record])),
                }
            }
            u.playing = false;
            drop(u);
            redraw.force_update();
        })
    };
    let dismiss = with_ui(Rc::new(|u: &mut Ui| u.notice = None));
    let on_explore = with_ui(Rc::new(|u: &mut Ui| u.start_explore()));
    let on_stop_explore = with_ui(Rc::new(|u: &mut Ui| {
        if let Some((explorer, _)) = u.explorer.take() {
            u.notice = Some(fill(Tr(u.lang).explore_stopped, &[&explorer.seeds_done]));
        }
    }));

    html! {
        <ContextProvider<Tr> context={t}>
        <div class="app" ondrop={on_drop} ondragover={on_dragover}>
            <header class="topbar">
                <span class="brand">{"kafkasim"}</span>
                {picker}
                <label class="button">{t.open_file}<input type="file" accept=".toml,text/plain" onchange={on_file} hidden=true /></label>
                <form class="seed" onsubmit={on_seed}>
                    <label>{t.seed}<input value={u.seed_input.clone()} oninput={on_seed_input} inputmode="numeric" size="8" aria-label={t.seed.trim()} dir="ltr" /></label>
                </form>
                <button onclick={on_share} data-testid="share">{t.share}</button>
                <button onclick={on_explore} disabled={u.explorer.is_some()} data-testid="explore" title={t.explore_title}>{t.explore}</button>
                if scenario.compare.is_some() {
                    <button onclick={on_compare} data-testid="compare" aria-pressed={u.compare.is_some().to_string()} title={t.compare_title}>
                        {if u.compare.is_some() { t.stop_compare } else { t.compare }}
                    </button>
                }
                <ExportMenu {on_export} />
                <span class="spacer" />
                <label class="toggle"><input type="checkbox" checked={u.show_routine} onclick={on_routine} />{t.routine}</label>
                <label class="toggle"><input type="checkbox" checked={u.reduce_motion} onclick={on_motion} />{t.less_motion}</label>
                <button onclick={on_lang} data-testid="lang" lang={if u.lang == Lang::En { "fa" } else { "en" }}>{t.switch_language}</button>
                <button onclick={on_theme} title={t.theme_title}>{if u.dark { t.light } else { t.dark }}</button>
                <button onclick={on_presenter} title={t.presenter_title} data-testid="presenter">{t.presenter}</button>
                <button onclick={on_fullscreen} title={t.full_screen_title}>{t.full_screen}</button>
            </header>
            if let Some(url) = &u.share_url {
                <div class="share" data-testid="share-url">
                    {t.share_copied}<input readonly=true value={url.clone()} aria-label={t.share} dir="ltr" />
                </div>
            }
            if let Some((explorer, _)) = &u.explorer {
                <div class="notice" role="status" data-testid="exploring">
                    {if explorer.shrinking() {
                        fill(t.explore_shrinking, &[&explorer.current_seed()])
                    } else {
                        fill(t.explore_progress, &[&explorer.current_seed(), &EXPLORE_SEEDS, &explorer.seeds_done])
                    }}
                    <button onclick={on_stop_explore} data-testid="stop-explore">{t.stop}</button>
                </div>
            }
            if let Some(target) = u.landing {
                <div class="notice" role="status" data-testid="landing">
                    {if target == u64::MAX { fill(t.landing_end, &[&session.known_steps()]) }
                     else { fill(t.landing_step, &[&target, &session.known_steps()]) }}
                </div>
            }
            if let Some(notice) = &u.notice {
                <div class="notice" role="alert" data-testid="notice">{notice.clone()}<button class="close" onclick={dismiss} aria-label={t.dismiss}>{"✕"}</button></div>
            }
            <main>
                <div class="stage">
                    <h1 data-testid="title" dir="auto">{scenario.title.clone()}</h1>
                    if let Some(goal) = &scenario.goal {
                        <p class="goal" data-testid="goal"><span class="caption-label">{t.learning_goal}</span><span dir="auto">{goal.clone()}</span></p>
                    }
                    <p class="summary" dir="auto">{scenario.summary.clone()}</p>
                    if let Some(challenge) = &scenario.challenge {
                        {challenge_panel(t, challenge, &u.challenge)}
                    }
                    if let (Some(right), Some(compare)) = (&right_frame, &scenario.compare) {
                        {compare_panel(t, compare, &frame, right)}
                    }
                    <div class={classes!("clusters", right_frame.is_some().then_some("side-by-side"))}>
                        <div class="cluster-pane" data-testid="left-pane" data-now={frame.now.to_string()}>
                            if let Some(c) = scenario.compare.as_ref().filter(|_| right_frame.is_some()) { <h3 class="pane-label">{c.left.clone()}</h3> }
                            <Cluster frame={frame.clone()} selected={u.selected} dark={u.dark} on_select={on_select} />
                        </div>
                        if let (Some(right), Some(c)) = (&right_frame, &scenario.compare) {
                            <div class="cluster-pane" data-testid="right-pane" data-position={right.position.to_string()} data-now={right.now.to_string()}>
                                <h3 class="pane-label">{c.right.clone()}</h3>
                                <Cluster frame={right.clone()} selected={None::<NodeId>} dark={u.dark} on_select={Callback::from(|_: NodeId| ())} />
                            </div>
                        }
                    </div>
                    if let Some(node) = u.selected {
                        <ActionMenu frame={frame.clone()} cmd={cmd.clone()} {node} />
                    }
                </div>
                <aside class="side">
                    <Narration frame={frame.clone()} cmd={cmd.clone()} />
                    <Expectations frame={frame.clone()} cmd={cmd.clone()} />
                </aside>
            </main>
            <Controls frame={frame.clone()} cmd={cmd.clone()} {playing} {speed} />
            <Ledger frame={frame.clone()} on_record={on_record} />
            <section class="editor" aria-label={t.editor_region}>
                <h2>{t.editor}</h2>
                <p class="hint">{t.editor_hint}</p>
                <textarea value={u.editor.clone()} oninput={on_edit} spellcheck="false" rows="18" aria-label={t.editor} data-testid="editor" dir="ltr" />
                <ul class="errors" data-testid="errors">
                    { for u.editor_errors.iter().map(|e| html! {
                        <li>
                            <span class="loc">{fill(t.error_at, &[&e.line, &e.column])}</span><span dir="ltr">{e.message.clone()}</span>
                            if let Some(h) = &e.hint { <span class="hint">{t.hint}<span dir="ltr">{h.clone()}</span></span> }
                        </li>
                    }) }
                </ul>
                <button onclick={on_run_editor} disabled={!u.editor_errors.is_empty()} data-testid="run-editor">{t.run_editor}</button>
                <button onclick={on_download}>{t.download}</button>
            </section>
            <footer data-testid="footer" data-trace-hash={frame.trace_hash.clone().unwrap_or_default()} data-seed={frame.seed.to_string()}>
                <span dir="ltr">{fill(t.footer_run, &[&frame.seed, &frame.trace_hash.clone().unwrap_or_else(|| t.computing.into())])}</span>
                {" · "}{t.footer}
            </footer>
        </div>
        </ContextProvider<Tr>>
    }
}
