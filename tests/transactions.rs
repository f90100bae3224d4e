//! Offsets committed in a transaction (`sendOffsetsToTransaction`, KIP-447 with transaction
//! version 2): pending at the group coordinator until the transaction's marker reaches
//! `__consumer_offsets`, invisible to OffsetFetch meanwhile, committed or dropped by the marker,
//! and kept across a coordinator failover.

mod common;

use kafkasim::scenario::Scenario;
use kafkasim::sim::{ConsumerEffect, Effect, GroupEffect, KafkaError, ProducerEffect, Sim};

/// Three brokers, topic `orders` (one partition, RF 3, min ISR 2), the transactional producer
/// `p`, and `rest` (consumers, timeline, expectations).
fn scenario(rest: &str) -> Scenario {
    let text = format!(
        "title = \"t\"\nsummary = \"s\"\nduration_ms = 30000\n[cluster]\nbrokers = 3\nnetwork = {{ latency_ms = 5 }}\n\
         [[topics]]\nname = \"orders\"\npartitions = 1\n\"replication.factor\" = 3\nconfig = {{ \"min.insync.replicas\" = 2 }}\n\
         [[producers]]\nname = \"p\"\nconfig = {{ \"transactional.id\" = \"tx-1\", \"linger.ms\" = 0 }}\n\
         [[timeline]]\nat = 100\ninit_transactions = \"p\"\n[[timeline]]\nat = 500\nbegin_transaction = \"p\"\n\
         [[timeline]]\nat = 510\nproduce = {{ producer = \"p\", key = \"a\", value = \"v0\" }}\n\
         [[timeline]]\nat = 700\nsend_offsets_to_transaction = {{ producer = \"p\", group = \"g\", offsets = {{ \"orders-0\" = 7 }} }}\n{rest}"
    );
    common::parse(&text).unwrap_or_else(|e| panic!("valid test scenario: {e:?}\n{text}"))
}

fn until(sim: &mut Sim, t: u64) -> Vec<Effect> {
    let mut effects = Vec::new();
    sim.run_until(t, |_, step| effects.extend(step.effects));
    effects
}

fn group_g(sim: &Sim) -> (Option<u64>, Option<u64>) {
    let g = sim.group_view(0);
    (g.committed.get("orders-0").copied(), g.pending.get("orders-0").copied())
}

#[test]
fn offsets_sent_to_a_transaction_count_only_when_its_commit_marker_is_replicated() {
    let mut sim = scenario("[[timeline]]\nat = 2000\ncommit_transaction = \"p\"\n").start(1);
    let effects = until(&mut sim, 1500);
    assert!(effects.iter().any(|e| matches!(e, Effect::Producer(ProducerEffect::TxnOffsetsAdded { .. }))), "the call returned");
    assert_eq!(group_g(&sim), (None, Some(7)), "pending, not committed, while the transaction is open");
    // The coordinator added the group's partition to the transaction.
    let txn = &sim.txn_views()[0];
    assert!(txn.partitions.iter().any(|p| p.starts_with("__consumer_offsets-")), "partitions: {:?}", txn.partitions);
    let effects = until(&mut sim, 5000);
    let committed = effects.iter().position(|e| matches!(e, Effect::Group(GroupEffect::TxnOffsetsCompleted { commit: true, .. })));
    assert!(committed.is_some(), "the COMMIT marker on __consumer_offsets committed them");
    assert_eq!(group_g(&sim), (Some(7), None));
}

#[test]
fn an_abort_drops_the_transactions_offsets_and_keeps_the_committed_ones() {
    let mut sim = scenario("[[timeline]]\nat = 2000\nabort_transaction = \"p\"\n").start(1);
    until(&mut sim, 1500);
    assert_eq!(group_g(&sim), (None, Some(7)));
    let effects = until(&mut sim, 5000);
    assert!(effects.iter().any(|e| matches!(e, Effect::Group(GroupEffect::TxnOffsetsCompleted { commit: false, .. }))));
    assert_eq!(group_g(&sim), (None, None), "nothing committed, nothing pending");
}

