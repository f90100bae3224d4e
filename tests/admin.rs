//! Operator actions on a running cluster: `incremental_alter_configs`, `power_loss`, `create_partitions`
//! and `create_topics`.

mod common;

/// A cluster that is switched off for good: every broker lost power, and unclean election is
/// turned on for its offline partition afterwards.
const ALL_DOWN: &str = r#"
title = "All down"
summary = "Every broker stops; the operator turns unclean election on."
seed = 1
duration_ms = 900000

[cluster]
brokers = 2

[[topics]]
name = "orders"
partitions = 1
"replication.factor" = 2

[[timeline]]
at = 1000
power_loss = 1

[[timeline]]
at = 1000
power_loss = 2

[[timeline]]
at = 30000
incremental_alter_configs = { topic = "orders", config = { "unclean.leader.election.enable" = true } }
"#;

#[test]
fn a_stopped_cluster_runs_out_of_events_even_with_the_unclean_election_check_pending() {
    let s = common::parse(ALL_DOWN).expect("valid");
    let mut sim = s.start(s.seed);
    let mut steps = 0;
    while sim.step().is_some() {
        steps += 1;
        assert!(steps < 10_000, "the run never ends: a periodic check keeps rescheduling itself");
    }
    assert!(sim.now() >= 300_000, "the controller's check ran at its five-minute tick, at {} ms", sim.now());
    assert_eq!(sim.controller.parts[0].leader, None, "no replica is alive to elect");
}

#[test]
fn turning_unclean_election_on_elects_at_the_next_five_minute_tick_not_at_once() {
    let text = ALL_DOWN.replace("[[timeline]]\nat = 30000", "[[timeline]]\nat = 20000\nrestart = 1\n\n[[timeline]]\nat = 30000");
    let s = common::parse(&text).expect("valid");
    let mut sim = s.start(s.seed);
    sim.run_until(299_999, |_, _| {});
    assert_eq!(sim.controller.parts[0].leader, None, "broker-1 restarted after an unclean shutdown, and broker-2, the last known leader, is still down");
    sim.run_until(300_000, |_, _| {});
    assert_eq!(sim.controller.parts[0].leader, Some(1), "the check at 300,000 ms elects broker-1 uncleanly");
    assert_eq!(sim.controller.unclean_elections, 1);
}

/// A topic of two partitions raised to four at 1 s; the producer refreshes its metadata every 10 s
/// and sends key "c" (murmur2 % 2 = 0, % 4 = 2) before and after its refresh, and a new topic is
/// created at 5 s and written to at once.
const GROWTH: &str = r#"
title = "Growth"
summary = "createPartitions and createTopics while a producer runs."
seed = 1
duration_ms = 30000

[cluster]
brokers = 3

[[topics]]
name = "orders"
partitions = 2
"replication.factor" = 3

[[producers]]
name = "app"
config = { "metadata.max.age.ms" = 10000 }

[[timeline]]
at = 1000
create_partitions = { topic = "orders", count = 4 }

[[timeline]]
at = 2000
produce = { topic = "orders", key = "c", value = "before-refresh" }

[[timeline]]
at = 5000
create_topics = { name = "refunds", partitions = 1, "replication.factor" = 3 }

[[timeline]]
at = 5000
produce = { topic = "refunds", key = "c", value = "first-refund" }

[[timeline]]
at = 12000
produce = { topic = "orders", key = "c", value = "after-refresh" }
"#;

fn record<'a>(sim: &'a kafkasim::sim::Sim, value: &str) -> &'a kafkasim::sim::ledger::LedgerRecord {
    sim.ledger.records.iter().find(|r| r.value == value).unwrap_or_else(|| panic!("a record {value}"))
}

