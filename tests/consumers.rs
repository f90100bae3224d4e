//! Consumers and groups, one mechanism per test, each against a small cluster written as a scenario.

mod common;

use kafkasim::scenario::Scenario;
use kafkasim::sim::coordinator::offsets_partition_for;
use kafkasim::sim::{ClusterEffect, ConsumerEffect, Effect, GroupEffect, KafkaError, Revocation, Sim};
use std::collections::BTreeMap;

/// Three brokers, topic `t` with `partitions` (RF 3), producer `p`, then the consumers and timeline in `rest`.
fn scenario(partitions: u32, cluster_config: &str, topic_config: &str, rest: &str) -> Scenario {
    let text = format!(
        "title = \"t\"\nsummary = \"s\"\nduration_ms = 60000\n[cluster]\nbrokers = 3\nconfig = {{ {cluster_config} }}\n\
         [[topics]]\nname = \"t\"\npartitions = {partitions}\n\"replication.factor\" = 3\nconfig = {{ {topic_config} }}\n\
         [[producers]]\nname = \"p\"\n{rest}"
    );
    common::parse(&text).unwrap_or_else(|e| panic!("valid test scenario: {e:?}\n{text}"))
}

/// A consumer table for group `g` with quick session settings and `extra` config entries.
fn consumer(name: &str, group: &str, extra: &str, app: &str) -> String {
    format!(
        "[[consumers]]\nname = \"{name}\"\ntopics = [\"t\"]\n{app}\nconfig = {{ \"group.id\" = \"{group}\", \"session.timeout.ms\" = 6000, \"heartbeat.interval.ms\" = 2000, \"auto.offset.reset\" = \"earliest\"{extra} }}\n"
    )
}

fn until(sim: &mut Sim, t: u64) -> Vec<Effect> {
    let mut effects = Vec::new();
    sim.run_until(t, |_, step| effects.extend(step.effects));
    effects
}

#[test]
fn the_coordinator_partition_is_javas_string_hash_modulo_the_partition_count() {
    // Printed by OpenJDK 17: Utils.abs(groupId.hashCode()) % 50.
    let java = [("billing", 9), ("analytics", 10), ("my-group", 12), ("workers", 41), ("été", 42), ("polygenelubricants", 0)];
    for (group, partition) in java {
        assert_eq!(offsets_partition_for(group, 50), partition, "{group}");
    }
}

#[test]
fn the_coordinator_is_the_leader_of_the_groups_offsets_partition() {
    let s = scenario(1, "", "", &consumer("c1", "billing", "", ""));
    let sim = s.start(1);
    let g = sim.find_group("billing").expect("group");
    let info = &sim.groups[g as usize];
    assert_eq!(info.offsets_partition, 9);
    assert_eq!(sim.tp_name(sim.tp(info.pidx)), "__consumer_offsets-9");
    // Kafka's placement of partition 9 of 50 on 3 brokers starts at broker (9 % 3) + 1.
    assert_eq!(sim.controller.parts[info.pidx as usize].leader, Some(1));
}

#[test]
fn a_consumer_only_receives_records_below_the_high_watermark() {
    let rest = format!(
        "[[links]]\nfrom = \"broker-1\"\nto = \"broker-3\"\nlatency_ms = 400\n{}\
         [[timeline]]\nat = 5000\nproduce = {{ value = \"a\", count = 3 }}\n",
        consumer("c1", "g", "", "processing_ms = 1")
    );
    let s = scenario(1, "", "", &rest);
    let mut violations = 0;
    let mut polled = 0;
    s.run(1, None, |sim, step| {
        for e in &step.effects {
            if let Effect::Consumer(ConsumerEffect::Polled { records, .. }) = e {
                for (tp, offset, _) in records {
                    polled += 1;
                    let pidx = sim.pidx(*tp);
                    let leader = sim.controller.parts[pidx as usize].leader.expect("leader");
                    let hw = sim.broker(leader).replicas[pidx as usize].as_ref().expect("replica").log.high_watermark();
                    violations += (*offset >= hw) as u32;
                }
            }
        }
    });
    assert_eq!(polled, 3);
    assert_eq!(violations, 0);
    // And it waited for the slow follower: nothing is processed before broker-3 fetched (≥ 400 ms).
    let mut sim = s.start(1);
    until(&mut sim, 5_300);
    assert_eq!(sim.group_ledger_view(0).totals.processed, 0);
    until(&mut sim, 7_000);
    assert_eq!(sim.group_ledger_view(0).totals.processed, 3);
}

#[test]
fn within_a_group_each_partition_has_one_owner_and_every_partition_is_owned() {
    let s = common::load("rebalance-eager-vs-cooperative");
    let mut worst_overlap = 0;
    s.run(1, None, |sim, _| {
        for g in 0..sim.groups.len() as u32 {
            let mut owners: BTreeMap<u32, u32> = BTreeMap::new();
            for c in sim.consumers.iter().filter(|c| c.group == g && c.running()) {
                for p in c.assigned() {
                    *owners.entry(p).or_insert(0) += 1;
                }
            }
            worst_overlap = worst_overlap.max(owners.values().copied().max().unwrap_or(0));
        }
    });
    assert_eq!(worst_overlap, 1, "no partition ever had two owners in one group");
    let mut sim = s.start(1);
    until(&mut sim, 40_000);
    for c in ["eager-3", "coop-3"] {
        let i = sim.consumers.iter().position(|x| x.name == c).expect("consumer");
        assert_eq!(sim.consumer_view(i as u32).assignment.len(), 6, "{c} owns all six partitions at the end");
    }
}