#[test]
fn a_consumer_asking_for_committed_offsets_meanwhile_gets_unstable_offset_commit_and_retries() {
    // The consumer of group g starts while the transaction is open: its OffsetFetch finds the
    // pending offset, retries every retry.backoff.ms, and starts at 7 once the commit lands.
    let consumer = "[[consumers]]\nname = \"c\"\ntopics = [\"orders\"]\nstart = false\n\
                    config = { \"group.id\" = \"g\", \"isolation.level\" = \"read_committed\", \"auto.offset.reset\" = \"earliest\" }\n\
                    [[timeline]]\nat = 1000\nstart_consumer = \"c\"\n[[timeline]]\nat = 8000\ncommit_transaction = \"p\"\n";
    let mut sim = scenario(consumer).start(1);
    let effects = until(&mut sim, 7900);
    let unstable = effects.iter().filter(|e| matches!(e, Effect::Group(GroupEffect::OffsetFetchUnstable { .. }))).count();
    assert!(unstable >= 5, "the fetch is refused again and again while the transaction is open: {unstable}");
    let failed = sim.consumer_view(0).errors_seen.get(&KafkaError::UnstableOffsetCommit).copied().unwrap_or(0);
    assert_eq!(failed as usize, unstable, "each refusal reached the consumer");
    assert_eq!(sim.consumer_view(0).positions.get("orders-0"), None, "no position while the offset is unstable");
    let effects = until(&mut sim, 12000);
    let started = effects.iter().find_map(|e| match e {
        Effect::Consumer(ConsumerEffect::PositionFromCommit { offset, .. }) => Some(*offset),
        _ => None,
    });
    assert_eq!(started, Some(7), "it starts at the offset the transaction committed");
}

#[test]
fn a_new_group_coordinator_loads_the_pending_offsets_and_the_marker_commits_them() {
    // __consumer_offsets-3 (group g) is led by broker 1; it crashes with the offsets pending, so
    // the next leader (once the controller notices, broker.session.timeout.ms later) loads them
    // from its log, and the commit's marker goes to it.
    let mut sim = scenario("[[timeline]]\nat = 1500\ncrash = 1\n[[timeline]]\nat = 15000\ncommit_transaction = \"p\"\n").start(1);
    until(&mut sim, 1400);
    assert_eq!(sim.group_view(0).coordinator, Some(1));
    until(&mut sim, 14000);
    let view = sim.group_view(0);
    assert_ne!(view.coordinator, Some(1));
    assert_eq!((view.committed.get("orders-0").copied(), view.pending.get("orders-0").copied()), (None, Some(7)), "loaded as pending");
    until(&mut sim, 25000);
    assert_eq!(group_g(&sim), (Some(7), None));
}


/// A consume-transform-produce pipeline over `orders` into `out`, exactly-once, with its
/// consumer's extra settings and `rest`.
fn pipeline(consumer_config: &str, rest: &str) -> String {
    format!(
        "title = \"t\"\nsummary = \"s\"\nduration_ms = 20000\n[cluster]\nbrokers = 3\nnetwork = {{ latency_ms = 5 }}\n\
         [[topics]]\nname = \"orders\"\npartitions = 1\n\"replication.factor\" = 3\n\
         [[topics]]\nname = \"out\"\npartitions = 1\n\"replication.factor\" = 3\n\
         [[producers]]\nname = \"shop\"\n[[producers]]\nname = \"w\"\nconfig = {{ \"transactional.id\" = \"w-1\" }}\n\
         [[consumers]]\nname = \"r\"\ntopics = [\"orders\"]\nstart = false\nconfig = {{ \"group.id\" = \"g\"{consumer_config} }}\n\
         [[pipelines]]\nname = \"app\"\nconsumer = \"r\"\nproducer = \"w\"\noutput = \"out\"\nguarantee = \"exactly_once\"\n{rest}"
    )
}

#[test]
fn a_pipeline_reading_from_latest_is_judged_on_what_it_read() {
    // Three orders before the application starts at latest, two after: only those two are its.
    let text = pipeline(
        "",
        "[[timeline]]\nat = 100\nproduce = { producer = \"shop\", topic = \"orders\", value = \"early-{n}\", count = 3 }\n\
         [[timeline]]\nat = 1000\nstart_consumer = \"r\"\n\
         [[timeline]]\nat = 8000\nproduce = { producer = \"shop\", topic = \"orders\", value = \"late-{n}\", count = 2 }\n",
    );
    let s = common::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
    let mut sim = s.start(1);
    until(&mut sim, 20000);
    let v = sim.pipeline_verdict(0);
    assert_eq!((v.inputs, v.lost, v.duplicated, v.outputs), (2, 0, 0, 2), "{v:?}");
}

