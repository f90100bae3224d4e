//! The page: a thin Yew layer over [`crate::session::Session`]. Components read a [`Frame`]
//! (plain data computed from the session after every change, in `frame.rs`) and send [`Cmd`]s back; all
//! simulation logic stays in the core.

mod app;
mod browser;
mod cluster;
mod export;
mod frame;
mod glossary;
mod i18n;
mod panels;

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

/// Steps a built-in scenario to its end and returns how many steps it took, as
/// `benches/throughput.rs` does natively: `cargo xtask bench` times it in Chromium to compare the
/// core's speed in wasm with its native speed on the same scenario.
#[wasm_bindgen]
pub fn bench_run(name: &str) -> Result<f64, JsError> {
    let text = crate::builtin::get(name).ok_or_else(|| JsError::new(&format!("no built-in scenario {name:?}")))?;
    let scenario = crate::scenario::parse(name, text).map_err(|_| JsError::new(&format!("the built-in scenario {name:?} is invalid")))?;
    let mut sim = scenario.start(scenario.seed);
    sim.run_until(scenario.duration_ms, |_, _| {});
    Ok(sim.steps_taken() as f64)
}
