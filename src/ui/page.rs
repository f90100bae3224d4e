//! The page's model: its parts (the current run, playback, the editor, exploration, the look)
//! and what involves more than one of them: opening a scenario or a link, carrying out a
//! [`Cmd`], the background slices, and the notice. Plain data and methods, no component: `App`
//! renders it and sends it commands. It uses the parts' models and the words.

use super::browser::{confirm, push_link, store, stored, toggle_fullscreen};
use super::catalog::{catalog, Builtin};
use super::cmd::Cmd;
use super::editor::Editor;
use super::exploration::{Exploration, Slice};
use super::export::export;
use super::i18n::{fill, Lang, Tr};
use super::lessons;
use super::playback::Playback;
use super::prefs::Prefs;
use super::run::Run;
use crate::scenario;
use crate::session::{Session, TimedUserAction};
use crate::share::{self, ScenarioRef};

/// The shipped scenario opened when a link names none: the course's first lesson.
const DEFAULT_SCENARIO: &str = "keys-and-partitions";

/// Where the browser keeps the editor's last edit, so that closing the tab does not lose it.
const EDIT_KEY: &str = "kafkasim.edit";

/// What is done once a scenario has opened.
#[derive(Default)]
struct After {
    /// Start its compare run (a link asked for it).
    compare: bool,
    /// Push its link to the browser's history (a lesson picked in the menu).
    push: bool,
    /// Offer back the editor's last edit (the page opened without a link).
    restore_edit: bool,
    /// Put back the notice and the editor's text and errors a link left when it did not load.
    keep: Option<(Option<String>, String, Vec<scenario::ScenarioError>)>,
}

/// A shipped scenario whose text is being fetched, and how it opens once the text is here.
struct Opening {
    name: String,
    seed: Option<u64>,
    actions: Vec<TimedUserAction>,
    step: u64,
    after: After,
}

/// Everything the page holds; the simulation itself lives in the run's sessions.
pub struct Page {
    /// The shipped scenarios, for the picker.
    pub builtins: Vec<Builtin>,
    /// The run shown.
    pub run: Run,
    /// How the page moves through it.
    pub playback: Playback,
    /// The editor and the seed field.
    pub editor: Editor,
    /// A search for a counterexample.
    pub exploration: Exploration,
    /// The page's look.
    pub prefs: Prefs,
    /// What the page tells the person (an error, a search's outcome), until dismissed.
    pub notice: Option<String>,
    /// The shipped scenario to open once its text is fetched.
    opening: Option<Opening>,
    /// A shipped scenario whose text the page should fetch.
    fetch: Option<String>,
    /// Counts the picks that left the run as it was (declined, or the text could not be fetched),
    /// so that the menu is drawn again and shows the run that stays.
    pub picks_undone: u32,
}

impl Page {
    /// The page as it opens: the run its address's fragment names, or the default scenario.
    pub fn new(hash: &str) -> Page {
        let mut page = Page {
            builtins: catalog(),
            run: Run::new(ScenarioRef::Builtin(DEFAULT_SCENARIO.to_string())),
            playback: Playback::new(),
            editor: Editor::default(),
            exploration: Exploration::default(),
            prefs: Prefs::new(),
            notice: None,
            opening: None,
            fetch: None,
            picks_undone: 0,
        };
        if hash.len() > 1 {
            page.open_link(hash);
        } else {
            let after = After { restore_edit: true, ..After::default() };
            page.open(ScenarioRef::Builtin(DEFAULT_SCENARIO.into()), None, Vec::new(), 0, after);
        }
        page
    }

    /// The shipped scenario whose text the page should now fetch, once.
    pub fn take_fetch(&mut self) -> Option<String> {
        self.fetch.take()
    }

    /// Whether the editor holds text the person changed and has not run.
    fn edited(&self) -> bool {
        !self.editor.text.is_empty() && self.editor.text != self.run.text()
    }