#[test]
fn cooperative_rebalancing_revokes_only_moved_partitions_and_takes_two_rounds() {
    let s = common::load("rebalance-eager-vs-cooperative");
    let mut sim = s.start(1);
    let effects = until(&mut sim, 12_500);
    let revoked = |prefix: &str, how: Revocation| -> usize {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Consumer(ConsumerEffect::PartitionsRevoked { consumer, partitions, how: h }) if *h == how => {
                    sim.consumers[*consumer as usize].name.starts_with(prefix).then_some(partitions.len())
                }
                _ => None,
            })
            .sum()
    };
    assert_eq!(revoked("eager", Revocation::Eager), 6, "eager: both members revoke all three of theirs");
    assert_eq!(revoked("coop", Revocation::Cooperative), 2, "cooperative: only the two that move");
    let generations = |name: &str| effects.iter().filter(|e| matches!(e, Effect::Group(GroupEffect::GenerationStarted { group, .. }) if sim.groups[*group as usize].name == name)).count();
    assert_eq!(generations("eager"), 2, "initial join + one rebalance");
    assert_eq!(generations("coop"), 3, "initial join + two rounds");
}

#[test]
fn a_static_member_restarting_within_the_session_timeout_causes_no_rebalance() {
    let mut sim = common::load("static-member-restart").start(1);
    let effects = until(&mut sim, 30_000);
    assert!(effects.iter().any(|e| matches!(e, Effect::Group(GroupEffect::StaticMemberReplaced { .. }))));
    let g = sim.find_group("static-group").expect("group");
    assert_eq!(sim.group_view(g).generation, 1);
    assert_eq!(sim.group_ledger_view(g).rebalances, 1);
}

#[test]
fn a_commit_from_a_member_the_coordinator_removed_is_rejected() {
    // c1 is cut off from the coordinator (broker-1 leads __consumer_offsets-12 for "my-group")
    // while it processes a slow batch; the coordinator removes it, and its commit afterwards is refused.
    let rest = format!(
        "{}{}[[timeline]]\nat = 0\nproduce = {{ key = \"k{{n}}\", value = \"v{{n}}\", count = 20 }}\n\
         [[timeline]]\nat = 3500\ncut = {{ from = \"c1\", to = \"broker-1\" }}\n\
         [[timeline]]\nat = 10000\nheal = {{ from = \"c1\", to = \"broker-1\" }}\n",
        consumer("c1", "my-group", ", \"max.poll.records\" = 20", "commit = \"after-processing\"\nprocessing_ms = 800"),
        consumer("c2", "my-group", "", "commit = \"after-processing\"\nprocessing_ms = 1"),
    );
    let s = scenario(2, "", "", &rest);
    let mut sim = s.start(1);
    let g = sim.find_group("my-group").expect("group");
    assert_eq!(sim.controller.parts[sim.groups[g as usize].pidx as usize].leader, Some(1));
    let effects = until(&mut sim, 30_000);
    assert!(effects.iter().any(|e| matches!(e, Effect::Group(GroupEffect::MemberRemoved { consumer: 0, .. }))), "c1 was removed");
    let c1 = &sim.consumers[0];
    assert!(
        c1.errors_seen.contains_key(&KafkaError::UnknownMemberId) || c1.errors_seen.contains_key(&KafkaError::IllegalGeneration),
        "c1's late commit was refused by the coordinator: {:?}",
        c1.errors_seen
    );
    assert!(effects.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::CommitFailed { consumer: 0, .. }))));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Group(GroupEffect::OffsetsCommitted { consumer: 0, .. }))), "c1 never got a commit in");
    assert_eq!(sim.group_ledger_view(g).totals.lost, 0);
}

#[test]
fn a_coordinator_failover_keeps_the_committed_offsets() {
    // "billing" lives on __consumer_offsets-9, led by broker-1. Crash it after commits.
    let rest = format!(
        "{}[[timeline]]\nat = 0\nproduce = {{ value = \"v{{n}}\", count = 10 }}\n\
         [[timeline]]\nat = 6000\ncrash = 1\n\
         [[timeline]]\nat = 20000\nproduce = {{ value = \"w{{n}}\", count = 5 }}\n",
        consumer("c1", "billing", "", "commit = \"after-processing\""),
    );
    let s = scenario(1, "\"broker.session.timeout.ms\" = 3000", "\"min.insync.replicas\" = 1", &rest);
    let mut sim = s.start(1);
    until(&mut sim, 5_900);
    let g = sim.find_group("billing").expect("group");
    assert_eq!(sim.group_view(g).coordinator, Some(1));
    let committed_before = sim.group_view(g).committed.clone();
    assert_eq!(committed_before.get("t-0"), Some(&10));
    let effects = until(&mut sim, 30_000);
    let view = sim.group_view(g);
    assert_ne!(view.coordinator, Some(1), "another broker coordinates now");
    assert!(effects.iter().any(|e| matches!(e, Effect::Group(GroupEffect::GroupLoaded { offsets, .. }) if offsets.iter().any(|(_, o)| *o == 10))));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::OffsetReset { .. }))), "no fallback to auto.offset.reset");
    assert_eq!(view.committed.get("t-0"), Some(&15));
    let l = sim.group_ledger_view(g);
    assert_eq!((l.totals.processed, l.totals.lost, l.totals.duplicated), (15, 0, 0));
}

