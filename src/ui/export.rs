//! Export: the cluster picture as SVG or PNG (for slides) and the trace up to the step shown as
//! text or JSON, and the menu that offers them. It reads the session and the picture as the page
//! drew it, and uses the browser helpers and the words; nothing else of the page.

use super::browser::{context_of, download, save_url};
use super::i18n::Tr;
use crate::session::Session;
use crate::share::ScenarioRef;
use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// What the export menu writes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Export {
    /// The cluster picture as a standalone SVG.
    Svg,
    /// The cluster picture as a PNG, for slides.
    Png,
    /// The narrated trace up to the step shown.
    Text,
    /// The trace as JSON, with the state and ledger at the step shown.
    Json,
}

/// The top bar's export menu.
pub fn export_menu(t: Tr, on_export: &Callback<Export>) -> Html {
    let item = |kind: Export| on_export.reform(move |_: MouseEvent| kind);
    html! {
        <details class="popover export" data-testid="export">
            <summary>{t.export}</summary>
            <div class="popover-body export-menu">
                <button onclick={item(Export::Svg)} data-testid="export-svg">{t.export_svg}</button>
                <button onclick={item(Export::Png)} data-testid="export-png">{t.export_png}</button>
                <button onclick={item(Export::Text)} data-testid="export-text">{t.export_text}</button>
                <button onclick={item(Export::Json)} data-testid="export-json">{t.export_json}</button>
            </div>
        </details>
    }
}

/// A file name for an export of the run from `source` at `session`'s current step.
fn export_name(source: &ScenarioRef, session: &Session, ext: &str) -> String {
    let stem = match source {
        ScenarioRef::Builtin(n) => n.clone(),
        ScenarioRef::Text(_) => "scenario".to_string(),
    };
    format!("{stem}-step{}.{ext}", session.position())
}

/// Writes the export `kind` of the run from `source` as it stands, the picture in the `dark` theme
/// or the light one.
pub fn export(kind: Export, session: &Session, source: &ScenarioRef, dark: bool) {
    let name = |ext: &str| export_name(source, session, ext);
    match kind {
        Export::Text => download(&name("txt"), &session.trace_text(), "text/plain"),
        Export::Json => download(&name("json"), &session.trace_json(), "application/json"),
        Export::Svg | Export::Png => {
            let Some(svg) = cluster_svg(dark, &format!("{} · step {} · {} ms", session.scenario().title, session.position(), session.sim().now())) else { return };
            match kind {
                Export::Svg => download(&name("svg"), &svg, "image/svg+xml"),
                _ => svg_to_png(&svg, name("png")),
            }
        }
    }
}

/// The page's stylesheet as the browser holds it, embedded in exported pictures so that they look
/// as on screen. Read from the page rather than compiled into the module: the page has it already.
fn page_style() -> String {
    let sheets = gloo::utils::document().style_sheets();
    let mut style = String::new();
    for i in 0..sheets.length() {
        let Some(rules) = sheets.item(i).and_then(|s| s.dyn_into::<web_sys::CssStyleSheet>().ok()).and_then(|s| s.css_rules().ok()) else { continue };
        for r in 0..rules.length() {
            if let Some(rule) = rules.item(r) {
                style.push_str(&rule.css_text());
                style.push('\n');
            }
        }
    }
    style
}

