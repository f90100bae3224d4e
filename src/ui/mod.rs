//! The page: a thin Yew layer over [`crate::session::Session`]. Components read a [`frame::Frame`]
//! (plain data computed from the session after every change) and send [`cmd::Cmd`]s back, which
//! the model in `page.rs` carries out; all simulation logic stays in the core.
//!
//! By responsibility: `page` composes the models of the current run and its sharing (`run`),
//! playback (`playback`), the editor (`editor`), exploration (`exploration`) and the page's look
//! (`prefs`); `app` is the root component that drives them and lays out the views: the top
//! bar (`topbar`, with `catalog`'s picker and `export`'s menu), the picture (`cluster`) and the
//! panels (`panels`). The words (`i18n`), the browser calls (`browser`) and the frame import
//! nothing else of the page, and `cmd` only the export kinds, so that the page's modules import
//! each other in one direction: components and models down to them, `page` down to the models,
//! `app` down to everything.

mod app;
mod browser;
mod catalog;
mod cluster;
mod compact;
mod cmd;
mod editor;
mod exploration;
mod export;
mod frame;
mod glossary;
mod i18n;
mod lessons;
mod page;
mod panels;
mod playback;
mod prefs;
mod run;
mod topbar;

use wasm_bindgen::prelude::*;

/// Shows a message instead of a blank page if anything panics, and keeps the console trace.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        // The hook cannot reach the app's state, so it reads the language the app last set on `<html>`.
        let document = gloo::utils::document();
        let code = document.document_element().and_then(|e| e.get_attribute("lang")).unwrap_or_default();
        let message = i18n::fill(i18n::Tr(i18n::Lang::from_code(&code).unwrap_or_default()).fatal, &[&info]);
        web_sys::console::error_1(&message.clone().into());
        if let Some(el) = document.get_element_by_id("fatal") {
            el.set_text_content(Some(&message));
            let _ = el.set_attribute("role", "alert");
            let _ = el.remove_attribute("hidden");
        }
    }));
}

/// Entry point called by the wasm-bindgen loader in `index.html`.
#[wasm_bindgen(start)]
pub fn start() {
    install_panic_hook();
    let root = gloo::utils::document().get_element_by_id("app").expect("index.html has #app");
    yew::Renderer::<app::App>::with_root(root).render();
}

/// Steps a scenario (the text of a built-in one, which the page fetches) to its end and returns
/// how many steps it took, as `benches/throughput.rs` does natively: `cargo xtask bench` times it
/// in Chromium to compare the core's speed in wasm with its native speed on the same scenario.
#[wasm_bindgen]
pub fn bench_run(name: &str, text: &str) -> Result<f64, JsError> {
    let scenario = crate::scenario::parse(name, text).map_err(|_| JsError::new(&format!("the built-in scenario {name:?} is invalid")))?;
    let mut sim = scenario.start(scenario.seed);
    sim.run_until(scenario.duration_ms, |_, _| {});
    Ok(sim.steps_taken() as f64)
}
