//! The cluster picture: producers left, the controller and brokers in the middle (each replica
//! a log strip with HW and LEO marks), consumer groups right, and messages moving between them.

use super::frame::Frame;
use super::i18n::{fill, use_tr, Tr};
use crate::sim::view::ReplicaView;
use crate::sim::NodeId;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

const CELL: f64 = 20.0;
/// Cells drawn per log strip; older records are summarised as one "…" cell.
const MAX_CELLS: usize = 12;
const ROW: f64 = 24.0;
const HEAD: f64 = 30.0;
const PRODUCER_X: f64 = 10.0;
const PRODUCER_W: f64 = 150.0;
const BROKER_X: f64 = 200.0;
const LABEL_W: f64 = 130.0;
const BROKER_W: f64 = LABEL_W + CELL * (MAX_CELLS as f64 + 1.0) + 24.0;
const LANE: f64 = 26.0;
const CONSUMER_X: f64 = BROKER_X + BROKER_W + 70.0;
const CONSUMER_W: f64 = 280.0;

#[derive(Clone, Copy)]
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
    /// Clicking a node.
    pub on_select: Callback<NodeId>,
}

impl PartialEq for ClusterProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.frame.state, &other.frame.state) && self.selected == other.selected
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

fn replica_row(t: Tr, name: &str, leader: Option<u32>, epoch: u32, in_isr: bool, r: &ReplicaView, x: f64, y: f64) -> Html {
    let is_leader = leader == Some(r.broker);
    // `role` is the class and the tests' handle; `role_word` is what people read.
    let role_index = if leader.is_none() { 0 } else if is_leader { 1 } else { 2 };
    let role = ["offline", "leader", "follower"][role_index];
    let role_word = t.replica_roles[role_index];
    let first_shown = r.log.len().saturating_sub(MAX_CELLS);
    let hidden = first_shown > 0;
    let cells_x = x + LABEL_W + if hidden { CELL } else { 0.0 };
    let base_offset = r.log.get(first_shown).map_or(r.log_end_offset, |e| e.offset);
    let mark_x = |offset: u64| cells_x + (offset.saturating_sub(base_offset)) as f64 * CELL;
    let cells = r.log[first_shown..].iter().map(|e| {
        let cx = mark_x(e.offset);
        let committed = e.offset < r.high_watermark;
        let class = classes!("cell", format!("epoch-{}", e.epoch % 6), (!committed).then_some("uncommitted"));
        let key = e.key.as_ref().map_or(String::new(), |k| fill(t.cell_key, &[k]));
        let tip = fill(t.cell_tip, &[&e.offset, &e.epoch, &key, &e.value]);
        html! {
            <g class={class} data-offset={e.offset.to_string()}>
                <rect x={cx.to_string()} y={(y + 2.0).to_string()} width={(CELL - 2.0).to_string()} height={(ROW - 6.0).to_string()} rx="3" />
                <text x={(cx + CELL / 2.0 - 1.0).to_string()} y={(y + ROW / 2.0 + 3.0).to_string()} class="cell-text">{short(&e.value, 3)}</text>
                <title>{tip}</title>
            </g>
        }
    });
    let hw_x = mark_x(r.high_watermark.max(base_offset));
    let leo_x = mark_x(r.log_end_offset);
    html! {
        <g class={classes!("replica", role, (!in_isr).then_some("out-of-isr"))} data-partition={name.to_string()} data-role={role}
           data-hw={r.high_watermark.to_string()} data-leo={r.log_end_offset.to_string()} data-isr={in_isr.to_string()}>
            <text x={(x + 8.0).to_string()} y={(y + ROW / 2.0 + 3.0).to_string()} class="replica-label">
                {if is_leader { "★ " } else { "" }}{short(&name.replace("__consumer_offsets-", "__offsets-"), 14)}
                <title>{name.to_string()}</title>
            </text>
            <text x={(x + 94.0).to_string()} y={(y + ROW / 2.0 + 3.0).to_string()} class="replica-meta">
                {format!("e{epoch}{}", if in_isr { "" } else { " ∉ISR" })}
                <title>{fill(t.replica_tip, &[&role_word, &epoch, &if in_isr { t.in_isr } else { t.not_in_isr }, &r.high_watermark, &r.log_end_offset])}</title>
            </text>
            if hidden {
                <g class="cell collapsed">
                    <rect x={(x + LABEL_W).to_string()} y={(y + 2.0).to_string()} width={(CELL - 2.0).to_string()} height={(ROW - 6.0).to_string()} rx="3" />
                    <text x={(x + LABEL_W + CELL / 2.0 - 1.0).to_string()} y={(y + ROW / 2.0 + 3.0).to_string()} class="cell-text">{"…"}</text>
                    <title>{fill(t.older_records, &[&first_shown, &r.log[0].offset, &base_offset.saturating_sub(1)])}</title>
                </g>
            }
            <line class="hw" x1={(hw_x - 1.0).to_string()} x2={(hw_x - 1.0).to_string()} y1={y.to_string()} y2={(y + ROW - 2.0).to_string()}>
                <title>{fill(t.hw_tip, &[&r.high_watermark])}</title>
            </line>
            <text class="hw-label" x={(hw_x - 4.0).to_string()} y={(y + ROW + 5.0).to_string()}>{"HW"}</text>
            <line class="leo" x1={(leo_x - 1.0).to_string()} x2={(leo_x - 1.0).to_string()} y1={y.to_string()} y2={(y + ROW - 2.0).to_string()}>
                <title>{fill(t.leo_tip, &[&r.log_end_offset])}</title>
            </line>
            { for cells }
        </g>
    }
}