    /// Whether the editor's text may be replaced by another scenario: when it holds no edit that
    /// has not run, or when the person agrees.
    fn may_replace_editor(&self) -> bool {
        !self.edited() || confirm(self.t().confirm_replace_edit)
    }

    /// The words of the page's language.
    pub fn t(&self) -> Tr {
        Tr(self.prefs.lang)
    }

    /// Opens the run a share link's fragment names: at start-up, and whenever the fragment
    /// changes (a link pasted into the address bar of the open page, or the browser's back button).
    pub fn open_link(&mut self, hash: &str) {
        match share::decode(hash) {
            Ok(state) => {
                match state.lang.as_deref().map(|code| (code, Lang::from_code(code))) {
                    Some((_, Some(lang))) => self.prefs.lang = lang,
                    Some((code, None)) => self.notice = Some(fill(Tr(Lang::En).notice_unknown_lang, &[&format!("{code:?}")])),
                    None => {}
                }
                let after = After { compare: state.compare, ..After::default() };
                self.open(state.scenario, state.seed, state.actions, state.step, after);
            }
            Err(e) => self.notice = Some(fill(self.t().notice_bad_link, &[&e])),
        }
        if self.opening.is_none() {
            self.open_default_if_idle();
        }
    }

    /// When nothing runs yet (the page is starting) and the link did not load, the class gets the
    /// default scenario, and the link's text and errors, if it had any, stay in the editor.
    fn open_default_if_idle(&mut self) {
        if self.run.session.is_some() {
            return;
        }
        let keep = (self.notice.take(), std::mem::take(&mut self.editor.text), std::mem::take(&mut self.editor.errors));
        self.open(ScenarioRef::Builtin(DEFAULT_SCENARIO.into()), None, Vec::new(), 0, After { keep: Some(keep), ..After::default() });
    }

    /// Loads a scenario and then does what `after` asks. On any error the previous run stays, and
    /// the text stays in the editor. A shipped scenario not fetched yet opens when its text is here.
    fn open(&mut self, source: ScenarioRef, seed: Option<u64>, actions: Vec<TimedUserAction>, step: u64, after: After) {
        let t = self.t();
        let (file, text) = match &source {
            ScenarioRef::Builtin(name) => match lessons::cached(name) {
                Some(text) => (format!("{name}.toml"), text.to_string()),
                None if crate::builtin::listed(name) => {
                    self.opening = Some(Opening { name: name.clone(), seed, actions, step, after });
                    self.fetch = Some(name.clone());
                    if self.run.session.is_none() {
                        self.notice = Some(fill(t.notice_fetching, &[name]));
                    }
                    return;
                }
                None => {
                    self.notice = Some(fill(t.notice_no_builtin, &[&format!("{name:?}")]));
                    return;
                }
            },
            ScenarioRef::Text(text) => ("scenario.toml".to_string(), text.clone()),
        };
        self.editor.text = text.clone();
        match scenario::parse_within(&file, &text, &scenario::cost::PAGE) {
            Err(errors) => {
                self.editor.errors = errors;
                self.notice = Some(t.notice_editor_errors.into());
            }
            Ok(parsed) => {
                self.editor.errors.clear();
                let seed = seed.unwrap_or(parsed.seed);
                match Session::new(parsed, seed, actions) {
                    Ok(session) => {
                        self.opening = None;
                        self.playback.start(step);
                        self.run.start(session, source);
                        self.notice = None;
                        self.editor.seed = seed.to_string();
                        self.finish_opening(after);
                    }
                    Err(e) => self.notice = Some(fill(t.notice_run_failed, &[&e])),
                }
            }
        }
    }

