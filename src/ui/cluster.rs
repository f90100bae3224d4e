//! The cluster picture: producers left, the controller and brokers in the middle (each replica
//! a log strip with HW and LEO marks), consumer groups right, and messages moving between them.

use super::browser::context_of;
use super::frame::{is_compact, Frame, MAX_CELLS};
use super::i18n::{fill, use_tr, Tr};
use crate::sim::map::VecMap;
use crate::sim::view::StateView;
use crate::sim::NodeId;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

const CELL: f64 = 20.0;

/// The width of a compact log bar; its numbers are drawn after it.
const BAR_W: f64 = CELL * MAX_CELLS as f64 - 40.0;
const ROW: f64 = 24.0;
/// A compact bar's place inside its row.
const BAR_Y: f64 = 6.0;
const BAR_H: f64 = 10.0;
const HEAD: f64 = 30.0;
const PRODUCER_X: f64 = 10.0;
const PRODUCER_W: f64 = 150.0;
const BROKER_X: f64 = 200.0;
const LABEL_W: f64 = 130.0;
const BROKER_W: f64 = LABEL_W + CELL * (MAX_CELLS as f64 + 1.0) + 24.0;
const LANE: f64 = 26.0;
const CONSUMER_X: f64 = BROKER_X + BROKER_W + 70.0;
const CONSUMER_W: f64 = 280.0;

#[derive(Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// State names (`running`, `preparing_join`…) read better with spaces in the picture.
fn label(name: &str) -> String {
    name.replace('_', " ")
}

/// The topic of a partition named `topic-N`.
fn topic_of(partition: &str) -> String {
    partition.rsplit_once('-').map_or(partition, |(topic, _)| topic).to_string()
}

/// A coordinate in whole pixels: integers format much faster than floats in wasm, and a large
/// picture formats thousands of them on every step.
fn px(v: f64) -> String {
    (v.round() as i64).to_string()
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Properties of [`Cluster`].
#[derive(Properties)]
pub struct ClusterProps {
    /// What to draw.
    pub frame: Rc<Frame>,
    /// The node whose action menu is open.
    pub selected: Option<NodeId>,
    /// The dark theme: the canvas of a large cluster's rows takes its colours when drawn.
    pub dark: bool,
    /// Clicking a node.
    pub on_select: Callback<NodeId>,
}

impl PartialEq for ClusterProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.frame.state, &other.frame.state) && self.selected == other.selected && self.dark == other.dark
    }
}

fn node_key(node: NodeId) -> String {
    match node {
        NodeId::Controller => "controller".into(),
        NodeId::Broker(b) => format!("broker-{b}"),
        NodeId::Producer(p) => format!("producer-{p}"),
        NodeId::Consumer(c) => format!("consumer-{c}"),
    }
}

/// Where a replica row is: the partition and replica (indexes into the state) and the row's
/// origin. The row's own elements are placed relative to the origin, so when rows shift (a
/// partition appears above them) only what each row shows is written again, not its coordinates.
struct RowAt {
    partition: usize,
    replica: usize,
    x: f64,
    y: f64,
}