#[test]
fn auto_offset_reset_none_fails_and_latest_skips_old_records() {
    let rest = format!(
        "{}{}[[timeline]]\nat = 0\nproduce = {{ value = \"old{{n}}\", count = 5 }}\n\
         [[timeline]]\nat = 10000\nproduce = {{ value = \"new{{n}}\", count = 2 }}\n",
        consumer("strict", "a", ", \"auto.offset.reset\" = \"none\"", ""),
        "[[consumers]]\nname = \"late\"\ntopics = [\"t\"]\nconfig = { \"group.id\" = \"b\", \"auto.offset.reset\" = \"latest\" }\n",
    );
    // The table for `strict` sets auto.offset.reset twice; keep only the "none" one.
    let rest = rest.replacen(", \"auto.offset.reset\" = \"earliest\", \"auto.offset.reset\" = \"none\"", ", \"auto.offset.reset\" = \"none\"", 1);
    let s = scenario(1, "", "", &rest);
    let mut sim = s.start(1);
    until(&mut sim, 20_000);
    let strict = sim.consumer_view(0);
    assert_eq!(serde_json::to_value(strict.state).expect("json"), "failed");
    assert!(strict.errors_seen.contains_key(&KafkaError::NoOffsetForPartition));
    let late = sim.group_ledger_view(sim.find_group("b").expect("group"));
    assert_eq!(late.totals.processed, 2, "only the records produced after it started");
    assert_eq!(late.totals.lost, 0, "records before its first position were never its to read");
}

#[test]
fn retention_past_the_committed_offset_resets_the_position_and_the_group_skips_records() {
    let rest = format!(
        "{}[[timeline]]\nat = 0\nproduce = {{ value = \"a{{n}}\", count = 5 }}\n\
         [[timeline]]\nat = 4500\ncrash_consumer = \"c1\"\n\
         [[timeline]]\nat = 5000\nproduce = {{ value = \"b{{n}}\", count = 5 }}\n\
         [[timeline]]\nat = 25000\nstart_consumer = \"c1\"\n",
        consumer("c1", "g", "", "commit = \"after-processing\""),
    );
    let s = scenario(1, "\"log.retention.check.interval.ms\" = 1000", "\"retention.ms\" = 10000", &rest);
    let mut sim = s.start(1);
    let effects = until(&mut sim, 45_000);
    assert!(effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::RetentionDeleted { .. }))));
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::OffsetReset { out_of_range: true, .. }))),
        "the committed offset 5 fell below the log start"
    );
    assert!(sim.consumers[0].errors_seen.contains_key(&KafkaError::OffsetOutOfRange));
}

/// With `auto.offset.reset = "none"`, a committed position that retention moved out of the log makes
/// `poll()` throw `OffsetOutOfRangeException`, not `NoOffsetForPartitionException` (which is for a
/// partition with no committed offset at all), as Java's `FetchCollector` does. `c1` commits and
/// crashes; `c2`, of the same group, starts after retention deleted what the commit pointed at.
#[test]
fn auto_offset_reset_none_throws_offset_out_of_range_when_the_position_left_the_log() {
    let c2 = consumer("c2", "g", ", \"auto.offset.reset\" = \"none\"", "start = false");
    let c2 = c2.replacen(", \"auto.offset.reset\" = \"earliest\", \"auto.offset.reset\" = \"none\"", ", \"auto.offset.reset\" = \"none\"", 1);
    let rest = format!(
        "{}{c2}[[timeline]]\nat = 0\nproduce = {{ value = \"a{{n}}\", count = 5 }}\n\
         [[timeline]]\nat = 4500\ncrash_consumer = \"c1\"\n\
         [[timeline]]\nat = 5000\nproduce = {{ value = \"b{{n}}\", count = 5 }}\n\
         [[timeline]]\nat = 25000\nstart_consumer = \"c2\"\n",
        consumer("c1", "g", "", "commit = \"after-processing\""),
    );
    let s = scenario(1, "\"log.retention.check.interval.ms\" = 1000", "\"retention.ms\" = 10000", &rest);
    let mut sim = s.start(1);
    let effects = until(&mut sim, 45_000);
    let failed: Vec<KafkaError> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Consumer(ConsumerEffect::ConsumerFailed { error, .. }) => Some(*error),
            _ => None,
        })
        .collect();
    assert_eq!(failed, vec![KafkaError::OffsetOutOfRange]);
    assert_eq!(serde_json::to_value(sim.consumer_view(1).state).expect("json"), "failed");
    assert!(!sim.consumers[1].errors_seen.contains_key(&KafkaError::NoOffsetForPartition));
}

