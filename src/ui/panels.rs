//! The panels around the cluster picture: narration, playback controls and timeline, the action
//! menu, the ledger with its lag chart, and the expectations. They read a [`Frame`] and send
//! [`Cmd`]s; they use the frame, the commands, the glossary and the words.

use super::browser::client_rect;
use super::cmd::Cmd;
use super::frame::{Frame, PauseView, FLIGHTS_NUMBERED, LEDGER_ROWS};
use super::glossary::{annotate, term};
use super::i18n::{fill, use_tr, Tr};
use crate::session::{Marker, UserAction};
use crate::sim::describe::{choice_letter, MarkerKind};
use crate::sim::ledger::Outcome;
use crate::sim::map::VecMap;
use crate::sim::view::LedgerView;
use crate::sim::NodeId;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Props shared by the panels: the frame and a way to send commands.
#[derive(Properties)]
pub struct PanelProps {
    /// What to show.
    pub frame: Rc<Frame>,
    /// Commands back to the app.
    pub cmd: Callback<Cmd>,
}

impl PartialEq for PanelProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.frame, &other.frame)
    }
}

/// The current step explained, the lecturer's text, and a pause point's question.
#[function_component]
pub fn Narration(props: &PanelProps) -> Html {
    let f = &props.frame;
    let t = use_tr();
    let revealed = use_state(|| false);
    {
        let revealed = revealed.clone();
        use_effect_with(f.position, move |_| revealed.set(false));
    }
    let reveal = {
        let revealed = revealed.clone();
        Callback::from(move |_: MouseEvent| revealed.set(true))
    };
    let (headline, effects) = match f.narration.split_first() {
        Some((h, rest)) => (h.clone(), rest.to_vec()),
        None => (t.at_start.to_string(), Vec::new()),
    };
    html! {
        <section class="narration" aria-live="polite" aria-label={t.step_label}>
            if let Some(text) = &f.caption {
                <p class="caption" data-testid="caption"><span class="caption-label">{t.lecturer}</span><span class="caption-text" dir="auto">{annotate(t, text)}</span></p>
            }
            if !t.narration_note.is_empty() {
                <p class="hint narration-note">{t.narration_note}</p>
            }
            <p class={classes!("headline", f.routine.then_some("routine"))} data-testid="headline" dir="ltr">{annotate(t, &headline)}</p>
            <ul class="effects" data-testid="effects" dir="ltr">
                { for effects.iter().map(|e| html! { <li>{annotate(t, e)}</li> }) }
            </ul>
            if let Some(pause) = &f.pause {
                {pause_panel(t, pause, *revealed || !pause.waiting, reveal, &props.cmd)}
            }
        </section>
    }
}