/// One replica of the full picture: its partition's name and leadership, then its log as cells
/// (a large cluster's rows are canvases, see [`draw_compact`]). A plain function rather than a
/// component, and rows are not keyed: on a seek every row changes, and a component per row, or
/// Yew's keyed diff of them, cost more than they save.
fn replica_row(t: Tr, state: &StateView, props: &RowAt) -> Html {
    let part = &state.partitions[props.partition];
    let r = &part.replicas[props.replica];
    let (name, leader, epoch) = (part.name.as_str(), part.leader, part.leader_epoch);
    let in_isr = part.isr.contains(&r.broker);
    let is_leader = leader == Some(r.broker);
    // `role` is the class and the tests' handle; `role_word` is what people read.
    let role_index = if leader.is_none() { 0 } else if is_leader { 1 } else { 2 };
    let role = ["offline", "leader", "follower"][role_index];
    let role_word = t.replica_roles[role_index];
    let tip = fill(t.replica_tip, &[&role_word, &epoch, &if in_isr { t.in_isr } else { t.not_in_isr }, &r.high_watermark, &r.log_end_offset]);
    let text_y = px(ROW / 2.0 + 3.0);
    let label = html! {
        <>
            <text x="8" y={text_y.clone()} class="replica-label">
                {if is_leader { "★ " } else { "" }}{short(&name.replace("__consumer_offsets-", "__offsets-"), 14)}
                <title>{name.to_string()}</title>
            </text>
            <text x="94" y={text_y.clone()} class="replica-meta">
                {format!("e{epoch}{}", if in_isr { "" } else { " ∉ISR" })}
                <title>{tip}</title>
            </text>
        </>
    };
    let class = classes!("replica", role, (!in_isr).then_some("out-of-isr"));
    let transform = format!("translate({} {})", px(props.x), px(props.y));
    // The view may hold only the newest records; what lies before them is counted by offsets.
    let shown = &r.log[r.log.len().saturating_sub(MAX_CELLS)..];
    let base_offset = shown.first().map_or(r.log_end_offset, |e| e.offset);
    let older = base_offset.saturating_sub(r.log_start_offset);
    let hidden = older > 0;
    let cells_x = LABEL_W + if hidden { CELL } else { 0.0 };
    let mark_x = |offset: u64| cells_x + (offset.saturating_sub(base_offset)) as f64 * CELL;
    let cells = shown.iter().map(|e| {
        let cx = mark_x(e.offset);
        let committed = e.offset < r.high_watermark;
        let class = classes!("cell", format!("epoch-{}", e.epoch % 6), (!committed).then_some("uncommitted"));
        let key = e.key.as_ref().map_or(String::new(), |k| fill(t.cell_key, &[k]));
        let tip = fill(t.cell_tip, &[&e.offset, &e.epoch, &key, &e.value]);
        html! {
            <g class={class} data-offset={e.offset.to_string()}>
                <rect x={px(cx)} y="2" width={px(CELL - 2.0)} height={px(ROW - 6.0)} rx="3" />
                <text x={px(cx + CELL / 2.0 - 1.0)} y={text_y.clone()} class="cell-text">{short(&e.value, 3)}</text>
                <title>{tip}</title>
            </g>
        }
    });
    let hw_x = px(mark_x(r.high_watermark.max(base_offset)) - 1.0);
    let leo_x = px(mark_x(r.log_end_offset) - 1.0);
    html! {
        <g {class} {transform} data-partition={name.to_string()} data-role={role}
           data-hw={r.high_watermark.to_string()} data-leo={r.log_end_offset.to_string()} data-isr={in_isr.to_string()}>
            {label}
            if hidden {
                <g class="cell collapsed">
                    <rect x={px(LABEL_W)} y="2" width={px(CELL - 2.0)} height={px(ROW - 6.0)} rx="3" />
                    <text x={px(LABEL_W + CELL / 2.0 - 1.0)} y={text_y.clone()} class="cell-text">{"…"}</text>
                    <title>{fill(t.older_records, &[&older, &r.log_start_offset, &base_offset.saturating_sub(1)])}</title>
                </g>
            }
            <line class="hw" x1={hw_x.clone()} x2={hw_x.clone()} y1="0" y2={px(ROW - 2.0)}>
                <title>{fill(t.hw_tip, &[&r.high_watermark])}</title>
            </line>
            <text class="hw-label" x={px(mark_x(r.high_watermark.max(base_offset)) - 4.0)} y={px(ROW + 5.0)}>{"HW"}</text>
            <line class="leo" x1={leo_x.clone()} x2={leo_x} y1="0" y2={px(ROW - 2.0)}>
                <title>{fill(t.leo_tip, &[&r.log_end_offset])}</title>
            </line>
            { for cells }
        </g>
    }
}