#[test]
fn a_graceful_close_leaves_at_once_and_a_crash_waits_for_the_session_timeout() {
    let rest = format!(
        "{}{}{}[[timeline]]\nat = 10000\nclose_consumer = \"a\"\n[[timeline]]\nat = 20000\ncrash_consumer = \"b\"\n",
        consumer("a", "g", "", ""),
        consumer("b", "g", "", ""),
        consumer("c", "g", "", ""),
    );
    let s = scenario(3, "", "", &rest);
    let mut removed_at: BTreeMap<u32, u64> = BTreeMap::new();
    // What the listener of `a` heard at its close, and what `b`'s heard when it crashed (nothing).
    let mut revoked_on_close: Vec<(u32, usize, Revocation)> = Vec::new();
    s.run(1, Some(40_000), |_, step| {
        for e in &step.effects {
            match e {
                Effect::Group(GroupEffect::MemberRemoved { consumer, .. }) => {
                    removed_at.entry(*consumer).or_insert(step.time);
                }
                Effect::Consumer(ConsumerEffect::PartitionsRevoked { consumer, partitions, how }) if step.time == 10_000 || step.time == 20_000 => {
                    revoked_on_close.push((*consumer, partitions.len(), *how));
                }
                _ => {}
            }
        }
    });
    // `ConsumerCoordinator.onLeavePrepare`: close() revokes what the member owns before LeaveGroup.
    assert_eq!(revoked_on_close, [(0, 1, Revocation::OnClose)], "a owned one partition of three");
    let closed = removed_at[&0];
    assert!((10_000..10_100).contains(&closed), "LeaveGroup arrives within a round trip: {closed}");
    let crashed = removed_at[&1];
    assert!((24_000..=26_100).contains(&crashed), "session.timeout.ms after its last heartbeat: {crashed}");
}

#[test]
fn consumer_runs_are_deterministic() {
    let s = common::load("consumer-auto-commit-timing");
    let (a, b) = (common::trace(&s, 7), common::trace(&s, 7));
    assert!(a == b, "two runs with one seed differ");
    let state = |seed| serde_json::to_string(&s.start(seed).state_view()).expect("json");
    assert!(state(7) == state(7));
}

/// `partition.assignment.strategy` is a list: the group picks an assignor every member lists, by
/// the members' votes, and a consumer rebalances cooperatively only if every assignor it lists is
/// cooperative. So a rolling upgrade from range to cooperative-sticky that lists both is still
/// eager, even once the group has picked cooperative-sticky.
#[test]
fn the_group_picks_a_common_assignor_and_a_listed_eager_one_keeps_the_rebalance_eager() {
    let picked = |lists: [&str; 3]| {
        let consumers: String = lists
            .iter()
            .enumerate()
            .map(|(i, list)| consumer(&format!("c{i}"), "g", &format!(", \"partition.assignment.strategy\" = \"{list}\""), "processing_ms = 1"))
            .collect();
        let rest = format!("{consumers}[[timeline]]\nat = 8000\nstart_consumer = \"c2\"\n");
        let rest = rest.replacen("[[consumers]]\nname = \"c2\"", "[[consumers]]\nname = \"c2\"\nstart = false", 1);
        let mut sim = scenario(4, "", "", &rest).start(1);
        let effects = until(&mut sim, 20_000);
        let strategies: Vec<&'static str> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Group(GroupEffect::GenerationStarted { strategy, .. }) => Some(strategy.name()),
                _ => None,
            })
            .collect();
        let revocations: Vec<Revocation> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Consumer(ConsumerEffect::PartitionsRevoked { how, partitions, .. }) if !partitions.is_empty() => Some(*how),
                _ => None,
            })
            .collect();
        (strategies, revocations)
    };
    // Kafka's default list on every member: range wins every vote, and the rebalance is eager.
    let (strategies, revocations) = picked(["range, cooperative-sticky"; 3]);
    assert!(strategies.len() >= 2 && strategies.iter().all(|s| *s == "range"), "{strategies:?}");
    assert!(!revocations.is_empty() && revocations.iter().all(|h| *h == Revocation::Eager), "{revocations:?}");
    // Mid-upgrade: two members prefer cooperative-sticky, so it wins the vote, but range is still
    // listed and the members revoke everything before they rejoin.
    let (strategies, revocations) = picked(["cooperative-sticky, range", "cooperative-sticky, range", "range, cooperative-sticky"]);
    assert_eq!(strategies.last(), Some(&"cooperative-sticky"), "{strategies:?}");
    assert!(!revocations.is_empty() && revocations.iter().all(|h| *h == Revocation::Eager), "{revocations:?}");
    // Upgrade done: only cooperative-sticky is listed, and only moved partitions are revoked.
    let (strategies, revocations) = picked(["cooperative-sticky"; 3]);
    assert!(strategies.iter().all(|s| *s == "cooperative-sticky"), "{strategies:?}");
    assert!(!revocations.is_empty() && revocations.iter().all(|h| *h == Revocation::Cooperative), "{revocations:?}");
}

