//! The shipped scenarios in the course's order (module by module, lesson by lesson, the extras
//! last) and the picker that opens them. It reads the embedded catalogue of the scenario files,
//! and uses the commands and the words, nothing else of the page.

use super::cmd::Cmd;
use super::i18n::Tr;
use yew::prelude::*;

/// One shipped scenario, as the picker lists it.
pub struct Builtin {
    /// Its file name without `.toml`.
    pub name: &'static str,
    /// Its title.
    pub title: &'static str,
    /// The curriculum module (none: the scale and exploration extras).
    pub module: Option<u32>,
    /// Its lesson number in the module.
    pub lesson: u32,
}

/// The shipped scenarios in the course's order.
pub fn catalog() -> Vec<Builtin> {
    let mut builtins: Vec<Builtin> = crate::builtin::CATALOG.iter().map(|&(name, title, module, lesson)| Builtin { name, title, module, lesson }).collect();
    builtins.sort_by_key(|b| (b.module.unwrap_or(u32::MAX), b.lesson));
    builtins
}

/// The scenario picker, grouped by the curriculum's modules; `current` is the shipped scenario
/// that runs (empty: an edited or opened one), `undone` how many picks left the run as it was.
pub fn picker(t: Tr, builtins: &[Builtin], current: &str, undone: u32, cmd: &Callback<Cmd>) -> Html {
    let on_pick = cmd.reform(|e: Event| {
        let select = e.target_unchecked_into::<web_sys::HtmlSelectElement>();
        // The menu gives its focus back once a lesson is picked: a clicker's PageDown and the
        // arrow keys then step the lesson instead of picking the next one.
        let _ = select.blur();
        Cmd::OpenBuiltin(select.value())
    });
    let mut modules: Vec<Option<u32>> = builtins.iter().map(|b| b.module).collect();
    modules.dedup();
    let module_label = |m: Option<u32>| match m {
        Some(m) => format!("{m}. {}", t.modules.get(m as usize - 1).copied().unwrap_or_default()),
        None => t.more_scenarios.to_string(),
    };
    html! {
        // Keyed by the run shown: a new menu each time it changes, or a pick did not change it,
        // since a menu the person has used no longer follows its options' `selected` attributes
        // (Back and Forward change the run too).
        <select key={format!("{current}/{undone}")} onchange={on_pick} aria-label={t.scenario} data-testid="picker" dir="auto">
            if current.is_empty() { <option selected=true disabled=true>{t.edited_scenario}</option> }
            { for modules.iter().map(|m| html! {
                <optgroup label={module_label(*m)}>
                    { for builtins.iter().filter(|b| b.module == *m).map(|b| html! {
                        <option value={b.name} selected={b.name == current}>
                            {match b.module { Some(m) => format!("{m}.{} {}", b.lesson, b.title), None => b.title.to_string() }}
                        </option>
                    }) }
                </optgroup>
            }) }
        </select>
    }
}