    /// Does what `after` asks of the run that has just opened.
    fn finish_opening(&mut self, after: After) {
        if after.compare {
            self.toggle_compare();
        }
        if after.push {
            // A lesson picked in the menu is a place the browser's Back and Forward return to.
            if let (ScenarioRef::Builtin(name), Some(s)) = (&self.run.source, self.run.session.as_ref()) {
                push_link(&format!("scenario={name}&seed={}&step=0", s.seed()));
            }
        }
        if let Some((notice, text, errors)) = after.keep {
            if !text.is_empty() {
                self.editor.text = text;
                self.editor.errors = errors;
            }
            self.notice = notice;
        }
        // Without a link the person comes back to where they were typing, if they were.
        if after.restore_edit {
            if let Some(edit) = stored(EDIT_KEY).filter(|e| !e.trim().is_empty() && *e != self.run.text()) {
                self.editor.edit(edit);
                self.notice = Some(self.t().notice_edit_restored.into());
            }
        }
    }

    /// The text of a shipped scenario arrived (or could not be had): the run waiting for it opens.
    fn fetched(&mut self, name: String, text: Result<String, String>) {
        let waiting = self.opening.as_ref().is_some_and(|o| o.name == name);
        match text {
            Ok(text) => {
                lessons::keep(&name, &text);
                if let Some(o) = self.opening.take().filter(|_| waiting) {
                    self.open(ScenarioRef::Builtin(o.name), o.seed, o.actions, o.step, o.after);
                }
            }
            Err(e) if waiting => {
                self.opening = None;
                self.picks_undone += 1;
                self.notice = Some(fill(self.t().notice_fetch_failed, &[&name, &e]));
                if name != DEFAULT_SCENARIO {
                    self.open_default_if_idle();
                }
            }
            Err(_) => {}
        }
    }

    fn toggle_compare(&mut self) {
        if let Err(notice) = self.run.toggle_compare(self.t()) {
            self.notice = Some(notice);
        }
    }

