//! The texts of the shipped lessons. The page's download holds only their catalogue; a lesson's
//! file is fetched from `static/scenarios/` the first time it is opened and kept for the page's
//! life, so the page stays interactive as soon as its code is loaded, whatever the course's size.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

thread_local! {
    /// The texts fetched so far, by name.
    static TEXTS: RefCell<BTreeMap<String, Rc<str>>> = const { RefCell::new(BTreeMap::new()) };
}

/// The text of the shipped scenario `name`, if it has been fetched.
pub fn cached(name: &str) -> Option<Rc<str>> {
    TEXTS.with(|t| t.borrow().get(name).cloned())
}

/// Keeps the fetched text of `name`.
pub fn keep(name: &str, text: &str) {
    TEXTS.with(|t| t.borrow_mut().insert(name.to_string(), text.into()));
}

/// Fetches the text of the shipped scenario `name` (which `builtin::listed`) and calls `done` with it or
/// with why it could not be had.
pub fn fetch(name: String, done: impl FnOnce(String, Result<String, String>) + 'static) {
    wasm_bindgen_futures::spawn_local(async move {
        let text = fetch_text(&name).await;
        done(name, text);
    });
}

async fn fetch_text(name: &str) -> Result<String, String> {
    // The browser's own words for what failed (a TypeError's "Failed to fetch", say).
    let reason = |e: wasm_bindgen::JsValue| e.as_string().or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))).unwrap_or_else(|| format!("{e:?}"));
    let response = JsFuture::from(gloo::utils::window().fetch_with_str(&format!("static/scenarios/{name}.toml"))).await.map_err(reason)?;
    let response: web_sys::Response = response.dyn_into().map_err(reason)?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(reason)?).await.map_err(reason)?;
    text.as_string().ok_or_else(|| format!("{text:?}"))
}
