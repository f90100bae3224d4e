//! The page's root component: it holds the [`Page`] model, drives its timers (playback, the
//! look-ahead, the explorer, the ledger's catch-up), and composes the parts' components and
//! views around one [`Frame`] per render. It decides nothing itself: every change goes through
//! [`Page::apply`]. It uses every part of the page and nothing of the core but its names.

use super::browser::location_hash;
use super::cluster::Cluster;
use super::cmd::{use_keys, use_link_changes, Cmd};
use super::editor::{editor_panel, use_file_reader};
use super::frame::Frame;
use super::i18n::{fill, Tr};
use super::lessons;
use super::page::Page;
use super::panels::{in_flight, ActionMenu, Controls, Expectations, Ledger, Narration};
use super::playback::{landing_note, use_slices, use_ticker, SPEEDS};
use super::run::{challenge_panel, compare_panel, SharePopover};
use super::topbar::{top_bar, TopBar};
use crate::share::ScenarioRef;
use crate::sim::NodeId;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// The page.
#[function_component]
pub fn App() -> Html {
    let page = use_mut_ref(|| Page::new(&location_hash()));
    let redraw = use_force_update();
    // The top bar's tools on a phone, folded away until asked for.
    let menu_open = use_state(|| false);
    // One callback for the page's life: every component gets it, and the panels, which render
    // again only when their frame changes, need not compare it.
    let cmd = {
        let (page, redraw) = (page.clone(), redraw.clone());
        use_callback((), move |c: Cmd, _| {
            page.borrow_mut().apply(c);
            redraw.force_update();
        })
    };
    let (playing, speed, epoch, explore_epoch) = {
        let p = page.borrow();
        (p.playback.playing, p.playback.speed, p.run.epoch, p.exploration.epoch)
    };
    // Playback: one tick per step shown while playing; the look-ahead, in slices, whenever a run
    // starts or forks; the explorer while a search runs.
    {
        let (page, redraw) = (page.clone(), redraw.clone());
        use_ticker(playing, speed, move || {
            page.borrow_mut().tick();
            redraw.force_update();
        });
    }
    use_slices(epoch, in_slices(&page, &redraw, Page::look_ahead_slice));
    use_slices(explore_epoch, in_slices(&page, &redraw, Page::explore_slice));
    use_link_changes(cmd.clone());
    // A lesson the page has not fetched yet opens when its text arrives.
    {
        let (page, cmd) = (page.clone(), cmd.clone());
        use_effect(move || {
            if let Some(name) = page.borrow_mut().take_fetch() {
                lessons::fetch(name, move |name, text| cmd.emit(Cmd::LessonFetched(name, text)));
            }
        });
    }
    use_keys(cmd.clone());
    let read_file = use_file_reader(cmd.clone());

    page.borrow_mut().run.sync();
    let p = page.borrow();
    let t = p.t();
    p.prefs.write_to_document();
    let (Some(session), Some((frame, right_frame))) = (p.run.session.as_ref(), p.run.frames(p.playback.ledger.defer())) else {
        return html! { <div class="notice" role="alert">{p.notice.clone().unwrap_or_default()}</div> };
    };
    if frame.ledger_stale {
        let redraw = redraw.clone();
        p.playback.ledger.follow((p.run.epoch, frame.position), p.playback.playing, Callback::from(move |()| redraw.force_update()));
    }
    let scenario = session.scenario();
    let current = match &p.run.source {
        ScenarioRef::Builtin(n) => n.as_str(),
        ScenarioRef::Text(_) => "",
    };
    let on_drop = {
        let read_file = read_file.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            if let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
                read_file.emit(file);
            }
        })
    };
    let on_dragover = Callback::from(|e: DragEvent| e.prevent_default());

    // Playing at the fastest speed, one step a frame, the numbers change faster than anyone reads
    // them: the picture leaves out the dots' numbers and the faint paths under them, the list
    // beside it waits for a pause, and the dots stop gliding, which would leave them far behind
    // their messages. Each would be drawn again in nearly every frame (see docs/page.md).
    let fastest = p.playback.playing && SPEEDS[p.playback.speed] == 0;
    let selected_name = p.run.selected.and_then(|n| frame.node_names.iter().find(|(id, _)| *id == n).map(|(_, s)| s.clone()));
    let on_menu = {
        let menu_open = menu_open.clone();
        Callback::from(move |_: MouseEvent| menu_open.set(!*menu_open))
    };

    html! {
        <ContextProvider<Tr> context={t}>
        // `data-scenario` names the shipped scenario that runs, which a lesson's fetch changes a
        // moment after it was asked for.
        <div class={classes!("app", fastest.then_some("fastest"))} data-scenario={current.to_string()} ondrop={on_drop} ondragover={on_dragover}>
            // The stage: one screen that holds the bars, the picture and what explains it, so that
            // nothing the lesson is about is below the fold or under a bar. The ledger, the
            // editor and the footer follow it for whoever scrolls.
            <div class="screen" data-testid="screen">
                {top_bar(t, &TopBar {
                    builtins: &p.builtins,
                    current,
                    picks_undone: p.picks_undone,
                    seed: &p.editor.seed,
                    exploring: p.exploration.running(),
                    compare: scenario.compare.is_some().then_some(p.run.compare.is_some()),
                    show_routine: p.playback.show_routine,
                    reduce_motion: p.prefs.reduce_motion,
                    lang: p.prefs.lang,
                    dark: p.prefs.dark,
                    presenter: p.prefs.presenter,
                    menu_open: *menu_open,
                    sharing: p.run.share_url.is_some(),
                }, &cmd, &read_file, on_menu)}
                <Controls frame={frame.clone()} cmd={cmd.clone()} {playing} {speed} />
                <div class="notices">
                    {p.exploration.note(t, cmd.reform(|_: MouseEvent| Cmd::StopExplore))}
                    {landing_note(t, p.playback.landing, session.known_steps())}
                    if let Some(notice) = &p.notice {
                        <div class="notice" role="alert" data-testid="notice">{notice.clone()}<button class="close" onclick={cmd.reform(|_: MouseEvent| Cmd::Dismiss)} aria-label={t.dismiss}>{"✕"}</button></div>
                    }
                </div>
                <main class={classes!("stage-main", right_frame.is_some().then_some("comparing"))}>
                    // Over the top of the stage, not over the bars: the controls stay in reach.
                    if let Some(url) = p.run.share_url.as_deref() {
                        <SharePopover url={url.to_string()} copied={p.run.copied} cmd={cmd.clone()} />
                    }
                    <div class="stage" data-testid="stage">
                        <div class={classes!("clusters", right_frame.is_some().then_some("side-by-side"))}>
                            <div class="cluster-pane" data-testid="left-pane" data-now={frame.now.to_string()}>
                                if let Some(c) = scenario.compare.as_ref().filter(|_| right_frame.is_some()) { <h2 class="pane-label">{c.left.clone()}</h2> }
                                <Cluster frame={frame.clone()} selected={p.run.selected} dark={p.prefs.dark} on_select={cmd.reform(Cmd::Select)} numbered={!fastest} />
                            </div>
                            if let (Some(right), Some(c)) = (&right_frame, &scenario.compare) {
                                <div class="cluster-pane" data-testid="right-pane" data-position={right.position.to_string()} data-now={right.now.to_string()}>
                                    <h2 class="pane-label">{c.right.clone()}</h2>
                                    <Cluster frame={right.clone()} selected={None::<NodeId>} dark={p.prefs.dark} on_select={Callback::from(|_: NodeId| ())} numbered={false} />
                                </div>
                            }
                        </div>
                        if let (Some(node), Some(name)) = (p.run.selected, selected_name) {
                            <ActionMenu frame={frame.clone()} cmd={cmd.clone()} {node} {name} />
                        }
                    </div>
                    <aside class="side" aria-label={t.step_label}>
                        // The goal and summary show at the start and fold away once the lesson runs,
                        // leaving the room beside the picture to the narration and the question.
                        <header class="lesson">
                            <h1 data-testid="title" dir="auto">{scenario.title.clone()}</h1>
                            <details class="summary" open={frame.position == 0}>
                                <summary>{t.lesson}</summary>
                                if let Some(goal) = &scenario.goal {
                                    <p class="goal" data-testid="goal"><span class="caption-label">{t.learning_goal}</span><span dir="auto">{goal.clone()}</span></p>
                                }
                                <p dir="auto">{scenario.summary.clone()}</p>
                            </details>
                        </header>
                        if let Some(challenge) = &scenario.challenge {
                            {challenge_panel(t, challenge, &p.run.challenge)}
                        }
                        if let (Some(right), Some(compare)) = (&right_frame, &scenario.compare) {
                            {compare_panel(t, compare, &frame, right)}
                        }
                        <Narration frame={frame.clone()} cmd={cmd.clone()} />
                        {in_flight(t, &frame, fastest)}
                        <Expectations frame={frame.clone()} cmd={cmd.clone()} />
                    </aside>
                </main>
            </div>
            <Ledger frame={frame.clone()} on_record={cmd.reform(Cmd::Record)} />
            {editor_panel(t, &p.editor, &cmd)}
            {footer(t, &frame)}
        </div>
        </ContextProvider<Tr>>
    }
}

/// `slice` of the page's background work, rendering the page again after it; true when the work
/// is done.
fn in_slices(page: &Rc<RefCell<Page>>, redraw: &UseForceUpdateHandle, slice: fn(&mut Page) -> bool) -> impl Fn() -> bool + 'static {
    let (page, redraw) = (page.clone(), redraw.clone());
    move || {
        let done = slice(&mut page.borrow_mut());
        redraw.force_update();
        done
    }
}

/// The footer: the run's seed and trace hash (which `kafkasim run --format hash` prints too).
fn footer(t: Tr, frame: &Frame) -> Html {
    html! {
        <footer data-testid="footer" data-trace-hash={frame.trace_hash.clone().unwrap_or_default()} data-seed={frame.seed.to_string()}>
            <span dir="ltr">{fill(t.footer_run, &[&frame.seed, &frame.trace_hash.clone().unwrap_or_else(|| t.computing.into())])}</span>
            {" · "}{t.footer}
        </footer>
    }
}
