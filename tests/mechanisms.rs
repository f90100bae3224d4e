//! One test per mechanism, each against a small cluster written as a scenario.

mod common;

use kafkasim::scenario::Scenario;
use kafkasim::sim::config::{Acks, ProducerConfigRaw};
use kafkasim::sim::ledger::Outcome;
use kafkasim::sim::{default_assignment, ClusterEffect, Effect, Election, GroupEffect, KafkaError, NetEffect, NodeId, ProducerEffect, Sim, StepEvent};


/// A scenario with `brokers`, one topic `t` (1 partition, RF = `rf`), producer `p`, plus `rest`.
fn scenario(brokers: u32, rf: u32, cluster_config: &str, topic_config: &str, producer_config: &str, rest: &str) -> Scenario {
    let text = format!(
        "title = \"t\"\nsummary = \"s\"\nduration_ms = 60000\n[cluster]\nbrokers = {brokers}\nnetwork = {{ latency_ms = 5 }}\nconfig = {{ {cluster_config} }}\n\
         [[topics]]\nname = \"t\"\npartitions = 1\n\"replication.factor\" = {rf}\nconfig = {{ {topic_config} }}\n\
         [[producers]]\nname = \"p\"\nconfig = {{ {producer_config} }}\n{rest}"
    );
    common::parse(&text).unwrap_or_else(|e| panic!("valid test scenario: {e:?}\n{text}"))
}

fn until(sim: &mut Sim, t: u64) -> Vec<Effect> {
    let mut effects = Vec::new();
    sim.run_until(t, |_, step| effects.extend(step.effects));
    effects
}

fn leader(sim: &Sim) -> Option<u32> {
    sim.controller.parts[0].leader
}

fn isr(sim: &Sim) -> Vec<u32> {
    let mut v = sim.controller.parts[0].isr.clone();
    v.sort_unstable();
    v
}

fn hw(sim: &Sim, broker: u32) -> u64 {
    sim.broker(broker).replicas[0].as_ref().expect("replica").log.high_watermark()
}

fn leo(sim: &Sim, broker: u32) -> u64 {
    sim.broker(broker).replicas[0].as_ref().expect("replica").log.leo()
}

#[test]
fn replica_placement_follows_kafkas_rack_unaware_assignment() {
    assert_eq!(default_assignment(3, 3, 3), vec![vec![1, 2, 3], vec![2, 3, 1], vec![3, 1, 2]]);
    // After one round over the brokers the second replica shifts, as in AdminUtils.
    assert_eq!(default_assignment(6, 3, 3)[3], vec![1, 3, 2]);
    assert_eq!(default_assignment(4, 2, 4), vec![vec![1, 2], vec![2, 3], vec![3, 4], vec![4, 1]]);
}

#[test]
fn high_watermark_needs_every_isr_member_and_followers_learn_it_on_the_next_fetch() {
    // linger.ms = 0 so that the record leaves at once and the times below are its own round trips.
    let s = scenario(3, 3, "", "", "acks = 1, \"linger.ms\" = 0", "[[timeline]]\nat = 1000\nproduce = { value = \"a\" }\n");
    let mut sim = s.start(1);
    until(&mut sim, 1005);
    assert_eq!((leo(&sim, 1), hw(&sim, 1)), (1, 0), "appended, not yet replicated");
    until(&mut sim, 1010);
    assert_eq!((leo(&sim, 2), leo(&sim, 3)), (1, 1), "parked fetches answered at once");
    assert_eq!(hw(&sim, 1), 0, "the leader has not yet heard the followers' new LEO");
    until(&mut sim, 1015);
    assert_eq!(hw(&sim, 1), 1, "both followers fetched from offset 1");
    assert_eq!((hw(&sim, 2), hw(&sim, 3)), (0, 0), "followers learn the HW only from a fetch response");
    until(&mut sim, 1015 + 500 + 5);
    assert_eq!((hw(&sim, 2), hw(&sim, 3)), (1, 1), "after replica.fetch.wait.max.ms the parked fetch returns the HW");
}

