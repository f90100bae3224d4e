//! Playback tests: stepping, seeking, snapshots, forks and user actions, natively.

use super::*;

const SCENARIO: &str = r#"
title = "t"
summary = "s"
seed = 3
duration_ms = 20000

[cluster]
brokers = 3

[[topics]]
name = "orders"
partitions = 2
replication_factor = 3

[[producers]]
name = "app"
config = { acks = "all" }

[[timeline]]
at = 100
produce = { producer = "app", topic = "orders", key = "k{n}", value = "v{n}", count = 6, rate = 10 }

[[expect]]
acknowledged = 6
"#;

fn session(actions: Vec<TimedUserAction>) -> Session {
    let scenario = crate::scenario::parse("t.toml", SCENARIO).expect("valid scenario");
    Session::new(scenario, 3, actions).expect("valid actions")
}

fn state(s: &Session) -> String {
    serde_json::to_string(&s.sim().state_view()).expect("state serializes")
}

#[test]
fn skipping_routine_steps_finds_the_nearest_narrated_position_both_ways() {
    let mut s = session(Vec::new());
    // The position after step k is k + 1; it is narrated when step k is not routine.
    let mut narrated = Vec::new();
    while let Some(step) = s.step_forward() {
        if !is_routine(step) {
            narrated.push(step.index + 1);
        }
    }
    let total = s.position();
    s.look_ahead_all();
    assert!(narrated.len() > 10 && (narrated.len() as u64) < total, "some steps are routine and some are not");
    for here in 0..=total {
        s.seek(here);
        assert_eq!(s.next_narrated(true), narrated.iter().copied().find(|&at| at > here), "forward from {here}");
        assert_eq!(s.next_narrated(false), narrated.iter().copied().rev().find(|&at| at < here), "back from {here}");
    }
}

#[test]
fn an_action_pinned_after_the_end_of_the_run_does_not_keep_it_playing() {
    let cut = UserAction::Cut { a: "broker-1".into(), b: "broker-2".into() };
    let mut s = session(vec![TimedUserAction { step: 1_000_000, action: cut }]);
    let mut steps = 0;
    while s.step_forward().is_some() {
        steps += 1;
    }
    assert!(steps > 0 && (steps as u64) < 1_000_000, "the run ends on its own after {steps} steps");
    assert!(s.at_end(), "the run is at its end although an action is pinned to a step it never reaches");
}

#[test]
fn stepping_back_and_seeking_land_on_the_forward_state() {
    let mut s = session(Vec::new());
    let mut forward = Vec::new();
    while s.step_forward().is_some() {
        forward.push(state(&s));
    }
    assert!(forward.len() as u64 > 2 * SNAPSHOT_EVERY, "the run crosses several snapshots ({} steps)", forward.len());
    s.look_ahead_all();
    assert_eq!(s.total_steps(), Some(forward.len() as u64));
    for target in [forward.len() as u64 - 1, 1, SNAPSHOT_EVERY, SNAPSHOT_EVERY + 1, 300, 299] {
        s.seek(target);
        assert_eq!(s.position(), target);
        assert_eq!(state(&s), forward[target as usize - 1], "state after {target} steps");
    }
    s.step_back();
    assert_eq!(state(&s), forward[297]);
    assert_eq!(s.last_step().map(|st| st.index), Some(297));

    // Skipping routine steps lands on the next and previous narrated ones.
    s.seek(20);
    let next = s.next_narrated(true).unwrap_or_else(|| panic!("a narrated step after 20: {:?}", s.narrated));
    s.seek(next);
    assert!(!crate::sim::describe::is_routine(s.last_step().expect("a step")));
    let back = s.next_narrated(false).expect("a narrated step before");
    assert!(back < next);
    s.seek(back);
    assert!(!crate::sim::describe::is_routine(s.last_step().expect("a step")));
}

#[test]
fn every_page_action_has_the_name_a_challenge_lists() {
    let s = || String::from("x");
    let all = [
        UserAction::CrashBroker { broker: 1 },
        UserAction::RestartBroker { broker: 1 },
        UserAction::Cut { a: s(), b: s() },
        UserAction::Heal { a: s(), b: s() },
        UserAction::CrashConsumer { consumer: s() },
        UserAction::CloseConsumer { consumer: s() },
        UserAction::StallConsumer { consumer: s() },
        UserAction::StartConsumer { consumer: s() },
        UserAction::AddConsumer { like: s(), name: s() },
        UserAction::Produce { producer: s(), topic: s(), key: None, value: s() },
    ];
    assert_eq!(all.iter().map(UserAction::kind).collect::<Vec<_>>(), crate::scenario::CHALLENGE_ACTIONS.to_vec());
}

