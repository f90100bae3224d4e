//! The few browser calls the page makes outside its components: saving a file, full screen, the
//! address bar's link and a canvas's drawing context. Kept here so that the models stay plain
//! data; this module uses only `web-sys` and `gloo`, nothing of the page.

use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Saves `text` as a file called `name` of type `mime`.
pub fn download(name: &str, text: &str, mime: &str) {
    let parts = js_sys::Array::new();
    parts.push(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    save_url(name, &url);
    // The download reads the blob after this returns: revoking the URL at once can cancel it.
    gloo::timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
}

/// Saves what `url` points to as a file called `name`.
pub fn save_url(name: &str, url: &str) {
    if let Ok(a) = gloo::utils::document().create_element("a") {
        let a: web_sys::HtmlAnchorElement = a.unchecked_into();
        a.set_href(url);
        a.set_download(name);
        a.click();
    }
}

/// Enters full screen, or leaves it.
pub fn toggle_fullscreen() {
    let document = gloo::utils::document();
    if document.fullscreen_element().is_some() {
        document.exit_fullscreen();
    } else if let Some(el) = document.document_element() {
        let _ = el.request_fullscreen();
    }
}

/// The fragment of the page's address (with its `#`), where share links keep their run.
pub fn location_hash() -> String {
    gloo::utils::window().location().hash().unwrap_or_default()
}

/// Puts a share link's `fragment` into the address bar and on the clipboard, and returns the link.
/// The address is replaced, not pushed: sharing is not a step the back button should undo.
pub fn publish_link(fragment: &str) -> String {
    let location = gloo::utils::window().location();
    let base = format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default());
    let url = format!("{base}#{fragment}");
    if let Ok(history) = gloo::utils::window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
    let _ = gloo::utils::window().navigator().clipboard().write_text(&url);
    url
}

/// A canvas's 2D drawing context.
pub fn context_of(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}