#[test]
fn isr_shrink_happens_at_the_first_check_past_the_lag() {
    let s = scenario(
        3,
        3,
        "\"replica.lag.time.max.ms\" = 10000",
        "",
        "acks = 1",
        "[[timeline]]\nat = 1000\ncut = { from = \"broker-1\", to = \"broker-3\" }\n[[timeline]]\nat = 2000\nproduce = { value = \"a\" }\n",
    );
    let mut sim = s.start(1);
    // broker-3 was last caught up at ~1,000 ms (its parked fetch at offset 0 = LEO). Checks run
    // every 5,000 ms: at 10,000 the lag is about 9,000 ms (kept), at 15,000 about 14,000 (removed).
    until(&mut sim, 14_999);
    assert_eq!(isr(&sim), vec![1, 2, 3]);
    let effects = until(&mut sim, 15_100);
    assert!(effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::IsrShrinkRequested { removed, .. }) if removed == &vec![3])));
    assert_eq!(isr(&sim), vec![1, 2]);
}

#[test]
fn a_silent_follower_that_has_everything_stays_in_sync() {
    // Kafka counts a follower whose LEO equals the leader's as caught up, fetching or not.
    let s = scenario(3, 3, "\"replica.lag.time.max.ms\" = 10000", "", "", "[[timeline]]\nat = 1000\ncut = { from = \"broker-1\", to = \"broker-3\" }\n");
    let mut sim = s.start(1);
    until(&mut sim, 60_000);
    assert_eq!(isr(&sim), vec![1, 2, 3]);
}

#[test]
fn the_controller_fences_a_crashed_broker_after_the_session_timeout_and_elects_in_replica_order() {
    let s = scenario(3, 3, "\"broker.session.timeout.ms\" = 9000", "", "", "[[timeline]]\nat = 1000\ncrash = 1\n");
    let mut sim = s.start(1);
    until(&mut sim, 8_999);
    assert_eq!(leader(&sim), Some(1), "no heartbeat since 0 ms, but 9,000 ms have not passed");
    let effects = until(&mut sim, 9_000);
    assert!(effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::BrokerFenced { broker: 1, silent_ms: 9_000, .. }))));
    assert_eq!(leader(&sim), Some(2), "first live ISR member in assignment order [1,2,3]");
    assert_eq!(sim.controller.parts[0].leader_epoch, 1);
    assert_eq!(isr(&sim), vec![2, 3]);
}

fn two_brokers_both_crash(unclean: bool, cluster_config: &str) -> Sim {
    let s = scenario(
        2,
        2,
        cluster_config,
        &format!("\"unclean.leader.election.enable\" = {unclean}"),
        "",
        "[[timeline]]\nat = 0\ncrash = 2\n[[timeline]]\nat = 10000\ncrash = 1\n[[timeline]]\nat = 20000\nrestart = 2\n",
    );
    let mut sim = s.start(1);
    until(&mut sim, 25_000);
    sim
}

#[test]
fn without_unclean_election_the_partition_waits_offline_for_its_last_leader() {
    let mut sim = two_brokers_both_crash(false, "");
    assert_eq!(leader(&sim), None);
    let part = &sim.controller.parts[0];
    assert_eq!((part.isr.clone(), part.elr.clone(), part.last_known_elr.clone()), (vec![], vec![1], vec![1]), "the ISR empties; broker 1 is eligible and the last leader");
    sim.add_action(30_000, kafkasim::sim::Action::Restart(1));
    let effects = until(&mut sim, 31_000);
    assert_eq!(leader(&sim), Some(1));
    let elected = effects.iter().find_map(|e| match e {
        Effect::Cluster(ClusterEffect::LeaderElected { leader, election, .. }) => Some((*leader, *election)),
        _ => None,
    });
    assert_eq!(elected, Some((1, Election::LastKnownLeader)), "its crash took it out of the ELR, but it was the last leader");
}

