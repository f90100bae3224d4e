//! The curriculum: at least 24 narrated lessons in the eight modules, each with a learning goal,
//! a question with choices, and expectations; and the teaching features of the file format
//! (compare runs, challenges, pause choices) checked for what they promise.

mod common;

use common::{load, parse, scenario_files};
use kafkasim::scenario::{self, MODULES};
use kafkasim::sim::config::Acks;
use kafkasim::sim::Action;

#[test]
fn the_curriculum_has_24_lessons_in_its_modules_each_with_a_goal_a_question_and_expectations() {
    let mut per_module = vec![Vec::new(); MODULES.len()];
    for file in scenario_files() {
        let s = scenario::load(&file).expect("valid");
        let Some(module) = s.module else { continue };
        let name = common::rel(&file);
        assert!(s.goal.as_deref().is_some_and(|g| g.len() > 20 && !g.contains('\n')), "{name}: a one-line learning goal");
        assert!(s.setup.timeline.iter().filter(|a| matches!(a.action, Action::Say(_))).count() >= 2, "{name}: narration on the steps that matter");
        let questions: Vec<_> = s
            .setup
            .timeline
            .iter()
            .filter_map(|a| match &a.action {
                Action::Pause { choices, correct, answer, .. } => Some((choices.len(), *correct, answer.is_some())),
                _ => None,
            })
            .collect();
        assert!(!questions.is_empty(), "{name}: a pause point");
        for (choices, correct, answer) in questions {
            assert!(choices >= 2 && correct.is_some_and(|c| (c as usize) < choices) && answer, "{name}: the question has choices, a right one and an answer");
        }
        assert!(!s.expectations.is_empty(), "{name}: expectations that check verifies");
        per_module[module as usize - 1].push((s.lesson, name));
    }
    let total: usize = per_module.iter().map(Vec::len).sum();
    assert!(total >= 24, "{total} lessons in the curriculum");
    for (i, lessons) in per_module.iter_mut().enumerate() {
        assert!(lessons.len() >= 2, "module {} ({}) has {} lessons", i + 1, MODULES[i], lessons.len());
        lessons.sort();
        let numbers: Vec<u32> = lessons.iter().map(|l| l.0).collect();
        let expected: Vec<u32> = (1..=lessons.len() as u32).collect();
        assert_eq!(numbers, expected, "module {} numbers its lessons 1, 2, 3…: {lessons:?}", i + 1);
    }
}

#[test]
fn compare_mode_runs_acks_all_beside_acks_1_and_only_acks_1_loses_the_record() {
    let s = load("acks1-acknowledged-loss");
    let compare = s.compare.as_ref().expect("a compare run");
    assert_eq!((compare.left.as_str(), compare.right.as_str()), ("acks=1", "acks=all"));
    assert_eq!(s.setup.producers[0].config.acks, Acks::Leader);
    assert_eq!(compare.variant.setup.producers[0].config.acks, Acks::All);
    // Everything else is the same scenario.
    assert_eq!(compare.variant.setup.timeline.len(), s.setup.timeline.len());
    assert_eq!(compare.variant.duration_ms, s.duration_ms);
    let left = s.run(s.seed, None, |_, _| {}).sim.ledger_view().totals;
    let right = compare.variant.run(s.seed, None, |_, _| {}).sim.ledger_view().totals;
    assert_eq!((left.acknowledged_lost, right.acknowledged_lost), (1, 0));
}

const CHALLENGE: &str = r#"
title = "t"
summary = "s"
seed = 2
[cluster]
brokers = 3
[[links]]
from = "broker-1"
to = "broker-2"
latency_ms = 40
[[links]]
from = "broker-1"
to = "broker-3"
latency_ms = 40
[[topics]]
name = "orders"
partitions = 1
"replication.factor" = 3
[[producers]]
name = "app"
config = { acks = 1, retries = 0 }
[[timeline]]
at = 0
produce = { value = "v{n}", count = 20, rate = 2 }
[challenge]
goal = "lose an acknowledged record"
actions = ["crash", "restart"]
expect = { acknowledged_lost = 1 }
"#;

