//! The assignors against Kafka's documented examples, seeded property tests, and `kafkasim assign`.

mod common;

use kafkasim::sim::assignor::{assign, Assignment, Member, Strategy, TopicPartition};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use kafkasim::sim::map::VecMap;

fn member(id: &str, topics: &[&str]) -> Member {
    Member {
        id: id.to_string(),
        subscriptions: topics.iter().map(|t| t.to_string()).collect(),
        owned_partitions: Vec::new(),
        generation: None,
        group_instance_id: None,
    }
}

fn tps(list: &[(&str, u32)]) -> Vec<TopicPartition> {
    list.iter().map(|(t, p)| (t.to_string(), *p)).collect()
}

fn topics(list: &[(&str, u32)]) -> VecMap<String, u32> {
    list.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

/// The example in the Javadoc of Kafka's `RangeAssignor`.
#[test]
fn range_javadoc_example() {
    let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
    let a = assign(Strategy::Range, &topics(&[("t0", 3), ("t1", 3)]), &members).expect("assigns");
    assert_eq!(a["C0"], tps(&[("t0", 0), ("t0", 1), ("t1", 0), ("t1", 1)]));
    assert_eq!(a["C1"], tps(&[("t0", 2), ("t1", 2)]));
}

/// Both examples in the Javadoc of Kafka's `RoundRobinAssignor`.
#[test]
fn round_robin_javadoc_examples() {
    let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
    let a = assign(Strategy::RoundRobin, &topics(&[("t0", 3), ("t1", 3)]), &members).expect("assigns");
    assert_eq!(a["C0"], tps(&[("t0", 0), ("t0", 2), ("t1", 1)]));
    assert_eq!(a["C1"], tps(&[("t0", 1), ("t1", 0), ("t1", 2)]));

    let members = [member("C0", &["t0"]), member("C1", &["t0", "t1"]), member("C2", &["t0", "t1", "t2"])];
    let a = assign(Strategy::RoundRobin, &topics(&[("t0", 1), ("t1", 2), ("t2", 3)]), &members).expect("assigns");
    assert_eq!(a["C0"], tps(&[("t0", 0)]));
    assert_eq!(a["C1"], tps(&[("t1", 0)]));
    assert_eq!(a["C2"], tps(&[("t1", 1), ("t2", 0), ("t2", 1), ("t2", 2)]));
}

/// The first example in the Javadoc of Kafka's `StickyAssignor` (a fresh group).
#[test]
fn sticky_javadoc_first_example() {
    let all = ["t0", "t1", "t2", "t3"];
    let members = [member("C0", &all), member("C1", &all), member("C2", &all)];
    let a = assign(Strategy::Sticky, &topics(&[("t0", 2), ("t1", 2), ("t2", 2), ("t3", 2)]), &members).expect("assigns");
    assert_eq!(a["C0"], tps(&[("t0", 0), ("t1", 1), ("t3", 0)]));
    assert_eq!(a["C1"], tps(&[("t0", 1), ("t2", 0), ("t3", 1)]));
    assert_eq!(a["C2"], tps(&[("t1", 0), ("t2", 1)]));
}

#[test]
fn static_members_sort_first_by_instance_id() {
    let mut a = member("A", &["t"]);
    let mut b = member("B", &["t"]);
    b.group_instance_id = Some("instance-1".into());
    a.group_instance_id = None;
    let result = assign(Strategy::Range, &topics(&[("t", 2)]), &[a, b]).expect("assigns");
    assert_eq!(result["B"], tps(&[("t", 0)]));
    assert_eq!(result["A"], tps(&[("t", 1)]));
}

#[test]
fn a_new_member_takes_only_what_it_must_under_sticky_and_waits_under_cooperative() {
    let mut c0 = member("C0", &["t"]);
    c0.owned_partitions = tps(&[("t", 0), ("t", 1), ("t", 2), ("t", 3)]);
    c0.generation = Some(1);
    let c1 = member("C1", &["t"]);
    let eager = assign(Strategy::Sticky, &topics(&[("t", 4)]), &[c0.clone(), c1.clone()]).expect("assigns");
    assert_eq!(eager["C0"], tps(&[("t", 0), ("t", 1)]));
    assert_eq!(eager["C1"], tps(&[("t", 2), ("t", 3)]));
    let first_round = assign(Strategy::CooperativeSticky, &topics(&[("t", 4)]), &[c0, c1]).expect("assigns");
    assert_eq!(first_round["C0"], tps(&[("t", 0), ("t", 1)]), "C0 keeps two and must revoke t-2, t-3");
    assert!(first_round["C1"].is_empty(), "t-2 and t-3 are withheld until C0 revoked them");
}

#[test]
fn equal_generation_double_claims_are_reassigned() {
    let mut c0 = member("C0", &["t"]);
    let mut c1 = member("C1", &["t"]);
    c0.owned_partitions = tps(&[("t", 0)]);
    c1.owned_partitions = tps(&[("t", 0)]);
    c0.generation = Some(3);
    c1.generation = Some(3);
    let a = assign(Strategy::CooperativeSticky, &topics(&[("t", 2)]), &[c0, c1]).expect("assigns");
    let total: usize = a.values().map(Vec::len).sum();
    assert_eq!(total, 1, "the doubly claimed partition is withheld in this round: {a:?}");
}

/// Kafka's `verifyValidityAndBalance` (AbstractStickyAssignorTest): every partition goes to one
/// subscriber, and two members whose counts differ by more than one share no topic (otherwise a
/// partition could have moved to the lighter one).
fn verify_validity_and_balance(members: &[Member], a: &Assignment) {
    for m in members {
        assert!(a[&m.id].iter().all(|(t, _)| m.subscriptions.contains(t)), "{} got an unsubscribed topic: {a:?}", m.id);
    }
    assert!(coverage(a).values().all(|&c| c == 1), "a partition went to two members: {a:?}");
    for (i, m) in members.iter().enumerate() {
        for o in &members[i + 1..] {
            let (x, y) = (&a[&m.id], &a[&o.id]);
            if x.len().abs_diff(y.len()) <= 1 {
                continue;
            }
            let topics_x: BTreeSet<&String> = x.iter().map(|tp| &tp.0).collect();
            let shared = y.iter().any(|tp| topics_x.contains(&tp.0));
            assert!(!shared, "{} and {} could be balanced better: {a:?}", m.id, o.id);
        }
    }
}

fn with_owned(mut m: Member, owned: &[TopicPartition], generation: i32) -> Member {
    m.owned_partitions = owned.to_vec();
    m.generation = Some(generation);
    m
}

/// Kafka's `testMultipleConsumersMixedTopicSubscriptions`: the general builder's exact output.
#[test]
fn sticky_mixed_subscriptions_match_kafka() {
    let members = [member("consumer1", &["topic1"]), member("consumer2", &["topic1", "topic2"]), member("consumer3", &["topic1"])];
    for s in [Strategy::Sticky, Strategy::CooperativeSticky] {
        let a = assign(s, &topics(&[("topic1", 3), ("topic2", 2)]), &members).expect("assigns");
        assert_eq!(a["consumer1"], tps(&[("topic1", 0), ("topic1", 2)]), "{s:?}");
        assert_eq!(a["consumer2"], tps(&[("topic2", 0), ("topic2", 1)]), "{s:?}");
        assert_eq!(a["consumer3"], tps(&[("topic1", 1)]), "{s:?}");
        verify_validity_and_balance(&members, &a);
    }
}

/// Kafka's `testAssignmentWithMultipleGenerations1` with unequal subscriptions: members keep what
/// they owned, a departed member's partitions are spread, and a stale generation loses its claims.
#[test]
fn sticky_general_case_across_generations_matches_kafka() {
    let all = ["topic", "topic2"];
    let parts = topics(&[("topic", 6), ("topic2", 6)]);
    let c1 = member("consumer1", &all);
    let c2 = member("consumer2", &["topic"]);
    let c3 = member("consumer3", &all);
    let r1 = assign(Strategy::Sticky, &parts, &[c1.clone(), c2.clone(), c3.clone()]).expect("assigns");
    assert!(r1.values().all(|l| l.len() == 4), "{r1:?}");
    verify_validity_and_balance(&[c1.clone(), c2.clone(), c3.clone()], &r1);

    let round2 = [with_owned(c1.clone(), &r1["consumer1"], 1), with_owned(c2.clone(), &r1["consumer2"], 1)];
    let r2 = assign(Strategy::Sticky, &parts, &round2).expect("assigns");
    assert!(r2.values().all(|l| l.len() == 6), "{r2:?}");
    assert!(r1["consumer2"].iter().all(|tp| r2["consumer2"].contains(tp)), "consumer2 keeps its partitions: {r2:?}");
    assert!(r1["consumer3"].iter().any(|tp| r2["consumer2"].contains(tp)), "consumer2 takes some of consumer3's: {r2:?}");
    verify_validity_and_balance(&round2, &r2);

    let round3 = [with_owned(c2, &r2["consumer2"], 2), with_owned(c3, &r1["consumer3"], 1)];
    let r3 = assign(Strategy::Sticky, &parts, &round3).expect("assigns");
    assert!(r3.values().all(|l| l.len() == 6), "{r3:?}");
    verify_validity_and_balance(&round3, &r3);
}

/// Kafka's `testAssignmentWithConflictingPreviousGenerations` with unequal subscriptions.
#[test]
fn sticky_general_case_settles_conflicting_generations_like_kafka() {
    let parts = topics(&[("topic", 4), ("topic2", 4), ("topic3", 4)]);
    let c1 = tps(&[("topic", 0), ("topic", 1), ("topic", 2), ("topic", 3)]);
    let c2 = tps(&[("topic", 0), ("topic", 1), ("topic2", 0), ("topic2", 1), ("topic2", 2), ("topic2", 3)]);
    let c3 = tps(&[("topic", 2), ("topic", 3), ("topic3", 0), ("topic3", 1), ("topic3", 2), ("topic3", 3)]);
    let members = [
        with_owned(member("consumer1", &["topic"]), &c1, 1),
        with_owned(member("consumer2", &["topic", "topic2"]), &c2, 2),
        with_owned(member("consumer3", &["topic", "topic2", "topic3"]), &c3, 2),
    ];
    let a = assign(Strategy::Sticky, &parts, &members).expect("assigns");
    assert!(a.values().all(|l| l.len() == 4), "{a:?}");
    assert!(a["consumer2"].iter().all(|tp| c2.contains(tp)), "{a:?}");
    assert!(a["consumer3"].iter().all(|tp| c3.contains(tp)), "{a:?}");
    verify_validity_and_balance(&members, &a);
}

/// Kafka's `testReassignmentAfterOneConsumerLeaves`: 19 topics with 1..19 partitions, member i
/// subscribes to the first i topics; then one member leaves.
#[test]
fn sticky_general_case_rebalances_a_staircase_group_after_a_member_leaves() {
    let name = |prefix: &str, i: usize| format!("{prefix}{i:02}");
    let parts: VecMap<String, u32> = (1..20).map(|i| (name("topic", i), i as u32)).collect();
    let members: Vec<Member> = (1..20)
        .map(|i| {
            let subs: Vec<String> = (1..=i).map(|j| name("topic", j)).collect();
            member(&name("consumer", i), &subs.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .collect();
    let first = assign(Strategy::Sticky, &parts, &members).expect("assigns");
    verify_validity_and_balance(&members, &first);
    let rest: Vec<Member> =
        members.iter().filter(|m| m.id != "consumer10").map(|m| with_owned(m.clone(), &first[&m.id], 1)).collect();
    let second = assign(Strategy::Sticky, &parts, &rest).expect("assigns");
    verify_validity_and_balance(&rest, &second);
    let kept: usize = rest.iter().map(|m| second[&m.id].iter().filter(|tp| m.owned_partitions.contains(tp)).count()).sum();
    let owned: usize = rest.iter().map(|m| m.owned_partitions.len()).sum();
    assert!(kept * 10 >= owned * 9, "sticky keeps most partitions in place: {kept} of {owned}");
}

#[test]
fn property_sticky_general_case_is_valid_balanced_and_cooperative_waits_for_revocation() {
    let mut rng = ChaCha8Rng::seed_from_u64(4242);
    for case in 0..400 {
        let (parts, members) = random_group(&mut rng, false);
        let sticky = assign(Strategy::Sticky, &parts, &members).expect("assigns");
        verify_validity_and_balance(&members, &sticky);
        let coop = assign(Strategy::CooperativeSticky, &parts, &members).expect("assigns");
        let owner: BTreeMap<&TopicPartition, &str> =
            members.iter().flat_map(|m| m.owned_partitions.iter().map(move |tp| (tp, m.id.as_str()))).collect();
        for m in &members {
            for tp in &coop[&m.id] {
                assert!(owner.get(tp).is_none_or(|o| *o == m.id), "case {case}: {tp:?} moved from {:?} to {} in one round", owner.get(tp), m.id);
            }
            assert!(coop[&m.id].iter().all(|tp| sticky[&m.id].contains(tp)), "case {case}: cooperative is the sticky result minus withheld partitions");
        }
    }
}

fn random_group(rng: &mut ChaCha8Rng, equal: bool) -> (VecMap<String, u32>, Vec<Member>) {
    let n_topics = rng.random_range(1..=4);
    let names: Vec<String> = (0..n_topics).map(|i| format!("t{i}")).collect();
    let parts: VecMap<String, u32> = names.iter().map(|t| (t.clone(), rng.random_range(1..=8))).collect();
    let n_members = rng.random_range(1..=7);
    let mut members: Vec<Member> = (0..n_members)
        .map(|i| {
            let subs: Vec<&str> = if equal {
                names.iter().map(String::as_str).collect()
            } else {
                let chosen: Vec<&str> = names.iter().filter(|_| rng.random_bool(0.6)).map(String::as_str).collect();
                if chosen.is_empty() { vec![names[0].as_str()] } else { chosen }
            };
            member(&format!("consumer-{}", rng.random_range(0..1000) * 10 + i), &subs)
        })
        .collect();
    // A previous, valid generation: every partition owned by at most one current member.
    for (t, &n) in &parts {
        for p in 0..n {
            if rng.random_bool(0.5) {
                let m = rng.random_range(0..members.len());
                members[m].owned_partitions.push((t.clone(), p));
                members[m].generation = Some(4);
            }
        }
    }
    (parts, members)
}

fn coverage(a: &Assignment) -> BTreeMap<TopicPartition, u32> {
    let mut seen = BTreeMap::new();
    for list in a.values() {
        for tp in list {
            *seen.entry(tp.clone()).or_insert(0) += 1;
        }
    }
    seen
}

#[test]
fn property_every_subscribed_partition_is_assigned_exactly_once_to_a_subscriber() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    for case in 0..400 {
        let equal = case % 2 == 0;
        let (parts, members) = random_group(&mut rng, equal);
        let strategies = [Strategy::Range, Strategy::RoundRobin, Strategy::Sticky];
        let subscribed: BTreeSet<&String> = members.iter().flat_map(|m| &m.subscriptions).collect();
        for s in strategies {
            let a = assign(s, &parts, &members).expect("assigns");
            let seen = coverage(&a);
            let expected: u32 = parts.iter().filter(|(t, _)| subscribed.contains(t)).map(|(_, n)| n).sum();
            assert_eq!(seen.len() as u32, expected, "case {case} {s:?}: {a:?}");
            assert!(seen.values().all(|&c| c == 1), "case {case} {s:?}: {a:?}");
            for m in &members {
                assert!(a[&m.id].iter().all(|(t, _)| m.subscriptions.contains(t)), "case {case} {s:?}");
            }
        }
    }
}

#[test]
fn property_round_robin_and_sticky_balance_equal_subscriptions_within_one() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for case in 0..300 {
        let (parts, members) = random_group(&mut rng, true);
        for s in [Strategy::RoundRobin, Strategy::Sticky] {
            let a = assign(s, &parts, &members).expect("assigns");
            let sizes: Vec<usize> = a.values().map(Vec::len).collect();
            let (lo, hi) = (sizes.iter().min().expect("members"), sizes.iter().max().expect("members"));
            assert!(hi - lo <= 1, "case {case} {s:?}: sizes {sizes:?}");
        }
    }
}

#[test]
fn property_sticky_keeps_what_it_can_and_cooperative_never_moves_an_owned_partition_in_one_round() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for case in 0..300 {
        let (parts, members) = random_group(&mut rng, true);
        let total: usize = parts.values().sum::<u32>() as usize;
        let min_quota = total / members.len();
        let sticky = assign(Strategy::Sticky, &parts, &members).expect("assigns");
        let coop = assign(Strategy::CooperativeSticky, &parts, &members).expect("assigns");
        let owner: BTreeMap<&TopicPartition, &str> =
            members.iter().flat_map(|m| m.owned_partitions.iter().map(move |tp| (tp, m.id.as_str()))).collect();
        for m in &members {
            let kept = sticky[&m.id].iter().filter(|tp| m.owned_partitions.contains(tp)).count();
            assert!(kept >= m.owned_partitions.len().min(min_quota), "case {case}: {} kept {kept} of {:?}", m.id, m.owned_partitions);
            for tp in &coop[&m.id] {
                assert!(owner.get(tp).is_none_or(|o| *o == m.id), "case {case}: {tp:?} moved from {:?} to {} in one round", owner.get(tp), m.id);
            }
            assert!(coop[&m.id].iter().all(|tp| sticky[&m.id].contains(tp)), "cooperative is the sticky result minus withheld partitions");
        }
    }
}

#[test]
fn cli_assign_reads_stdin_and_prints_json() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let run = |strategy: &str, input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
            .args(["assign", "--strategy", strategy])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // The command may refuse its arguments and exit before reading stdin; that closes the pipe.
        if let Err(e) = child.stdin.take().expect("stdin").write_all(input.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        child.wait_with_output().expect("output")
    };
    let input = r#"{"partitions_per_topic": {"t0": 3}, "members": [{"id": "C0", "subscriptions": ["t0"], "owned_partitions": [["t0", 0]], "generation": 1, "group_instance_id": null}, {"id": "C1", "subscriptions": ["t0"]}]}"#;
    let o = run("range", input);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), r#"{"C0":[["t0",0],["t0",1]],"C1":[["t0",2]]}"#);
    // Kafka's constrained sticky pass: C0 keeps t0-0 (min quota) and queues for one more; C1 takes
    // t0-1 in the round-robin fill; the last partition goes to the head of that queue, C0.
    let o = run("cooperative-sticky", input);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), r#"{"C0":[["t0",0],["t0",2]],"C1":[["t0",1]]}"#);
    let bad = run("range", "{\"members\": [}");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("<stdin>:1:"), "{}", String::from_utf8_lossy(&bad.stderr));
    assert_eq!(run("fastest", input).status.code(), Some(2));
}