#[test]
fn without_elr_or_unclean_election_kraft_keeps_the_last_isr_member() {
    let mut sim = two_brokers_both_crash(false, "\"eligible.leader.replicas.version\" = 0");
    assert_eq!(leader(&sim), None);
    assert_eq!(isr(&sim), vec![1], "KRaft keeps the last ISR member");
    sim.add_action(30_000, kafkasim::sim::Action::Restart(1));
    until(&mut sim, 31_000);
    assert_eq!(leader(&sim), Some(1));
}

#[test]
fn with_unclean_election_an_out_of_sync_replica_takes_over() {
    let sim = two_brokers_both_crash(true, "");
    assert_eq!(leader(&sim), Some(2));
    assert_eq!(isr(&sim), vec![2]);
}

#[test]
fn a_follower_whose_tail_matches_the_leader_keeps_it() {
    // broker-2 copies `a` but the leader dies before hearing about it, so every HW stays 0.
    // Truncating to the HW (pre-KIP-101) would throw `a` away on broker-1's return; epochs keep it.
    let s = scenario(
        2,
        2,
        "",
        "",
        // linger.ms = 0: the crash at 1012 ms must fall between broker-2's copy and its next fetch.
        "acks = 1, \"linger.ms\" = 0",
        "[[timeline]]\nat = 1000\nproduce = { value = \"a\" }\n[[timeline]]\nat = 1012\ncrash = 1\n[[timeline]]\nat = 20000\nrestart = 1\n",
    );
    let mut sim = s.start(1);
    let effects = until(&mut sim, 40_000);
    assert_eq!(leader(&sim), Some(2));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::Truncated { .. }))), "no truncation at all");
    assert_eq!((leo(&sim, 1), leo(&sim, 2)), (1, 1));
    assert_eq!(sim.ledger_view().totals.lost, 0);
}

#[test]
fn records_without_a_key_stick_to_a_partition_for_a_batch_size() {
    let text = "title = \"t\"\nsummary = \"s\"\n[cluster]\nbrokers = 3\n[[topics]]\nname = \"t\"\npartitions = 6\n\"replication.factor\" = 1\n\
                [[producers]]\nname = \"p\"\nconfig = { \"batch.size\" = 100 }\n[[timeline]]\nat = 0\nproduce = { value = \"xxxxxxxxxxxxxxxxxxxx\", count = 40, rate = 1000 }\n";
    let s = common::parse(text).expect("valid");
    let mut sim = s.start(11);
    until(&mut sim, 1_000);
    let partitions: Vec<u32> = sim.ledger.records.iter().map(|r| r.tp.partition).collect();
    // Each record is 27 bytes in Kafka's v2 format and has a batch of its own (61 + 27 = 88 bytes;
    // a second would pass the 105-byte write limit, the first record's upper bound). The last batch
    // is never full, so the partitioner does not switch at batch.size (100 bytes) but at twice it:
    // after 3 records (264 bytes).
    for chunk in partitions.chunks(3) {
        assert!(chunk.iter().all(|&p| p == chunk[0]), "{partitions:?}");
    }
    let distinct: std::collections::BTreeSet<u32> = partitions.iter().copied().collect();
    assert!(distinct.len() >= 3, "{partitions:?}");
}

#[test]
fn links_deliver_in_order_even_with_jitter() {
    let text = std::fs::read_to_string(common::root().join("scenarios/acks-all-survives-crash.toml")).expect("read");
    let s = common::parse(&text.replace("network = { latency_ms = 5 }", "network = { latency_ms = 5, jitter_ms = 40 }")).expect("valid");
    let mut last: std::collections::BTreeMap<(String, String), u64> = Default::default();
    let mut delivered = 0;
    s.run(3, None, |_, step| {
        if let StepEvent::Deliver { id, from, to, .. } = step.event {
            let key = (format!("{from:?}"), format!("{to:?}"));
            let prev = last.insert(key, id);
            assert!(prev.is_none_or(|p| p < id), "message {id} overtook {prev:?} on {from:?} → {to:?}");
            delivered += 1;
        }
    });
    assert!(delivered > 200, "{delivered} deliveries");
}