/// A pause point: the question with the class's choices while the run waits; once revealed (or
/// once the run goes on) the right choice, whether the class picked it, and the answer.
fn pause_panel(t: Tr, pause: &PauseView, revealed: bool, reveal: Callback<MouseEvent>, cmd: &Callback<Cmd>) -> Html {
    let choices = pause.choices.iter().enumerate().map(|(i, choice)| {
        let at = pause.at;
        let picked = pause.picked == Some(i);
        let right = revealed && pause.correct == Some(i);
        let wrong = revealed && picked && pause.correct.is_some_and(|c| c != i);
        let onclick = cmd.reform(move |_: MouseEvent| Cmd::Pick(at, i));
        html! {
            <li>
                <button class={classes!("choice", picked.then_some("picked"), right.then_some("right"), wrong.then_some("wrong"))}
                        aria-pressed={picked.to_string()} disabled={revealed} {onclick} data-testid="choice" data-choice={i.to_string()}>
                    <span class="letter">{choice_letter(i).to_string()}</span><span dir="auto">{annotate(t, choice)}</span>
                    if right { <span class="mark" aria-label={t.right_answer}>{" ✓"}</span> }
                </button>
            </li>
        }
    });
    let verdict = match (revealed, pause.picked, pause.correct) {
        (true, Some(p), Some(c)) if p == c => Some(("right", fill(t.picked_right, &[&choice_letter(p)]))),
        (true, Some(p), Some(c)) => Some(("wrong", fill(t.picked_wrong, &[&choice_letter(p), &choice_letter(c)]))),
        (false, Some(p), _) => Some(("", fill(t.picked_pending, &[&choice_letter(p)]))),
        _ => None,
    };
    html! {
        <div class={classes!("pause", (!pause.waiting).then_some("after"))} role="dialog" aria-label={t.question} data-testid="pause" data-waiting={pause.waiting.to_string()}>
            <p class="question"><span class="caption-label">{if pause.waiting { t.question } else { t.the_answer }}</span><span dir="auto">{annotate(t, &pause.question)}</span></p>
            if !pause.choices.is_empty() {
                <ol class="choices">{ for choices }</ol>
            }
            if let Some((class, text)) = verdict {
                <p class={classes!("verdict", class)} data-testid="pick-verdict">{text}</p>
            }
            if revealed {
                if let Some(answer) = &pause.answer {
                    <p class="answer" data-testid="answer" dir="auto">{annotate(t, answer)}</p>
                }
            } else {
                <button class="reveal" onclick={reveal} data-testid="reveal">{t.reveal}</button>
            }
            if pause.waiting {
                <p class="hint">{if pause.choices.is_empty() { t.waits_open } else { t.waits_choices }}</p>
            }
        </div>
    }
}

/// Play/pause, step, restart, speed, and the timeline with its markers.
#[derive(Properties)]
pub struct ControlsProps {
    /// What to show.
    pub frame: Rc<Frame>,
    /// Commands back to the app.
    pub cmd: Callback<Cmd>,
    /// Whether playback runs.
    pub playing: bool,
    /// Speed index.
    pub speed: usize,
}

impl PartialEq for ControlsProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.frame, &other.frame) && self.playing == other.playing && self.speed == other.speed
    }
}

/// Properties of [`Markers`].
#[derive(Properties)]
struct MarkersProps {
    markers: Rc<Vec<Marker>>,
    /// The timeline's last step.
    max: u64,
    cmd: Callback<Cmd>,
}

/// The markers draw again only when one is added or the timeline's length changes, not at every
/// step (`cmd` always sends to the same page).
impl PartialEq for MarkersProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.markers, &other.markers) && self.max == other.max
    }
}

/// The timeline's markers, each a button that jumps to its step.
#[function_component]
fn Markers(props: &MarkersProps) -> Html {
    let t = use_tr();
    let markers = props.markers.iter().map(|m| {
        let left = m.at as f64 * 100.0 / props.max as f64;
        let at = m.at;
        let kind = MarkerKind::ALL.iter().position(|k| *k == m.kind).map_or(m.kind.name(), |i| t.marker_names[i]);
        let label = fill(t.jump_to, &[&m.at, &m.label]);
        html! {
            <button class={classes!("marker", format!("m-{}", m.kind.name()))} style={format!("left: {left:.3}%")} title={format!("{kind}: {label}")} data-at={m.at.to_string()} data-kind={m.kind.name()}
                    aria-label={label} onclick={props.cmd.reform(move |_: MouseEvent| Cmd::Seek(at))} />
        }
    });
    html! { <div class="markers">{ for markers }</div> }
}