/// KIP-320 in the simulator alone, on the layout of the real-cluster case
/// `consumer-after-unclean-truncation`: four brokers, the data on 1-3, the group's coordinator on 4
/// (group `g` maps to `__consumer_offsets-3`, broker 4), so that no coordinator failover mixes in.
const TRUNCATION: &str = r#"
title = "Truncation"
summary = "An unclean election truncates what a consumer read."
seed = 1
duration_ms = 60000

[cluster]
brokers = 4
config = { "offsets.topic.replication.factor" = 1, "group.initial.rebalance.delay.ms" = 0, "broker.session.timeout.ms" = 3000, "broker.heartbeat.interval.ms" = 500, "replica.lag.time.max.ms" = 3000 }

[[topics]]
name = "orders"
partitions = 1
"replication.factor" = 3
"replica.assignment" = [[1, 2, 3]]
config = { "min.insync.replicas" = 1, "unclean.leader.election.enable" = true }

[[producers]]
name = "app"
config = { acks = 1, "enable.idempotence" = false, "linger.ms" = 0 }

[[consumers]]
name = "c1"
topics = ["orders"]
commit = "after-processing"
config = { "group.id" = "g", "auto.offset.reset" = "latest", "partition.assignment.strategy" = "range", "session.timeout.ms" = 10000, "heartbeat.interval.ms" = 1000 }

[[timeline]]
at = 2000
produce = { key = "k", value = "v1" }

[[timeline]]
at = 4000
crash = 2

[[timeline]]
at = 4000
crash = 3

[[timeline]]
at = 10000
produce = { key = "k", value = "v2" }

[[timeline]]
at = 10000
produce = { key = "k", value = "v3" }

[[timeline]]
at = 14000
crash = 1

[[timeline]]
at = 20000
restart = 2

[[timeline]]
at = 30000
produce = { key = "k", value = "v4" }
"#;

#[test]
fn a_consumer_moves_back_to_the_divergence_point_after_an_unclean_election_whatever_its_reset_policy() {
    let s = common::parse(TRUNCATION).expect("valid");
    assert_eq!(offsets_partition_for("g", 50), 3, "the coordinator is the leader of __consumer_offsets-3: broker 4");
    let mut sim = s.start(s.seed);
    let effects = until(&mut sim, 60_000);
    let detected: Vec<(u64, u32, u64)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Consumer(ConsumerEffect::LogTruncationDetected { position, epoch, end_offset, .. }) => Some((*position, *epoch, *end_offset)),
            _ => None,
        })
        .collect();
    assert_eq!(detected, [(3, 0, 1)], "position 3 read in epoch 0; the new leader, broker-2, ends epoch 0 at offset 1");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::OffsetReset { out_of_range: true, .. }))), "no reset by auto.offset.reset=latest");
    let processed: Vec<(u64, &str)> = sim.ledger.groups[0].processing.iter().map(|p| (p.offset, sim.ledger.get(p.record).value.as_str())).collect();
    assert_eq!(processed, [(0, "v1"), (1, "v2"), (2, "v3"), (1, "v4")], "v4 is written at offset 1 of the new leader's log, and read there");
    let g = sim.find_group("g").expect("group");
    assert_eq!(sim.group_ledger_view(g).totals.lost, 0, "nothing the new log holds was skipped");
}

/// Three brokers, topics `orders` and `payments` (two partitions each, RF 3), producer `p`, then `rest`.
fn two_topics(rest: &str) -> Scenario {
    two_topics_in("", rest)
}

/// As [`two_topics`], with `cluster` lines (network, config) in `[cluster]`.
fn two_topics_in(cluster: &str, rest: &str) -> Scenario {
    let text = format!(
        "title = \"t\"\nsummary = \"s\"\nduration_ms = 40000\n[cluster]\nbrokers = 3\n{cluster}\
         [[topics]]\nname = \"orders\"\npartitions = 2\n\"replication.factor\" = 3\n\
         [[topics]]\nname = \"payments\"\npartitions = 2\n\"replication.factor\" = 3\n\
         [[producers]]\nname = \"p\"\n{rest}"
    );
    common::parse(&text).unwrap_or_else(|e| panic!("valid test scenario: {e:?}\n{text}"))
}

/// A `[[consumers]]` table of group `g` subscribed to `topics`, with `extra` config entries and `app` keys.
fn member(name: &str, topics: &str, extra: &str, app: &str) -> String {
    format!(
        "[[consumers]]\nname = \"{name}\"\ntopics = [{topics}]\n{app}\nconfig = {{ \"group.id\" = \"g\", \"session.timeout.ms\" = 6000, \"heartbeat.interval.ms\" = 1000, \"auto.offset.reset\" = \"earliest\"{extra} }}\n"
    )
}