#[test]
fn retention_by_bytes_advances_the_log_start_on_every_replica() {
    let s = scenario(
        2,
        2,
        "\"log.retention.check.interval.ms\" = 1000",
        "\"retention.bytes\" = 200",
        "",
        "[[timeline]]\nat = 0\nproduce = { value = \"xxxxxxxxxxxxxxxxxxxx\", count = 10, rate = 100 }\n",
    );
    let mut sim = s.start(1);
    until(&mut sim, 5_000);
    for b in [1, 2] {
        let log = &sim.broker(b).replicas[0].as_ref().expect("replica").log;
        assert_eq!(log.leo(), 10);
        // Records 10 ms apart are batches of one (linger.ms 5), 61 + 27 = 88 bytes each: keeping
        // at most 200 bytes leaves 2 of them.
        assert_eq!(log.log_start(), 8, "broker-{b}");
        assert!(log.bytes() <= 200);
    }
}

#[test]
fn producer_config_follows_the_java_clients_rules() {
    let defaults = ProducerConfigRaw::default().resolve().expect("valid");
    assert_eq!((defaults.acks, defaults.enable_idempotence, defaults.max_in_flight), (Acks::All, true, 5));
    assert_eq!((defaults.retry_backoff_ms, defaults.retry_backoff_max_ms, defaults.request_timeout_ms, defaults.delivery_timeout_ms), (100, 1000, 30_000, 120_000));
    let acks1 = ProducerConfigRaw { acks: Some(Acks::Leader), ..Default::default() }.resolve().expect("valid");
    assert!(!acks1.enable_idempotence, "a conflicting setting quietly disables default idempotence");
    let six = ProducerConfigRaw { max_in_flight: Some(6), ..Default::default() };
    assert!(six.resolve().is_err(), "Kafka 4.x refuses more than 5 in flight while idempotence is on, even by default");
    let six_plain = ProducerConfigRaw { max_in_flight: Some(6), enable_idempotence: Some(false), ..Default::default() }.resolve().expect("valid");
    assert!(!six_plain.enable_idempotence);
    let explicit = ProducerConfigRaw { acks: Some(Acks::None), enable_idempotence: Some(true), ..Default::default() };
    assert!(explicit.resolve().is_err(), "explicit idempotence with acks=0 is a ConfigException");
    let short = ProducerConfigRaw { delivery_timeout_ms: Some(1000), ..Default::default() };
    assert!(short.resolve().is_err(), "delivery.timeout.ms below request.timeout.ms + linger.ms");
}

#[test]
fn acks_all_is_refused_below_min_insync_replicas_and_nothing_is_appended() {
    let s = scenario(
        2,
        2,
        "",
        "\"min.insync.replicas\" = 2",
        "retries = 1",
        "[[timeline]]\nat = 0\ncrash = 2\n[[timeline]]\nat = 12000\nproduce = { value = \"a\" }\n",
    );
    let mut sim = s.start(1);
    let effects = until(&mut sim, 13_000);
    assert_eq!(isr(&sim), vec![1]);
    assert!(effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::ProduceRejected { error: kafkasim::sim::KafkaError::NotEnoughReplicas, isr_size: 1, min_isr: 2, .. }))));
    assert_eq!(leo(&sim, 1), 0);
    assert_eq!(sim.producers[0].errors_seen.get(&kafkasim::sim::KafkaError::NotEnoughReplicas), Some(&2), "first try and one retry");
}