/// The playback bar: one slim row under the top bar (the buttons, the timeline with its markers,
/// where the run stands). On a phone only stepping and playing stay; the rest unfolds on demand.
#[function_component]
pub fn Controls(props: &ControlsProps) -> Html {
    let f = &props.frame;
    let t = use_tr();
    let more = use_state(|| false);
    let send = |c: Cmd| props.cmd.reform(move |_: MouseEvent| c.clone());
    let max = f.total.unwrap_or(f.known).max(1);
    let on_scrub = props.cmd.reform(|e: InputEvent| Cmd::Seek(e.target_unchecked_into::<HtmlInputElement>().value().parse().unwrap_or(0)));
    let on_speed = props.cmd.reform(|e: Event| {
        let select = e.target_unchecked_into::<HtmlSelectElement>();
        // As the lesson picker does: the arrow keys go back to stepping once a speed is picked.
        let _ = select.blur();
        Cmd::Speed(select.value().parse().unwrap_or(1))
    });
    let on_more = {
        let more = more.clone();
        Callback::from(move |_: MouseEvent| more.set(!*more))
    };
    html! {
        <section class={classes!("controls", more.then_some("open"))} aria-label={t.playback}>
            <div class="buttons" dir="ltr">
                <button class="extra" onclick={send(Cmd::Restart)} title={t.restart_title} aria-label={t.restart_title}>{t.restart}</button>
                <button class="extra" onclick={send(Cmd::Marker(false))} title={t.prev_marker} aria-label={t.prev_marker}>{"◆◀"}</button>
                <button onclick={send(Cmd::Back)} title={t.back} aria-label={t.back} data-testid="back">{"◀"}</button>
                <button class="play" onclick={send(Cmd::TogglePlay)} title={t.play_title} aria-label={if props.playing { t.pause } else { t.play }} data-testid="play">
                    {if props.playing { t.pause } else { t.play }}
                </button>
                <button onclick={send(Cmd::Forward)} title={t.forward} aria-label={t.forward} data-testid="forward">{"▶"}</button>
                <button class="extra" onclick={send(Cmd::Marker(true))} title={t.next_marker} aria-label={t.next_marker}>{"▶◆"}</button>
                <button class="extra" onclick={send(Cmd::End)} title={t.end_title} aria-label={t.end_title} data-testid="end">{t.end}</button>
                <label class="speed extra" dir="auto">{t.speed}
                    <select onchange={on_speed} aria-label={t.playback_speed}>
                        { for t.speeds.iter().enumerate().map(|(i, name)| html! { <option value={i.to_string()} selected={i == props.speed}>{*name}</option> }) }
                    </select>
                </label>
            </div>
            <div class="timeline" dir="ltr">
                <input type="range" min="0" max={max.to_string()} value={f.position.to_string()} oninput={on_scrub} aria-label={t.timeline} data-testid="scrub" />
                <Markers markers={f.markers.clone()} {max} cmd={props.cmd.clone()} />
            </div>
            <span class="position" dir="auto" data-testid="position" data-position={f.position.to_string()} data-total={f.total.map(|t| t.to_string()).unwrap_or_default()}>
                {fill(t.position, &[&f.position, &f.total.map_or(format!("{}…", f.known), |t| t.to_string()), &f.now])}
                if f.at_end { <strong class="end">{t.end_of_run}</strong> }
            </span>
            <details class="popover legend extra">
                <summary>{t.legend}</summary>
                <div class="popover-body">
                    { for MarkerKind::ALL.iter().enumerate().map(|(i, k)| html! { <span class={classes!("legend-item", format!("m-{}", k.name()))}><i></i>{t.marker_names[i]}</span> }) }
                </div>
            </details>
            <button class="more-button" onclick={on_more} aria-expanded={more.to_string()} title={t.more_controls} aria-label={t.more_controls}>{"⋯"}</button>
        </section>
    }
}

/// The messages in flight, numbered as their dots in the picture, and the one delivered in this
/// step: the picture keeps its words clear of its nodes' words, and this list says what each dot is.
/// Playing at the fastest speed, it says that the list comes back on a pause instead.
pub fn in_flight(t: Tr, f: &Frame, fastest: bool) -> Html {
    html! {
        <section class="in-flight" data-testid="in-flight" aria-label={t.in_flight}>
            <h2 class="caption-label">{t.in_flight}</h2>
            if fastest {
                <p class="hint" data-testid="in-flight-fastest">{t.in_flight_fastest}</p>
            } else {
                {flight_list(t, f)}
            }
        </section>
    }
}