/// Runs the scenario's own expectations and fails with every check that did not hold.
fn holds(s: &Scenario) {
    let report = s.verify();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

#[test]
fn an_eager_member_that_subscribes_to_another_topic_rejoins_at_its_next_poll_and_range_reassigns() {
    let range = ", \"partition.assignment.strategy\" = \"range\"";
    let rest = format!(
        "{}{}[[timeline]]\nat = 5000\nproduce = {{ topic = \"payments\", value = \"p{{n}}\", partition = 0, count = 2 }}\n\
         [[timeline]]\nat = 10000\nsubscribe = {{ consumer = \"c1\", topics = [\"payments\", \"orders\"] }}\n\
         [[timeline]]\nat = 20000\nproduce = {{ topic = \"payments\", value = \"q{{n}}\", partition = 0, count = 2 }}\n\
         [[expect]]\nat = 9999\ngroup = \"g\"\nassignment = {{ c1 = [\"orders-0\"], c2 = [\"orders-1\", \"payments-0\", \"payments-1\"] }}\n\
         [[expect]]\nconsumer = \"c1\"\nlistener_calls = [\"onPartitionsAssigned [orders-0]\", \"onPartitionsRevoked [orders-0]\", \"onPartitionsAssigned [orders-0, payments-0]\"]\nread = [\"q1\", \"q2\"]\n\
         [[expect]]\nconsumer = \"c2\"\nlistener_calls = [\"onPartitionsAssigned [orders-1, payments-0, payments-1]\", \"onPartitionsRevoked [orders-1, payments-0, payments-1]\", \"onPartitionsAssigned [orders-1, payments-1]\"]\nread = [\"p1\", \"p2\"]\n\
         [[expect]]\ngroup = \"g\"\nassignment = {{ c1 = [\"orders-0\", \"payments-0\"], c2 = [\"orders-1\", \"payments-1\"] }}\ncommitted = {{ \"payments-0\" = 4 }}\nrebalances = 2\nlost = 0\nduplicated = 0\n",
        member("c1", "\"orders\"", range, ""),
        member("c2", "\"orders\", \"payments\"", range, ""),
    );
    let s = two_topics(&rest);
    holds(&s);
    // The order of what happens at the call: the subscription changes, then poll() rejoins.
    let mut sim = s.start(1);
    until(&mut sim, 9_999);
    let effects = until(&mut sim, 10_000);
    let at_call: Vec<&ConsumerEffect> = effects.iter().filter_map(|e| if let Effect::Consumer(c) = e { Some(c) } else { None }).collect();
    assert!(matches!(at_call.first(), Some(ConsumerEffect::Subscribed { consumer: 0, changed: true, running: true, .. })), "{at_call:?}");
    assert!(at_call.iter().any(|e| matches!(e, ConsumerEffect::SubscriptionChangedRejoin { consumer: 0 })));
}

#[test]
fn a_cooperative_member_that_drops_a_topic_revokes_only_its_partitions_before_rejoining_and_drops_their_buffered_records() {
    // c1 takes one record per poll and works 500 ms on each, so orders records wait in its buffer.
    let coop = ", \"partition.assignment.strategy\" = \"cooperative-sticky\"";
    let rest = format!(
        "{}{}[[timeline]]\nat = 5000\nproduce = {{ topic = \"orders\", value = \"o{{n}}\", partition = 0, count = 5 }}\n\
         [[timeline]]\nat = 5000\nproduce = {{ topic = \"payments\", value = \"p{{n}}\", partition = 0, count = 1 }}\n\
         [[timeline]]\nat = 6000\nsubscribe = {{ consumer = \"c1\", topics = [\"payments\"] }}\n",
        member("c1", "\"orders\", \"payments\"", &format!("{coop}, \"max.poll.records\" = 1"), "processing_ms = 500"),
        member("c2", "\"orders\", \"payments\"", coop, ""),
    );
    let s = two_topics(&rest);
    let mut sim = s.start(1);
    until(&mut sim, 5_999);
    let before: Vec<String> = sim.consumers[0].assigned().map(|p| sim.tp_name(sim.tp(p))).collect();
    assert_eq!(before, ["orders-0", "payments-0"]);
    let buffered = sim.consumers[0].buffered();
    assert!(buffered >= 2, "c1 has orders records buffered: {buffered}");
    let effects = until(&mut sim, 40_000);
    let dropped = effects.iter().find_map(|e| match e {
        Effect::Consumer(ConsumerEffect::Subscribed { consumer: 0, dropped, .. }) => Some(*dropped),
        _ => None,
    });
    assert!(dropped.is_some_and(|d| d >= 1), "buffered orders records are dropped: {dropped:?}");
    let revocations: Vec<(Revocation, Vec<String>)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Consumer(ConsumerEffect::PartitionsRevoked { consumer: 0, partitions, how }) => Some((*how, partitions.iter().map(|tp| sim.tp_name(*tp)).collect())),
            _ => None,
        })
        .collect();
    assert_eq!(revocations.first(), Some(&(Revocation::Unsubscribed, vec!["orders-0".to_string()])), "{revocations:?}");
    assert!(!revocations.iter().any(|(how, _)| *how == Revocation::Eager));
    let g = sim.find_group("g").expect("group");
    let view = sim.group_view(g);
    let owned = |c: &str| view.members.iter().find(|m| m.consumer == c).map(|m| m.assignment.clone());
    assert_eq!(owned("c1"), Some(vec!["payments-0".to_string(), "payments-1".to_string()]));
    assert_eq!(owned("c2"), Some(vec!["orders-0".to_string(), "orders-1".to_string()]));
    // The records c1 dropped are read by c2, which takes orders-0 over from c1's committed offset.
    assert_eq!(sim.group_ledger_view(g).totals.lost, 0);
}