#[test]
fn a_zombie_leader_cannot_shrink_the_isr_alone_so_acks_all_loses_nothing() {
    let text = std::fs::read_to_string(common::root().join("scenarios/zombie-leader.toml")).expect("read");
    let text = text
        .replace("config = { acks = 1, \"request.timeout.ms\" = 3000 }", "config = { acks = \"all\" }")
        .replace("network = { latency_ms = 5 }", "network = { latency_ms = 5 }\nconfig = { \"replica.lag.time.max.ms\" = 4000 }");
    let s = common::parse(&text).expect("valid");
    let mut sim = s.start(s.seed);
    let effects = until(&mut sim, 19_999);
    let zombie_asked = effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::IsrShrinkRequested { leader: 1, .. })));
    assert!(zombie_asked, "broker-1 notices its followers lag and asks the controller");
    let granted_to_zombie = effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::IsrChanged { to, .. }) if to == &vec![1]));
    assert!(!granted_to_zombie, "the request never reaches the controller");
    assert_eq!(sim.broker(1).replicas[0].as_ref().expect("replica").log.high_watermark(), 2, "the zombie's HW is stuck");
    until(&mut sim, 40_000);
    let totals = sim.ledger_view().totals;
    assert_eq!(totals.acknowledged_lost, 0);
    assert_eq!(totals.duplicated, 0);
}

#[test]
fn a_limited_ledger_lists_the_troubled_records_first_and_counts_them_all() {
    let s = common::load("acks1-acknowledged-loss");
    let outcome = s.run(s.seed, None, |_, _| {});
    let full = outcome.sim.ledger_view();
    let lost: Vec<u32> = full.records.iter().filter(|r| r.acknowledged_lost).map(|r| r.id).collect();
    assert!(!lost.is_empty() && full.records.len() > 3, "the scenario loses an acknowledged record among several");
    let limited = outcome.sim.ledger_view_limited(2);
    assert_eq!(limited.records.len(), 2);
    assert_eq!(limited.records[0].id, lost[0], "the troubled record comes first");
    let troubled = |r: &&kafkasim::sim::view::RecordFate| {
        r.acknowledged_lost || r.copies_in_final_log > 1 || matches!(r.outcome, kafkasim::sim::ledger::Outcome::Failed { .. })
    };
    let newest_fine = full.records.iter().rev().find(|r| !troubled(r)).expect("a record that went fine");
    assert_eq!(limited.records[1].id, newest_fine.id, "then the newest of the others");
    assert_eq!(serde_json::to_string(&limited.totals).unwrap(), serde_json::to_string(&full.totals).unwrap());
    for (g, group) in limited.groups.iter().enumerate() {
        assert!(group.records.iter().all(|r| limited.records.iter().any(|l| l.id == r.id)));
        assert_eq!(serde_json::to_string(&group.totals).unwrap(), serde_json::to_string(&full.groups[g].totals).unwrap());
    }
}

#[test]
fn the_totals_alone_match_the_full_ledger_on_runs_that_lose_and_duplicate() {
    // Expectations read only the totals; they must be the ones the ledger table shows.
    for name in ["acks1-acknowledged-loss", "retry-duplicate", "consumer-commit-before-processing", "two-groups-fan-out"] {
        let s = common::load(name);
        let outcome = s.run(s.seed, None, |_, _| {});
        let full = outcome.sim.ledger_view();
        assert_eq!(outcome.sim.ledger_totals(), full.totals, "{name}");
        assert!(!full.groups.is_empty() || name != "two-groups-fan-out", "{name} has groups");
        for (g, group) in full.groups.iter().enumerate() {
            let alone = outcome.sim.group_ledger_totals(g as u32);
            assert_eq!(serde_json::to_string(&alone.totals).unwrap(), serde_json::to_string(&group.totals).unwrap(), "{name}");
            assert_eq!((alone.verdict, alone.rebalances), (group.verdict, group.rebalances), "{name}");
            assert!(alone.records.is_empty() && alone.lag.is_empty(), "{name}: totals only");
        }
    }
    let loss = common::load("acks1-acknowledged-loss");
    assert!(loss.run(loss.seed, None, |_, _| {}).sim.ledger_totals().acknowledged_lost > 0, "the check compares something that is not all zeros");
}

