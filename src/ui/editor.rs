//! The editor: the scenario text the page shows and may run next, its live `line, column`
//! errors, the seed field, files opened or dropped on the page, and the editor's panel. It uses
//! the scenario reader, the browser helpers, the commands and the words, nothing else of the page.

use super::browser::download;
use super::cmd::Cmd;
use super::i18n::{fill, Tr};
use crate::scenario::{self, ScenarioError};
use crate::share::ScenarioRef;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

/// What the editor holds.
#[derive(Default)]
pub struct Editor {
    /// The text shown.
    pub text: String,
    /// Its errors, if it does not read as a scenario.
    pub errors: Vec<ScenarioError>,
    /// The seed field's text.
    pub seed: String,
}

impl Editor {
    /// The person edited the text: its errors are found again at once.
    pub fn edit(&mut self, text: String) {
        self.errors = scenario::parse_within("scenario.toml", &text, &scenario::cost::PAGE).err().unwrap_or_default();
        self.text = text;
    }

    /// What runs with another seed: a builtin keeps its name (short links) unless its text was
    /// edited.
    pub fn source(&self, running: &ScenarioRef) -> ScenarioRef {
        match running {
            ScenarioRef::Builtin(n) if super::lessons::cached(n).as_deref() == Some(self.text.as_str()) => ScenarioRef::Builtin(n.clone()),
            _ => ScenarioRef::Text(self.text.clone()),
        }
    }

    /// Saves the text as a file named after the scenario that runs.
    pub fn download(&self, running: &ScenarioRef) {
        let name = match running {
            ScenarioRef::Builtin(n) => format!("{n}.toml"),
            ScenarioRef::Text(_) => "scenario.toml".to_string(),
        };
        download(&name, &self.text, "application/toml");
    }
}

/// The editor's panel: the text, its errors, and the buttons that run and download it.
pub fn editor_panel(t: Tr, editor: &Editor, cmd: &Callback<Cmd>) -> Html {
    let on_edit = cmd.reform(|e: InputEvent| Cmd::Edit(e.target_unchecked_into::<HtmlTextAreaElement>().value()));
    html! {
        <section class="editor" aria-label={t.editor_region}>
            <h2>{t.editor}</h2>
            <p class="hint">{t.editor_hint}</p>
            <textarea value={editor.text.clone()} oninput={on_edit} spellcheck="false" rows="18" aria-label={t.editor} data-testid="editor" dir="ltr" />
            <ul class="errors" data-testid="errors">
                { for editor.errors.iter().map(|e| html! {
                    <li>
                        <span class="loc">{fill(t.error_at, &[&e.line, &e.column])}</span><span dir="ltr">{e.message.clone()}</span>
                        if let Some(h) = &e.hint { <span class="hint">{t.hint}<span dir="ltr">{h.clone()}</span></span> }
                    </li>
                }) }
            </ul>
            <button onclick={cmd.reform(|_: MouseEvent| Cmd::RunEditor)} disabled={!editor.errors.is_empty()} data-testid="run-editor">{t.run_editor}</button>
            <button onclick={cmd.reform(|_: MouseEvent| Cmd::Download)}>{t.download}</button>
        </section>
    }
}

/// The top bar's seed field: Enter runs the scenario again with its seed.
pub fn seed_field(t: Tr, seed: &str, cmd: &Callback<Cmd>) -> Html {
    let on_submit = cmd.reform(|e: SubmitEvent| {
        e.prevent_default();
        Cmd::SubmitSeed
    });
    let on_input = cmd.reform(|e: InputEvent| Cmd::SeedText(e.target_unchecked_into::<HtmlInputElement>().value()));
    html! {
        <form class="seed" onsubmit={on_submit}>
            <label>{t.seed}<input value={seed.to_string()} oninput={on_input} inputmode="numeric" size="8" aria-label={t.seed.trim()} dir="ltr" /></label>
        </form>
    }
}

/// Reads the files given to the returned callback (opened with the button or dropped on the page)
/// and sends their text, or why they could not be read, to `cmd`. Only the latest file is read: a
/// new one cancels a read still under way.
#[hook]
pub fn use_file_reader(cmd: Callback<Cmd>) -> Callback<web_sys::File> {
    let reader = use_mut_ref(|| None::<gloo::file::callbacks::FileReader>);
    use_callback(cmd, move |file: web_sys::File, cmd| {
        if file.size() > scenario::limits::FILE_BYTES as f64 {
            cmd.emit(Cmd::FileTooLarge(file.name()));
            return;
        }
        let (cmd, done) = (cmd.clone(), reader.clone());
        let read = gloo::file::callbacks::read_as_text(&gloo::file::File::from(file), move |result| {
            done.borrow_mut().take();
            cmd.emit(Cmd::FileRead(result.map_err(|e| e.to_string())));
        });
        *reader.borrow_mut() = Some(read);
    })
}