#[test]
fn a_scripted_application_commits_before_processing_when_the_timeline_says_so() {
    let rest = format!(
        "{}[[timeline]]\nat = 0\nproduce = {{ topic = \"orders\", value = \"v{{n}}\", partition = 0, count = 3 }}\n\
         [[timeline]]\nat = 100\npoll = {{ consumer = \"c1\", timeout_ms = 10000, process = false }}\n\
         [[timeline]]\nat = 100\ncommit_sync = \"c1\"\n\
         [[timeline]]\nat = 100\nprocess = \"c1\"\n\
         [[timeline]]\nat = 3700\ncrash_consumer = \"c1\"\n\
         [[expect]]\nat = 3699\ngroup = \"g\"\ncommitted = {{ \"orders-0\" = 3 }}\n\
         [[expect]]\nconsumer = \"c1\"\nread = [\"v1\"]\nlistener_calls = [\"onPartitionsAssigned [orders-0, orders-1]\"]\n\
         [[expect]]\ngroup = \"g\"\nlost = 2\nverdict = \"at-most-once\"\n",
        member("c1", "\"orders\"", ", \"enable.auto.commit\" = false", "application = \"scripted\"\nprocessing_ms = 400"),
    );
    let s = two_topics(&rest);
    holds(&s);
    let mut sim = s.start(1);
    let effects = until(&mut sim, 3_699);
    // The commit and the processing waited for the poll: one thread, the calls in the timeline's order.
    let queued = effects.iter().filter(|e| matches!(e, Effect::Consumer(ConsumerEffect::AppCallQueued { consumer: 0, .. }))).count();
    assert_eq!(queued, 2);
    let sent = effects.iter().position(|e| matches!(e, Effect::Consumer(ConsumerEffect::CommitSent { consumer: 0, .. }))).expect("a commit");
    let processed = effects.iter().position(|e| matches!(e, Effect::Consumer(ConsumerEffect::RecordProcessed { consumer: 0, .. }))).expect("a record processed");
    assert!(sent < processed, "commitSync() came before processing");
}

#[test]
fn a_scripted_application_does_nothing_on_its_own_and_auto_commits_inside_its_polls() {
    let rest = format!(
        "{}[[timeline]]\nat = 0\nproduce = {{ topic = \"orders\", value = \"v{{n}}\", partition = 0, count = 2 }}\n\
         [[timeline]]\nat = 8000\npoll = {{ consumer = \"c1\", timeout_ms = 8000 }}\n\
         [[timeline]]\nat = 16000\npoll = \"c1\"\n\
         [[expect]]\nat = 7999\nconsumer = \"c1\"\nread = []\nlistener_calls = []\n\
         [[expect]]\nat = 15999\ngroup = \"g\"\nnot_committed = [\"orders-0\"]\n\
         [[expect]]\nconsumer = \"c1\"\nread = [\"v1\", \"v2\"]\n\
         [[expect]]\ngroup = \"g\"\ncommitted = {{ \"orders-0\" = 2 }}\n",
        member("c1", "\"orders\"", ", \"auto.commit.interval.ms\" = 1000", "application = \"scripted\""),
    );
    let s = two_topics(&rest);
    holds(&s);
    let mut sim = s.start(1);
    let effects = until(&mut sim, 7_999);
    assert!(!effects.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::CoordinatorFound { .. }))), "it looks for no coordinator before its first poll");
}

#[test]
fn a_scripted_application_that_stops_polling_exceeds_max_poll_interval_and_loses_its_partitions() {
    let rest = format!(
        "{}[[timeline]]\nat = 0\nproduce = {{ topic = \"orders\", value = \"v{{n}}\", partition = 0, count = 2 }}\n\
         [[timeline]]\nat = 100\npoll = {{ consumer = \"c1\", timeout_ms = 10000 }}\n\
         [[timeline]]\nat = 25000\ncommit_sync = \"c1\"\n\
         [[timeline]]\nat = 26000\npoll = {{ consumer = \"c1\", timeout_ms = 10000 }}\n\
         [[expect]]\nat = 24999\ngroup = \"g\"\ngroup_state = \"Empty\"\n\
         [[expect]]\nconsumer = \"c1\"\nerrors_seen = [\"COMMIT_FAILED\"]\nlistener_calls = [\"onPartitionsAssigned [orders-0, orders-1]\", \"onPartitionsLost [orders-0, orders-1]\", \"onPartitionsAssigned [orders-0, orders-1]\"]\n",
        member("c1", "\"orders\"", ", \"enable.auto.commit\" = false, \"max.poll.interval.ms\" = 10000", "application = \"scripted\""),
    );
    let s = two_topics(&rest);
    holds(&s);
    let mut sim = s.start(1);
    let effects = until(&mut sim, 24_999);
    assert!(effects.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::PollTimeout { consumer: 0, left_group: true, .. }))));
}

