//! Exploration from the page: the Explore button's search for a schedule of faults that breaks a
//! guarantee of the running scenario, run in slices so that the tab stays responsive, and the
//! note that shows how far it has got. [`crate::explore`] does the search; this holds it while it
//! runs and words its outcome. It uses the explorer and the words, nothing else of the page.

use super::i18n::{fill, Tr};
use crate::explore::{Explorer, FaultKind, Options, Progress};
use crate::scenario::Scenario;
use yew::prelude::*;

/// Steps the explorer simulates per slice (with every invariant checked after each): a few
/// milliseconds of work, so that the tab stays responsive while it searches.
const EXPLORE_SLICE: u64 = 8_000;

/// Seeds the page's explorer tries.
const EXPLORE_SEEDS: u64 = 1_000;

/// A search for a counterexample, while one runs.
#[derive(Default)]
pub struct Exploration {
    /// The search, with the text of the scenario it explores.
    search: Option<(Explorer, String)>,
    /// Counts the searches started: the slices start again when it changes.
    pub epoch: u64,
}

/// How a slice of the search ended.
pub enum Slice {
    /// It goes on.
    Working,
    /// The search ended without a counterexample: the notice that says so.
    Held(String),
    /// A counterexample: the scenario file that reproduces it, and the notice that explains it.
    Found { scenario: String, notice: String },
}

impl Exploration {
    /// Whether a search runs.
    pub fn running(&self) -> bool {
        self.search.is_some()
    }

    /// Starts searching seeds of `scenario`, whose file's text is `text`.
    pub fn start(&mut self, scenario: &Scenario, text: String) {
        let options = Options { seeds: 0..EXPLORE_SEEDS, kinds: FaultKind::ALL.to_vec() };
        self.search = Some((Explorer::new(scenario.clone(), options), text));
        self.epoch += 1;
    }

    /// Stops the search; the notice that says how far it got, if one ran.
    pub fn stop(&mut self, t: Tr) -> Option<String> {
        self.search.take().map(|(explorer, _)| fill(t.explore_stopped, &[&explorer.seeds_done]))
    }

    /// One slice of the search. Past a slice that ended it, no search runs.
    pub fn slice(&mut self, t: Tr) -> Option<Slice> {
        let (explorer, _) = self.search.as_mut()?;
        Some(match explorer.work(EXPLORE_SLICE) {
            Progress::Working => Slice::Working,
            Progress::Exhausted => {
                let notice = fill(t.explore_held, &[&explorer.seeds_done]);
                self.search = None;
                Slice::Held(notice)
            }
            Progress::Found(found) => {
                let (explorer, text) = self.search.take()?;
                let scenario = found.scenario_text(&text, explorer.scenario(), "the page's Explore button");
                let unsafe_note = if found.safe { "" } else { t.explore_unsafe };
                let notice = fill(t.explore_found, &[&found.seed, &found.violation.invariant.sentence(), &found.time, &unsafe_note, &found.faults.len()]);
                Slice::Found { scenario, notice }
            }
        })
    }

    /// The note that a search runs, how far it has got, and the button that stops it.
    pub fn note(&self, t: Tr, on_stop: Callback<MouseEvent>) -> Html {
        let Some((explorer, _)) = &self.search else { return html! {} };
        html! {
            <div class="notice" role="status" data-testid="exploring">
                {if explorer.shrinking() {
                    fill(t.explore_shrinking, &[&explorer.current_seed()])
                } else {
                    fill(t.explore_progress, &[&explorer.current_seed(), &EXPLORE_SEEDS, &explorer.seeds_done])
                }}
                <button onclick={on_stop} data-testid="stop-explore">{t.stop}</button>
            </div>
        }
    }
}
