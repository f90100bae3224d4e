//! A large cluster's replicas, drawn on canvases rather than as SVG cells: at that scale each
//! replica's log is a bar (solid to the high watermark, faint to the log end offset) with a label,
//! one canvas per broker for the bars and one for the labels, drawn again only when they change.

use super::browser::context_of;
use super::i18n::{fill, Tr};
use crate::sim::map::VecMap;
use crate::sim::view::StateView;
use wasm_bindgen::JsCast;
use std::rc::Rc;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// A large cluster's rows (see [`draw_compact`]): a row's height, the bar's place in it, and the
/// widths of the labels and of the broker's box, which its canvases are drawn for.
pub(super) const ROW: f64 = 24.0;
const BAR_Y: f64 = 6.0;
const BAR_H: f64 = 10.0;
const C_LABEL_W: f64 = 130.0;
pub(super) const C_BROKER_W: f64 = 414.0;
const BAR_W: f64 = 200.0;

/// The topic of a partition named `topic-N`.
pub(super) fn topic_of(partition: &str) -> String {
    partition.rsplit_once('-').map_or(partition, |(topic, _)| topic).to_string()
}

/// `text` cut to `max` characters, with an ellipsis when it was longer.
pub(super) fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// One replica row of a large cluster, as the canvas draws it and its label reads it.
#[derive(Clone, PartialEq)]
pub(super) struct CompactRow {
    name: String,
    /// 0 offline, 1 leader, 2 follower (as `Tr::replica_roles`).
    role: usize,
    epoch: u32,
    in_isr: bool,
    log_start: u64,
    hw: u64,
    leo: u64,
    /// The largest log end offset of the partition's topic: the bar's full width.
    scale: u64,
}

impl CompactRow {
    pub(super) fn new(state: &StateView, (p, r): (usize, usize), scales: &VecMap<String, u64>) -> CompactRow {
        let part = &state.partitions[p];
        let rep = &part.replicas[r];
        let role = match part.leader {
            None => 0,
            Some(l) if l == rep.broker => 1,
            Some(_) => 2,
        };
        CompactRow {
            name: part.name.clone(),
            role,
            epoch: part.leader_epoch,
            in_isr: part.isr.contains(&rep.broker),
            log_start: rep.log_start_offset,
            hw: rep.high_watermark.max(rep.log_start_offset),
            leo: rep.log_end_offset,
            scale: scales.get(&topic_of(&part.name)).copied().unwrap_or(0),
        }
    }

    /// What a person hovering the row, or a screen reader, is told about it.
    pub(super) fn describe(&self, t: Tr) -> String {
        let tip = fill(t.replica_tip, &[&t.replica_roles[self.role], &self.epoch, &if self.in_isr { t.in_isr } else { t.not_in_isr }, &self.hw, &self.leo]);
        format!("{}: {tip}", self.name)
    }
}

/// The page's colours, read from its stylesheet's variables, so that the canvas follows the theme.
struct Palette {
    ink: String,
    muted: String,
    bad: String,
    line: String,
    log: String,
    uncommitted: f64,
}

impl Palette {
    /// The colours of a theme, read from the stylesheet once: reading them makes the browser
    /// compute the page's style there and then.
    fn of_theme(dark: bool) -> Option<Rc<Palette>> {
        thread_local! {
            static READ: std::cell::RefCell<Option<(bool, Rc<Palette>)>> = const { std::cell::RefCell::new(None) };
        }
        READ.with_borrow_mut(|read| {
            if let Some((_, palette)) = read.as_ref().filter(|(theme, _)| *theme == dark) {
                return Some(palette.clone());
            }
            let palette = Rc::new(Palette::read()?);
            *read = Some((dark, palette.clone()));
            Some(palette)
        })
    }

    fn read() -> Option<Palette> {
        let root = gloo::utils::document().document_element()?;
        let style = web_sys::window()?.get_computed_style(&root).ok()??;
        let var = |name: &str| style.get_property_value(name).map(|v| v.trim().to_string()).unwrap_or_default();
        Some(Palette {
            ink: var("--ink"),
            muted: var("--muted"),
            bad: var("--bad"),
            line: var("--line"),
            log: var("--e0"),
            uncommitted: var("--uncommitted").parse().unwrap_or(0.45),
        })
    }
}

