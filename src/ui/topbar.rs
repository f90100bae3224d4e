//! The top bar: the scenario picker, opening a file, the seed, sharing, exploring, compare mode,
//! export, and the switches of the page's look. It only draws them and sends [`Cmd`]s; it uses
//! the catalog's picker, the editor's seed field, the export menu, the commands and the words.

use super::catalog::{Builtin, Picker};
use super::cmd::Cmd;
use super::editor::SeedField;
use super::export::ExportMenu;
use super::i18n::{use_tr, Lang};
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Properties of [`TopBar`].
#[derive(Properties, PartialEq)]
pub struct TopBarProps {
    /// The shipped scenarios.
    pub builtins: Rc<[Builtin]>,
    /// The shipped scenario that runs (empty: an edited or opened one).
    pub current: AttrValue,
    /// The seed field's text.
    pub seed: AttrValue,
    /// Whether a search for a counterexample runs.
    pub exploring: bool,
    /// Whether compare mode is on, when the scenario has a compare run.
    pub compare: Option<bool>,
    /// Whether routine steps show.
    pub show_routine: bool,
    /// Whether less motion is on.
    pub reduce_motion: bool,
    /// The page's language.
    pub lang: Lang,
    /// Whether the dark theme is on.
    pub dark: bool,
    /// What the buttons ask for.
    pub cmd: Callback<Cmd>,
    /// A file opened with the button.
    pub on_file: Callback<web_sys::File>,
}

/// The top bar.
#[function_component]
pub fn TopBar(props: &TopBarProps) -> Html {
    let t = use_tr();
    let send = |c: Cmd| props.cmd.reform(move |_: MouseEvent| c.clone());
    let on_file = {
        let read = props.on_file.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                read.emit(file);
            }
            // Emptied so that choosing the same file again opens it again.
            input.set_value("");
        })
    };
    html! {
        <header class="topbar">
            <span class="brand">{"kafkasim"}</span>
            <Picker builtins={props.builtins.clone()} current={props.current.clone()} cmd={props.cmd.clone()} />
            <label class="button">{t.open_file}<input type="file" accept=".toml,text/plain" onchange={on_file} hidden=true /></label>
            <SeedField seed={props.seed.clone()} cmd={props.cmd.clone()} />
            <button onclick={send(Cmd::Share)} data-testid="share">{t.share}</button>
            <button onclick={send(Cmd::Explore)} disabled={props.exploring} data-testid="explore" title={t.explore_title}>{t.explore}</button>
            if let Some(on) = props.compare {
                <button onclick={send(Cmd::ToggleCompare)} data-testid="compare" aria-pressed={on.to_string()} title={t.compare_title}>
                    {if on { t.stop_compare } else { t.compare }}
                </button>
            }
            <ExportMenu on_export={props.cmd.reform(Cmd::Export)} />
            <span class="spacer" />
            <label class="toggle"><input type="checkbox" checked={props.show_routine} onclick={send(Cmd::ToggleRoutine)} />{t.routine}</label>
            <label class="toggle"><input type="checkbox" checked={props.reduce_motion} onclick={send(Cmd::ToggleMotion)} />{t.less_motion}</label>
            <button onclick={send(Cmd::ToggleLanguage)} data-testid="lang" lang={if props.lang == Lang::En { "fa" } else { "en" }}>{t.switch_language}</button>
            <button onclick={send(Cmd::ToggleTheme)} title={t.theme_title}>{if props.dark { t.light } else { t.dark }}</button>
            <button onclick={send(Cmd::TogglePresenter)} title={t.presenter_title} data-testid="presenter">{t.presenter}</button>
            <button onclick={send(Cmd::FullScreen)} title={t.full_screen_title}>{t.full_screen}</button>
        </header>
    }
}