/// The message delivered in this step and the numbered list of those in flight.
fn flight_list(t: Tr, f: &Frame) -> Html {
    let name = |node: NodeId| f.node_names.iter().find(|(n, _)| *n == node).map_or_else(String::new, |(_, s)| s.clone());
    html! {
        <>
            if let Some((from, to, kind)) = f.delivered {
                <p class="delivered-now" dir="ltr"><span class="arrow">{"→"}</span>{format!(" {kind} {} → {} ", name(from), name(to))}<em>{t.delivered_now}</em></p>
            }
            if f.flights.is_empty() {
                <p class="hint">{t.none_in_flight}</p>
            } else {
                <ol class="flight-list" dir="ltr">
                    { for f.flights.iter().take(FLIGHTS_NUMBERED).enumerate().map(|(i, m)| html! {
                        <li key={m.id.to_string()} class={format!("msg-{}", m.kind.to_lowercase())} data-kind={m.kind}>
                            <span class="dot">{(i + 1).to_string()}</span>{format!("{} {} → {}", m.kind, name(m.from), name(m.to))}
                        </li>
                    }) }
                </ol>
                if f.flights.len() > FLIGHTS_NUMBERED {
                    <p class="hint">{fill(t.more_in_flight, &[&(f.flights.len() - FLIGHTS_NUMBERED)])}</p>
                }
            }
        </>
    }
}

/// Properties of [`ActionMenu`].
#[derive(Properties)]
pub struct ActionProps {
    /// What to show.
    pub frame: Rc<Frame>,
    /// Commands back to the app.
    pub cmd: Callback<Cmd>,
    /// The node clicked.
    pub node: NodeId,
    /// Its name, as the picture's `data-node` and the actions name it.
    pub name: String,
}

impl PartialEq for ActionProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.frame, &other.frame) && self.node == other.node
    }
}

/// A free name for a consumer added next to `like`: its name with the next free number, so that
/// `billing-1` suggests `billing-2`.
fn new_consumer_name(like: &str, taken: &[(NodeId, String)]) -> String {
    let stem = match like.rsplit_once('-') {
        Some((stem, n)) if !stem.is_empty() && n.parse::<u32>().is_ok() => stem,
        _ => like,
    };
    (2u32..)
        .map(|n| format!("{stem}-{n}"))
        .find(|candidate| !taken.iter().any(|(_, name)| name == candidate))
        .expect("some number is free")
}