/// Found by the conformance harness (Kafka 4.1.2's answer): `allSubscriptionsEqual` takes the first
/// subscription in the members' HashMap order as the reference only while it is empty, so when a member
/// with no subscriptions comes first ("m36" before "consumer-17-4a0b302b" here) the group counts as
/// all-equal and the constrained builder gives that member a partition of a topic it never asked for.
#[test]
fn sticky_counts_a_first_empty_subscription_as_equal_like_kafka() {
    let members = [member("consumer-17-4a0b302b", &["payments"]), member("m36", &[])];
    for strategy in [Strategy::Sticky, Strategy::CooperativeSticky] {
        let result = assign(strategy, &topics(&[("payments", 2)]), &members).unwrap();
        assert_eq!(result["consumer-17-4a0b302b"], tps(&[("payments", 0)]), "{strategy:?}");
        assert_eq!(result["m36"], tps(&[("payments", 1)]), "{strategy:?}");
    }
}

/// Found by the conformance harness: Kafka 4.1.2's `CooperativeStickyAssignor` throws a
/// `NullPointerException` on this group (generated case, members with unequal subscriptions and owned
/// partitions from several generations): `GeneralAssignmentBuilder.performReassignments` looks up the
/// partitions of a partition's previous owner after that member was set aside as not reassignable.
#[test]
fn sticky_fails_where_kafka_throws_on_a_set_aside_previous_owner() {
    let members: Vec<Member> = serde_json::from_str(
        r#"[
        {"id":"consumer-1","subscriptions":["orders","t1","missing"],"owned_partitions":[["orders",0],["t1",0],["deleted",0]],"generation":3},
        {"id":"consumer-2","subscriptions":["t1"],"owned_partitions":[["orders",2]],"generation":5},
        {"id":"consumer-15-96cf7835","subscriptions":[],"owned_partitions":[["orders",1]]},
        {"id":"consumer-4","subscriptions":["t1","missing"],"owned_partitions":[["orders",1],["orders",5]],"generation":5},
        {"id":"consumer-18-414a402c","subscriptions":["orders"],"owned_partitions":[["orders",0]],"generation":2},
        {"id":"m24","subscriptions":["orders","missing"],"group_instance_id":"instance-5"}
    ]"#,
    )
    .unwrap();
    let result = assign(Strategy::CooperativeSticky, &topics(&[("orders", 6), ("t1", 1)]), &members);
    assert!(matches!(result, Err(kafkasim::sim::assignor::AssignError::PreviousOwnerNotReassignable(_))), "{result:?}");
}
