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
    /// Put the run's link into the address bar and show it to copy, or close it when shown.
    Share,
    /// Copying the link worked (true) or not.
    Copied(bool),
    /// Close whatever popover is open (the action menu, the share link, the menus).
    Escape,
    /// Open a shipped scenario, by name.
    OpenBuiltin(String),
    /// The text of a shipped scenario was fetched (its name, and the text or why not).
    LessonFetched(String, Result<String, String>),
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
        ("Escape", _) => Cmd::Escape,
        _ => return None,
    })
}

/// Where a key press lands, for the keys of the page.
#[derive(PartialEq)]
enum Target {
    /// Text is typed there (the editor, a text field): it keeps every key.
    Typing,
    /// A menu: it keeps Space (which opens it) and nothing else, so that a clicker or the arrow
    /// keys step the run even while the lesson or speed menu has the focus.
    Menu,
    /// A button, link, checkbox or node of the picture: Space and Enter activate it.
    Control,
    /// Anything else.
    Page,
}

fn target_of(e: &KeyboardEvent) -> Target {
    let Some(el) = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return Target::Page };
    match el.tag_name().to_ascii_uppercase().as_str() {
        "TEXTAREA" => Target::Typing,
        "SELECT" => Target::Menu,
        // The timeline slider leaves the keys to the page; a checkbox is a control.
        "INPUT" => match el.get_attribute("type").as_deref() {
            Some("range") => Target::Page,
            Some("checkbox" | "button" | "submit" | "file") => Target::Control,
            _ => Target::Typing,
        },
        "BUTTON" | "SUMMARY" | "A" | "LABEL" => Target::Control,
        _ if el.get_attribute("role").as_deref() == Some("button") => Target::Control,
        _ => Target::Page,
    }
}

/// Closes the menus that are `<details>` popovers (the export menu, the view menu, the legend).
fn close_menus() {
    if let Ok(open) = gloo::utils::document().query_selector_all("details.popover[open]") {
        for i in 0..open.length() {
            if let Some(el) = open.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                let _ = el.remove_attribute("open");
            }
        }
    }
}

/// Gives the focus back to the node whose action menu Esc closes, so that the keyboard stays where
/// the person was. (Through `Reflect`: a node is an SVG element, which `web-sys` reaches only with
/// a feature the page does not otherwise need.)
fn focus_selected_node() {
    let Some(node) = gloo::utils::document().query_selector("[data-testid=left-pane] .node.selected > .box").ok().flatten() else { return };
    if let Some(focus) = js_sys::Reflect::get(&node, &"focus".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
        let _ = focus.call0(&node);
    }
}

/// Sends the command of each key pressed on the page to `cmd`, so that the keys always mean the
/// same: the clicker's PageDown/PageUp and the arrow keys step wherever the focus is, except where
/// text is typed; Space plays and pauses, except on a control, which it activates; Esc closes
/// whatever popover is open. Keys with a modifier are the browser's own.
#[hook]
pub fn use_keys(cmd: Callback<Cmd>) {
    use_effect_with((), move |_| {
        let options = EventListenerOptions::enable_prevent_default();
        let listener = EventListener::new_with_options(&gloo::utils::document(), "keydown", options, move |e| {
            let Some(e) = e.dyn_ref::<KeyboardEvent>() else { return };
            if e.ctrl_key() || e.meta_key() || e.alt_key() {
                return;
            }
            let Some(c) = key_cmd(e) else { return };
            let target = target_of(e);
            let kept = match c {
                Cmd::Escape => false,
                Cmd::TogglePlay => target != Target::Page,
                _ => target == Target::Typing,
            };
            if kept {
                return;
            }
            e.prevent_default();
            if c == Cmd::Escape {
                close_menus();
                focus_selected_node();
            }
            cmd.emit(c);
        });
        move || drop(listener)
    });
}

/// Sends a link pasted into the address bar of the open page to `cmd`, and the entry Back or
/// Forward returns to. Such a link changes only the fragment, which does not load the page again.
/// (The share button writes the fragment with `replaceState`, and a picked lesson's entry is
/// pushed with `pushState`; neither fires the event.)
#[hook]
pub fn use_link_changes(cmd: Callback<Cmd>) {
    use_effect_with((), move |_| {
        // A fragment pasted in, or Back and Forward between the entries the page pushed (an empty
        // fragment is the entry the page opened with, without a link).
        let listener = EventListener::new(&gloo::utils::window(), "hashchange", move |_| cmd.emit(Cmd::OpenLink(location_hash())));
        move || drop(listener)
    });
}