#[test]
fn check_verifies_a_challenge_with_its_solution_and_rejects_one_that_does_not_meet_the_goal() {
    let solved = format!("{CHALLENGE}[[challenge.solution]]\nat = 1021\ncrash = 1\n[[challenge.solution]]\nat = 15000\nrestart = 1\n");
    let s = parse(&solved).expect("valid");
    assert!(s.verify().failures.is_empty(), "{:?}", s.verify().failures);
    let ch = s.challenge.as_ref().expect("a challenge");
    assert_eq!(ch.actions, ["crash", "restart"]);
    // A crash after the followers fetched everything loses nothing: the goal is not met.
    let late = format!("{CHALLENGE}[[challenge.solution]]\nat = 29000\ncrash = 1\n");
    let failures = parse(&late).expect("valid").verify().failures;
    assert!(failures.iter().any(|f| f.contains("does not meet the goal") && f.contains("acknowledged_lost ≥ 1")), "{failures:?}");
    // With no solution there is no proof the goal can be met.
    let failures = parse(CHALLENGE).expect("valid").verify().failures;
    assert!(failures.iter().any(|f| f.contains("no [[challenge.solution]]")), "{failures:?}");
}

#[test]
fn a_challenge_goal_counts_at_least_not_exactly() {
    let solved = format!("{CHALLENGE}[[challenge.solution]]\nat = 1021\ncrash = 1\n[[challenge.solution]]\nat = 15000\nrestart = 1\n");
    let s = parse(&solved.replace("acknowledged_lost = 1", "acknowledged_lost = 0")).expect("valid");
    // "At least 0" holds with no action at all: check says there is nothing to do.
    assert!(s.verify().failures.iter().any(|f| f.contains("without any action")));
}

fn first_error(text: &str) -> (usize, String, String) {
    let e = parse(text).expect_err("invalid").remove(0);
    (e.line, e.message, e.hint.unwrap_or_default())
}

#[test]
fn teaching_keys_give_located_errors_with_hints() {
    let (line, message, hint) = first_error(&CHALLENGE.replace("[\"crash\", \"restart\"]", "[\"crash\", \"restrat\"]"));
    assert_eq!((line, message.as_str()), (27, "unknown action \"restrat\""));
    assert_eq!(hint, "did you mean `restart`?");

    let (line, message, _) = first_error(&CHALLENGE.replace("expect = {", "expect = { at = 5,"));
    assert_eq!((line, message.as_str()), (28, "a challenge's goal has no `at`"));

    let pause = |p: &str| format!("{CHALLENGE}[[timeline]]\nat = 1\npause = {{ question = \"q\", {p} }}\n");
    let (_, message, hint) = first_error(&pause("correct = 1"));
    assert_eq!(message, "`correct` needs `choices`");
    assert!(hint.contains("choices = ["));
    let (_, message, _) = first_error(&pause("choices = [\"a\", \"b\"], correct = 3"));
    assert_eq!(message, "correct = 3, expected 1 to 2");
    let (_, message, _) = first_error(&pause("choices = [\"only one\"]"));
    assert_eq!(message, "1 choices, expected 2 to 6");

    let (_, message, _) = first_error(&CHALLENGE.replace("seed = 2", "seed = 2\nmodule = 11"));
    assert_eq!(message, "module = 11, expected 1 to 10");

    let compare = |c: &str| format!("{CHALLENGE}[compare]\nleft = \"a\"\nright = \"b\"\n{c}\n");
    let (line, message, _) = first_error(&compare("producers = { web = { acks = \"all\" } }"));
    assert_eq!((line, message.as_str()), (32, "compare names producer \"web\", which this scenario does not declare"));
    let (_, message, hint) = first_error(&compare("producers = { app = { akcs = \"all\" } }"));
    assert!(message.starts_with("unknown field `akcs`"), "{message}");
    assert_eq!(hint, "did you mean `acks`?");
    let (_, message, _) = first_error(&compare(""));
    assert_eq!(message, "[compare] changes no setting");
}