/// What a person can do to the clicked node, in a popover beside it; every action forks the run
/// at this step. It takes the focus when it opens, so that Enter on a node then Tab reaches the
/// actions, and Esc closes it (see `cmd::use_keys`).
#[function_component]
pub fn ActionMenu(props: &ActionProps) -> Html {
    let f = &props.frame;
    let t = use_tr();
    // A challenge offers only the actions it allows.
    let ok = |kind: &str| f.allowed_actions.as_ref().is_none_or(|a| a.iter().any(|x| x == kind));
    let name = props.name.clone();
    let card = use_node_ref();
    {
        // Placed after every render: the picture may have moved under it (a step, a resize).
        let (card, name) = (card.clone(), name.clone());
        use_effect(move || place_beside_node(&card, &name));
    }
    {
        let card = card.clone();
        use_effect_with(props.node, move |_| {
            // The first action, not the close button before it.
            let first = card.cast::<web_sys::Element>().and_then(|c| c.query_selector(".row button,.row input,.row select").ok().flatten().or_else(|| c.query_selector("button").ok().flatten()));
            if let Some(first) = first {
                if let Ok(first) = first.dyn_into::<web_sys::HtmlElement>() {
                    let _ = first.focus();
                }
            }
        });
    }
    let peer = use_state(String::new);
    let key = use_state(String::new);
    let value = use_state(|| "v".to_string());
    let topic = use_state(String::new);
    let act = |a: UserAction| props.cmd.reform(move |_: MouseEvent| Cmd::Act(a.clone()));
    let input = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let peers: Vec<String> = f.node_names.iter().filter(|(n, _)| *n != props.node).map(|(_, s)| s.clone()).collect();
    let chosen_peer = if peers.contains(&*peer) { (*peer).clone() } else { peers.first().cloned().unwrap_or_default() };
    let on_peer = {
        let peer = peer.clone();
        Callback::from(move |e: Event| peer.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let topics = &f.topics;
    let chosen_topic = if topics.contains(&*topic) { (*topic).clone() } else { topics.first().cloned().unwrap_or_default() };
    let on_topic = {
        let topic = topic.clone();
        Callback::from(move |e: Event| topic.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let specific = match props.node {
        NodeId::Broker(b) => {
            let up = f.brokers_up.get(b as usize - 1).copied().unwrap_or(false);
            let broker = format!("broker-{b}");
            if up && ok("crash") {
                html! { <button class="danger" data-testid="crash" onclick={act(UserAction::CrashBroker { broker: b })}>{fill(t.crash_broker, &[&broker])}</button> }
            } else if !up && ok("restart") {
                html! { <button data-testid="restart" onclick={act(UserAction::RestartBroker { broker: b })}>{fill(t.restart_broker, &[&broker])}</button> }
            } else {
                html! {}
            }
        }
        NodeId::Consumer(_) => {
            let add = UserAction::AddConsumer { like: name.clone(), name: new_consumer_name(&name, &f.node_names) };
            html! {
                <>
                    if ok("crash_consumer") { <button class="danger" onclick={act(UserAction::CrashConsumer { consumer: name.clone() })}>{t.crash_consumer}</button> }
                    if ok("close_consumer") { <button onclick={act(UserAction::CloseConsumer { consumer: name.clone() })}>{t.close_consumer}</button> }
                    if ok("stall_consumer") { <button onclick={act(UserAction::StallConsumer { consumer: name.clone() })}>{t.stall_consumer}</button> }
                    if ok("start_consumer") { <button onclick={act(UserAction::StartConsumer { consumer: name.clone() })}>{t.start_consumer}</button> }
                    if ok("add_consumer") { <button data-testid="add-consumer" onclick={act(add)}>{t.add_consumer}</button> }
                </>
            }
        }
        NodeId::Producer(_) if ok("produce") => {
            let produce = UserAction::Produce {
                producer: name.clone(),
                topic: chosen_topic.clone(),
                key: (!key.is_empty()).then(|| (*key).clone()),
                value: (*value).clone(),
            };
            html! {
                <form class="produce" onsubmit={props.cmd.reform(move |e: SubmitEvent| { e.prevent_default(); Cmd::Act(produce.clone()) })}>
                    <select onchange={on_topic} aria-label={t.topic}>{ for topics.iter().map(|t| html! { <option selected={*t == chosen_topic}>{t.clone()}</option> }) }</select>
                    <input placeholder={t.key_placeholder} value={(*key).clone()} oninput={input(&key)} aria-label={t.key_placeholder} maxlength="200" dir="auto" />
                    <input placeholder={t.value_placeholder} value={(*value).clone()} oninput={input(&value)} aria-label={t.value_placeholder} maxlength="200" dir="auto" />
                    <button type="submit">{"send()"}</button>
                </form>
            }
        }
        NodeId::Producer(_) | NodeId::Controller => html! {},
    };
    html! {
        <section ref={card} class="action-menu" role="dialog" aria-label={fill(t.actions_on, &[&name])} data-testid="action-menu">
            <header><strong>{name.clone()}</strong><button class="close" aria-label={t.close} onclick={props.cmd.reform(|_: MouseEvent| Cmd::Deselect)}>{"✕"}</button></header>
            <div class="row">{specific}</div>
            if ok("cut") || ok("heal") {
                <div class="row">
                    {t.link_to}
                    <select onchange={on_peer} aria-label={t.link_to.trim()}>{ for peers.iter().map(|p| html! { <option selected={*p == chosen_peer}>{p.clone()}</option> }) }</select>
                    if ok("cut") { <button onclick={act(UserAction::Cut { a: name.clone(), b: chosen_peer.clone() })}>{t.cut}</button> }
                    if ok("heal") { <button onclick={act(UserAction::Heal { a: name.clone(), b: chosen_peer.clone() })}>{t.heal}</button> }
                </div>
            }
            <p class="hint">{t.fork_hint}</p>
        </section>
    }
}

/// Puts the action popover `card` beside the node called `name` in the main run's picture: to its
/// right where there is room in the stage, else to its left, else over its edge; never outside the
/// stage, so that the popover and the node stay in view together.
fn place_beside_node(card: &NodeRef, name: &str) {
    let Some(card) = card.cast::<web_sys::HtmlElement>() else { return };
    let Some(stage) = card.parent_element() else { return };
    let selector = format!("[data-testid=left-pane] [data-node=\"{}\"] > .box", name.replace('\\', "\\\\").replace('"', "\\\""));
    let Some(node) = stage.query_selector(&selector).ok().flatten() else { return };
    let (Some(s), Some(n)) = (client_rect(&stage), client_rect(&node)) else { return };
    let (w, h) = (f64::from(card.offset_width()), f64::from(card.offset_height()));
    let gap = 8.0;
    let left = if n.right + gap + w <= s.right {
        n.right + gap
    } else if n.left - gap - w >= s.left {
        n.left - gap - w
    } else {
        (n.right - w).max(s.left)
    } - s.left;
    let top = (n.top.max(s.top) - s.top).min((s.bottom - s.top - h).max(0.0));
    let style = format!("left: {left:.0}px; top: {top:.0}px");
    if card.get_attribute("style").as_deref() != Some(style.as_str()) {
        let _ = card.set_attribute("style", &style);
    }
}

fn outcome_text(t: Tr, outcome: &Outcome) -> (&'static str, String) {
    match outcome {
        Outcome::Pending => ("pending", t.outcome_pending.into()),
        Outcome::Acknowledged { offset, .. } => ("acked", offset.map_or(t.outcome_acked_acks0.into(), |o| fill(t.outcome_acked_at, &[&o]))),
        Outcome::Failed { error, .. } => ("failed", fill(t.outcome_failed, &[error])),
    }
}

/// The records and their fates, summary badges, and a lag chart per group.
#[derive(Properties)]
pub struct LedgerProps {
    /// What to show.
    pub frame: Rc<Frame>,
    /// Jump to the step that decided a record's fate.
    pub on_record: Callback<u32>,
}

impl PartialEq for LedgerProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.frame.ledger, &other.frame.ledger) && self.frame.ledger_stale == other.frame.ledger_stale
    }
}

/// Properties of [`LedgerBody`].
#[derive(Properties)]
struct LedgerBodyProps {
    ledger: Rc<LedgerView>,
    /// The virtual time the ledger was computed at: the end of its lag charts.
    now: u64,
    on_record: Callback<u32>,
}

/// The body renders again only for another ledger. Its `now` is the time of the render that
/// brought that ledger, which is the ledger's own time; a step that only marks the ledger as
/// behind (most steps while stepping) leaves the table, thousands of elements, untouched.
impl PartialEq for LedgerBodyProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.ledger, &other.ledger)
    }
}