/// Values in the log of partition 0 on broker 1, in offset order.
fn log_values(sim: &Sim) -> Vec<String> {
    let log = &sim.broker(1).replicas[0].as_ref().expect("replica").log;
    log.records().map(|r| sim.ledger.records[r.record as usize].value.clone()).collect()
}

/// A lost request breaks the producer's connection, as a TCP connection cannot lose one request and
/// deliver the next: the second request is dropped too, the request timeout closes the connection,
/// and the producer reconnects (ApiVersions) and sends both again, in sequence order since it is
/// idempotent (a non-idempotent one would put each back at the front: the key-ordering lesson). An acks=0 producer
/// awaits no response, so its connection is not broken and the second record gets through.
#[test]
fn a_lost_request_breaks_the_producers_connection_until_it_reconnects() {
    let timeline = "[[timeline]]\nat = 1000\ncut = { from = \"p\", to = \"broker-1\", one_way = true }\n\
                    [[timeline]]\nat = 1000\nproduce = { value = \"first\" }\n\
                    [[timeline]]\nat = 1001\nheal = { from = \"p\", to = \"broker-1\", one_way = true }\n\
                    [[timeline]]\nat = 1010\nproduce = { value = \"second\" }\n";
    let s = scenario(1, 1, "", "", "acks = \"all\", \"linger.ms\" = 0, \"request.timeout.ms\" = 2000", timeline);
    let mut sim = s.start(1);
    let mut drops = Vec::new();
    let mut reconnected = false;
    sim.run_until(6_000, |_, step| {
        for e in &step.effects {
            match e {
                Effect::Net(NetEffect::Sent { dropped: Some(reason), .. }) => drops.push(format!("{reason:?}")),
                Effect::Producer(ProducerEffect::ProducerConnected { .. }) => reconnected = true,
                _ => {}
            }
        }
    });
    assert_eq!(drops, vec!["LinkCut", "ConnectionBroken"], "the second request dies with the connection");
    assert!(reconnected, "the producer opened a new connection after the request timeout");
    assert_eq!(log_values(&sim), vec!["first", "second"]);

    let s = scenario(1, 1, "", "", "acks = 0, \"linger.ms\" = 0", timeline);
    let mut sim = s.start(1);
    sim.run_until(6_000, |_, _| {});
    assert_eq!(log_values(&sim), vec!["second"], "acks=0 loses only the record on the wire");
}

/// `Sender.canRetry` asks only whether the delivery deadline has passed now: a batch that keeps
/// getting NOT_ENOUGH_REPLICAS is retried and expires at creation + `delivery.timeout.ms` with the
/// client's TimeoutException, not earlier with the broker's last error.
#[test]
fn a_batch_that_keeps_failing_expires_at_its_delivery_timeout() {
    let s = scenario(
        2,
        2,
        "",
        "\"min.insync.replicas\" = 2",
        "\"linger.ms\" = 0, \"request.timeout.ms\" = 2000, \"delivery.timeout.ms\" = 10000",
        "[[timeline]]\nat = 100\ncrash = 2\n[[timeline]]\nat = 15000\nproduce = { value = \"v\" }\n",
    );
    let mut sim = s.start(1);
    let effects = until(&mut sim, 40_000);
    assert!(effects.iter().any(|e| matches!(e, Effect::Producer(ProducerEffect::ProduceError { error: KafkaError::NotEnoughReplicas, .. }))));
    match &sim.ledger.records[0].outcome {
        Outcome::Failed { at, error } => {
            assert_eq!(*error, KafkaError::DeliveryTimeout);
            assert_eq!(*at, 15_000 + 10_000, "expired at creation + delivery.timeout.ms");
        }
        other => panic!("expected a failed record, got {other:?}"),
    }
}