#[test]
fn a_join_retried_after_rebalance_in_progress_does_not_call_on_join_prepare_again() {
    // With no initial delay c1 gets a generation of its own; c2's join 1 ms later fails c1's SyncGroup
    // with REBALANCE_IN_PROGRESS, and c1 joins again without calling its listener (needsJoinPrepare).
    let range = ", \"partition.assignment.strategy\" = \"range\"";
    let rest = format!(
        "{}{}[[timeline]]\nat = 1000\nstart_consumer = \"c1\"\n[[timeline]]\nat = 1001\nstart_consumer = \"c2\"\n\
         [[expect]]\nconsumer = \"c1\"\nlistener_calls = [\"onPartitionsAssigned [orders-0]\"]\n",
        member("c1", "\"orders\"", range, "start = false"),
        member("c2", "\"orders\"", range, "start = false"),
    );
    let cluster = "network = { latency_ms = 1 }\nconfig = { \"group.initial.rebalance.delay.ms\" = 0, \"offsets.topic.replication.factor\" = 1 }\n";
    let s = two_topics_in(cluster, &rest);
    holds(&s);
    let sim = s.run(1, None, |_, _| {}).sim;
    assert!(sim.consumers[0].errors_seen.contains_key(&KafkaError::RebalanceInProgress), "{:?}", sim.consumers[0].errors_seen);
}

#[test]
fn a_join_answer_that_comes_between_two_scripted_polls_is_read_at_the_next_poll() {
    // The first poll gives up after 1 s, inside the group's 3 s initial delay: the JoinGroup answer
    // then waits for the second poll, which completes the join and calls the listener.
    let rest = format!(
        "{}[[timeline]]\nat = 0\nproduce = {{ topic = \"orders\", value = \"v{{n}}\", partition = 0, count = 2 }}\n\
         [[timeline]]\nat = 100\npoll = {{ consumer = \"c1\", timeout_ms = 1000 }}\n\
         [[timeline]]\nat = 8000\npoll = {{ consumer = \"c1\", timeout_ms = 5000 }}\n\
         [[expect]]\nat = 7999\nconsumer = \"c1\"\nlistener_calls = []\nread = []\n\
         [[expect]]\nconsumer = \"c1\"\nlistener_calls = [\"onPartitionsAssigned [orders-0, orders-1]\"]\nread = [\"v1\", \"v2\"]\n",
        member("c1", "\"orders\"", "", "application = \"scripted\""),
    );
    let s = two_topics(&rest);
    holds(&s);
    let mut sim = s.start(1);
    let before = until(&mut sim, 7_999);
    assert!(before.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::PollReturnedEmpty { consumer: 0 }))));
    assert!(before.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::JoinResponseWaitsForPoll { consumer: 0 }))));
    let after = until(&mut sim, 8_100);
    assert!(after.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::PartitionsAssigned { consumer: 0, .. }))));
}

#[test]
fn a_consumer_not_running_keeps_a_new_subscription_for_its_start() {
    let rest = format!(
        "{}[[timeline]]\nat = 0\nproduce = {{ topic = \"payments\", value = \"p{{n}}\", partition = 1, count = 2 }}\n\
         [[timeline]]\nat = 1000\nsubscribe = {{ consumer = \"c1\", topics = [\"payments\"] }}\n\
         [[timeline]]\nat = 2000\nstart_consumer = \"c1\"\n\
         [[expect]]\nconsumer = \"c1\"\nlistener_calls = [\"onPartitionsAssigned [payments-0, payments-1]\"]\nread = [\"p1\", \"p2\"]\n",
        member("c1", "\"orders\"", "", "start = false"),
    );
    let s = two_topics(&rest);
    holds(&s);
    let mut sim = s.start(1);
    let effects = until(&mut sim, 1_000);
    assert!(effects.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::Subscribed { consumer: 0, running: false, changed: false, .. }))));
}

#[test]
fn a_sync_answer_that_comes_after_a_scripted_poll_returned_is_applied_at_the_next_poll() {
    // The poll ends at 3,122 ms, just after the JoinGroup answer (3,120 ms) and before the SyncGroup
    // answer: the member heartbeats in generation 1, and the next poll applies the assignment.
    let rest = format!(
        "{}[[timeline]]\nat = 0\nproduce = {{ topic = \"orders\", value = \"v{{n}}\", partition = 0, count = 2 }}\n\
         [[timeline]]\nat = 100\npoll = {{ consumer = \"c1\", timeout_ms = 3022 }}\n\
         [[timeline]]\nat = 12000\npoll = {{ consumer = \"c1\", timeout_ms = 3000 }}\n\
         [[expect]]\nat = 11999\nconsumer = \"c1\"\nlistener_calls = []\n\
         [[expect]]\nat = 11999\ngroup = \"g\"\ngroup_state = \"Stable\"\n\
         [[expect]]\nconsumer = \"c1\"\nlistener_calls = [\"onPartitionsAssigned [orders-0, orders-1]\"]\nread = [\"v1\", \"v2\"]\n",
        member("c1", "\"orders\"", "", "application = \"scripted\""),
    );
    let s = two_topics(&rest);
    holds(&s);
    let mut sim = s.start(1);
    let before = until(&mut sim, 11_999);
    assert!(before.iter().any(|e| matches!(e, Effect::Consumer(ConsumerEffect::AssignmentWaitsForPoll { consumer: 0 }))));
    assert!(!before.iter().any(|e| matches!(e, Effect::Group(GroupEffect::MemberRemoved { .. }))), "its heartbeats kept it in the group past session.timeout.ms");
}
