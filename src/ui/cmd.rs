//! What the page can be asked to do: every [`Cmd`] the components, the keyboard and the address
//! bar send, which the page's model carries out (`Page::apply`), and the hooks that turn keys and
//! links pasted into the address bar into commands. A plain vocabulary, so that the components
//! need not know the page's model; it uses only the export kinds, the core's names and the
//! browser helpers.

use super::browser::location_hash;
use super::export::Export;
use crate::session::UserAction;
use crate::sim::NodeId;
use gloo::events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;
use yew::prelude::*;

/// A request to the page.
#[derive(Clone, Debug, PartialEq)]
pub enum Cmd {
    /// Start or stop playback.
    TogglePlay,
    /// One step forward.
    Forward,
    /// One step back.
    Back,
    /// Back to step 0.
    Restart,
    /// To the end of the run.
    End,
    /// To a position.
    Seek(u64),
    /// To the next (true) or previous marker.
    Marker(bool),
    /// Playback speed index.
    Speed(usize),
    /// Show routine steps too, or skip them.
    ToggleRoutine,
    /// A person's action on the cluster.
    Act(UserAction),
    /// Open a node's action menu, or close it when it is open.
    Select(NodeId),
    /// Close the action menu.
    Deselect,
    /// The class picked a choice (by index) at the pause point at a step.
    Pick(u64, usize),
    /// To the step that decided a record's fate.
    Record(u32),
    /// Start or stop compare mode.
    ToggleCompare,
    /// Put the run's link into the address bar and on the clipboard.
    Share,
    /// Open a shipped scenario, by name.
    OpenBuiltin(String),
    /// A file the person opened could be read (its text) or not (why).
    FileRead(Result<String, String>),
    /// A file the person opened is too large to read (its name).
    FileTooLarge(String),
    /// The editor's text changed.
    Edit(String),
    /// Run the editor's text.
    RunEditor,
    /// Download the editor's text.
    Download,
    /// The seed field's text changed.
    SeedText(String),
    /// Run the scenario again with the seed field's seed.
    SubmitSeed,
    /// Search for a counterexample.
    Explore,
    /// Stop the search.
    StopExplore,
    /// Export the run as it stands.
    Export(Export),
    /// Switch the language.
    ToggleLanguage,
    /// Switch between the light and the dark theme.
    ToggleTheme,
    /// Presenter mode on or off.
    TogglePresenter,
    /// Less motion on or off.
    ToggleMotion,
    /// Full screen on or off.
    FullScreen,
    /// Close the notice.
    Dismiss,
    /// Open the run a share link's fragment names.
    OpenLink(String),
}

/// The command a key asks for, if any: for presenters and clickers.
fn key_cmd(e: &KeyboardEvent) -> Option<Cmd> {
    Some(match (e.key().as_str(), e.shift_key()) {
        (" ", _) => Cmd::TogglePlay,
        ("ArrowRight", false) | (".", _) | ("PageDown", _) => Cmd::Forward,
        ("ArrowLeft", false) | ("PageUp", _) => Cmd::Back,
        ("ArrowRight", true) => Cmd::Marker(true),
        ("ArrowLeft", true) => Cmd::Marker(false),
        ("Home", _) => Cmd::Restart,
        ("End", _) => Cmd::End,
        ("p", _) => Cmd::TogglePresenter,
        ("t", _) => Cmd::ToggleTheme,
        ("f", _) => Cmd::FullScreen,
        ("Escape", _) => Cmd::Deselect,
        _ => return None,
    })
}

/// Sends the command of each key pressed on the page to `cmd`, unless the person is typing (in
/// the editor, a form field) or holds a modifier (the browser's own shortcuts).
#[hook]
pub fn use_keys(cmd: Callback<Cmd>) {
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
            if let Some(c) = key_cmd(e) {
                e.prevent_default();
                cmd.emit(c);
            }
        });
        move || drop(listener)
    });
}

/// Sends a link pasted into the address bar of the open page to `cmd`. Such a link changes only
/// the fragment, which does not load the page again. (The share button writes the fragment with
/// `replaceState`, which fires no event.)
#[hook]
pub fn use_link_changes(cmd: Callback<Cmd>) {
    use_effect_with((), move |_| {
        let listener = EventListener::new(&gloo::utils::window(), "hashchange", move |_| {
            let hash = location_hash();
            if hash.len() > 1 {
                cmd.emit(Cmd::OpenLink(hash));
            }
        });
        move || drop(listener)
    });
}
