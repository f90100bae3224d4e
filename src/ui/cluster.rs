//! The cluster picture: producers left, the controller and brokers in the middle (each replica
//! a log strip with HW and LEO marks), consumer groups right, and messages moving between them.
//! On a narrow stage (a phone, one pane of compare mode) the same nodes stand in one column. The
//! picture is laid out for the space its stage gives it and drawn at a size where its smallest
//! text is at least [`MIN_TEXT_PX`] CSS pixels; text is placed so that no two words overlap.

use super::browser::client_rect;
use super::compact::{draw_compact, row_top, short, topic_of, CompactRow, C_BROKER_W, ROW};
use super::frame::{is_compact, Flight, Frame, FLIGHTS_NUMBERED};
use super::i18n::{fill, use_tr, Tr};
use crate::sim::map::VecMap;
use crate::sim::view::StateView;
use crate::sim::ledger::TxnFate;
use crate::sim::types::RecordKind;
use crate::sim::NodeId;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// The smallest text the page shows anywhere, in CSS pixels: readable from the back of a room.
pub const MIN_TEXT_PX: f64 = 12.0;
/// The smallest font of the picture, in its units (the stylesheet's sizes are at least this).
const MIN_FONT: f64 = 13.0;
/// The picture is never drawn smaller than this many CSS pixels per unit, so that its smallest
/// font stays at [`MIN_TEXT_PX`]; a picture too large for its stage at this size scrolls in it.
const MIN_SCALE: f64 = MIN_TEXT_PX / MIN_FONT;
/// Nor larger: a small cluster on a projector would otherwise fill the wall.
const MAX_SCALE: f64 = 2.0;

/// A record cell of the full picture, and the height of a replica row (its cells, marks and text).
const CELL: f64 = 30.0;
const PITCH: f64 = 22.0;
/// The text baseline inside a replica row.
const TEXT_Y: f64 = 15.0;
/// The name and leader epoch before a replica's cells, and the `HW n LEO n` after them.
const LABEL_W: f64 = 144.0;
const END_W: f64 = 108.0;
/// Record cells per log strip in the side-by-side columns and in the single column.
const CELLS_WIDE: usize = 6;
const CELLS_NARROW: usize = 3;
/// A broker's title above its rows, and its padding below them.
const HEAD: f64 = 26.0;
const FOOT: f64 = 6.0;
const GAP: f64 = 10.0;
const TOP: f64 = 48.0;
const PRODUCER_W: f64 = 170.0;
const PRODUCER_H: f64 = 80.0;
/// The gap between the producers' column and the brokers', where produce requests travel.
const PRODUCER_GAP: f64 = 40.0;
/// The gap between the brokers and the groups: messages between brokers (and to the controller)
/// run down a lane in it, [`LANE`] units right of the brokers.
const GROUP_GAP: f64 = 90.0;
const LANE: f64 = 22.0;
const CONSUMER_W: f64 = 250.0;
const MEMBER_H: f64 = 70.0;
const GROUP_HEAD: f64 = 46.0;
/// A message's dot, and how far apart two dots must be for their numbers not to touch.
const DOT_R: f64 = 9.0;
const DOT_SPACING: f64 = 2.0 * DOT_R + 1.0;


#[derive(Clone, Copy, PartialEq, Debug)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn right(&self) -> f64 {
        self.x + self.w
    }

    fn bottom(&self) -> f64 {
        self.y + self.h
    }

    fn mid_y(&self) -> f64 {
        self.y + self.h / 2.0
    }
}

/// State names (`running`, `preparing_join`…) read better with spaces in the picture.
fn label(name: &str) -> String {
    name.replace('_', " ")
}

/// A coordinate in whole pixels: integers format much faster than floats in wasm, and a large
/// picture formats thousands of them on every step.
fn px(v: f64) -> String {
    (v.round() as i64).to_string()
}


/// The characters of proportional text that fit in `width` units at the picture's text size
/// (13 units, about 6.9 units a character on average, as measured in Chromium's sans-serif).
fn fits(width: f64) -> usize {
    (width / 6.9).floor().max(1.0) as usize
}

/// What a record cell shows of its value: three characters fit. A longer value numbered at its
/// end shows its number (`m234` shows `234`), or its first letter and a short number (`order-12`
/// shows `o12`), which keeps the order readable; any other long value its first three characters.
/// The cell's tooltip, and the ledger, have the whole value.
fn cell_text(value: &str) -> String {
    if value.chars().count() <= 3 {
        return value.to_string();
    }
    let digits: String = value.chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
    match value.chars().next() {
        _ if digits.len() >= 3 => digits.chars().skip(digits.len() - 3).collect(),
        Some(first) if !digits.is_empty() && first.is_alphabetic() => format!("{first}{digits}"),
        _ => value.chars().take(3).collect(),
    }
}

/// The width a cell's text takes at the picture's text size, roughly (wide letters count more),
/// to squeeze the few texts that would not fit their cell rather than let them run into the next.
fn text_width(text: &str) -> f64 {
    text.chars().map(|c| if "mwMW…".contains(c) { 11.5 } else if c.is_uppercase() { 9.5 } else { 7.6 }).sum()
}

/// The `textLength` that squeezes a cell's text into its cell, when it would not fit otherwise.
fn squeeze(text: &str) -> Option<String> {
    let room = CELL - 5.0;
    (text_width(text) > room).then(|| px(room))
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
    /// Clicking a node, or Enter or Space on a focused one.
    pub on_select: Callback<NodeId>,
    /// Whether the messages in flight carry the numbers that the list beside the picture explains.
    #[prop_or(true)]
    pub numbered: bool,
}

impl PartialEq for ClusterProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.frame.state, &other.frame.state) && self.selected == other.selected && self.dark == other.dark && self.numbered == other.numbered
    }
}

