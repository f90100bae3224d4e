//! Simulated events per second on a large cluster: 9 brokers, 3 topics × 30 partitions, RF 3,
//! 100,000 records from three producers. Prints the median of several runs.
//!
//! Run with `cargo bench --bench throughput` (or `cargo xtask bench`).

use kafkasim::sim::config::{BrokerConfig, LinkParams, ProducerConfigRaw, TopicConfig};
use kafkasim::sim::{default_assignment, Action, ProduceAction, ProducerSpec, Setup, Sim, TimedAction, TopicSpec};
use std::time::Instant;

const RECORDS: u32 = 100_000;
/// `cargo test --all-targets` runs this unoptimised as a smoke test: one run is enough there.
const RUNS: usize = if cfg!(debug_assertions) { 1 } else { 5 };

fn setup() -> Setup {
    let topics = ["orders", "payments", "clicks"]
        .iter()
        .map(|name| TopicSpec {
            name: name.to_string(),
            assignment: default_assignment(30, 3, 9),
            config: TopicConfig { min_insync_replicas: Some(2), ..TopicConfig::default() },
        })
        .collect();
    let producers = (0..3)
        .map(|i| ProducerSpec { name: format!("p{i}"), config: ProducerConfigRaw::default().resolve().expect("defaults are valid") })
        .collect();
    let per_producer = RECORDS.div_ceil(3);
    let timeline = (0..3u32)
        .map(|i| TimedAction {
            at: 0,
            action: Action::Produce(ProduceAction {
                producer: i,
                topic: i,
                partition: None,
                key: Some("key-{n}".to_string()),
                value: "value-{n}".to_string(),
                count: per_producer,
                rate: Some(5_000.0),
                literal: false,
            }),
        })
        .collect();
    Setup {
        seed: 42,
        brokers: 9,
        broker_config: BrokerConfig::default(),
        network: LinkParams { latency_ms: 2, jitter_ms: 1, loss: 0.0 },
        links: Vec::new(),
        topics,
        producers,
        consumers: Vec::new(),
        timeline,
    }
}

fn main() {
    let mut rates = Vec::new();
    let mut steps = 0;
    for run in 0..RUNS {
        let mut sim = Sim::new(setup());
        let start = Instant::now();
        sim.run_until(30_000, |_, _| {});
        let secs = start.elapsed().as_secs_f64();
        steps = sim.steps_taken();
        let acked = sim.ledger.records.iter().filter(|r| r.acknowledged()).count();
        assert_eq!(acked, sim.ledger.records.len(), "every record is acknowledged in a fault-free run");
        let rate = steps as f64 / secs;
        println!("run {run}: {steps} events in {secs:.3} s = {rate:.0} events/s");
        rates.push(rate);
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    let median = rates[RUNS / 2];
    println!("median: {median:.0} simulated events/s ({steps} events, {RECORDS} records, 9 brokers, 90 partitions, RF 3)");
}
