//! Record sizes and the size limits: batch.size in bytes, max.request.size at send(), the topic's
//! max.message.bytes at the leader, and what acks=0 makes of a refusal (docs/model.md).

mod common;

use kafkasim::scenario::Scenario;
use kafkasim::sim::ledger::Outcome;
use kafkasim::sim::{ClusterEffect, Effect, KafkaError, ProducerEffect, Sim};

/// Three brokers, topic `t` (1 partition, RF 3) with `topic_config`, producer `p` with
/// `producer_config`, plus `rest`.
fn scenario(topic_config: &str, producer_config: &str, rest: &str) -> Scenario {
    let text = format!(
        "title = \"t\"\nsummary = \"s\"\nduration_ms = 20000\n[cluster]\nbrokers = 3\nnetwork = {{ latency_ms = 5 }}\n\
         [[topics]]\nname = \"t\"\npartitions = 1\n\"replication.factor\" = 3\nconfig = {{ {topic_config} }}\n\
         [[producers]]\nname = \"p\"\nconfig = {{ {producer_config} }}\n{rest}"
    );
    common::parse(&text).unwrap_or_else(|e| panic!("valid test scenario: {e:?}\n{text}"))
}

fn run(s: &Scenario, until: u64) -> (Sim, Vec<Effect>) {
    let mut sim = s.start(1);
    let mut effects = Vec::new();
    sim.run_until(until, |_, step| effects.extend(step.effects));
    (sim, effects)
}

fn appended_batches(effects: &[Effect]) -> Vec<usize> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Cluster(ClusterEffect::LeaderAppended { records, .. }) => Some(records.len()),
            _ => None,
        })
        .collect()
}

fn outcome_error(sim: &Sim, record: usize) -> Option<KafkaError> {
    match sim.ledger.records[record].outcome {
        Outcome::Failed { error, .. } => Some(error),
        _ => None,
    }
}

#[test]
fn max_request_size_refuses_a_record_whose_upper_bound_is_above_it_at_send() {
    // The upper bound of a keyless record with a 914-byte value: 61 + 21 + 1 (null key) + 2 + 914
    // (the value and its length) + 1 (no headers) = 1000.
    for (value_bytes, refused) in [(914, false), (915, true)] {
        let s = scenario(
            "",
            "\"max.request.size\" = 1000",
            &format!("[[timeline]]\nat = 1000\nproduce = {{ value = \"v\", value_bytes = {value_bytes} }}\n"),
        );
        let (sim, effects) = run(&s, 5000);
        let rec = &sim.ledger.records[0];
        if refused {
            assert_eq!(outcome_error(&sim, 0), Some(KafkaError::RecordTooLarge));
            assert_eq!(rec.attempts, 0, "no request carried it");
            assert!(effects.iter().any(|e| matches!(e, Effect::Producer(ProducerEffect::RecordTooLarge { size: 1001, max_request_size: 1000, .. }))));
            assert_eq!(sim.producers[0].errors_seen.get(&KafkaError::RecordTooLarge), Some(&1));
        } else {
            assert!(rec.acknowledged(), "{value_bytes} bytes: the bound is exactly max.request.size");
        }
    }
}

#[test]
fn the_leader_refuses_a_batch_above_max_message_bytes_and_the_producer_does_not_retry() {
    // A lone keyless record with a 900-byte value: body 1 + 1 + 1 + 1 + (2 + 900) + 1 = 907, its
    // length 2 more, and the batch header: 61 + 909 = 970 bytes.
    for (limit, refused) in [(970, false), (969, true)] {
        let s = scenario(
            &format!("\"max.message.bytes\" = {limit}"),
            "",
            "[[timeline]]\nat = 1000\nproduce = { value = \"v\", value_bytes = 900 }\n",
        );
        let (sim, effects) = run(&s, 5000);
        if refused {
            assert_eq!(outcome_error(&sim, 0), Some(KafkaError::MessageTooLarge));
            assert_eq!(sim.ledger.records[0].attempts, 1, "MESSAGE_TOO_LARGE is not retriable");
            assert!(effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::BatchTooLarge { bytes: 970, max_message_bytes: 969, acks0: false, .. }))));
            assert!(appended_batches(&effects).is_empty());
        } else {
            assert!(sim.ledger.records[0].acknowledged());
            assert_eq!(sim.broker(1).replicas[0].as_ref().expect("replica").log.bytes(), 970, "the log holds the batch's bytes");
        }
    }
}

#[test]
fn with_acks0_a_refused_batch_is_counted_as_sent_without_an_offset_and_is_not_in_the_log() {
    let s = scenario("\"max.message.bytes\" = 500", "acks = 0", "[[timeline]]\nat = 1000\nproduce = { value = \"v{n}\", value_bytes = 600 }\n");
    let (sim, effects) = run(&s, 5000);
    assert!(matches!(sim.ledger.records[0].outcome, Outcome::Acknowledged { offset: None, .. }), "offset -1, no error");
    assert!(sim.producers[0].errors_seen.is_empty());
    assert!(effects.iter().any(|e| matches!(e, Effect::Cluster(ClusterEffect::BatchTooLarge { acks0: true, .. }))));
    assert_eq!(sim.broker(1).replicas[0].as_ref().expect("replica").log.leo(), 0);
    assert_eq!(sim.ledger_view().totals.acknowledged_lost, 1);
}