/// The groups whose coordinator is `broker`.
fn coordinated_groups(state: &StateView, broker: u32) -> impl Iterator<Item = &str> {
    state.groups.iter().filter(move |g| g.coordinator == Some(broker)).map(|g| g.name.as_str())
}

/// Properties of [`BrokerBox`].
#[derive(Properties)]
struct BrokerProps {
    state: Rc<StateView>,
    id: u32,
    up: bool,
    selected: bool,
    dark: bool,
    /// CSS pixels per unit of the picture on screen (zero until measured): a change draws the
    /// canvases again at the new size.
    shown_scale: f64,
    rect: Rect,
    /// The replicas it holds: (partition, replica) indexes into `state`.
    rows: Vec<(usize, usize)>,
    /// Compact mode's scale per topic.
    scales: Option<Rc<VecMap<String, u64>>>,
    on_select: Callback<NodeId>,
}

impl PartialEq for BrokerProps {
    /// Equal when this broker's part of the picture is: a step changes one or two brokers, so the
    /// others keep their elements without being drawn again. (The click callback is left out: it
    /// only names the broker.)
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.up == other.up
            && self.selected == other.selected
            && self.dark == other.dark
            && self.shown_scale == other.shown_scale
            && self.rect == other.rect
            && self.rows == other.rows
            && self.scales == other.scales
            && (Rc::ptr_eq(&self.state, &other.state)
                || (coordinated_groups(&self.state, self.id).eq(coordinated_groups(&other.state, self.id))
                    && self.rows.iter().all(|&(p, r)| {
                        let (a, b) = (&self.state.partitions[p], &other.state.partitions[p]);
                        a.name == b.name && a.leader == b.leader && a.leader_epoch == b.leader_epoch && a.isr == b.isr && a.replicas[r] == b.replicas[r]
                    })))
    }
}

