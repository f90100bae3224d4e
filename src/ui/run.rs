//! The current run: the session of the scenario that runs (and of its compare run), where it came
//! from, the person's actions that fork it, the class's picks at its pause points, the node whose
//! action menu is open, the challenge's goal checked along it, and its share link. Also the panels
//! that show the challenge and the comparison. It uses the session, the share link's format, the
//! frame, the browser helpers and the words, nothing else of the page.

use super::browser::{copy_text, publish_link};
use super::cmd::Cmd;
use super::frame::{Frame, Picks, ViewCache};
use super::i18n::{fill, use_tr, Lang, Tr};
use crate::scenario;
use crate::session::{Session, UserAction};
use crate::share::{self, ScenarioRef, ShareState};
use crate::sim::NodeId;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The run the page shows.
pub struct Run {
    /// The main run; none only while the page starts and nothing has loaded yet.
    pub session: Option<Session>,
    /// The scenario it runs.
    pub source: ScenarioRef,
    /// Names the run: it changes whenever a run starts or forks, so views and the look-ahead
    /// start again.
    pub epoch: u64,
    /// The views of the current position, kept between renders.
    views: ViewCache,
    /// Compare mode: the scenario's `[compare]` run, kept at the same virtual time as the main one.
    pub compare: Option<Session>,
    compare_views: ViewCache,
    /// The class's pick at each pause point of this run.
    pub picks: Picks,
    /// The node whose action menu is open.
    pub selected: Option<NodeId>,
    /// The challenge's goal in the current run, checked once per position.
    pub challenge: ChallengeStatus,
    /// The link last shared, while it still names where the run stands: the share popover shows it.
    pub share_url: Option<String>,
    /// Whether copying that link worked, once the person has tried.
    pub copied: Option<bool>,
}

impl Run {
    /// Nothing runs yet; `source` is what the page means to open.
    pub fn new(source: ScenarioRef) -> Run {
        Run {
            session: None,
            source,
            epoch: 0,
            views: ViewCache::default(),
            compare: None,
            compare_views: ViewCache::default(),
            picks: Picks::new(),
            selected: None,
            challenge: ChallengeStatus::default(),
            share_url: None,
            copied: None,
        }
    }

    /// `session` of the scenario `source` runs from now on, without compare mode, picks or a menu.
    pub fn start(&mut self, session: Session, source: ScenarioRef) {
        self.session = Some(session);
        self.source = source;
        self.selected = None;
        self.share_url = None;
        self.picks.clear();
        self.compare = None;
        self.epoch += 1;
    }

    /// The text of the scenario that runs.
    pub fn text(&self) -> String {
        match &self.source {
            ScenarioRef::Builtin(name) => super::lessons::cached(name).as_deref().unwrap_or_default().to_string(),
            ScenarioRef::Text(text) => text.clone(),
        }
    }

    /// Starts or stops compare mode: the scenario's `[compare]` run with the same seed. The
    /// notice for a compare run that cannot start is the error.
    pub fn toggle_compare(&mut self, t: Tr) -> Result<(), String> {
        if self.compare.take().is_some() {
            return Ok(());
        }
        let Some(s) = self.session.as_ref() else { return Ok(()) };
        let Some(c) = s.scenario().compare.as_ref() else { return Ok(()) };
        let mut right = Session::new((*c.variant).clone(), s.seed(), Vec::new()).map_err(|e| fill(t.notice_compare_failed, &[&e]))?;
        right.seek_time(s.sim().now());
        self.compare = Some(right);
        self.epoch += 1;
        Ok(())
    }