/// Kafka 4.x's group coordinator gives an offset commit `offsets.commit.timeout.ms` to be
/// replicated: past it, the consumer is answered COORDINATOR_NOT_AVAILABLE, while the records stay
/// in the log and count once the high watermark passes them (the write is not rolled back). An
/// OffsetFetch meanwhile waits for them (`require_stable`).
#[test]
fn a_commit_not_replicated_in_time_is_answered_but_still_counts_once_replicated() {
    let cut: String = [(1, 2), (1, 3), (2, 3)]
        .iter()
        .map(|(a, b)| format!("[[timeline]]\nat = 6000\ncut = {{ from = \"broker-{a}\", to = \"broker-{b}\" }}\n[[timeline]]\nat = 16000\nheal = {{ from = \"broker-{a}\", to = \"broker-{b}\" }}\n"))
        .collect();
    let s = scenario(
        3,
        1,
        "\"offsets.commit.timeout.ms\" = 3000",
        "",
        "",
        &format!(
            "[[consumers]]\nname = \"c\"\ntopics = [\"t\"]\ncommit = \"after-processing\"\nconfig = {{ \"group.id\" = \"g\" }}\n\
             [[timeline]]\nat = 5000\nproduce = {{ count = 20, rate = 10 }}\n{cut}"
        ),
    );
    let mut sim = s.start(1);
    let (mut sent, mut timed_out, mut stored_after_heal) = (Vec::new(), Vec::new(), Vec::new());
    sim.run_until(60_000, |_, step| {
        if let StepEvent::Deliver { msg: kafkasim::sim::Msg::OffsetCommit { offsets, .. }, .. } = &step.event {
            sent.push((step.time, offsets.clone()));
        }
        for e in &step.effects {
            match e {
                Effect::Group(GroupEffect::CommitTimedOut { timeout_ms, .. }) => timed_out.push((step.time, *timeout_ms)),
                Effect::Group(GroupEffect::OffsetsCommitted { offsets, .. }) if step.time >= 16_000 => stored_after_heal.push(offsets.clone()),
                _ => {}
            }
        }
    });
    let stuck = sent.iter().filter(|(t, _)| (6_000..13_000).contains(t)).collect::<Vec<_>>();
    assert!(!stuck.is_empty(), "commits were sent while the brokers were cut off: {sent:?}");
    assert!(!timed_out.is_empty(), "a commit timed out");
    // Each timeout is exactly offsets.commit.timeout.ms after a commit reached the coordinator.
    for (at, timeout) in &timed_out {
        assert_eq!(*timeout, 3_000);
        assert!(sent.iter().any(|(t, _)| t + 3_000 == *at), "timeout at {at} matches no commit: {sent:?}");
    }
    // The timed-out commits are stored once the links heal and the followers fetch again (after
    // their lost fetch hits replica.socket.timeout.ms), and the high watermark passes them.
    let first_stuck = &stuck[0].1;
    assert!(stored_after_heal.iter().any(|o| o == first_stuck), "{first_stuck:?} is stored after the heal: {stored_after_heal:?}");
}

/// Records that retention deleted are their own outcome, not acknowledged writes Kafka lost: in
/// the retention lesson every record is acknowledged and some leave the log only by retention,
/// so none counts as lost, and each deleted one is shown as deleted (not as "acked-lost").
#[test]
fn retention_deleted_records_are_not_acknowledged_losses() {
    let s = common::load("retention-deletes-unread");
    let sim = s.run(s.seed, None, |_, _| {}).sim;
    let view = sim.ledger_view();
    let t = &view.totals;
    assert!(t.deleted_by_retention > 0, "retention deleted records in this lesson: {t:?}");
    assert_eq!((t.lost, t.acknowledged_lost), (0, 0), "{t:?}");
    assert_eq!(t.acknowledged, t.sent, "{t:?}");
    let deleted: Vec<_> = view.records.iter().filter(|r| r.deleted_by_retention).collect();
    assert_eq!(deleted.len() as u32, t.deleted_by_retention);
    assert!(deleted.iter().all(|r| r.copies_in_final_log == 0 && !r.acknowledged_lost));
}