#[test]
fn pipelines_that_share_a_group_but_not_an_output_are_refused() {
    let mut text = pipeline("", "");
    text = text.replace("[[pipelines]]", "[[topics]]\nname = \"out2\"\npartitions = 1\n\"replication.factor\" = 3\n[[producers]]\nname = \"w2\"\nconfig = { \"transactional.id\" = \"w-2\" }\n[[consumers]]\nname = \"r2\"\ntopics = [\"orders\"]\nconfig = { \"group.id\" = \"g\" }\n[[pipelines]]\nname = \"other\"\nconsumer = \"r2\"\nproducer = \"w2\"\noutput = \"out2\"\nguarantee = \"exactly_once\"\n[[pipelines]]");
    let errors = common::parse(&text).expect_err("refused");
    assert!(errors.iter().any(|e| e.message.contains("share a group or an output topic, but not both")), "{errors:?}");
}

#[test]
fn a_pipeline_expectation_refuses_checks_that_are_not_its_own() {
    let errors = common::parse(&pipeline("", "[[expect]]\npipeline = \"app\"\nverdict = \"exactly-once\"\nprocessed = 3\n")).expect_err("refused");
    assert!(errors.iter().any(|e| e.message == "`processed` is not a pipeline check, and this expectation names a pipeline"), "{errors:?}");
    // Partition checks too: none of them is silently ignored.
    let errors = common::parse(&pipeline("", "[[expect]]\npipeline = \"app\"\nlost = 0\nhigh_watermark = 3\nisr = [1, 2]\n")).expect_err("refused");
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert!(messages.contains(&"`high_watermark` is not a pipeline check, and this expectation names a pipeline"), "{messages:?}");
    assert!(messages.contains(&"`isr` is not a pipeline check, and this expectation names a pipeline"), "{messages:?}");
}

#[test]
fn a_send_refused_as_too_large_leaves_the_transaction_abortable() {
    let text = "title = \"t\"\nsummary = \"s\"\nduration_ms = 5000\n[cluster]\nbrokers = 3\n\
                [[topics]]\nname = \"orders\"\npartitions = 1\n\"replication.factor\" = 3\n\
                [[producers]]\nname = \"p\"\nconfig = { \"transactional.id\" = \"tx-1\", \"max.request.size\" = 200 }\n\
                [[timeline]]\nat = 100\ninit_transactions = \"p\"\n[[timeline]]\nat = 500\nbegin_transaction = \"p\"\n\
                [[timeline]]\nat = 510\nproduce = { producer = \"p\", value = \"v\", value_bytes = 1000 }\n";
    let s = common::parse(text).unwrap_or_else(|e| panic!("{e:?}"));
    let mut sim = s.start(1);
    until(&mut sim, 1000);
    let txn = sim.state_view().producers[0].transaction.clone().expect("transactional");
    assert_eq!((txn.state, txn.error), ("ABORTABLE_ERROR", Some(KafkaError::RecordTooLarge)), "KafkaProducer.doSend's maybeTransitionToErrorState");
}

#[test]
fn a_member_and_its_generation_are_sent_together() {
    let text = |extra: &str| {
        format!(
            "title = \"t\"\nsummary = \"s\"\nduration_ms = 5000\n[cluster]\nbrokers = 3\n\
             [[topics]]\nname = \"orders\"\npartitions = 1\n\"replication.factor\" = 3\n\
             [[producers]]\nname = \"p\"\nconfig = {{ \"transactional.id\" = \"tx-1\" }}\n\
             [[consumers]]\nname = \"c1\"\ntopics = [\"orders\"]\nconfig = {{ \"group.id\" = \"g\" }}\n\
             [[timeline]]\nat = 100\nsend_offsets_to_transaction = {{ producer = \"p\", group = \"g\", offsets = {{ \"orders-0\" = 1 }}{extra} }}\n"
        )
    };
    let errors = common::parse(&text(", member = \"c1\"")).expect_err("refused");
    assert!(errors.iter().any(|e| e.message == "`member` and `generation` go together"), "{errors:?}");
    let errors = common::parse(&text(", member = \"c9\", generation = 1")).expect_err("refused");
    assert!(errors.iter().any(|e| e.message.contains("c9")), "an unknown consumer is named: {errors:?}");
    assert!(common::parse(&text(", member = \"c1\", generation = 1")).is_ok());
}