#[test]
fn the_producer_partitions_by_the_count_it_last_heard_until_its_metadata_refresh() {
    let s = common::parse(GROWTH).expect("valid");
    let mut sim = s.start(s.seed);
    sim.run_until(30_000, |_, _| {});
    let name = |r: &kafkasim::sim::ledger::LedgerRecord| sim.tp_name(r.tp);
    assert_eq!(name(record(&sim, "before-refresh")), "orders-0", "murmur2(c) % 2: the producer has not heard of the new partitions");
    assert_eq!(name(record(&sim, "after-refresh")), "orders-2", "murmur2(c) % 4 once its refresh at 10 s showed four partitions");
    let orders_2 = sim.find_tp("orders-2").expect("created");
    let leader = sim.controller.parts[sim.pidx(orders_2) as usize].leader.expect("orders-2 has a leader");
    let replica = sim.broker(leader).replicas[sim.pidx(orders_2) as usize].as_ref().expect("the leader hosts it");
    let log: Vec<String> = replica.log.records().map(|r| sim.ledger.get(r.record).value.clone()).collect();
    assert_eq!(log, ["after-refresh"]);
}

#[test]
fn a_send_to_a_topic_the_producer_does_not_know_yet_waits_for_one_metadata_request() {
    let s = common::parse(GROWTH).expect("valid");
    let mut sim = s.start(s.seed);
    let mut blocked_at = None;
    sim.run_until(30_000, |sim, step| {
        for e in &step.effects {
            if let Some(text) = e.describe(sim).filter(|t| t.contains("blocks")) {
                assert!(text.contains("topic refunds"), "{text}");
                blocked_at.get_or_insert(step.time);
            }
        }
    });
    assert_eq!(blocked_at, Some(5000), "the send at 5 s blocks: the producer's metadata is from before the topic existed");
    let r = record(&sim, "first-refund");
    assert_eq!(sim.tp_name(r.tp), "refunds-0");
    assert!(r.created_at > 5000, "the record is made once the metadata came back, not at the blocked call ({} ms)", r.created_at);
    assert!(matches!(r.outcome, kafkasim::sim::ledger::Outcome::Acknowledged { .. }), "{:?}", r.outcome);
}

#[test]
fn a_partition_does_not_exist_for_the_cluster_before_create_partitions_runs() {
    let s = common::parse(GROWTH).expect("valid");
    let mut sim = s.start(s.seed);
    let pidx = sim.pidx(sim.find_tp("orders-3").expect("planned"));
    sim.run_until(999, |_, _| {});
    assert!(sim.controller.parts[pidx as usize].replicas.is_empty(), "no replicas before the call");
    assert_eq!(sim.topics[0].partitions, 2);
    sim.run_until(1000, |_, _| {});
    let part = &sim.controller.parts[pidx as usize];
    assert_eq!((part.replicas.len(), part.leader.is_some(), part.isr.len()), (3, true, 3), "registered with a leader and a full ISR");
    assert_eq!(sim.topics[0].partitions, 4);
}

#[test]
fn clearing_the_elrs_of_a_partition_with_only_a_last_known_leader_says_so() {
    use kafkasim::sim::{ClusterEffect, IsrCause};
    let s = common::parse(ALL_DOWN).expect("valid");
    let sim = s.start(s.seed);
    let tp = sim.find_tp("orders-0").expect("exists");
    let cleared = ClusterEffect::IsrChanged { tp, from: vec![1], to: vec![1], elr_from: vec![], elr_to: vec![], partition_epoch: 3, cause: IsrCause::MinIsrAltered };
    let text = cleared.describe(&sim);
    assert!(text.starts_with("controller: orders-0 forgets its last known leader, ISR stays [1]"), "{text}");
    let elr = ClusterEffect::IsrChanged { tp, from: vec![1], to: vec![1], elr_from: vec![2], elr_to: vec![], partition_epoch: 3, cause: IsrCause::MinIsrAltered };
    assert!(elr.describe(&sim).starts_with("controller: ELR of orders-0 [2] → [], ISR stays [1]"), "{}", elr.describe(&sim));
}