#[test]
fn thinned_snapshots_still_land_on_the_forward_state() {
    let mut forward = session(Vec::new());
    let mut states = Vec::new();
    while forward.step_forward().is_some() {
        states.push(state(&forward));
    }
    let mut s = session(Vec::new());
    // Room for about three snapshots: the spacing doubles.
    let budget = 3 * s.sim().clone_bytes_estimate();
    s.set_snapshot_budget(budget);
    s.look_ahead_all();
    let spacing = s.snapshot_spacing();
    assert!(spacing >= 2 * SNAPSHOT_EVERY, "the spacing grew to {spacing} over {} steps", states.len());
    assert!(s.snapshots.len() <= 2 || s.snapshots.iter().map(|s| s.bytes).sum::<usize>() <= budget);
    assert!(s.snapshots.iter().enumerate().all(|(i, snap)| snap.sim.steps_taken() == i as u64 * spacing));
    for target in [states.len() as u64 - 1, spacing, spacing + 1, spacing - 1, states.len() as u64 / 3, 1] {
        s.seek(target);
        assert_eq!(state(&s), states[target as usize - 1], "state after {target} steps");
    }
    s.step_back();
    assert_eq!(s.position(), 0);
    // Stepping back one step at a time, across a checkpoint and a snapshot, from deep in a
    // spacing: each lands on the forward state, and most replay from the checkpoint.
    let deep = states.len() as u64 - 1;
    assert!(deep > spacing && spacing > SNAPSHOT_EVERY, "the run ({deep} steps) reaches past a snapshot, and a checkpoint lies between two");
    s.seek(deep);
    for target in (1..deep).rev() {
        s.step_back();
        assert_eq!(s.position(), target);
        assert_eq!(state(&s), states[target as usize - 1], "state after stepping back to {target}");
        let checkpoint = s.checkpoint.as_ref().map(Sim::steps_taken).expect("a seek leaves a checkpoint");
        assert!(checkpoint < target && target - checkpoint <= SNAPSHOT_EVERY, "checkpoint {checkpoint} near {target}");
    }
    // A fork after thinning starts again from the snapshot before it, and a replay agrees.
    s.seek(spacing + 3);
    s.act(UserAction::CrashBroker { broker: 1 }).expect("broker-1 exists");
    s.look_ahead_all();
    let mut replay = session(s.actions().to_vec());
    replay.look_ahead_all();
    assert_eq!(s.trace_hash(), replay.trace_hash());
}

#[test]
fn an_added_consumer_joins_its_group_and_a_link_replays_it() {
    let text = crate::builtin::get("more-consumers-than-partitions").expect("built in");
    let scenario = crate::scenario::parse("m.toml", text).expect("valid scenario");
    let like = scenario.setup.consumers[0].name.clone();
    let group = scenario.setup.consumers[0].config.group_id.clone();
    let mut s = Session::new(scenario.clone(), 1, Vec::new()).expect("valid");
    s.seek(500);
    s.act(UserAction::AddConsumer { like: like.clone(), name: "newcomer".into() }).expect("a new name");
    // An action in the same step may already name the consumer that the first one adds.
    s.act(UserAction::CloseConsumer { consumer: "newcomer".into() }).expect("the added consumer is known");
    assert_eq!(
        s.act(UserAction::AddConsumer { like: like.clone(), name: "newcomer".into() }).unwrap_err(),
        "\"newcomer\" cannot name a new consumer (it must be new, at most 64 characters, without spaces)"
    );
    s.step_to_latest_action();
    let added = s.sim().consumers.iter().position(|c| c.name == "newcomer").expect("added") as u32;
    assert_eq!(s.sim().consumers[added as usize].group, s.sim().consumers[0].group);
    let closed = crate::sim::describe::describe_step(s.sim(), s.last_step().expect("a step"));
    assert!(closed.contains("newcomer"), "the close runs on the added consumer: {closed}");
    s.step_back();
    let added_step = crate::sim::describe::describe_step(s.sim(), s.last_step().expect("a step"));
    assert!(added_step.contains(&format!("a new consumer newcomer is added to group {group}, with the settings of {like}")), "{added_step}");
    s.look_ahead_all();
    let hash = s.trace_hash().expect("finished");
    let mut replay = Session::new(scenario, 1, s.actions().to_vec()).expect("the actions resolve in order");
    replay.look_ahead_all();
    assert_eq!(replay.trace_hash(), Some(hash));
}