/// The cluster picture as it is drawn now, as a standalone SVG file with the page's styles and
/// a caption naming the run, the step and the time.
fn cluster_svg(dark: bool, caption: &str) -> Option<String> {
    let svg = gloo::utils::document().query_selector("svg.cluster").ok().flatten()?;
    let body = picture_markup(&svg)?;
    let (width, height) = svg.get_attribute("viewBox").and_then(|v| {
        let n: Vec<f64> = v.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        (n.len() == 4).then(|| (n[2], n[3]))
    })?;
    let caption = caption.replace('&', "&amp;").replace('<', "&lt;");
    // The page draws the picture at its container's width; the file gives it its own size.
    let inner = body.replacen(" width=\"100%\"", "", 1).replacen("<svg ", &format!("<svg y=\"28\" width=\"{width}\" height=\"{height}\" "), 1);
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" data-theme=\"{theme}\" width=\"{width}\" height=\"{h}\" viewBox=\"0 0 {width} {h}\"><style>{style}</style><rect width=\"100%\" height=\"100%\" fill=\"var(--bg)\"/><text x=\"8\" y=\"20\" fill=\"var(--ink)\" font-family=\"sans-serif\" font-size=\"14\">{caption}</text>{inner}</svg>",
        theme = if dark { "dark" } else { "light" },
        style = page_style(),
        h = height + 28.0,
    ))
}

/// The picture's markup, each group of canvases in it (a large cluster's replica rows, labels
/// beside logs) replaced by one image of what they show: a canvas's markup does not carry its
/// pixels.
fn picture_markup(svg: &web_sys::Element) -> Option<String> {
    let holders = svg.query_selector_all("foreignObject").ok()?;
    if holders.length() == 0 {
        return Some(svg.outer_html());
    }
    let document = gloo::utils::document();
    let copy: web_sys::Element = svg.clone_node_with_deep(true).ok()?.dyn_into().ok()?;
    let copies = copy.query_selector_all("foreignObject").ok()?;
    for i in 0..holders.length() {
        let holder: web_sys::Element = holders.item(i)?.dyn_into().ok()?;
        let canvases = holder.query_selector_all("canvas").ok()?;
        let parts: Vec<web_sys::HtmlCanvasElement> = (0..canvases.length()).filter_map(|c| canvases.item(c)?.dyn_into().ok()).collect();
        let whole: web_sys::HtmlCanvasElement = document.create_element("canvas").ok()?.dyn_into().ok()?;
        whole.set_width(parts.iter().map(|p| p.width()).sum());
        whole.set_height(parts.iter().map(|p| p.height()).max().unwrap_or(0));
        let ctx = context_of(&whole)?;
        let mut x = 0.0;
        for part in &parts {
            ctx.draw_image_with_html_canvas_element(part, x, 0.0).ok()?;
            x += f64::from(part.width());
        }
        let image = document.create_element_ns(Some("http://www.w3.org/2000/svg"), "image").ok()?;
        for name in ["x", "y", "width", "height"] {
            image.set_attribute(name, &holder.get_attribute(name)?).ok()?;
        }
        image.set_attribute("href", &whole.to_data_url().ok()?).ok()?;
        let place: web_sys::Element = copies.item(i)?.dyn_into().ok()?;
        place.replace_with_with_node_1(&image).ok()?;
    }
    Some(copy.outer_html())
}

/// Draws the SVG on a canvas at twice its size and downloads the PNG.
fn svg_to_png(svg: &str, name: String) {
    let document = gloo::utils::document();
    let Ok(img) = document.create_element("img") else { return };
    let img: web_sys::HtmlImageElement = img.unchecked_into();
    let url = format!("data:image/svg+xml;charset=utf-8,{}", js_sys::encode_uri_component(svg));
    let loaded = img.clone();
    EventListener::once(&img, "load", move |_| {
        let Ok(canvas) = gloo::utils::document().create_element("canvas") else { return };
        let canvas: web_sys::HtmlCanvasElement = canvas.unchecked_into();
        let (w, h) = (loaded.natural_width() * 2, loaded.natural_height() * 2);
        canvas.set_width(w);
        canvas.set_height(h);
        let Some(ctx) = context_of(&canvas) else { return };
        let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(&loaded, 0.0, 0.0, w as f64, h as f64);
        if let Ok(data) = canvas.to_data_url_with_type("image/png") {
            save_url(&name, &data);
        }
    })
    .forget();
    img.set_src(&url);
}