/// One replica row of a large cluster, as the canvas draws it and its label reads it.
#[derive(Clone, PartialEq)]
struct CompactRow {
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
    fn new(state: &StateView, (p, r): (usize, usize), scales: &VecMap<String, u64>) -> CompactRow {
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
    fn describe(&self, t: Tr) -> String {
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
fn row_top(n: usize) -> f64 {
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
    size_canvas(canvas, &ctx, (LABEL_W, row_top(rows.len())), 0.0, scale)?;
    ctx.set_global_alpha(alpha);
    let name = |row: &CompactRow| format!("{}{}", if row.role == 1 { "★ " } else { "" }, short(&row.name.replace("__consumer_offsets-", "__offsets-"), 14));
    const MONO: &str = "11.5px ui-monospace, SFMono-Regular, Menlo, monospace";
    // Names are squeezed to end before the epoch column, where a leader's star and bold type would
    // run on. Leaders are bold, and a partition without a leader is bold in the colour of trouble.
    let (name_x, meta_x) = ((8.0, 80.0), (94.0, LABEL_W - 96.0));
    text_pass(&ctx, rows, (&format!("400 {MONO}"), &colors.ink), name_x, |r| (r.role == 2).then(|| name(r)))?;
    text_pass(&ctx, rows, (&format!("800 {MONO}"), &colors.ink), name_x, |r| (r.role == 1).then(|| name(r)))?;
    text_pass(&ctx, rows, (&format!("800 {MONO}"), &colors.bad), name_x, |r| (r.role == 0).then(|| name(r)))?;
    text_pass(&ctx, rows, ("400 11px system-ui, sans-serif", &colors.muted), meta_x, |r| r.in_isr.then(|| format!("e{}", r.epoch)))?;
    text_pass(&ctx, rows, ("700 11px system-ui, sans-serif", &colors.bad), meta_x, |r| (!r.in_isr).then(|| format!("e{} ∉ISR", r.epoch)))
}

/// Draws the logs of a broker's compact rows on the right canvas: each as a bar (faint from the
/// log start to the LEO, solid to the HW, on one scale per topic), then `HW/LEO`.
fn draw_bars(canvas: &HtmlCanvasElement, rows: &[CompactRow], alpha: f64, colors: &Palette, scale: f64) -> Option<()> {
    let ctx = context_of(canvas)?;
    size_canvas(canvas, &ctx, (BROKER_W - LABEL_W, row_top(rows.len())), LABEL_W, scale)?;
    for (n, row) in rows.iter().enumerate() {
        let unit = BAR_W / row.scale.max(1) as f64;
        let at = |offset: u64| LABEL_W + offset.min(row.scale) as f64 * unit;
        let bar_y = row_top(n) + BAR_Y;
        ctx.set_global_alpha(alpha);
        ctx.set_fill_style_str(&colors.line);
        ctx.fill_rect(LABEL_W, bar_y, BAR_W, BAR_H);
        ctx.set_fill_style_str(&colors.log);
        ctx.set_global_alpha(alpha * colors.uncommitted);
        ctx.fill_rect(at(row.log_start), bar_y, at(row.leo) - at(row.log_start), BAR_H);
        ctx.set_global_alpha(alpha);
        ctx.set_fill_style_str(if row.in_isr { &colors.log } else { &colors.bad });
        ctx.fill_rect(at(row.log_start), bar_y, at(row.hw) - at(row.log_start), BAR_H);
    }
    text_pass(&ctx, rows, ("10.5px system-ui, sans-serif", &colors.muted), (LABEL_W + BAR_W + 6.0, BROKER_W - LABEL_W - BAR_W - 8.0), |r| Some(format!("{}/{}", r.hw, r.leo)))
}

/// The labels and bars canvases inside `holder`, made on first use. Yew would make a `<canvas>`
/// written in the picture an SVG element (everything inside `<svg>` gets its namespace), which
/// draws nothing, so they are HTML elements made here; Yew leaves children it did not make alone.
/// Also says whether it made them.
fn canvases_in(holder: &web_sys::Element) -> Option<(HtmlCanvasElement, HtmlCanvasElement, bool)> {
    let make = holder.child_element_count() == 0;
    if make {
        for (class, width) in [("labels", LABEL_W), ("bars", BROKER_W - LABEL_W)] {
            let canvas = gloo::utils::document().create_element("canvas").ok()?;
            canvas.set_class_name(class);
            canvas.set_attribute("style", &format!("width: {}%", width / BROKER_W * 100.0)).ok()?;
            holder.append_child(&canvas).ok()?;
        }
    }
    Some((holder.first_element_child()?.dyn_into().ok()?, holder.last_element_child()?.dyn_into().ok()?, make))
}

/// What the labels canvas of a broker shows, to draw it again only when that changes.
type DrawnLabels = Option<(Vec<LabelKey>, bool, bool, u32)>;

/// Draws a broker's replica rows of a large cluster: labels on one canvas, logs on another. Two
/// canvases per broker instead of about ten SVG elements per row: a seek of a large run changes
/// every row, and the browser lays out and paints a canvas far faster than hundreds of elements.
/// The labels change far less often than the logs, so their canvas is drawn only when they do.
fn draw_compact(holder: &web_sys::Element, rows: &[CompactRow], (up, dark, shown_scale): (bool, bool, f64), drawn: &mut DrawnLabels) -> Option<()> {
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

/// One broker: its box, its title and a row per replica it holds.
#[function_component]
fn BrokerBox(props: &BrokerProps) -> Html {
    let t = use_tr();
    let (id, up, rect, dark, shown_scale) = (props.id, props.up, props.rect, props.dark, props.shown_scale);
    let state = &props.state;
    let coordinates: Vec<&str> = coordinated_groups(state, id).collect();
    let compact: Option<Rc<Vec<CompactRow>>> = props.scales.as_ref().map(|scales| Rc::new(props.rows.iter().map(|&at| CompactRow::new(state, at, scales)).collect()));
    let holder = use_node_ref();
    let drawn = use_mut_ref(|| None);
    {
        // The component renders only when its part of the picture changed, so the canvases are
        // drawn after every render.
        let (holder, compact) = (holder.clone(), compact.clone());
        use_effect(move || {
            if let (Some(el), Some(rows)) = (holder.cast::<web_sys::Element>(), compact) {
                draw_compact(&el, &rows, (up, dark, shown_scale), &mut drawn.borrow_mut());
            }
        });
    }
    let node = NodeId::Broker(id);
    let onclick = props.on_select.reform(move |_: MouseEvent| node);
    let rows_y = rect.y + HEAD;
    let body = match compact {
        Some(rows) => {
            let height = row_top(rows.len());
            let label = rows.iter().map(|r| r.describe(t)).collect::<Vec<_>>().join("; ");
            // Hovering a row names it, as the cells' tooltips do in the full picture.
            let onmousemove = Callback::from(move |e: MouseEvent| {
                let Some(el) = e.target().and_then(|t| t.dyn_into::<HtmlCanvasElement>().ok()) else { return };
                let units_per_px = height / f64::from(el.client_height().max(1));
                let row = (f64::from(e.offset_y()) * units_per_px / (ROW + 6.0)) as usize;
                let tip = rows.get(row).map(|r| r.describe(t)).unwrap_or_default();
                if el.title() != tip {
                    el.set_title(&tip);
                }
            });
            html! {
                <foreignObject ref={holder} class="compact-rows" x={px(rect.x)} y={px(rows_y)} width={px(BROKER_W)} height={px(height)}
                               data-rows={props.rows.len().to_string()} role="img" aria-label={label} {onmousemove} />
            }
        }
        None => {
            let replicas = props.rows.iter().enumerate().map(|(n, &(p, r))| replica_row(t, state, &RowAt { partition: p, replica: r, x: rect.x, y: rows_y + row_top(n) }));
            html! { <>{ for replicas }</> }
        }
    };
    html! {
        <g class={classes!("node", "broker", (!up).then_some("down"), props.selected.then_some("selected"))}
           data-node={format!("broker-{id}")} data-up={up.to_string()} {onclick} role="button" tabindex="0"
           aria-label={fill(t.broker_aria, &[&format!("broker-{id}"), &if up { t.broker_up } else { t.broker_crashed }])}>
            <rect class="box" x={px(rect.x)} y={px(rect.y)} width={px(rect.w)} height={px(rect.h)} rx="8" />
            <text class="node-title" x={px(rect.x + 10.0)} y={px(rect.y + 19.0)}>
                {format!("broker-{id}")}
                if !up { <tspan class="down-label">{t.isolate(t.crashed_label)}</tspan> }
                if !coordinates.is_empty() { <tspan class="coord-label">{t.isolate(fill(t.coordinator_of, &[&coordinates.join(", ")]))}</tspan> }
            </text>
            { body }
        </g>
    }
}

/// The width in CSS pixels at which `element` is shown, followed as it changes (the window is
/// resized, presenter mode or the side panel changes the layout): a large cluster's canvases are
/// drawn again at the new size, so their rows stay sharp on a projector.
#[hook]
fn use_shown_width(element: &NodeRef) -> u32 {
    let width = use_state_eq(|| 0u32);
    {
        let (element, width) = (element.clone(), width.setter());
        use_effect_with((), move |_| {
            let on_resize = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
                if let Ok(entry) = entries.get(0).dyn_into::<web_sys::ResizeObserverEntry>() {
                    width.set(entry.content_rect().width().round() as u32);
                }
            });
            let observer = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
            if let (Some(observer), Some(el)) = (&observer, element.cast::<web_sys::Element>()) {
                observer.observe(&el);
            }
            move || {
                if let Some(observer) = observer {
                    observer.disconnect();
                }
                drop(on_resize);
            }
        });
    }
    *width
}

/// The cluster picture.
#[function_component]
pub fn Cluster(props: &ClusterProps) -> Html {
    let f = &props.frame;
    let t = use_tr();
    let picture = use_node_ref();
    // Without consumers the right column is left out, so the brokers get the room.
    let width = if f.state.consumers.is_empty() { CONSUMER_X - 40.0 } else { CONSUMER_X + CONSUMER_W + 10.0 };
    let shown_scale = f64::from(use_shown_width(&picture)) / width;
    let mut rects: VecMap<NodeId, Rect> = VecMap::new();

    // Brokers and their replica rows.
    let mut rows: Vec<Vec<(usize, usize)>> = vec![Vec::new(); f.brokers_up.len()];
    for (p, part) in f.state.partitions.iter().enumerate() {
        for (r, rep) in part.replicas.iter().enumerate() {
            if let Some(list) = rows.get_mut(rep.broker as usize - 1) {
                list.push((p, r));
            }
        }
    }
    let compact = is_compact(rows.iter().map(Vec::len).sum());
    // In compact mode a topic's bars share one scale, so a follower that lags shows a shorter bar.
    let mut topic_scale: VecMap<String, u64> = VecMap::new();
    if compact {
        for part in &f.state.partitions {
            let leo = part.replicas.iter().map(|r| r.log_end_offset).max().unwrap_or(0);
            let max = topic_scale.entry(topic_of(&part.name)).or_default();
            *max = (*max).max(leo);
        }
    }
    let controller = Rect { x: BROKER_X, y: 10.0, w: BROKER_W, h: 30.0 };
    rects.insert(NodeId::Controller, controller);
    let scales = compact.then(|| Rc::new(topic_scale));
    let mut y = 60.0;
    let mut brokers = Vec::new();
    for (i, list) in rows.into_iter().enumerate() {
        let id = i as u32 + 1;
        let h = HEAD + row_top(list.len()) + 6.0;
        let rect = Rect { x: BROKER_X, y, w: BROKER_W, h };
        rects.insert(NodeId::Broker(id), rect);
        brokers.push(html! {
            <BrokerBox state={f.state.clone()} {id} up={f.brokers_up[i]} selected={props.selected == Some(NodeId::Broker(id))} dark={props.dark} {shown_scale}
                       {rect} rows={list} scales={scales.clone()} on_select={props.on_select.clone()} />
        });
        y += h + 16.0;
    }
    let brokers_bottom = y;

    // Producers.
    let producers = f.state.producers.iter().enumerate().map(|(i, p)| {
        let rect = Rect { x: PRODUCER_X, y: 60.0 + i as f64 * 86.0, w: PRODUCER_W, h: 70.0 };
        let node = NodeId::Producer(i as u32);
        rects.insert(node, rect);
        let errors: u32 = p.errors_seen.values().sum();
        let onclick = props.on_select.reform(move |_: MouseEvent| node);
        html! {
            <g class={classes!("node", "producer", (props.selected == Some(node)).then_some("selected"))} data-node={p.name.clone()} {onclick} role="button" tabindex="0">
                <rect class="box" x={rect.x.to_string()} y={rect.y.to_string()} width={rect.w.to_string()} height={rect.h.to_string()} rx="8" />
                <text class="node-title" x={(rect.x + 10.0).to_string()} y={(rect.y + 19.0).to_string()}>{short(&p.name, 18)}</text>
                <text class="node-meta" x={(rect.x + 10.0).to_string()} y={(rect.y + 38.0).to_string()}>
                    {t.isolate(fill(t.producer_config, &[&p.config.acks.name(), &if p.config.enable_idempotence { t.yes } else { t.no }]))}
                </text>
                <text class="node-meta" x={(rect.x + 10.0).to_string()} y={(rect.y + 56.0).to_string()}>
                    {t.isolate(fill(t.producer_status, &[&p.pending, &errors]))}
                </text>
            </g>
        }
    });
    let producers: Vec<Html> = producers.collect();

    // Consumer groups.
    let mut gy = 60.0;
    let mut groups = Vec::new();
    for g in &f.state.groups {
        let members: Vec<(usize, &crate::sim::view::ConsumerView)> = f.state.consumers.iter().enumerate().filter(|(_, c)| c.group == g.name).collect();
        let h = 52.0 + members.len() as f64 * 58.0;
        let committed: Vec<String> = g.committed.iter().map(|(p, o)| format!("{p}={o}")).collect();
        let rows = members.iter().enumerate().map(|(n, (i, c))| {
            let rect = Rect { x: CONSUMER_X + 8.0, y: gy + 46.0 + n as f64 * 58.0, w: CONSUMER_W - 16.0, h: 52.0 };
            let node = NodeId::Consumer(*i as u32);
            rects.insert(node, rect);
            let positions: Vec<String> = c.assignment.iter().map(|p| format!("{p}@{}", c.positions.get(p).map_or("?".to_string(), |o| o.to_string()))).collect();
            let onclick = props.on_select.reform(move |_: MouseEvent| node);
            let alive = label(c.state.name());
            html! {
                <g class={classes!("node", "consumer", format!("state-{}", alive.replace(' ', "-")), (props.selected == Some(node)).then_some("selected"))}
                   data-node={c.name.clone()} data-state={alive.clone()} {onclick} role="button" tabindex="0">
                    <rect class="box" x={rect.x.to_string()} y={rect.y.to_string()} width={rect.w.to_string()} height={rect.h.to_string()} rx="6" />
                    <text class="node-title" x={(rect.x + 8.0).to_string()} y={(rect.y + 16.0).to_string()}>
                        {short(&c.name, 14)}<tspan class="node-meta">{format!("  {alive} · {} · {}", label(c.member_state.name()), label(c.app_state.name()))}</tspan>
                    </text>
                    <text class="node-meta" x={(rect.x + 8.0).to_string()} y={(rect.y + 32.0).to_string()}>
                        {t.isolate(if positions.is_empty() { t.no_partitions.to_string() } else { short(&fill(t.positions, &[&positions.join(" ")]), 44) })}
                        <title>{fill(t.positions_tip, &[&positions.join(", ")])}</title>
                    </text>
                    <text class="node-meta" x={(rect.x + 8.0).to_string()} y={(rect.y + 46.0).to_string()}>
                        {t.isolate(fill(t.consumer_status, &[&c.generation, &c.buffered, &c.unprocessed]))}
                    </text>
                </g>
            }
        });
        let rows: Vec<Html> = rows.collect();
        groups.push(html! {
            <g class="group" data-group={g.name.clone()} data-generation={g.generation.to_string()}>
                <rect class="group-box" x={CONSUMER_X.to_string()} y={gy.to_string()} width={CONSUMER_W.to_string()} height={h.to_string()} rx="10" />
                <text class="node-title" x={(CONSUMER_X + 10.0).to_string()} y={(gy + 18.0).to_string()}>
                    {t.isolate(fill(t.group_title, &[&short(&g.name, 16)]))}
                    <tspan class="node-meta">{t.isolate(fill(t.group_meta, &[&g.generation, &g.state.map_or(t.unloaded, |s| s.name()), &g.protocol]))}</tspan>
                </text>
                <text class="node-meta" x={(CONSUMER_X + 10.0).to_string()} y={(gy + 36.0).to_string()}>
                    {t.isolate(short(&fill(t.group_line, &[&g.coordinator.map_or(t.none.to_string(), |b| format!("broker-{b}")), &if committed.is_empty() { t.none.to_string() } else { committed.join(" ") }]), 48))}
                    <title>{fill(t.committed_tip, &[&committed.join(", ")])}</title>
                </text>
                { for rows }
            </g>
        });
        gy += h + 16.0;
    }

    let height = brokers_bottom.max(gy).max(60.0 + f.state.producers.len() as f64 * 86.0) + 10.0;
    let anchors = |a: Rect, b: Rect| -> ((f64, f64), (f64, f64)) {
        let (ya, yb) = (a.y + a.h / 2.0, b.y + b.h / 2.0);
        if (a.x - b.x).abs() < 1.0 {
            // Same column: messages run down the lane to the right of it.
            ((a.x + a.w + LANE, ya), (b.x + b.w + LANE, yb))
        } else if a.x < b.x {
            ((a.x + a.w, ya), (b.x, yb))
        } else {
            ((a.x, ya), (b.x + b.w, yb))
        }
    };
    let flights = f.flights.iter().filter_map(|m| {
        let (a, b) = (rects.get(&m.from)?, rects.get(&m.to)?);
        let ((x1, y1), (x2, y2)) = anchors(*a, *b);
        let (x, y) = (x1 + (x2 - x1) * m.progress, y1 + (y2 - y1) * m.progress);
        let kind = m.kind.to_lowercase();
        Some(html! {
            <g key={m.id.to_string()} class={classes!("msg", format!("msg-{kind}"))} style={format!("transform: translate({x:.1}px, {y:.1}px)")} data-kind={m.kind}>
                <circle r="6" />
                <text x="9" y="4" class="msg-label">{m.kind}</text>
                <title>{format!("{} → {}: {}", node_key(m.from), node_key(m.to), m.kind)}</title>
            </g>
        })
    });
    let flights: Vec<Html> = flights.collect();
    let delivered = f.delivered.and_then(|(from, to, kind)| {
        let (a, b) = (rects.get(&from)?, rects.get(&to)?);
        let ((x1, y1), (x2, y2)) = anchors(*a, *b);
        Some(html! {
            <g class="delivered" data-kind={kind}>
                <line x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} marker-end="url(#arrow)" />
                <text x={((x1 + x2) / 2.0 + 6.0).to_string()} y={((y1 + y2) / 2.0 - 6.0).to_string()} class="msg-label">{kind}</text>
            </g>
        })
    });

    let onclick_controller = props.on_select.reform(|_: MouseEvent| NodeId::Controller);
    html! {
        <>
        if compact {
            <p class="hint compact-note" data-testid="compact-note">{t.compact_note}</p>
        }
        <svg ref={picture} class="cluster" viewBox={format!("0 0 {width} {height}")} width="100%" role="img" aria-label={t.cluster_label} direction="ltr" dir="ltr">
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                </marker>
            </defs>
            <text class="column-title" x={PRODUCER_X.to_string()} y="40">{t.isolate(t.producers)}</text>
            if !f.state.consumers.is_empty() {
                <text class="column-title" x={CONSUMER_X.to_string()} y="40">{t.isolate(t.consumer_groups)}</text>
            }
            <g class={classes!("node", "controller", (props.selected == Some(NodeId::Controller)).then_some("selected"))} data-node="controller" onclick={onclick_controller} role="button" tabindex="0">
                <rect class="box" x={controller.x.to_string()} y={controller.y.to_string()} width={controller.w.to_string()} height={controller.h.to_string()} rx="8" />
                <text class="node-title" x={(controller.x + 10.0).to_string()} y={(controller.y + 20.0).to_string()}>
                    {"controller"}<tspan class="node-meta">{t.isolate(t.controller_meta)}</tspan>
                </text>
                <title>{t.controller_tip}</title>
            </g>
            // Each kind of element sits in a group of its own: Yew pairs an element's children
            // by position, counting from the end, so a list whose length changes (the delivered
            // link comes and goes) would otherwise shift every broker onto another's elements.
            <g class="brokers">{ for brokers }</g>
            <g class="producers">{ for producers }</g>
            <g class="groups">{ for groups }</g>
            <g class="delivered-link">{ for delivered }</g>
            <g class="flights">{ for flights }</g>
        </svg>
        </>
    }
}