/// A consumer whose leader crashed fails the requests on that connection once and waits out the
/// reconnect backoff (`reconnect.backoff.ms` 50, doubling to `reconnect.backoff.max.ms` 1000, ±20 %)
/// before it sends there again. Found by the property test: each stale refusal used to count as a
/// new reset, so the consumer's refused requests doubled at every round trip.
#[test]
fn a_consumer_backs_off_from_a_crashed_leader_instead_of_resending_at_once() {
    let rest = "[[consumers]]\nname = \"c\"\ntopics = [\"t\"]\nconfig = { \"group.id\" = \"g\", \"auto.offset.reset\" = \"earliest\" }\n\
                [[timeline]]\nat = 0\nproduce = { value = \"v{n}\", count = 3, rate = 20 }\n\
                [[timeline]]\nat = 1751\ncrash = 1\n[[timeline]]\nat = 1751\nrestart = 1\n\
                [[timeline]]\nat = 4847\ncrash = 1\n";
    let s = scenario(1, 1, "\"broker.session.timeout.ms\" = 3000, \"offsets.topic.replication.factor\" = 1", "", "acks = 1", rest);
    let mut sim = s.start(0);
    let mut refused: Vec<u64> = Vec::new();
    sim.run_until(20_000, |sim, step| {
        if let StepEvent::Dropped { from: NodeId::Consumer(0), to: NodeId::Broker(1), .. } = step.event {
            if refused.last() != Some(&sim.now()) {
                refused.push(sim.now());
            }
        }
    });
    let after_crash: Vec<u64> = refused.into_iter().filter(|&t| t > 4_847).collect();
    assert!(!after_crash.is_empty(), "the consumer tried its crashed leader");
    let gaps: Vec<u64> = after_crash.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|&g| g >= 40), "refusals come at least one backoff apart: {after_crash:?}");
    assert!(after_crash.len() <= 20, "a handful of attempts in 15 s, not a flood: {after_crash:?}");
}

#[test]
fn an_idempotent_producer_gets_its_id_from_a_live_broker_before_its_first_batch() {
    // The producer asks broker-1 (the least-loaded) for its id when it is made; broker-1 crashes
    // at once, so the request is refused and sent again, to a broker that answers.
    let rest = "[[timeline]]\nat = 0\ncrash = 1\n[[timeline]]\nat = 500\nproduce = { value = \"v\" }\n";
    let s = scenario(3, 3, "", "", "\"enable.idempotence\" = true, acks = \"all\"", rest);
    let mut sim = s.start(1);
    let mut answers = Vec::new();
    sim.run_until(400, |_, step| {
        if let StepEvent::Deliver { from: NodeId::Broker(b), msg, .. } = &step.event {
            if msg.kind() == "InitProducerIdResponse" {
                answers.push(*b);
            }
        }
    });
    assert_eq!(answers.len(), 1, "one answer, from a live broker");
    assert_ne!(answers[0], 1, "broker-1 crashed before it could answer");
    let pid = sim.producers[0].pid;
    assert_ne!(pid, 0, "the producer has its id before it sends anything");
    // The send waits for a new leader of t-0 (broker-1 led it), elected once broker-1's session ends.
    until(&mut sim, 30_000);
    assert_eq!(sim.ledger.records.iter().filter(|r| matches!(r.outcome, Outcome::Acknowledged { .. })).count(), 1);
    let leader = leader(&sim).expect("a leader");
    let replica = sim.broker(leader).replicas[0].as_ref().expect("the leader hosts t-0");
    let pids: Vec<u32> = replica.log.records().map(|r| r.pid).collect();
    assert_eq!(pids, [pid], "the record carries the producer id");
}
