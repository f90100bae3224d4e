//! The few browser calls the page makes outside its components: saving a file, full screen, the
//! address bar's link and a canvas's drawing context. Kept here so that the models stay plain
//! data; this module uses only `web-sys` and `gloo`, nothing of the page.

use wasm_bindgen::closure::Closure;
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

/// Puts a share link's `fragment` into the address bar and returns the link. The address is
/// replaced, not pushed: sharing is not a step the back button should undo.
pub fn publish_link(fragment: &str) -> String {
    let location = gloo::utils::window().location();
    let base = format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default());
    let url = format!("{base}#{fragment}");
    if let Ok(history) = gloo::utils::window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
    url
}

/// Adds an entry for `fragment` to the browser's history, so that Back returns to the entry before
/// it (the page follows with the `hashchange` that the traversal fires).
pub fn push_link(fragment: &str) {
    if let Ok(history) = gloo::utils::window().history() {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("#{fragment}")));
    }
}

/// An element's box on the screen, in CSS pixels.
pub struct ClientRect {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

/// Where `element` is drawn on the screen. (Read through `Reflect` rather than `web-sys`'s
/// `DomRect`, which the page does not otherwise need.)
pub fn client_rect(element: &web_sys::Element) -> Option<ClientRect> {
    let measure = js_sys::Reflect::get(element, &"getBoundingClientRect".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    let rect = measure.call0(element).ok()?;
    let get = |name: &str| js_sys::Reflect::get(&rect, &name.into()).ok().and_then(|v| v.as_f64());
    Some(ClientRect { left: get("left")?, top: get("top")?, right: get("right")?, bottom: get("bottom")? })
}

/// Copies `text` to the clipboard and tells `done` whether that worked. The asynchronous
/// clipboard is used where the page has one: it is missing on a plain-http origin other than
/// localhost, and it may refuse. Without it, or when it refuses, `field` (which shows `text`) is
/// selected and the browser's copy command tried, which reports whether it copied; when that fails
/// too the link stays selected, for the person to copy by hand. `done` may be called before this
/// returns (without the asynchronous clipboard) or later, never twice.
pub fn copy_text(text: &str, field: Option<web_sys::HtmlInputElement>, done: impl FnOnce(bool) + 'static) {
    let fallback = move || {
        let Some(field) = field else { return false };
        let _ = field.focus();
        field.select();
        let document = gloo::utils::document();
        js_sys::Reflect::get(&document, &"execCommand".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|exec| exec.call1(&document, &"copy".into()).ok())
            .is_some_and(|copied| copied.as_bool() == Some(true))
    };
    let navigator = gloo::utils::window().navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok().filter(|c| c.is_object());
    // The promise's own `then`, called as a function: the closures free themselves once called.
    let promise = clipboard.and_then(|c| {
        let write = js_sys::Reflect::get(&c, &"writeText".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
        let promise = write.call1(&c, &text.into()).ok()?;
        let then = js_sys::Reflect::get(&promise, &"then".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
        Some((promise, then))
    });
    let Some((promise, then)) = promise else {
        done(fallback());
        return;
    };
    // One of the two runs: the shared slot hands `done` to whichever does.
    let slot = std::rc::Rc::new(std::cell::Cell::new(Some((done, fallback))));
    let on_ok = {
        let slot = slot.clone();
        Closure::once_into_js(move |_: wasm_bindgen::JsValue| {
            if let Some((done, _)) = slot.take() {
                done(true);
            }
        })
    };
    let on_refused = Closure::once_into_js(move |_: wasm_bindgen::JsValue| {
        if let Some((done, fallback)) = slot.take() {
            done(fallback());
        }
    });
    let _ = then.call2(&promise, &on_ok, &on_refused);
}

/// A canvas's 2D drawing context.
pub fn context_of(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// Asks the person `question` with the browser's own dialog; true when they agree.
pub fn confirm(question: &str) -> bool {
    gloo::utils::window().confirm_with_message(question).unwrap_or(true)
}

/// The text kept in the browser's local storage under `key`, if any (none where storage is off).
pub fn stored(key: &str) -> Option<String> {
    gloo::utils::window().local_storage().ok()??.get_item(key).ok()?
}

/// Keeps `value` in the browser's local storage under `key`, where storage is allowed.
pub fn store(key: &str, value: &str) {
    if let Ok(Some(storage)) = gloo::utils::window().local_storage() {
        let _ = storage.set_item(key, value);
    }
}
