//! The top bar: the scenario picker, opening a file, the seed, sharing, exploring, compare mode,
//! export, and the switches of the page's look. It only draws them and sends [`Cmd`]s; it uses
//! the catalog's picker, the editor's seed field, the export menu, the commands and the words.

use super::catalog::{picker, Builtin};
use super::cmd::Cmd;
use super::editor::seed_field;
use super::export::export_menu;
use super::i18n::{Lang, Tr};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What the top bar shows besides the words.
pub struct TopBar<'a> {
    /// The shipped scenarios.
    pub builtins: &'a [Builtin],
    /// The shipped scenario that runs (empty: an edited or opened one).
    pub current: &'a str,
    /// How many picks in the menu left the run as it was.
    pub picks_undone: u32,
    /// The seed field's text.
    pub seed: &'a str,
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
    /// Whether presenter mode is on.
    pub presenter: bool,
    /// Whether the tools are unfolded (they fold away on a phone).
    pub menu_open: bool,
    /// Whether the share popover is open.
    pub sharing: bool,
}

/// The top bar, one row: the scenario picker first, then the tools (folded behind a menu button
/// on a phone), the language switch, and a menu of the page's look. `cmd` gets what the buttons
/// ask for, `on_file` a file opened with the button, `on_menu` the phone's menu button. A view
/// function rather than a component: the page renders it with everything else, as one more
/// component would cost the download more than it saves in renders.
pub fn top_bar(t: Tr, bar: &TopBar, cmd: &Callback<Cmd>, on_file: &Callback<web_sys::File>, on_menu: Callback<MouseEvent>) -> Html {
    let send = |c: Cmd| cmd.reform(move |_: MouseEvent| c.clone());
    let on_file = {
        let read = on_file.clone();
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
            {picker(t, bar.builtins, bar.current, bar.picks_undone, cmd)}
            <button class="menu-button" onclick={on_menu} aria-expanded={bar.menu_open.to_string()} aria-controls="tools" data-testid="menu">{t.menu}</button>
            <div id="tools" class={classes!("tools", bar.menu_open.then_some("open"))}>
                <label class="button">{t.open_file}<input type="file" accept=".toml,text/plain" onchange={on_file} hidden=true /></label>
                {seed_field(t, bar.seed, cmd)}
                <button onclick={send(Cmd::Share)} data-testid="share" aria-expanded={bar.sharing.to_string()}>{t.share}</button>
                <button onclick={send(Cmd::Explore)} disabled={bar.exploring} data-testid="explore" title={t.explore_title}>{t.explore}</button>
                if let Some(on) = bar.compare {
                    <button onclick={send(Cmd::ToggleCompare)} data-testid="compare" aria-pressed={on.to_string()} title={t.compare_title}>
                        {if on { t.stop_compare } else { t.compare }}
                    </button>
                }
                {export_menu(t, &cmd.reform(Cmd::Export))}
                <span class="spacer" />
                <button onclick={send(Cmd::ToggleLanguage)} data-testid="lang" lang={if bar.lang == Lang::En { "fa" } else { "en" }}>{t.switch_language}</button>
                <details class="popover view-menu" data-testid="view-menu">
                    <summary>{t.view_menu}</summary>
                    <div class="popover-body">
                        <label class="toggle"><input type="checkbox" checked={bar.show_routine} onclick={send(Cmd::ToggleRoutine)} />{t.routine}</label>
                        <label class="toggle"><input type="checkbox" checked={bar.reduce_motion} onclick={send(Cmd::ToggleMotion)} />{t.less_motion}</label>
                        <button onclick={send(Cmd::ToggleTheme)} title={t.theme_title}>{if bar.dark { t.light } else { t.dark }}</button>
                        <button onclick={send(Cmd::TogglePresenter)} title={t.presenter_title} data-testid="presenter" aria-pressed={bar.presenter.to_string()}>{t.presenter}</button>
                        <button onclick={send(Cmd::FullScreen)} title={t.full_screen_title}>{t.full_screen}</button>
                    </div>
                </details>
            </div>
        </header>
    }
}