#[test]
fn batch_size_counts_bytes_with_the_header_and_a_batch_with_one_behind_it_leaves_at_once() {
    // Values "v1".."v5" are 9-byte records: 61 + 4 × 9 = 97 ≤ 100, a fifth would make 106.
    let s = scenario("", "\"batch.size\" = 100, \"linger.ms\" = 500", "[[timeline]]\nat = 1000\nproduce = { value = \"v{n}\", count = 5 }\n");
    let (_, early) = run(&s, 1100);
    // The first batch does not wait for linger.ms: a batch is behind it (`RecordAccumulator.ready`).
    assert_eq!(appended_batches(&early), vec![4]);
    let (sim, effects) = run(&s, 2000);
    assert_eq!(appended_batches(&effects), vec![4, 1]);
    let sizes: Vec<u32> = (0..5).map(|i| sim.ledger.records[i].size).collect();
    assert_eq!(sizes, vec![9, 9, 9, 9, 9]);
}

#[test]
fn a_record_larger_than_batch_size_gets_a_batch_of_its_own() {
    let s = scenario("", "\"batch.size\" = 100, \"linger.ms\" = 50", "[[timeline]]\nat = 1000\nproduce = { value = \"v{n}\", value_bytes = 300, count = 3 }\n");
    let (_, effects) = run(&s, 3000);
    assert_eq!(appended_batches(&effects), vec![1, 1, 1]);
}

#[test]
fn a_batch_of_several_records_above_max_message_bytes_is_split_and_without_compression_never_fits() {
    // Two 30-byte values in one batch: 61 + 36 + 36 = 133 > 100. `Sender.completeBatch` splits it
    // into batches of batch.size (16384), which hold both records again: without compression the
    // split changes nothing, and the batch goes round until delivery.timeout.ms expires it, as in
    // Kafka.
    let s = scenario(
        "\"max.message.bytes\" = 100",
        "\"request.timeout.ms\" = 1000, \"delivery.timeout.ms\" = 2000",
        "[[timeline]]\nat = 1000\nproduce = { value = \"v{n}\", value_bytes = 30, count = 2 }\n",
    );
    let (sim, effects) = run(&s, 5000);
    let splits = effects.iter().filter(|e| matches!(e, Effect::Producer(ProducerEffect::BatchSplit { batches: 1, .. }))).count();
    assert!(splits > 50, "{splits} splits in 2 s of 10 ms round trips");
    assert_eq!((outcome_error(&sim, 0), outcome_error(&sim, 1)), (Some(KafkaError::DeliveryTimeout), Some(KafkaError::DeliveryTimeout)));
    let expired_at = match sim.ledger.records[0].outcome {
        Outcome::Failed { at, .. } => at,
        _ => unreachable!(),
    };
    assert_eq!(expired_at, 3000, "at creation + delivery.timeout.ms, though split batches were made later");
    assert!(appended_batches(&effects).is_empty());
}

#[test]
fn a_batch_size_below_max_message_bytes_keeps_every_batch_within_the_limit() {
    // Two keyless 60-byte values are 67-byte records: with batch.size 150 the first batch holds one
    // (61 + 67 = 128; a second would make 195), and 128 ≤ max.message.bytes 180, so nothing is
    // refused and nothing split.
    let s = scenario(
        "\"max.message.bytes\" = 180",
        "\"batch.size\" = 150",
        "[[timeline]]\nat = 1000\nproduce = { value = \"v{n}\", value_bytes = 60, count = 2 }\n",
    );
    let (sim, effects) = run(&s, 3000);
    assert_eq!(appended_batches(&effects), vec![1, 1]);
    assert!(sim.ledger.records.iter().all(|r| r.acknowledged()));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Producer(ProducerEffect::BatchSplit { .. }))));
}

#[test]
fn value_bytes_is_checked_where_it_is_written() {
    let base = "title = \"t\"\nsummary = \"s\"\n[cluster]\nbrokers = 1\n[[topics]]\nname = \"t\"\npartitions = 1\n\"replication.factor\" = 1\n[[producers]]\nname = \"p\"\n";
    let short = common::parse(&format!("{base}[[timeline]]\nat = 0\nproduce = {{ value = \"v{{n}}\", count = 10, value_bytes = 2 }}\n"))
        .expect_err("v10 is 3 bytes");
    assert!(format!("{short:?}").contains("shorter than the value's text (3 bytes)"), "{short:?}");
    let huge = common::parse(&format!("{base}[[timeline]]\nat = 0\nproduce = {{ value_bytes = 16777217 }}\n")).expect_err("above 16 MiB");
    assert!(format!("{huge:?}").contains("at most 16777216"), "{huge:?}");
    common::parse(&format!("{base}[[timeline]]\nat = 0\nproduce = {{ value_bytes = 16777216, count = 1000 }}\n")).expect("16 MiB values are never stored");
}