    /// Carries out `cmd`.
    pub fn apply(&mut self, cmd: Cmd) {
        let t = self.t();
        let playback = &mut self.playback;
        let session = self.run.session.as_mut();
        // A move of the run or a choice in it makes the link shown out of date.
        if matches!(
            cmd,
            Cmd::TogglePlay | Cmd::Forward | Cmd::Back | Cmd::Restart | Cmd::End | Cmd::Seek(_) | Cmd::Marker(_) | Cmd::Speed(_) | Cmd::Act(_) | Cmd::Deselect | Cmd::Escape | Cmd::Pick(..) | Cmd::ToggleLanguage
        ) {
            self.run.share_url = None;
        }
        match cmd {
            Cmd::TogglePlay => playback.toggle(session.as_deref()),
            Cmd::Forward | Cmd::Back | Cmd::Restart | Cmd::End => {
                playback.playing = false;
                if let Some(s) = session {
                    match cmd {
                        Cmd::Forward => playback.forward(s),
                        Cmd::Back => playback.back(s),
                        Cmd::Restart => s.seek(0),
                        _ => playback.end(s),
                    }
                }
            }
            Cmd::Seek(to) => {
                if let Some(s) = session {
                    s.seek(to);
                }
            }
            Cmd::Marker(forward) => {
                if let Some(s) = session {
                    Playback::marker(s, forward);
                }
            }
            Cmd::Speed(i) => playback.set_speed(i),
            Cmd::ToggleRoutine => playback.show_routine = !playback.show_routine,
            Cmd::Act(action) => {
                if let Err(notice) = self.run.act(action, t) {
                    self.notice = Some(notice);
                }
            }
            Cmd::Select(node) => self.run.select(node),
            Cmd::Deselect | Cmd::Escape => self.run.selected = None,
            Cmd::Copied(ok) => self.run.copied = Some(ok),
            Cmd::Pick(at, choice) => {
                self.run.picks.insert(at, choice);
            }
            Cmd::Record(record) => {
                if let Some(s) = session {
                    if s.total_steps().is_none() {
                        self.notice = Some(t.notice_still_computing.into());
                        return;
                    }
                    match s.fate_step(record) {
                        Some(at) => s.seek(at),
                        None => self.notice = Some(fill(t.notice_record_pending, &[&record])),
                    }
                }
                playback.playing = false;
            }
            Cmd::ToggleCompare => self.toggle_compare(),
            Cmd::Share => self.run.share(self.prefs.lang),
            Cmd::OpenBuiltin(name) => {
                if self.may_replace_editor() {
                    self.open(ScenarioRef::Builtin(name), None, Vec::new(), 0, After { push: true, ..After::default() });
                } else {
                    self.picks_undone += 1;
                }
            }
            Cmd::LessonFetched(name, text) => self.fetched(name, text),
            Cmd::FileRead(Ok(text)) => {
                if self.may_replace_editor() {
                    self.open(ScenarioRef::Text(text), None, Vec::new(), 0, After::default());
                }
            }
            Cmd::FileRead(Err(e)) => self.notice = Some(fill(t.notice_file_unreadable, &[&e])),
            Cmd::FileTooLarge(name) => self.notice = Some(fill(t.notice_file_too_large, &[&name, &scenario::limits::FILE_BYTES])),
            Cmd::Edit(text) => {
                store(EDIT_KEY, &text);
                self.editor.edit(text);
            }
            Cmd::RunEditor => self.open(ScenarioRef::Text(self.editor.text.clone()), None, Vec::new(), 0, After::default()),
            Cmd::Download => self.editor.download(&self.run.source),
            Cmd::SeedText(text) => self.editor.seed = text,
            Cmd::SubmitSeed => match self.editor.seed.trim().parse::<u64>() {
                Ok(seed) => self.open(self.editor.source(&self.run.source), Some(seed), Vec::new(), 0, After::default()),
                Err(_) => self.notice = Some(fill(t.notice_bad_seed, &[&format!("{:?}", self.editor.seed), &u64::MAX])),
            },
            Cmd::Explore => {
                if let Some(s) = self.run.session.as_ref() {
                    self.exploration.start(s.scenario(), self.run.text());
                    playback.playing = false;
                    self.notice = None;
                }
            }
            Cmd::StopExplore => {
                if let Some(notice) = self.exploration.stop(t) {
                    self.notice = Some(notice);
                }
            }
            Cmd::Export(kind) => {
                if let Some(s) = session {
                    export(kind, s, &self.run.source, self.prefs.dark);
                }
            }
            Cmd::ToggleLanguage => self.prefs.toggle_lang(),
            Cmd::ToggleTheme => self.prefs.dark = !self.prefs.dark,
            Cmd::TogglePresenter => self.prefs.presenter = !self.prefs.presenter,
            Cmd::ToggleMotion => self.prefs.reduce_motion = !self.prefs.reduce_motion,
            Cmd::FullScreen => toggle_fullscreen(),
            Cmd::Dismiss => self.notice = None,
            Cmd::OpenLink(hash) => {
                if self.may_replace_editor() {
                    if hash.len() > 1 {
                        self.open_link(&hash);
                    } else {
                        // Back to the entry the page opened with, which had no link: its lesson.
                        self.open(ScenarioRef::Builtin(DEFAULT_SCENARIO.into()), None, Vec::new(), 0, After::default());
                    }
                }
            }
        }
    }

    /// One tick of playback.
    pub fn tick(&mut self) {
        if let Some(s) = self.run.session.as_mut() {
            self.playback.tick(s);
        }
    }

    /// One slice of the look-ahead; true when it has nothing left to do.
    pub fn look_ahead_slice(&mut self) -> bool {
        self.playback.look_ahead_slice(self.run.session.as_mut(), self.run.compare.as_mut())
    }

    /// One slice of the search for a counterexample; true when it has ended (found, exhausted or
    /// stopped). A counterexample opens as the scenario that runs.
    pub fn explore_slice(&mut self) -> bool {
        match self.exploration.slice(self.t()) {
            None => true,
            Some(Slice::Working) => false,
            Some(Slice::Held(notice)) => {
                self.notice = Some(notice);
                true
            }
            Some(Slice::Found { scenario, notice }) => {
                self.open(ScenarioRef::Text(scenario), None, Vec::new(), 0, After::default());
                self.notice = Some(notice);
                true
            }
        }
    }
}