/// A node's handle in the picture (`data-node`) for the messages' tooltips.
fn node_key(node: NodeId) -> String {
    match node {
        NodeId::Controller => "controller".into(),
        NodeId::Broker(b) => format!("broker-{b}"),
        NodeId::Producer(p) => format!("producer-{p}"),
        NodeId::Consumer(c) => format!("consumer-{c}"),
    }
}

/// The handlers that make a drawn node a button: a click anywhere on it, or Enter or Space while
/// its box has the focus, opens its actions. The box, not the whole node, is the button that the
/// keyboard and screen readers reach: named by the node's name, it carries none of the node's
/// other words, which a button's name would have to repeat.
fn node_handlers(on_select: &Callback<NodeId>, node: NodeId) -> (Callback<MouseEvent>, Callback<KeyboardEvent>) {
    let onclick = on_select.reform(move |_: MouseEvent| node);
    let on_select = on_select.clone();
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            on_select.emit(node);
        }
    });
    (onclick, onkeydown)
}

/// Where a replica row is: the partition and replica (indexes into the state), the row's origin,
/// and how many record cells it draws. The row's own elements are placed relative to the origin,
/// so when rows shift (a partition appears above them) only what each row shows is written again.
struct RowAt {
    partition: usize,
    replica: usize,
    x: f64,
    y: f64,
    cells: usize,
}

/// One replica of the full picture: its partition's name and leadership, its leader epoch (or
/// that it is out of the ISR), its newest records as cells with the HW and LEO marks, and the HW
/// and LEO in words after them. A plain function rather than a component, and rows are not keyed:
/// on a seek every row changes, and a component per row, or Yew's keyed diff, cost more than they save.
fn replica_row(t: Tr, state: &StateView, at: &RowAt) -> Html {
    let part = &state.partitions[at.partition];
    let r = &part.replicas[at.replica];
    let (name, leader, epoch) = (part.name.as_str(), part.leader, part.leader_epoch);
    let in_isr = part.isr.contains(&r.broker);
    let is_leader = leader == Some(r.broker);
    // `role` is the class and the tests' handle; `role_word` is what people read.
    let role_index = if leader.is_none() { 0 } else if is_leader { 1 } else { 2 };
    let role = ["offline", "leader", "follower"][role_index];
    let role_word = t.replica_roles[role_index];
    let tip = fill(t.replica_tip, &[&role_word, &epoch, &if in_isr { t.in_isr } else { t.not_in_isr }, &r.high_watermark, &r.log_end_offset]);
    let text_y = px(TEXT_Y);
    // The name ends before the epoch column in monospace type (7.8 units a character); a leader's
    // star takes two of its characters.
    let shown_name = short(&name.replace("__consumer_offsets-", "__offsets-"), if is_leader { 10 } else { 12 });
    let label = html! {
        <>
            <text x="8" y={text_y.clone()} class="replica-label">
                {if is_leader { "★ " } else { "" }}{shown_name}
                <title>{name.to_string()}</title>
            </text>
            <text x="108" y={text_y.clone()} class="replica-meta">
                {if in_isr { format!("e{epoch}") } else { "∉ISR".to_string() }}
                <title>{tip}</title>
            </text>
        </>
    };
    let class = classes!("replica", role, (!in_isr).then_some("out-of-isr"));
    let transform = format!("translate({} {})", px(at.x), px(at.y));
    // The view may hold only the newest records; what lies before them is counted by offsets.
    let shown = &r.log[r.log.len().saturating_sub(at.cells)..];
    let base_offset = shown.first().map_or(r.log_end_offset, |e| e.offset);
    let older = base_offset.saturating_sub(r.log_start_offset);
    let hidden = older > 0;
    let cells_x = LABEL_W + if hidden { CELL } else { 0.0 };
    let mark_x = |offset: u64| cells_x + (offset.saturating_sub(base_offset)) as f64 * CELL;
    let cell_h = px(PITCH - 3.0);
    let cells = shown.iter().map(|e| {
        let cx = mark_x(e.offset);
        let committed = e.offset < r.high_watermark;
        // A transaction marker is a cell of its own (C or A); a transaction's records are marked
        // open, committed or aborted, as their partition's leader wrote the marker.
        let marker = match e.kind {
            RecordKind::Commit => Some(("commit", "C", "COMMIT")),
            RecordKind::Abort => Some(("abort", "A", "ABORT")),
            RecordKind::Plain | RecordKind::Transactional => None,
        };
        let fate = match e.txn {
            TxnFate::None => None,
            TxnFate::Open => Some(("txn-open", t.txn_fates[0])),
            TxnFate::Committed => Some(("txn-committed", t.txn_fates[1])),
            TxnFate::Aborted => Some(("txn-aborted", t.txn_fates[2])),
        };
        let class = classes!(
            "cell",
            match marker {
                Some((kind, ..)) => vec!["marker".to_string(), kind.to_string()],
                None => vec![format!("epoch-{}", e.epoch % 6)],
            },
            fate.map(|(c, _)| c),
            (!committed).then_some("uncommitted")
        );
        let key = e.key.as_ref().map_or(String::new(), |k| fill(t.cell_key, &[k]));
        let tip = match marker {
            Some((_, _, word)) => fill(t.marker_tip, &[&e.offset, &word]),
            None => fill(t.cell_tip, &[&e.offset, &e.epoch, &key, &e.value]) + fate.map_or("", |(_, words)| words),
        };
        let shown_text = marker.map_or_else(|| cell_text(&e.value), |(_, letter, _)| letter.to_string());
        html! {
            <g class={class} data-offset={e.offset.to_string()} data-value={e.value.clone()}>
                <rect x={px(cx)} y="1" width={px(CELL - 3.0)} height={cell_h.clone()} rx="3" />
                <text x={px(cx + CELL / 2.0 - 1.5)} y={text_y.clone()} class="cell-text" textLength={squeeze(&shown_text)} lengthAdjust="spacingAndGlyphs">{shown_text}</text>
                <title>{tip}</title>
            </g>
        }
    });
    let hw_x = px(mark_x(r.high_watermark.max(base_offset)) - 1.5);
    let leo_x = px(mark_x(r.log_end_offset) - 1.5);
    let end_x = px(LABEL_W + (at.cells as f64 + 1.0) * CELL + 4.0);
    let marks = match r.last_stable_offset {
        Some(lso) => fill(t.hw_lso_leo, &[&r.high_watermark, &lso, &r.log_end_offset]),
        None => fill(t.hw_leo, &[&r.high_watermark, &r.log_end_offset]),
    };
    // "HW 6 LSO 1 LEO 6" is longer than the room after the cells: it is squeezed to fit rather
    // than run out of the broker's box (about 7.2 units a character at the marks' size).
    let marks_fit = (marks.chars().count() as f64 * 7.2 > END_W - 8.0).then(|| px(END_W - 8.0));
    html! {
        <g {class} {transform} data-partition={name.to_string()} data-role={role}
           data-hw={r.high_watermark.to_string()} data-leo={r.log_end_offset.to_string()} data-isr={in_isr.to_string()}>
            {label}
            if hidden {
                <g class="cell collapsed">
                    <rect x={px(LABEL_W)} y="1" width={px(CELL - 3.0)} height={cell_h.clone()} rx="3" />
                    <text x={px(LABEL_W + CELL / 2.0 - 1.5)} y={text_y.clone()} class="cell-text">{"…"}</text>
                    <title>{fill(t.older_records, &[&older, &r.log_start_offset, &base_offset.saturating_sub(1)])}</title>
                </g>
            }
            { for cells }
            <line class="hw" x1={hw_x.clone()} x2={hw_x} y1="-1" y2={px(PITCH - 1.0)}>
                <title>{fill(t.hw_tip, &[&r.high_watermark])}</title>
            </line>
            <line class="leo" x1={leo_x.clone()} x2={leo_x} y1="-1" y2={px(PITCH - 1.0)}>
                <title>{fill(t.leo_tip, &[&r.log_end_offset])}</title>
            </line>
            if let Some(lso) = r.last_stable_offset {
                <line class="lso" x1={px(mark_x(lso.max(base_offset)) - 1.5)} x2={px(mark_x(lso.max(base_offset)) - 1.5)} y1="-3" y2={px(PITCH + 1.0)}>
                    <title>{fill(t.lso_tip, &[&lso])}</title>
                </line>
            }
            <text x={end_x} y={text_y} class="replica-marks" textLength={marks_fit.clone()} lengthAdjust="spacingAndGlyphs">
                {marks}
                <title>{fill(t.hw_tip, &[&r.high_watermark])}{" · "}{fill(t.leo_tip, &[&r.log_end_offset])}{r.last_stable_offset.map(|lso| format!(" · {}", fill(t.lso_tip, &[&lso]))).unwrap_or_default()}</title>
            </text>
        </g>
    }
}