fn lag_chart(tr: Tr, name: &str, samples: &[(u64, String, u64)], now: u64) -> Html {
    // The group's total lag: the latest sample of each partition, summed, at every sample time.
    let mut latest: VecMap<&str, u64> = VecMap::new();
    let mut points: Vec<(u64, u64)> = Vec::new();
    for (t, p, lag) in samples {
        latest.insert(p.as_str(), *lag);
        points.push((*t, latest.values().sum()));
    }
    let max_lag = points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
    let end = now.max(1);
    let (w, h) = (260.0, 60.0);
    let mut path = String::new();
    let mut prev = 0u64;
    for (t, lag) in &points {
        let x = *t as f64 * w / end as f64;
        path.push_str(&format!("{}{x:.1},{:.1} L{x:.1},{:.1} ", if path.is_empty() { "M" } else { "L" }, h - prev as f64 * h / max_lag as f64, h - *lag as f64 * h / max_lag as f64));
        prev = *lag;
    }
    if !path.is_empty() {
        path.push_str(&format!("L{w},{:.1}", h - prev as f64 * h / max_lag as f64));
    }
    html! {
        <figure class="lag-chart" data-group={name.to_string()}>
            <svg viewBox={format!("-2 -2 {} {}", w + 4.0, h + 4.0)} width="264" height="64" role="img" aria-label={fill(tr.lag_label, &[&name, &prev])}>
                <rect class="chart-bg" x="0" y="0" width={w.to_string()} height={h.to_string()} />
                <path d={path} class="lag-line" />
            </svg>
            <figcaption>{fill(tr.lag_group, &[&name])}{term(tr, "lag")}{" "}{fill(tr.lag_now, &[&prev, &points.iter().map(|p| p.1).max().unwrap_or(0)])}</figcaption>
        </figure>
    }
}