/// Canvas pixels per unit of the picture: the picture's scale on the screen (it is drawn at its
/// container's width; zero until first measured) times the screen's pixel ratio, so that the rows
/// are sharp and no pixel is drawn that the screen does not show.
fn canvas_resolution(shown_scale: f64) -> f64 {
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
    if shown_scale > 0.0 { shown_scale * ratio } else { ratio }
}

/// What a compact row's label shows: it changes far less often than its numbers.
type LabelKey = (String, usize, u32, bool);

impl CompactRow {
    fn label_key(&self) -> LabelKey {
        (self.name.clone(), self.role, self.epoch, self.in_isr)
    }
}

/// Sizes `canvas` to `(width, height)` units of the picture at `scale` pixels each, clears it, and
/// readies it to draw in units, with `origin` at its left edge.
fn size_canvas(canvas: &HtmlCanvasElement, ctx: &CanvasRenderingContext2d, (width, height): (f64, f64), origin: f64, scale: f64) -> Option<()> {
    let (w, h) = ((width * scale).round() as u32, (height * scale).round() as u32);
    // Setting a canvas's size clears it, even to the size it has, so only a change touches it.
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    ctx.set_transform(scale, 0.0, 0.0, scale, -origin * scale, 0.0).ok()?;
    ctx.clear_rect(origin, 0.0, width, height);
    Some(())
}

/// The top of replica row `n` below a broker's title.
pub(super) fn row_top(n: usize) -> f64 {
    n as f64 * (ROW + 6.0)
}

/// Draws lines of text on a compact row canvas, one per row that `text` gives one for, in one
/// font and colour: setting a font costs about as much as drawing a line of text with it.
fn text_pass(ctx: &CanvasRenderingContext2d, rows: &[CompactRow], (font, color): (&str, &str), (x, max_width): (f64, f64), text: impl Fn(&CompactRow) -> Option<String>) -> Option<()> {
    ctx.set_font(font);
    ctx.set_fill_style_str(color);
    for (n, row) in rows.iter().enumerate() {
        if let Some(text) = text(row) {
            ctx.fill_text_with_max_width(&text, x, row_top(n) + ROW / 2.0 + 3.0, max_width).ok()?;
        }
    }
    Some(())
}

/// Draws the labels of a broker's compact rows (name and leadership, leader epoch, ISR) on the
/// left canvas.
fn draw_labels(canvas: &HtmlCanvasElement, rows: &[CompactRow], alpha: f64, colors: &Palette, scale: f64) -> Option<()> {
    let ctx = context_of(canvas)?;
    size_canvas(canvas, &ctx, (C_LABEL_W, row_top(rows.len())), 0.0, scale)?;
    ctx.set_global_alpha(alpha);
    let name = |row: &CompactRow| format!("{}{}", if row.role == 1 { "★ " } else { "" }, short(&row.name.replace("__consumer_offsets-", "__offsets-"), 14));
    const MONO: &str = "13px ui-monospace,SFMono-Regular,Menlo,monospace";
    // Names are squeezed to end before the epoch column, where a leader's star and bold type would
    // run on. Leaders are bold, and a partition without a leader is bold in the colour of trouble.
    let (name_x, meta_x) = ((8.0, 80.0), (94.0, C_LABEL_W - 96.0));
    text_pass(&ctx, rows, (&format!("400 {MONO}"), &colors.ink), name_x, |r| (r.role == 2).then(|| name(r)))?;
    text_pass(&ctx, rows, (&format!("800 {MONO}"), &colors.ink), name_x, |r| (r.role == 1).then(|| name(r)))?;
    text_pass(&ctx, rows, (&format!("800 {MONO}"), &colors.bad), name_x, |r| (r.role == 0).then(|| name(r)))?;
    text_pass(&ctx, rows, ("400 12px system-ui, sans-serif", &colors.muted), meta_x, |r| r.in_isr.then(|| format!("e{}", r.epoch)))?;
    text_pass(&ctx, rows, ("700 12px system-ui, sans-serif", &colors.bad), meta_x, |r| (!r.in_isr).then(|| format!("e{} ∉ISR", r.epoch)))
}