/// The groups whose coordinator is `broker`.
fn coordinated_groups(state: &StateView, broker: u32) -> impl Iterator<Item = &str> {
    state.groups.iter().filter(move |g| g.coordinator == Some(broker)).map(|g| g.name.as_str())
}

/// The transactional ids whose coordinator is `broker`, each with its state there
/// (`checkout-1: Ongoing`).
fn coordinated_txns(state: &StateView, broker: u32) -> impl Iterator<Item = String> + '_ {
    state
        .transactions
        .iter()
        .filter(move |t| t.coordinator == Some(broker))
        .map(|t| format!("{}: {}", t.transactional_id, t.state.map_or("?", |s| s.name())))
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
    /// Record cells per log strip.
    cells: usize,
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
            && self.cells == other.cells
            && self.rows == other.rows
            && self.scales == other.scales
            && (Rc::ptr_eq(&self.state, &other.state)
                || (coordinated_groups(&self.state, self.id).eq(coordinated_groups(&other.state, self.id))
                    && coordinated_txns(&self.state, self.id).eq(coordinated_txns(&other.state, self.id))
                    && self.rows.iter().all(|&(p, r)| {
                        let (a, b) = (&self.state.partitions[p], &other.state.partitions[p]);
                        a.name == b.name && a.leader == b.leader && a.leader_epoch == b.leader_epoch && a.isr == b.isr && a.replicas[r] == b.replicas[r]
                    })))
    }
}

/// One broker: its box, its title and a row per replica it holds.
#[function_component]
fn BrokerBox(props: &BrokerProps) -> Html {
    let t = use_tr();
    let (id, up, rect, dark, shown_scale) = (props.id, props.up, props.rect, props.dark, props.shown_scale);
    let state = &props.state;
    let coordinates: Vec<&str> = coordinated_groups(state, id).collect();
    let txns: Vec<String> = coordinated_txns(state, id).collect();
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
    let (onclick, onkeydown) = node_handlers(&props.on_select, node);
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
                <foreignObject ref={holder} class="compact-rows" x={px(rect.x)} y={px(rows_y)} width={px(C_BROKER_W)} height={px(height)}
                               data-rows={props.rows.len().to_string()} role="img" aria-label={label} {onmousemove} />
            }
        }
        None => {
            let replicas = props
                .rows
                .iter()
                .enumerate()
                .map(|(n, &(p, r))| replica_row(t, state, &RowAt { partition: p, replica: r, x: rect.x, y: rows_y + n as f64 * PITCH, cells: props.cells }));
            html! { <>{ for replicas }</> }
        }
    };
    let name = format!("broker-{id}");
    // The accessible name starts with the words the box shows, as a person who speaks to their
    // screen reader would say them.
    let state_word = if up { t.broker_up } else { t.broker_crashed };
    // What the broker coordinates, after its name: cut to the box (about 8 px a character at the
    // title's size), the whole text in the tooltip.
    let mut roles = String::new();
    if !coordinates.is_empty() {
        roles.push_str(&fill(t.coordinator_of, &[&coordinates.join(", ")]));
    }
    if !txns.is_empty() {
        roles.push_str(&fill(t.txn_coordinator_of, &[&txns.join(", ")]));
    }
    let crashed = if up { 0 } else { t.crashed_label.chars().count() };
    let budget = ((rect.w - 20.0) / 8.0) as usize - (name.chars().count() + crashed).min(((rect.w - 20.0) / 8.0) as usize);
    let fitted = if roles.chars().count() > budget { format!("{}…", roles.chars().take(budget.saturating_sub(1)).collect::<String>()) } else { roles.clone() };
    html! {
        <g class={classes!("node", "broker", (!up).then_some("down"), props.selected.then_some("selected"))}
           data-node={name.clone()} data-up={up.to_string()} {onclick}>
            <rect class="box" x={px(rect.x)} y={px(rect.y)} width={px(rect.w)} height={px(rect.h)} rx="8" {onkeydown} role="button" tabindex="0"
                  aria-label={fill(t.broker_aria, &[&name, &state_word])} aria-haspopup="dialog" aria-expanded={props.selected.to_string()} />
            <text class="node-title" x={px(rect.x + 10.0)} y={px(rect.y + 19.0)}>
                {name.clone()}
                if !up { <tspan class="down-label">{t.isolate(t.crashed_label)}</tspan> }
                if !roles.is_empty() { <tspan class="coord-label">{t.isolate(fitted)}</tspan> }
                if roles.chars().count() > budget { <title>{roles.clone()}</title> }
            </text>
            { body }
        </g>
    }
}