/// The ledger panel: whether it is behind the picture, and its body.
#[function_component]
pub fn Ledger(props: &LedgerProps) -> Html {
    let tr = use_tr();
    let stale = props.frame.ledger_stale.to_string();
    html! {
        <section class="ledger" aria-label={tr.ledger_region} data-stale={stale.clone()} aria-busy={stale}>
            <LedgerBody ledger={props.frame.ledger.clone()} now={props.frame.now} on_record={props.on_record.clone()} />
        </section>
    }
}

/// The ledger's badges, lag charts and table of records.
#[function_component]
fn LedgerBody(props: &LedgerBodyProps) -> Html {
    let l = &props.ledger;
    let t = &l.totals;
    let tr = use_tr();
    // `name` keeps the tests' handle whatever the language; `label` is what people read.
    let badge = |name: &str, label: &str, n: u32, bad: bool| {
        html! { <span class={classes!("badge", (bad && n > 0).then_some("bad"))} data-badge={name.to_string()} data-value={n.to_string()}>{format!("{n} {label}")}</span> }
    };
    let group_names: Vec<&str> = l.groups.iter().map(|g| g.name.as_str()).collect();
    // How often each group processed each record, looked up once rather than per table cell.
    let processed_by: Vec<VecMap<u32, u32>> = l.groups.iter().map(|g| g.records.iter().map(|gr| (gr.id, gr.processed)).collect()).collect();
    let omitted = (t.sent as usize).saturating_sub(l.records.len());
    let rows = l.records.iter().map(|r| {
        let (class, text) = outcome_text(tr, &r.outcome);
        let id = r.id;
        let stored: Vec<String> = r.appended.iter().map(|(b, o, _)| format!("b{b}@{o}")).collect();
        let processed = processed_by.iter().map(|counts| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            html! { <td class={classes!((n > 1).then_some("dup"))}>{n.to_string()}</td> }
        });
        let onclick = props.on_record.reform(move |_: MouseEvent| id);
        html! {
            <tr class={classes!(class, r.acknowledged_lost.then_some("acked-lost"), (r.copies_in_final_log > 1).then_some("dup"))} {onclick} data-record={r.id.to_string()} title={tr.record_title}>
                <td>{r.id.to_string()}</td>
                <td>{r.producer.clone()}</td>
                <td>{format!("{}{}", r.key.as_ref().map_or(String::new(), |k| format!("{k}=")), r.value)}</td>
                <td>{r.partition.clone()}</td>
                <td>{text}</td>
                <td>{if stored.is_empty() { tr.nowhere.to_string() } else { stored.join(" ") }}</td>
                <td>{if r.acknowledged_lost {
                    tr.lost_was_acked.to_string()
                } else if r.deleted_by_retention {
                    tr.deleted_by_retention.to_string()
                } else {
                    fill(tr.in_final_log, &[&r.copies_in_final_log])
                }}</td>
                { for processed }
            </tr>
        }
    });
    html! {
        <>
            <h2>{tr.ledger}</h2>
            <div class="badges" data-testid="badges">
                {badge("sent", tr.badge_sent, t.sent, false)}{badge("acknowledged", tr.badge_acknowledged, t.acknowledged, false)}{badge("failed", tr.badge_failed, t.failed, true)}
                {badge("lost", tr.badge_lost, t.lost, true)}{badge("acked-lost", tr.badge_acked_lost, t.acknowledged_lost, true)}
                {badge("deleted-by-retention", tr.badge_deleted_by_retention, t.deleted_by_retention, false)}
                {badge("duplicated", tr.badge_duplicated, t.duplicated, true)}{badge("out-of-order", tr.badge_out_of_order, t.out_of_order, true)}
                { for l.groups.iter().map(|g| html! {
                    <span class={classes!("badge", "verdict", g.verdict.name())} data-group={g.name.clone()} data-verdict={g.verdict.name()}>
                        {fill(tr.group_verdict, &[&g.name, &g.verdict.name(), &g.totals.processed, &g.totals.lost, &g.totals.duplicated])}
                    </span>
                }) }
            </div>
            if !l.pipelines.is_empty() {
                <div class="badges" data-testid="pipelines">
                    { for l.pipelines.iter().map(|p| html! {
                        <span class={classes!("badge", "verdict", p.verdict)} data-pipeline={p.name.clone()} data-verdict={p.verdict} title={p.stage.name()}>
                            {fill(tr.pipeline_verdict, &[&p.name, &p.guarantee, &p.verdict, &p.results.inputs, &p.results.lost, &p.results.duplicated])}
                        </span>
                    }) }
                </div>
            }
            if let Some(r) = &l.registry {
                <div class="badges" data-testid="registry">
                    <span class={classes!("badge", (!r.up).then_some("bad"))} data-registry-up={r.up.to_string()}>
                        {fill(tr.registry_badge, &[&if r.up { tr.registry_up } else { tr.registry_down }, &r.global])}
                    </span>
                    { for r.subjects.iter().map(|sub| {
                        let versions: Vec<String> = sub.versions.iter().map(|(v, id, name)| fill(tr.registry_version, &[v, name, id])).collect();
                        html! { <span class="badge" data-subject={sub.name.clone()}>{fill(tr.registry_subject, &[&sub.name, &sub.level, &versions.join(" · ")])}</span> }
                    }) }
                </div>
            }
            <div class="charts">{ for l.groups.iter().map(|g| lag_chart(tr, &g.name, &g.lag, props.now)) }</div>
            if omitted > 0 {
                <p class="omitted" data-testid="ledger-omitted">{fill(tr.ledger_omitted, &[&l.records.len(), &t.sent, &(LEDGER_ROWS / 2)])}</p>
            }
            // Focusable, so that the keyboard can scroll it.
            <div class="table-wrap" tabindex="0" role="region" aria-label={tr.ledger_table}>
                <table>
                    <thead><tr>
                        { for tr.columns.iter().map(|c| html! { <th>{*c}</th> }) }
                        { for group_names.iter().map(|g| html! { <th>{fill(tr.processed_by, &[g])}</th> }) }
                    </tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
        </>
    }
}

/// Whether the scenario's expectations held (as far as the look-ahead has checked).
#[function_component]
pub fn Expectations(props: &PanelProps) -> Html {
    let f = &props.frame;
    let t = use_tr();
    if f.expectation_count == 0 {
        return html! {};
    }
    let held = f.expectations.iter().filter(|e| e.passed()).count();
    html! {
        <details class="expectations" data-testid="expectations" data-held={held.to_string()} data-count={f.expectation_count.to_string()}>
            <summary>{fill(t.expectations, &[&held, &f.expectation_count])}{if f.expectations.len() < f.expectation_count { t.checking } else { "" }}</summary>
            <ul dir="ltr">
                { for f.expectations.iter().flat_map(|e| e.checks.iter().map(move |c| html! {
                    <li class={if c.passed { "ok" } else { "fail" }}>{fill(t.expectation_line, &[&if c.passed { "✓" } else { "✗" }, &e.line, &e.time, &c.description, &c.actual])}</li>
                })) }
            </ul>
        </details>
    }
}