#[test]
fn compare_merges_into_every_consumer_with_a_star_and_keeps_other_settings() {
    let text = r#"
title = "t"
summary = "s"
[cluster]
brokers = 1
[[topics]]
name = "t"
partitions = 2
"replication.factor" = 1
[[consumers]]
name = "a"
topics = ["t"]
config = { "group.id" = "g", "session.timeout.ms" = 7000 }
[[consumers]]
name = "b"
topics = ["t"]
config = { "group.id" = "g" }
[compare]
left = "eager"
right = "cooperative"
consumers = { "*" = { "partition.assignment.strategy" = "cooperative-sticky" } }
"#;
    let s = parse(text).expect("valid");
    let v = &s.compare.as_ref().expect("compare").variant;
    for (base, changed) in s.setup.consumers.iter().zip(&v.setup.consumers) {
        assert_ne!(base.config.strategies, changed.config.strategies);
        assert_eq!(base.config.session_timeout_ms, changed.config.session_timeout_ms);
    }
    assert_eq!(v.setup.consumers[0].config.session_timeout_ms, 7000);
}

#[test]
fn the_exported_trace_replays_the_run_with_the_person_s_actions_up_to_the_step_shown() {
    use kafkasim::session::{Session, UserAction};
    let s = load("challenge-lose-an-ack");
    let mut session = Session::new(s.clone(), s.seed, Vec::new()).expect("starts");
    session.look_ahead_all();
    session.seek(40);
    session.act(UserAction::CrashBroker { broker: 1 }).expect("crash is possible");
    session.step_to_latest_action();
    for _ in 0..30 {
        session.step_forward();
    }
    let text = session.trace_text();
    let steps = text.lines().filter(|l| l.starts_with('[')).count() as u64;
    assert_eq!(steps, session.position(), "one line per step up to the position");
    assert!(text.contains("broker-1 CRASHES"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&session.trace_json()).expect("JSON");
    assert_eq!(json["position"], session.position());
    assert_eq!(json["steps"].as_array().map(Vec::len), Some(session.position() as usize));
    assert_eq!(json["steps"][0]["text"].as_str().map(|t| t.starts_with('[')), Some(true));
}

#[test]
fn seek_time_lands_on_the_last_step_at_or_before_the_time_going_both_ways() {
    use kafkasim::session::Session;
    let s = load("acks1-acknowledged-loss");
    let mut session = Session::new(s.clone(), s.seed, Vec::new()).expect("starts");
    session.look_ahead_all();
    for t in [1_030, 16_000, 500, 12_000, 0] {
        session.seek_time(t);
        assert!(session.sim().now() <= t, "at {} for {t}", session.sim().now());
        assert!(session.sim().next_event_time().is_none_or(|next| next > t), "the next event is after {t}");
    }
}

/// The impossible challenge of module 9 is impossible because of read_committed, not because its
/// goal cannot be met at all: with read_uncommitted the consumer processes the aborted records
/// without any action, and `check` says so.
#[test]
fn the_impossible_challenge_fails_check_when_it_becomes_possible() {
    let s = common::load("txn-challenge-read-aborted");
    let ch = s.challenge.as_ref().expect("a challenge");
    assert!(ch.impossible.as_deref().is_some_and(|w| w.contains("last stable offset")), "the page explains why");
    assert!(ch.solution.is_empty());
    assert!(s.verify().failures.is_empty(), "{:?}", s.verify().failures);
    let mut possible = s.clone();
    possible.setup.consumers[0].config.isolation_level = kafkasim::sim::config::IsolationLevel::ReadUncommitted;
    let failures = possible.verify().failures;
    assert!(failures.iter().any(|f| f.contains("met without any action")), "{failures:?}");
}

/// An impossible challenge may not also give a solution.
#[test]
fn an_impossible_challenge_with_a_solution_is_refused() {
    let text = std::fs::read_to_string(common::root().join("scenarios/txn-challenge-read-aborted.toml")).expect("the lesson");
    let (line, message, hint) = first_error(&format!("{text}\n[[challenge.solution]]\nat = 100\ncrash = 1\n"));
    assert_eq!(message, "a challenge that is impossible has no solution");
    assert!(line > 90 && hint.contains("impossible"), "{line} {hint}");
}