/// The size in CSS pixels of the box `element` is shown in, followed as it changes (the window
/// is resized, presenter mode or compare mode changes the layout): the picture is laid out for it.
#[hook]
fn use_box_size(element: &NodeRef) -> (f64, f64) {
    let size = use_state_eq(|| (0.0, 0.0));
    {
        let (element, size) = (element.clone(), size.setter());
        use_effect_with((), move |_| {
            let on_resize = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
                if let Ok(entry) = entries.get(0).dyn_into::<web_sys::ResizeObserverEntry>() {
                    let rect = entry.content_rect();
                    size.set((rect.width().floor(), rect.height().floor()));
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
    *size
}

/// How the picture stands in its stage.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Arrangement {
    /// Producers, brokers and groups side by side, left to right: a laptop or a projector.
    Columns,
    /// One above the other (the controller, the producers, the brokers, the groups): a phone, or
    /// one pane of compare mode. Every message runs down the lane right of them.
    Column,
    /// As `Columns`, with the brokers in this many columns side by side (broker `i` in column
    /// `i % n`): the overview of a cluster too large for its stage, drawn small to fit it.
    Grid(usize),
}

/// Where every node of the picture is, in one arrangement.
struct Layout {
    arrangement: Arrangement,
    /// Record cells per log strip.
    cells: usize,
    width: f64,
    height: f64,
    /// Where messages between nodes of one column travel.
    lane_x: f64,
    controller: Rect,
    brokers: Vec<Rect>,
    producers: Vec<Rect>,
    /// Each group's box, and its members' (consumer index, box).
    groups: Vec<(Rect, Vec<(usize, Rect)>)>,
    /// The left edge of the groups' column under its title, when the picture has one.
    groups_title_x: Option<f64>,
}

fn broker_width(cells: usize, compact: bool) -> f64 {
    if compact {
        C_BROKER_W
    } else {
        LABEL_W + (cells as f64 + 1.0) * CELL + END_W
    }
}

fn rows_height(rows: usize, compact: bool) -> f64 {
    if compact {
        row_top(rows)
    } else {
        rows as f64 * PITCH
    }
}

impl Layout {
    /// Places the nodes of `state`, whose brokers hold `rows` (replica rows per broker).
    fn new(state: &StateView, rows: &[Vec<(usize, usize)>], compact: bool, arrangement: Arrangement) -> Layout {
        let column = arrangement == Arrangement::Column;
        let cells = if column { CELLS_NARROW } else { CELLS_WIDE };
        let broker_w = broker_width(cells, compact);
        let has_groups = !state.groups.is_empty() || !state.consumers.is_empty();
        let broker_x = if column { 8.0 } else { 10.0 + PRODUCER_W + PRODUCER_GAP };
        let controller = Rect { x: broker_x, y: 8.0, w: broker_w, h: 30.0 };
        let mut y = TOP;
        let producers: Vec<Rect> = if column {
            let n = state.producers.len().max(1) as f64;
            let w = ((broker_w - (n - 1.0) * GAP) / n).min(PRODUCER_W);
            let list = (0..state.producers.len()).map(|i| Rect { x: broker_x + i as f64 * (w + GAP), y, w, h: PRODUCER_H }).collect();
            if !state.producers.is_empty() {
                y += PRODUCER_H + GAP;
            }
            list
        } else {
            (0..state.producers.len()).map(|i| Rect { x: 10.0, y: TOP + i as f64 * (PRODUCER_H + GAP), w: PRODUCER_W, h: PRODUCER_H }).collect()
        };
        let grid = match arrangement {
            Arrangement::Grid(n) => n.max(1),
            _ => 1,
        };
        let mut brokers = Vec::with_capacity(rows.len());
        let mut column_y = vec![y; grid];
        for (i, list) in rows.iter().enumerate() {
            let h = HEAD + rows_height(list.len(), compact) + FOOT;
            let c = i % grid;
            brokers.push(Rect { x: broker_x + c as f64 * (broker_w + LANE + GAP), y: column_y[c], w: broker_w, h });
            column_y[c] += h + GAP;
        }
        y = column_y.into_iter().fold(y, f64::max);
        let brokers_w = grid as f64 * broker_w + (grid - 1) as f64 * (LANE + GAP);
        let controller = Rect { w: brokers_w, ..controller };
        let broker_w = brokers_w;
        let lane_x = broker_x + broker_w + if column { 14.0 } else { LANE };
        let (group_x, group_w, mut gy) = if column { (broker_x, broker_w, y) } else { (broker_x + broker_w + GROUP_GAP, CONSUMER_W, TOP) };
        let mut groups = Vec::with_capacity(state.groups.len());
        for g in &state.groups {
            let members: Vec<(usize, Rect)> = state
                .consumers
                .iter()
                .enumerate()
                .filter(|(_, c)| c.group == g.name)
                .enumerate()
                .map(|(n, (i, _))| (i, Rect { x: group_x + 8.0, y: gy + GROUP_HEAD + n as f64 * (MEMBER_H + 6.0), w: group_w - 16.0, h: MEMBER_H }))
                .collect();
            let h = GROUP_HEAD + members.len() as f64 * (MEMBER_H + 6.0) + 2.0;
            groups.push((Rect { x: group_x, y: gy, w: group_w, h }, members));
            gy += h + GAP;
        }
        let width = if column || !has_groups { lane_x + DOT_R + 8.0 } else { group_x + group_w + 10.0 };
        let bottom = brokers.iter().chain(&producers).chain(groups.iter().map(|(r, _)| r)).map(Rect::bottom).fold(controller.bottom(), f64::max);
        Layout {
            arrangement,
            cells,
            width,
            height: bottom + 10.0,
            lane_x,
            controller,
            brokers,
            producers,
            groups,
            groups_title_x: (!column && has_groups).then_some(group_x),
        }
    }

    /// CSS pixels per unit at which the picture fills a stage of `size` CSS pixels.
    fn fit(&self, (w, h): (f64, f64)) -> f64 {
        (w / self.width).min(h / self.height)
    }

    /// The box of `node`, if the picture has it.
    fn rect(&self, node: NodeId) -> Option<Rect> {
        match node {
            NodeId::Controller => Some(self.controller),
            NodeId::Broker(b) => self.brokers.get((b as usize).checked_sub(1)?).copied(),
            NodeId::Producer(p) => self.producers.get(p as usize).copied(),
            NodeId::Consumer(c) => self.groups.iter().flat_map(|(_, m)| m).find(|(i, _)| *i == c as usize).map(|(_, r)| *r),
        }
    }

    /// The way a message from `a` to `b` travels, as a line of points, and the part of it along
    /// which its dot moves (between the points at those two indexes). Neighbouring columns are
    /// joined straight across their gap; nodes of one column by the lane right of it.
    fn path(&self, a: Rect, b: Rect) -> (Vec<(f64, f64)>, (usize, usize)) {
        let same_column = self.arrangement == Arrangement::Column || (a.x - b.x).abs() < 1.0 || (a.right() - b.right()).abs() < 20.0;
        if same_column {
            let x = self.lane_x;
            (vec![(a.right(), a.mid_y()), (x, a.mid_y()), (x, b.mid_y()), (b.right(), b.mid_y())], (1, 2))
        } else if a.x < b.x {
            (vec![(a.right(), a.mid_y()), (b.x, b.mid_y())], (0, 1))
        } else {
            (vec![(a.x, a.mid_y()), (b.right(), b.mid_y())], (0, 1))
        }
    }
}

/// A polyline's points as an SVG `points` attribute.
fn points(line: &[(f64, f64)]) -> String {
    line.iter().map(|(x, y)| format!("{},{}", px(*x), px(*y))).collect::<Vec<_>>().join(" ")
}

/// Where the dot of a message `progress` of the way along `segment` stands: never on a box's
/// edge, where its number would touch the box's words.
fn dot_at(from: (f64, f64), to: (f64, f64), progress: f64) -> (f64, f64) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let length = (dx * dx + dy * dy).sqrt().max(1.0);
    // Horizontal runs end at a box; the lane's vertical runs do not.
    let inset = if dx.abs() > 1.0 { ((DOT_R + 2.0) / length).min(0.5) } else { 0.0 };
    let p = inset + progress * (1.0 - 2.0 * inset);
    (from.0 + dx * p, from.1 + dy * p)
}

/// The messages in flight placed on their paths. The numbered ones (the first
/// [`FLIGHTS_NUMBERED`]) are each moved down until clear of those placed before them, so that no
/// two numbers overlap; the rest, unnumbered, stay where they are.
fn place_flights(layout: &Layout, flights: &[Flight]) -> Vec<(usize, (f64, f64))> {
    let mut placed: Vec<(usize, (f64, f64))> = Vec::with_capacity(flights.len());
    for (i, m) in flights.iter().enumerate() {
        let (Some(a), Some(b)) = (layout.rect(m.from), layout.rect(m.to)) else { continue };
        let (line, (s, e)) = layout.path(a, b);
        let (x, mut y) = dot_at(line[s], line[e], m.progress);
        if i < FLIGHTS_NUMBERED {
            while placed.iter().any(|(_, (px, py))| (px - x).abs() < DOT_SPACING && (py - y).abs() < DOT_SPACING) {
                y += DOT_SPACING;
            }
        }
        placed.push((i, (x, y)));
    }
    placed
}

/// The `data-node` of the node the question, or else the narration, names first ("broker-4"),
/// whole words only, so that broker-1 is not found in broker-10.
fn named_node(f: &Frame) -> Option<String> {
    let texts = [f.pause.as_ref().map(|p| p.question.as_str()), f.caption.as_deref()];
    texts.into_iter().flatten().find_map(|text| {
        let whole = |at: usize, len: usize| {
            let before = text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '-');
            let after = text[at + len..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != '-');
            before && after
        };
        f.node_names
            .iter()
            .filter_map(|(_, name)| text.match_indices(name.as_str()).find(|(at, m)| whole(*at, m.len())).map(|(at, _)| (at, name)))
            .min_by_key(|(at, name)| (*at, usize::MAX - name.len()))
            .map(|(_, name)| name.clone())
    })
}

/// Scrolls a picture taller than its box so that the node `name` stands in the box's middle, or,
/// when the node is taller than the box (a broker of many replicas), so that its top, with its
/// name, is at the box's top.
fn scroll_to_node(holder: &web_sys::Element, name: &str) {
    if holder.scroll_height() <= holder.client_height() {
        return;
    }
    let Ok(Some(node)) = holder.query_selector(&format!("[data-node=\"{name}\"]")) else { return };
    let (Some(area), Some(at)) = (client_rect(holder), client_rect(&node)) else { return };
    let room = (area.bottom - area.top) - (at.bottom - at.top);
    let offset = (at.top - area.top) - (room / 2.0).max(0.0);
    holder.set_scroll_top(holder.scroll_top() + offset.round() as i32);
}

/// The cluster picture, laid out for its stage and drawn at a size that fits it.
#[function_component]
pub fn Cluster(props: &ClusterProps) -> Html {
    let f = &props.frame;
    let t = use_tr();
    let holder = use_node_ref();
    let stage = use_box_size(&holder);
    // The whole picture at once, below the readable size, for a cluster too large for its stage.
    let overview = use_state_eq(|| false);
    // A picture too tall for its stage keeps the node the lesson talks about in view.
    {
        let holder = holder.clone();
        use_effect_with((named_node(f), stage), move |(focus, _)| {
            if let (Some(name), Some(el)) = (focus, holder.cast::<web_sys::Element>()) {
                scroll_to_node(&el, name);
            }
        });
    }

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
    // Side by side where that fits at a readable size (and always for a large cluster, whose
    // rows are drawn for that width), else in one column where that fits. A picture that fits in
    // neither way at a readable size fills the stage's width and scrolls down in it: the
    // arrangement chosen is the one whose width fits.
    let measured = stage.0 > 0.0 && stage.1 > 0.0;
    let columns = Layout::new(&f.state, &rows, compact, Arrangement::Columns);
    let (l, scale) = if !measured {
        (columns, 1.0)
    } else if compact || columns.fit(stage) >= MIN_SCALE {
        let fit = columns.fit(stage);
        let scale = if fit >= MIN_SCALE { fit } else { stage.0 / columns.width };
        (columns, scale.clamp(MIN_SCALE, MAX_SCALE))
    } else {
        let column = Layout::new(&f.state, &rows, compact, Arrangement::Column);
        if column.fit(stage) >= MIN_SCALE {
            let fit = column.fit(stage);
            (column, fit.min(MAX_SCALE))
        } else if stage.0 / columns.width >= MIN_SCALE {
            let scale = stage.0 / columns.width;
            (columns, scale.min(MAX_SCALE))
        } else {
            let scale = stage.0 / column.width;
            (column, scale.clamp(MIN_SCALE, MAX_SCALE))
        }
    };
    // A picture taller than its stage at the readable size scrolls in it. Its overview draws it
    // smaller, to fit, with the brokers in as many columns as fit it best, until the person asks for
    // the readable size again.
    let scrolls = measured && l.height * scale > stage.1 + 1.0;
    let (l, scale) = if *overview && scrolls {
        (1..=rows.len().max(1))
            .map(|n| Layout::new(&f.state, &rows, compact, Arrangement::Grid(n)))
            .map(|grid| {
                let fit = grid.fit(stage).min(MAX_SCALE);
                (grid, fit)
            })
            .fold(None, |best: Option<(Layout, f64)>, (grid, fit)| match best {
                Some(b) if b.1 >= fit => Some(b),
                _ => Some((grid, fit)),
            })
            .unwrap_or((l, scale))
    } else {
        (l, scale)
    };
    let toggle_overview = {
        let overview = overview.clone();
        Callback::from(move |_: MouseEvent| overview.set(!*overview))
    };
    // In compact mode a topic's bars share one scale, so a follower that lags shows a shorter bar.
    let mut topic_scale: VecMap<String, u64> = VecMap::new();
    if compact {
        for part in &f.state.partitions {
            let leo = part.replicas.iter().map(|r| r.log_end_offset).max().unwrap_or(0);
            let max = topic_scale.entry(topic_of(&part.name)).or_default();
            *max = (*max).max(leo);
        }
    }
    let scales = compact.then(|| Rc::new(topic_scale));
    let brokers: Vec<Html> = rows
        .into_iter()
        .enumerate()
        .map(|(i, list)| {
            let id = i as u32 + 1;
            html! {
                <BrokerBox state={f.state.clone()} {id} up={f.brokers_up[i]} selected={props.selected == Some(NodeId::Broker(id))} dark={props.dark}
                           shown_scale={if measured { scale } else { 0.0 }} rect={l.brokers[i]} cells={l.cells} rows={list} scales={scales.clone()} on_select={props.on_select.clone()} />
            }
        })
        .collect();

    // Producers.
    let producers = f.state.producers.iter().zip(&l.producers).enumerate().map(|(i, (p, rect))| {
        let node = NodeId::Producer(i as u32);
        let errors: u32 = p.errors_seen.values().sum();
        let (onclick, onkeydown) = node_handlers(&props.on_select, node);
        let chars = fits(rect.w - 16.0);
        let selected = props.selected == Some(node);
        html! {
            <g class={classes!("node", "producer", selected.then_some("selected"))} data-node={p.name.clone()} {onclick}>
                <rect class="box" x={px(rect.x)} y={px(rect.y)} width={px(rect.w)} height={px(rect.h)} rx="8" {onkeydown} role="button" tabindex="0"
                      aria-label={fill(t.node_aria, &[&p.name])} aria-haspopup="dialog" aria-expanded={selected.to_string()} />
                <text class="node-title" x={px(rect.x + 8.0)} y={px(rect.y + 19.0)}>{short(&p.name, chars.saturating_sub(2))}</text>
                // The card's middle lines leave room at its right edge for the badge of a message
                // leaving it (drawn there, on the card's middle).
                <text class="node-meta" x={px(rect.x + 8.0)} y={px(rect.y + 37.0)}>
                    {t.isolate(short(&match &p.transaction {
                        Some(tx) => fill(t.producer_txn, &[&tx.state, &tx.epoch]),
                        None => fill(t.producer_config, &[&p.config.acks.name(), &if p.config.enable_idempotence { t.yes } else { t.no }]),
                    }, chars.saturating_sub(2)))}
                </text>
                <text class="node-meta" x={px(rect.x + 8.0)} y={px(rect.y + 54.0)}>{t.isolate(short(&fill(t.producer_status, &[&p.pending]), chars.saturating_sub(2)))}</text>
                <text class={classes!("node-meta", (errors > 0).then_some("bad"))} x={px(rect.x + 8.0)} y={px(rect.y + 71.0)}>{t.isolate(short(&fill(t.producer_errors, &[&errors]), chars))}</text>
            </g>
        }
    });
    let producers: Vec<Html> = producers.collect();

    // Consumer groups.
    let groups = f.state.groups.iter().zip(&l.groups).map(|(g, (rect, members))| {
        let committed: Vec<String> = g.committed.iter().map(|(p, o)| format!("{p}={o}")).collect();
        let chars = fits(rect.w - 20.0);
        let rows = members.iter().map(|&(i, rect)| {
            let c = &f.state.consumers[i];
            let node = NodeId::Consumer(i as u32);
            let positions: Vec<String> = c.assignment.iter().map(|p| format!("{p}@{}", c.positions.get(p).map_or("?".to_string(), |o| o.to_string()))).collect();
            let (onclick, onkeydown) = node_handlers(&props.on_select, node);
            let alive = label(c.state.name());
            let chars = fits(rect.w - 16.0);
            let selected = props.selected == Some(node);
            html! {
                <g class={classes!("node", "consumer", format!("state-{}", alive.replace(' ', "-")), selected.then_some("selected"))}
                   data-node={c.name.clone()} data-state={alive.clone()} {onclick}>
                    <rect class="box" x={px(rect.x)} y={px(rect.y)} width={px(rect.w)} height={px(rect.h)} rx="6" {onkeydown} role="button" tabindex="0"
                          aria-label={fill(t.node_aria, &[&c.name])} aria-haspopup="dialog" aria-expanded={selected.to_string()} />
                    <text class="node-title" x={px(rect.x + 8.0)} y={px(rect.y + 17.0)}>
                        {short(&c.name, chars / 2)}<tspan class="node-meta">{format!("  {}", short(&alive, chars / 2))}</tspan>
                    </text>
                    <text class="node-meta" x={px(rect.x + 8.0)} y={px(rect.y + 34.0)}>
                        {short(&format!("{} · {}", label(c.member_state.name()), label(c.app_state.name())), chars)}
                    </text>
                    <text class="node-meta" x={px(rect.x + 8.0)} y={px(rect.y + 50.0)}>
                        {t.isolate(if positions.is_empty() { t.no_partitions.to_string() } else { short(&fill(t.positions, &[&positions.join(" ")]), chars) })}
                        <title>{fill(t.positions_tip, &[&positions.join(", ")])}</title>
                    </text>
                    <text class="node-meta" x={px(rect.x + 8.0)} y={px(rect.y + 66.0)}>
                        {t.isolate(short(&fill(t.consumer_status, &[&c.generation, &c.buffered, &c.unprocessed]), chars))}
                    </text>
                </g>
            }
        });
        let rows: Vec<Html> = rows.collect();
        html! {
            <g class="group" data-group={g.name.clone()} data-generation={g.generation.to_string()}>
                <rect class="group-box" x={px(rect.x)} y={px(rect.y)} width={px(rect.w)} height={px(rect.h)} rx="10" />
                <text class="node-title" x={px(rect.x + 10.0)} y={px(rect.y + 18.0)}>
                    {t.isolate(short(&fill(t.group_title, &[&g.name]), chars / 2))}
                    <tspan class="node-meta">{t.isolate(short(&fill(t.group_meta, &[&g.generation, &g.state.map_or(t.unloaded, |s| s.name()), &g.protocol]), chars / 2 + 4))}</tspan>
                </text>
                <text class="node-meta" x={px(rect.x + 10.0)} y={px(rect.y + 36.0)}>
                    {t.isolate(short(&fill(t.group_line, &[&g.coordinator.map_or(t.none.to_string(), |b| format!("broker-{b}")), &if committed.is_empty() { t.none.to_string() } else { committed.join(" ") }]), chars))}
                    <title>{fill(t.committed_tip, &[&committed.join(", ")])}</title>
                </text>
                { for rows }
            </g>
        }
    });
    let groups: Vec<Html> = groups.collect();

    // Messages: the paths of those in flight, faint; the one delivered in this step as an arrow;
    // a numbered dot on each, which the list beside the picture names.
    // Only the numbered messages' paths: a large run has hundreds in flight, and as many long
    // dashed lines would cost every step more than the rest of the picture.
    let paths: Vec<Html> = f
        .flights
        .iter()
        .take(if props.numbered { FLIGHTS_NUMBERED } else { 0 })
        .filter_map(|m| {
            let (line, _) = l.path(l.rect(m.from)?, l.rect(m.to)?);
            // Keyed by message, so that a path stays untouched while its message travels: a
            // path that changed would have the browser paint again the whole box it spans.
            Some(html! { <polyline key={m.id.to_string()} class="msg-path" points={points(&line)} /> })
        })
        .collect();
    // Side by side, the paths run in the gaps between the columns and down the lanes, clear of
    // every box, so they can go over the nodes with the dots. In one column (producers and
    // consumers side by side in a row) or in the overview's grid they would cross boxes, and stay
    // beneath them.
    let paths_on_top = l.arrangement == Arrangement::Columns;
    let (paths_above, paths_below) = if paths_on_top { (paths, Vec::new()) } else { (Vec::new(), paths) };
    // Cut links: the path a message would take, drawn broken, with a cross at its middle (lines
    // only, no text, so that it never covers a label).
    let cuts: Vec<Html> = f
        .state
        .cut_links
        .iter()
        .filter_map(|c| {
            let (line, (s, e)) = l.path(l.rect(c.from)?, l.rect(c.to)?);
            let (mx, my) = ((line[s].0 + line[e].0) / 2.0, (line[s].1 + line[e].1) / 2.0);
            let name = |n: NodeId| match n {
                NodeId::Producer(p) => f.state.producers.get(p as usize).map_or_else(|| node_key(n), |x| x.name.clone()),
                NodeId::Consumer(c) => f.state.consumers.get(c as usize).map_or_else(|| node_key(n), |x| x.name.clone()),
                _ => node_key(n),
            };
            let tip = fill(if c.both { t.cut_link_tip } else { t.cut_one_way_tip }, &[&name(c.from), &name(c.to)]);
            Some(html! {
                <g class="cut-link" data-from={node_key(c.from)} data-to={node_key(c.to)} data-both={c.both.to_string()}>
                    <polyline points={points(&line)} />
                    <path class="cut-mark" d={format!("M {} {} L {} {} M {} {} L {} {}", px(mx - 7.0), px(my - 7.0), px(mx + 7.0), px(my + 7.0), px(mx - 7.0), px(my + 7.0), px(mx + 7.0), px(my - 7.0))} />
                    <title>{tip}</title>
                </g>
            })
        })
        .collect();
    let delivered = f.delivered.and_then(|(from, to, kind)| {
        let (line, _) = l.path(l.rect(from)?, l.rect(to)?);
        Some(html! {
            <g class="delivered" data-kind={kind}>
                <polyline points={points(&line)} marker-end="url(#arrow)" />
                <title>{format!("{} → {}: {kind}", node_key(from), node_key(to))}</title>
            </g>
        })
    });
    let dots = place_flights(&l, &f.flights).into_iter().map(|(i, (x, y))| {
        let m = &f.flights[i];
        let kind = m.kind.to_lowercase();
        html! {
            <g key={m.id.to_string()} class={classes!("msg", format!("msg-{kind}"))} style={format!("transform: translate({x:.1}px, {y:.1}px)")} data-kind={m.kind}>
                <circle r={px(DOT_R)} />
                if props.numbered && i < FLIGHTS_NUMBERED { <text class="msg-num" y="5">{(i + 1).to_string()}</text> }
                <title>{format!("{}: {} → {}", m.kind, node_key(m.from), node_key(m.to))}</title>
            </g>
        }
    });
    let dots: Vec<Html> = dots.collect();

    let (onclick_controller, onkeydown_controller) = node_handlers(&props.on_select, NodeId::Controller);
    let controller = l.controller;
    let controller_selected = props.selected == Some(NodeId::Controller);
    let size = if measured { format!("width: {}px; height: {}px", px(l.width * scale), px(l.height * scale)) } else { "width: 100%".to_string() };
    html! {
        <>
        if compact {
            <p class="hint compact-note" data-testid="compact-note">{t.compact_note}</p>
        }
        if scrolls {
            <div class="picture-tools">
                <button onclick={toggle_overview} data-testid="overview" aria-pressed={overview.to_string()}>{if *overview { t.overview_off } else { t.overview }}</button>
            </div>
        }
        <div class="picture" ref={holder} data-testid="picture">
        <svg class="cluster" viewBox={format!("0 0 {} {}", px(l.width), px(l.height))} style={size} role="group" aria-label={t.cluster_label} direction="ltr" dir="ltr"
             data-arrangement={match l.arrangement { Arrangement::Columns => "columns", Arrangement::Column => "column", Arrangement::Grid(_) => "grid" }} data-scale={format!("{scale:.3}")}>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                </marker>
            </defs>
            if l.arrangement != Arrangement::Column {
                <text class="column-title" x="10" y="30">{t.isolate(t.producers)}</text>
            }
            if let Some(x) = l.groups_title_x {
                <text class="column-title" x={px(x)} y="30">{t.isolate(t.consumer_groups)}</text>
            }
            <g class={classes!("node", "controller", controller_selected.then_some("selected"))} data-node="controller" onclick={onclick_controller}>
                <rect class="box" x={px(controller.x)} y={px(controller.y)} width={px(controller.w)} height={px(controller.h)} rx="8" onkeydown={onkeydown_controller}
                      role="button" tabindex="0" aria-label={fill(t.node_aria, &[&"controller"])} aria-haspopup="dialog" aria-expanded={controller_selected.to_string()} />
                <text class="node-title" x={px(controller.x + 10.0)} y={px(controller.y + 20.0)}>
                    {"controller"}<tspan class="node-meta">{t.isolate(short(t.controller_meta, fits(controller.w - 110.0)))}</tspan>
                </text>
                <title>{t.controller_tip}</title>
            </g>
            // Each kind of element sits in a group of its own: Yew pairs an element's children
            // by position, counting from the end, so a list whose length changes (the delivered
            // link comes and goes) would otherwise shift every broker onto another's elements.
            if !paths_on_top {
                <g class="paths">{ for paths_below }</g>
            }
            <g class="cut-links">{ for cuts }</g>
            <g class="brokers">{ for brokers }</g>
            <g class="producers">{ for producers }</g>
            <g class="groups">{ for groups }</g>
            // What changes at every step (the delivered link, the dots, and where they cross no box
            // the messages' paths), over the nodes in a layer of its own: the browser then rasters
            // again only this layer's few lines and dots, not the boxes and rows under them.
            <g class="motion">
                if paths_on_top {
                    <g class="paths">{ for paths_above }</g>
                }
                <g class="delivered-link">{ for delivered }</g>
                <g class="flights">{ for dots }</g>
            </g>
        </svg>
        </div>
        </>
    }
}