/// The cluster picture.
#[function_component]
pub fn Cluster(props: &ClusterProps) -> Html {
    let f = &props.frame;
    let t = use_tr();
    let mut rects: BTreeMap<NodeId, Rect> = BTreeMap::new();

    // Brokers and their replica rows.
    let mut rows: Vec<Vec<(usize, usize)>> = vec![Vec::new(); f.brokers_up.len()];
    for (p, part) in f.state.partitions.iter().enumerate() {
        for (r, rep) in part.replicas.iter().enumerate() {
            if let Some(list) = rows.get_mut(rep.broker as usize - 1) {
                list.push((p, r));
            }
        }
    }
    let controller = Rect { x: BROKER_X, y: 10.0, w: BROKER_W, h: 30.0 };
    rects.insert(NodeId::Controller, controller);
    let mut y = 60.0;
    let mut brokers = Vec::new();
    for (i, list) in rows.iter().enumerate() {
        let id = i as u32 + 1;
        let h = HEAD + list.len() as f64 * (ROW + 6.0) + 6.0;
        let rect = Rect { x: BROKER_X, y, w: BROKER_W, h };
        rects.insert(NodeId::Broker(id), rect);
        let up = f.brokers_up[i];
        let coordinates: Vec<&str> = f.state.groups.iter().filter(|g| g.coordinator == Some(id)).map(|g| g.name.as_str()).collect();
        let replicas = list.iter().enumerate().map(|(n, (p, r))| {
            let part = &f.state.partitions[*p];
            let rep = &part.replicas[*r];
            replica_row(t, &part.name, part.leader, part.leader_epoch, part.isr.contains(&rep.broker), rep, rect.x, rect.y + HEAD + n as f64 * (ROW + 6.0))
        });
        let node = NodeId::Broker(id);
        let onclick = props.on_select.reform(move |_: MouseEvent| node);
        brokers.push(html! {
            <g class={classes!("node", "broker", (!up).then_some("down"), (props.selected == Some(node)).then_some("selected"))}
               data-node={format!("broker-{id}")} data-up={up.to_string()} {onclick} role="button" tabindex="0"
               aria-label={fill(t.broker_aria, &[&format!("broker-{id}"), &if up { t.broker_up } else { t.broker_crashed }])}>
                <rect class="box" x={rect.x.to_string()} y={rect.y.to_string()} width={rect.w.to_string()} height={rect.h.to_string()} rx="8" />
                <text class="node-title" x={(rect.x + 10.0).to_string()} y={(rect.y + 19.0).to_string()}>
                    {format!("broker-{id}")}
                    if !up { <tspan class="down-label">{t.isolate(t.crashed_label)}</tspan> }
                    if !coordinates.is_empty() { <tspan class="coord-label">{t.isolate(fill(t.coordinator_of, &[&coordinates.join(", ")]))}</tspan> }
                </text>
                { for replicas }
            </g>
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

    // Without consumers the right column is left out, so the brokers get the room.
    let width = if f.state.consumers.is_empty() { CONSUMER_X - 40.0 } else { CONSUMER_X + CONSUMER_W + 10.0 };
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
        <svg class="cluster" viewBox={format!("0 0 {width} {height}")} width="100%" role="img" aria-label={t.cluster_label} direction="ltr" dir="ltr">
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
            { for brokers }
            { for producers }
            { for groups }
            { for delivered }
            <g class="flights">{ for flights }</g>
        </svg>
    }
}