    /// Keeps the compare run at the main run's virtual time, and checks a challenge's goal where
    /// the run stands (once per position: the page redraws after every look-ahead slice too) and
    /// at its end (once, when the look-ahead reaches it).
    pub fn sync(&mut self) {
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

    /// Forks the run with the person's `action` at the step shown, and shows the step it took
    /// effect; the error is the notice when a challenge does not allow it or it cannot apply.
    pub fn act(&mut self, action: UserAction, t: Tr) -> Result<(), String> {
        let Some(s) = self.session.as_mut() else { return Ok(()) };
        if let Some(challenge) = s.scenario().challenge.as_ref().filter(|c| !c.allows(action.kind())) {
            return Err(fill(t.not_allowed, &[&challenge.actions.join(", ")]));
        }
        s.act(action).map_err(|e| fill(t.notice_action_failed, &[&e]))?;
        s.step_to_latest_action();
        self.epoch += 1;
        self.selected = None;
        Ok(())
    }

    /// Opens `node`'s action menu, or closes it when it is open.
    pub fn select(&mut self, node: NodeId) {
        self.selected = if self.selected == Some(node) { None } else { Some(node) };
    }

    /// What a link to the run as it stands restores, in `lang`.
    pub fn share_state(&self, lang: Lang) -> Option<ShareState> {
        let s = self.session.as_ref()?;
        let lang = (lang != Lang::En).then(|| lang.code().to_string());
        Some(ShareState { scenario: self.source.clone(), seed: Some(s.seed()), actions: s.actions().to_vec(), step: s.position(), lang, compare: self.compare.is_some() })
    }

    /// Puts the link to the run as it stands into the address bar and shows it to copy; or, when
    /// it is shown, closes it.
    pub fn share(&mut self, lang: Lang) {
        self.copied = None;
        if self.share_url.take().is_some() {
            return;
        }
        if let Some(state) = self.share_state(lang) {
            self.share_url = Some(publish_link(&share::encode(&state)));
        }
    }

    /// The frames of the main run and of the compare run, if it runs. With `defer_ledger` the main
    /// run's ledger may stay at an earlier position (see `Frame::new`); compare mode shows both
    /// runs' totals side by side, so there neither ledger is ever behind.
    pub fn frames(&self, defer_ledger: bool) -> Option<(Rc<Frame>, Option<Rc<Frame>>)> {
        let session = self.session.as_ref()?;
        let frame = Rc::new(Frame::new(session, self.epoch, &self.views, &self.picks, defer_ledger && self.compare.is_none()));
        let right = self.compare.as_ref().map(|c| Rc::new(Frame::new(c, self.epoch, &self.compare_views, &self.picks, false)));
        Some((frame, right))
    }
}

/// A challenge's goal in one run (one `epoch`).
#[derive(Default)]
pub struct ChallengeStatus {
    /// The run and position `here` was checked at.
    checked: Option<(u64, u64)>,
    /// Whether the goal holds at the step shown.
    here: bool,
    /// Whether it holds at the end of the run, once the look-ahead has reached it.
    end: Option<bool>,
    /// Whether it has held at any step shown in this run.
    seen: bool,
}

/// Properties of [`SharePopover`].
#[derive(Properties, PartialEq)]
pub struct ShareProps {
    /// The link.
    pub url: String,
    /// Whether copying it worked, once tried.
    pub copied: Option<bool>,
    /// Commands back to the app.
    pub cmd: Callback<Cmd>,
}

/// The link just shared, in a field, with a Copy button that says whether copying worked. The copy
/// runs in the button's own handler, outside any command the page carries out, and reports back
/// with a command of its own, so that a refusal (or a page with no clipboard) cannot reach the
/// page's model while it is busy.
#[function_component]
pub fn SharePopover(props: &ShareProps) -> Html {
    let t = use_tr();
    let field = use_node_ref();
    {
        // Selected when it opens: Ctrl+C copies it at once, whatever the clipboard allows.
        let field = field.clone();
        use_effect_with(props.url.clone(), move |_| {
            if let Some(input) = field.cast::<HtmlInputElement>() {
                let _ = input.focus();
                input.select();
            }
        });
    }
    let on_copy = {
        let (field, url, cmd) = (field.clone(), props.url.clone(), props.cmd.clone());
        Callback::from(move |_: MouseEvent| {
            let cmd = cmd.clone();
            copy_text(&url, field.cast::<HtmlInputElement>(), move |ok| cmd.emit(Cmd::Copied(ok)));
        })
    };
    html! {
        <div class="share-popover" role="dialog" aria-label={t.share_label} data-testid="share-url">
            <label>{t.share_label}
                <input ref={field} readonly=true value={props.url.clone()} dir="ltr" data-testid="share-field" />
            </label>
            <button onclick={on_copy} data-testid="copy">{t.copy}</button>
            <button class="close" aria-label={t.close} onclick={props.cmd.reform(|_: MouseEvent| Cmd::Share)}>{"✕"}</button>
            <p class={classes!("copy-status", props.copied.map(|ok| if ok { "ok" } else { "failed" }))} role="status" data-testid="copy-status">
                {match props.copied { Some(true) => t.copied, Some(false) => t.copy_failed, None => "" }}
            </p>
        </div>
    }
}

/// The challenge: its goal, the actions it allows, and whether the goal holds here and at the
/// end of the run (with the class's actions).
pub fn challenge_panel(t: Tr, challenge: &scenario::Challenge, status: &ChallengeStatus) -> Html {
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
            if let Some(why) = &challenge.impossible {
                <details class="give-up" data-testid="give-up">
                    <summary>{t.give_up}</summary>
                    <p dir="auto">{why.clone()}</p>
                </details>
            }
        </section>
    }
}

/// Compare mode's outcome table: each total for both runs at the same virtual time, with the
/// rows that differ highlighted and named.
pub fn compare_panel(t: Tr, compare: &scenario::Compare, left: &Frame, right: &Frame) -> Html {
    let totals = |f: &Frame| {
        let l = &f.ledger.totals;
        let errors: u32 = f.state.producers.iter().map(|p| p.errors_seen.values().sum::<u32>()).sum();
        let rebalances: u32 = f.ledger.groups.iter().map(|g| g.rebalances).sum();
        [l.acknowledged as u64, l.acknowledged_lost as u64, l.lost as u64, l.duplicated as u64, l.failed as u64, errors as u64, rebalances as u64]
    };
    let (a, b) = (totals(left), totals(right));
    let differ: Vec<&str> = t.compare_rows.iter().zip(a.iter().zip(&b)).filter(|(_, (x, y))| x != y).map(|(name, _)| *name).collect();
    html! {
        // Collapsible, so that it never takes the narration's place beside the two pictures.
        <details class="compare" open=true data-testid="compare-panel" data-differ={differ.len().to_string()}>
            <summary>{fill(t.compare_heading, &[&compare.left, &compare.right, &left.now])}</summary>
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
        </details>
    }
}
