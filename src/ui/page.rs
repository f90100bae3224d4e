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
        };
        if hash.len() > 1 {
            page.open_link(hash);
        } else {
            page.open(ScenarioRef::Builtin(DEFAULT_SCENARIO.into()), None, Vec::new(), 0);
            // Without a link the person comes back to where they were typing, if they were.
            if let Some(edit) = stored(EDIT_KEY).filter(|e| !e.trim().is_empty() && *e != page.run.text()) {
                page.editor.edit(edit);
                page.notice = Some(page.t().notice_edit_restored.into());
            }
        }
        page
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
                let compare = state.compare;
                self.open(state.scenario, Some(state.seed), state.actions, state.step);
                if compare {
                    self.toggle_compare();
                }
            }
            Err(e) => self.notice = Some(fill(self.t().notice_bad_link, &[&e])),
        }
        if self.run.session.is_none() {
            // Nothing runs yet (the page is starting) and the link did not load: the class gets the
            // default scenario, and the link's text and errors, if it had any, stay in the editor.
            let notice = self.notice.take();
            let editor = std::mem::take(&mut self.editor.text);
            let errors = std::mem::take(&mut self.editor.errors);
            self.open(ScenarioRef::Builtin(DEFAULT_SCENARIO.into()), None, Vec::new(), 0);
            if !editor.is_empty() {
                self.editor.text = editor;
                self.editor.errors = errors;
            }
            self.notice = notice;
        }
    }

    /// Loads a scenario. On any error the previous run stays, and the text stays in the editor.
    fn open(&mut self, source: ScenarioRef, seed: Option<u64>, actions: Vec<TimedUserAction>, step: u64) {
        let t = self.t();
        let (file, text) = match &source {
            ScenarioRef::Builtin(name) => match crate::builtin::get(name) {
                Some(text) => (format!("{name}.toml"), text.to_string()),
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
                        self.playback.start(step);
                        self.run.start(session, source);
                        self.notice = None;
                        self.editor.seed = seed.to_string();
                    }
                    Err(e) => self.notice = Some(fill(t.notice_run_failed, &[&e])),
                }
            }
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
                    self.open(ScenarioRef::Builtin(name.clone()), None, Vec::new(), 0);
                    // A lesson picked here is a place the browser's Back and Forward return to.
                    if let Some(s) = self.run.session.as_ref() {
                        push_link(&format!("scenario={name}&seed={}&step=0", s.seed()));
                    }
                }
            }
            Cmd::FileRead(Ok(text)) => {
                if self.may_replace_editor() {
                    self.open(ScenarioRef::Text(text), None, Vec::new(), 0);
                }
            }
            Cmd::FileRead(Err(e)) => self.notice = Some(fill(t.notice_file_unreadable, &[&e])),
            Cmd::FileTooLarge(name) => self.notice = Some(fill(t.notice_file_too_large, &[&name, &scenario::limits::FILE_BYTES])),
            Cmd::Edit(text) => {
                store(EDIT_KEY, &text);
                self.editor.edit(text);
            }
            Cmd::RunEditor => self.open(ScenarioRef::Text(self.editor.text.clone()), None, Vec::new(), 0),
            Cmd::Download => self.editor.download(&self.run.source),
            Cmd::SeedText(text) => self.editor.seed = text,
            Cmd::SubmitSeed => match self.editor.seed.trim().parse::<u64>() {
                Ok(seed) => self.open(self.editor.source(&self.run.source), Some(seed), Vec::new(), 0),
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
                        self.open(ScenarioRef::Builtin(DEFAULT_SCENARIO.into()), None, Vec::new(), 0);
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
                self.open(ScenarioRef::Text(scenario), None, Vec::new(), 0);
                self.notice = Some(notice);
                true
            }
        }
    }
}
