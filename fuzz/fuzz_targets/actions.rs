//! Structure-aware: a shipped scenario driven by an arbitrary sequence of the actions a person can
//! take at the page (crash, restart, cut, heal, consumers coming and going, produce), at arbitrary
//! steps, then played forwards and backwards. Nothing may panic, and the logs' structural
//! invariants must hold at every step.
#![no_main]

use arbitrary::Arbitrary;
use kafkasim::session::{Session, TimedUserAction, UserAction};
use kafkasim::sim::invariants::{Checker, Invariant};
use libfuzzer_sys::fuzz_target;

/// Steps played per input.
const STEPS: u64 = 4_000;

#[derive(Arbitrary, Debug)]
struct Input {
    scenario: u8,
    seed: u8,
    actions: Vec<(u16, Act)>,
    seeks: Vec<u16>,
}

/// Names are picked by index so that most actions are valid; `Named` tries any text.
#[derive(Arbitrary, Debug)]
enum Act {
    CrashBroker(u8),
    RestartBroker(u8),
    Cut(u8, u8),
    Heal(u8, u8),
    CrashConsumer(u8),
    CloseConsumer(u8),
    StartConsumer(u8),
    AddConsumer(u8),
    Produce { producer: u8, topic: u8, key: Option<String>, value: String },
    Named(String),
}

fuzz_target!(|input: Input| {
    let shipped = kafkasim::builtin::BUILTIN;
    let (name, text) = shipped[input.scenario as usize % shipped.len()];
    let scenario = kafkasim::scenario::parse(name, text).expect("shipped scenarios parse");
    let sim = scenario.start(0);
    let nodes: Vec<String> = std::iter::once("controller".to_string())
        .chain(sim.brokers.iter().map(|b| format!("broker-{}", b.id)))
        .chain(sim.producers.iter().map(|p| p.name.clone()))
        .chain(sim.consumers.iter().map(|c| c.name.clone()))
        .collect();
    let consumers: Vec<String> = sim.consumers.iter().map(|c| c.name.clone()).collect();
    let pick = |list: &[String], i: u8| list.get(i as usize % list.len().max(1)).cloned().unwrap_or_default();
    let mut actions: Vec<TimedUserAction> = input
        .actions
        .iter()
        .take(64)
        .enumerate()
        .map(|(n, (step, act))| {
            let action = match act {
                Act::CrashBroker(b) => UserAction::CrashBroker { broker: *b as u32 % 8 },
                Act::RestartBroker(b) => UserAction::RestartBroker { broker: *b as u32 % 8 },
                Act::Cut(a, b) => UserAction::Cut { a: pick(&nodes, *a), b: pick(&nodes, *b) },
                Act::Heal(a, b) => UserAction::Heal { a: pick(&nodes, *a), b: pick(&nodes, *b) },
                Act::CrashConsumer(c) => UserAction::CrashConsumer { consumer: pick(&consumers, *c) },
                Act::CloseConsumer(c) => UserAction::CloseConsumer { consumer: pick(&consumers, *c) },
                Act::StartConsumer(c) => UserAction::StartConsumer { consumer: pick(&consumers, *c) },
                Act::AddConsumer(c) => UserAction::AddConsumer { like: pick(&consumers, *c), name: format!("added-{n}") },
                Act::Produce { producer, topic, key, value } => UserAction::Produce {
                    producer: pick(&nodes, *producer),
                    topic: sim.topics.get(*topic as usize % sim.topics.len()).map(|t| t.name.clone()).unwrap_or_default(),
                    key: key.clone(),
                    value: value.clone(),
                },
                Act::Named(text) => UserAction::CrashConsumer { consumer: text.clone() },
            };
            TimedUserAction { step: *step as u64, action }
        })
        .collect();
    actions.sort_by_key(|a| a.step);
    let Ok(mut session) = Session::new(scenario, input.seed as u64, actions) else { return };
    let mut checker = Checker::new();
    for _ in 0..STEPS {
        if session.step_forward().is_none() {
            break;
        }
        if let Some(v) = checker.check(session.sim()) {
            // A pipeline's results twice are a promise only of exactly_once under a safe configuration.
            let unsafe_pipeline = v.invariant == Invariant::PipelineExactlyOnce && !Checker::safe(session.sim());
            assert!(unsafe_pipeline || matches!(v.invariant, Invariant::AcknowledgedRecordKept | Invariant::CommittedOffsetMonotonic), "{v:?}");
        }
    }
    // Seeking anywhere, backwards or forwards, lands on the step asked for.
    let end = session.position();
    for &target in input.seeks.iter().take(8) {
        session.seek(target as u64 % (end + 1));
        assert_eq!(session.position(), target as u64 % (end + 1));
    }
});