#[test]
fn a_consumer_added_like_a_scripted_one_runs_the_poll_loop() {
    let text = crate::builtin::get("commit-before-processing-by-hand").expect("built in");
    let scenario = crate::scenario::parse("c.toml", text).expect("valid scenario");
    let like = scenario.setup.consumers[0].name.clone();
    assert!(scenario.setup.consumers[0].app.scripted);
    let mut s = Session::new(scenario, 1, Vec::new()).expect("valid");
    s.seek(100);
    s.act(UserAction::AddConsumer { like, name: "helper".into() }).expect("a new name");
    s.look_ahead_all();
    s.seek(s.total_steps().expect("finished"));
    let added = s.sim().consumers.iter().position(|c| c.name == "helper").expect("added");
    let c = &s.sim().consumers[added];
    // No timeline line names it, so a scripted copy would never poll; the copy loops, and with
    // enable.auto.commit off it commits after processing.
    assert!(!c.app_behaviour.scripted);
    assert_eq!(c.app_behaviour.commit, crate::sim::CommitPolicy::AfterProcessing);
    // It joined the group from its own polls (the one partition stays with billing-1, first by id).
    assert!(!c.member_id.is_empty(), "the added consumer joined");
    assert_eq!(c.app, crate::sim::consumer::AppState::Polling);
}

#[test]
fn the_look_ahead_hash_matches_a_plain_run_and_expectations_are_checked() {
    let mut s = session(Vec::new());
    s.look_ahead_all();
    let scenario = crate::scenario::parse("t.toml", SCENARIO).expect("valid scenario");
    let mut hash = TraceHash::default();
    let outcome = scenario.run(3, None, |sim, step| hash.add(sim, &step));
    assert_eq!(s.trace_hash(), Some(hash.hex()));
    assert_eq!(s.total_steps(), Some(outcome.sim.steps_taken()));
    assert_eq!(s.expectation_results().len(), 1);
    assert!(s.expectation_results()[0].passed());
}

#[test]
fn a_user_action_forks_the_run_and_replays_identically() {
    let mut s = session(Vec::new());
    s.seek(40);
    s.act(UserAction::CrashBroker { broker: 1 }).expect("broker-1 exists");
    s.step_to_latest_action();
    let crashed = s.last_step().expect("a step").effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::BrokerCrashed { broker: 1 })));
    assert!(crashed, "the step shown after the click is the crash");
    s.seek(41);
    s.act(UserAction::Produce { producer: "app".into(), topic: "orders".into(), key: Some("{n}".into()), value: "typed".into() })
        .expect("valid produce");
    s.look_ahead_all();
    assert!(s.markers().iter().any(|m| m.kind == MarkerKind::Crash && m.at > 40), "{:?}", s.markers());
    assert!(s.markers().iter().any(|m| m.kind == MarkerKind::Election), "the crash of a leader elects another: {:?}", s.markers());
    let hash = s.trace_hash();
    s.seek(200);
    let at_200 = state(&s);

    let mut replay = session(s.actions().to_vec());
    replay.look_ahead_all();
    assert_eq!(replay.trace_hash(), hash);
    replay.seek(200);
    assert_eq!(state(&replay), at_200);
    assert!(at_200.contains("\"key\":\"{n}\""), "a typed key is not a template");

    // Acting earlier drops the later actions of the old timeline.
    s.seek(10);
    s.act(UserAction::RestartBroker { broker: 2 }).expect("broker-2 exists");
    assert_eq!(s.actions().len(), 1);
}

#[test]
fn bad_user_actions_are_refused_with_a_reason() {
    let scenario = crate::scenario::parse("t.toml", SCENARIO).expect("valid scenario");
    let bad = |action: UserAction| Session::new(scenario.clone(), 1, vec![TimedUserAction { step: 0, action }]).err().expect("refused");
    assert_eq!(bad(UserAction::CrashBroker { broker: 9 }), "user action 1: there is no broker-9 (the cluster has 3)");
    assert_eq!(bad(UserAction::CrashConsumer { consumer: "app".into() }), "user action 1: there is no consumer named \"app\"");
    assert_eq!(bad(UserAction::Cut { a: "broker-1".into(), b: "nobody".into() }), "user action 1: there is no node named \"nobody\"");
    let unordered = vec![
        TimedUserAction { step: 5, action: UserAction::CrashBroker { broker: 1 } },
        TimedUserAction { step: 2, action: UserAction::RestartBroker { broker: 1 } },
    ];
    assert_eq!(Session::new(scenario, 1, unordered).err().as_deref(), Some("user actions are not in step order"));
}