/// Draws the logs of a broker's compact rows on the right canvas: each as a bar (faint from the
/// log start to the LEO, solid to the HW, on one scale per topic), then `HW/LEO`.
fn draw_bars(canvas: &HtmlCanvasElement, rows: &[CompactRow], alpha: f64, colors: &Palette, scale: f64) -> Option<()> {
    let ctx = context_of(canvas)?;
    size_canvas(canvas, &ctx, (C_BROKER_W - C_LABEL_W, row_top(rows.len())), C_LABEL_W, scale)?;
    for (n, row) in rows.iter().enumerate() {
        let unit = BAR_W / row.scale.max(1) as f64;
        let at = |offset: u64| C_LABEL_W + offset.min(row.scale) as f64 * unit;
        let bar_y = row_top(n) + BAR_Y;
        ctx.set_global_alpha(alpha);
        ctx.set_fill_style_str(&colors.line);
        ctx.fill_rect(C_LABEL_W, bar_y, BAR_W, BAR_H);
        ctx.set_fill_style_str(&colors.log);
        ctx.set_global_alpha(alpha * colors.uncommitted);
        ctx.fill_rect(at(row.log_start), bar_y, at(row.leo) - at(row.log_start), BAR_H);
        ctx.set_global_alpha(alpha);
        ctx.set_fill_style_str(if row.in_isr { &colors.log } else { &colors.bad });
        ctx.fill_rect(at(row.log_start), bar_y, at(row.hw) - at(row.log_start), BAR_H);
    }
    text_pass(&ctx, rows, ("12px system-ui, sans-serif", &colors.muted), (C_LABEL_W + BAR_W + 6.0, C_BROKER_W - C_LABEL_W - BAR_W - 8.0), |r| Some(format!("{}/{}", r.hw, r.leo)))
}

/// The labels and bars canvases inside `holder`, made on first use. Yew would make a `<canvas>`
/// written in the picture an SVG element (everything inside `<svg>` gets its namespace), which
/// draws nothing, so they are HTML elements made here; Yew leaves children it did not make alone.
/// Also says whether it made them.
fn canvases_in(holder: &web_sys::Element) -> Option<(HtmlCanvasElement, HtmlCanvasElement, bool)> {
    let make = holder.child_element_count() == 0;
    if make {
        for (class, width) in [("labels", C_LABEL_W), ("bars", C_BROKER_W - C_LABEL_W)] {
            let canvas = gloo::utils::document().create_element("canvas").ok()?;
            canvas.set_class_name(class);
            canvas.set_attribute("style", &format!("width: {}%", width / C_BROKER_W * 100.0)).ok()?;
            holder.append_child(&canvas).ok()?;
        }
    }
    Some((holder.first_element_child()?.dyn_into().ok()?, holder.last_element_child()?.dyn_into().ok()?, make))
}

/// What the labels canvas of a broker shows, to draw it again only when that changes.
pub(super) type DrawnLabels = Option<(Vec<LabelKey>, bool, bool, u32)>;

/// Draws a broker's replica rows of a large cluster: labels on one canvas, logs on another. Two
/// canvases per broker instead of about ten SVG elements per row: a seek of a large run changes
/// every row, and the browser lays out and paints a canvas far faster than hundreds of elements.
/// The labels change far less often than the logs, so their canvas is drawn only when they do.
pub(super) fn draw_compact(holder: &web_sys::Element, rows: &[CompactRow], (up, dark, shown_scale): (bool, bool, f64), drawn: &mut DrawnLabels) -> Option<()> {
    let (labels, bars, made) = canvases_in(holder)?;
    if made {
        *drawn = None;
    }
    let colors = Palette::of_theme(dark)?;
    let scale = canvas_resolution(shown_scale);
    // A crashed broker's rows are faded, as its cells are in the full picture.
    let alpha = if up { 1.0 } else { 0.55 };
    let shows = Some((rows.iter().map(CompactRow::label_key).collect(), up, dark, (scale * 1000.0).round() as u32));
    if *drawn != shows {
        draw_labels(&labels, rows, alpha, &colors, scale)?;
        *drawn = shows;
    }
    draw_bars(&bars, rows, alpha, &colors, scale)
}

