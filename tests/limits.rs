//! Every numeric setting at the largest and the smallest value its range allows runs without an
//! arithmetic overflow (integration tests build with overflow checks on), and virtual time never
//! goes backwards: the ranges checked at parse time are all the core has to survive.

mod common;

use kafkasim::scenario::ranges::RANGES;

/// A scenario with a producer, a consumer group and a crash, so that every kind of timer runs:
/// retries, delivery timeouts, heartbeats, sessions, fetch waits, retention, rebalances.
fn scenario(table: &str, key: &str, value: i128) -> String {
    let setting = format!("\"{key}\" = {value}");
    let (broker, topic, producer, consumer) = match table {
        "broker" => (setting.as_str(), "", "", ""),
        "topic" => ("", setting.as_str(), "", ""),
        "producer" => ("", "", setting.as_str(), ""),
        _ => ("", "", "", setting.as_str()),
    };
    // Kafka's own cross-checks are kept satisfied, so that the setting itself is what is tried.
    let broker = match key {
        "replica.fetch.wait.max.ms" => format!("{broker}, \"replica.socket.timeout.ms\" = {}, \"replica.lag.time.max.ms\" = {}", value.max(1), value.max(1)),
        "replica.socket.timeout.ms" | "replica.lag.time.max.ms" if value < 500 => format!("{broker}, \"replica.fetch.wait.max.ms\" = 0"),
        "broker.heartbeat.interval.ms" if value >= 9000 => format!("{broker}, \"broker.session.timeout.ms\" = 2147483647"),
        "broker.session.timeout.ms" if value <= 2000 => format!("{broker}, \"broker.heartbeat.interval.ms\" = 1"),
        _ => broker.to_string(),
    };
    let producer = match key {
        "max.in.flight.requests.per.connection" if value > 5 => format!("{producer}, \"enable.idempotence\" = false"),
        "linger.ms" | "request.timeout.ms" if value > 100_000 => format!("{producer}, \"delivery.timeout.ms\" = 2147483647"),
        "delivery.timeout.ms" if value < 30_005 => format!("{producer}, \"linger.ms\" = 0, \"request.timeout.ms\" = 0"),
        _ => producer.to_string(),
    };
    let consumer = match key {
        "heartbeat.interval.ms" if value >= 45_000 => format!("{consumer}, \"session.timeout.ms\" = 2147483647"),
        "session.timeout.ms" if value <= 3_000 => format!("{consumer}, \"heartbeat.interval.ms\" = 0"),
        _ => consumer.to_string(),
    };
    let list = |s: &str| s.trim_start_matches(", ").to_string();
    let groups = if key.starts_with("group.m") { "" } else { "\"group.max.session.timeout.ms\" = 2147483647, \"group.min.session.timeout.ms\" = 0, " };
    format!(
        r#"title = "{key} = {value}"
summary = "A setting at the end of its range."
seed = 3
duration_ms = 60000

[cluster]
brokers = 3
config = {{ {groups}{broker} }}

[[topics]]
name = "orders"
partitions = 2
"replication.factor" = 3
config = {{ {topic} }}

[[producers]]
name = "app"
config = {{ {producer} }}

[[consumers]]
name = "reader"
topics = ["orders"]
config = {{ "group.id" = "g", {consumer} }}

[[timeline]]
at = 100
produce = {{ count = 20, rate = 10 }}

[[timeline]]
at = 2000
crash = 1

[[timeline]]
at = 20000
restart = 1
"#
    )
    .replace("{ , ", "{ ")
    .replace(", }", " }")
    .replace("{  }", "{ }")
    .lines()
    .map(|l| if l.ends_with("= {  }") { String::new() } else { list(l) })
    .collect::<Vec<_>>()
    .join("\n")
}

fn table_of(key: &str) -> &'static str {
    match key {
        "retries" | "retry.backoff.max.ms" | "delivery.timeout.ms" | "max.in.flight.requests.per.connection" | "linger.ms" | "batch.size" | "max.request.size" => "producer",
        "auto.commit.interval.ms" | "session.timeout.ms" | "heartbeat.interval.ms" | "max.poll.interval.ms" | "max.poll.records" | "fetch.max.wait.ms"
        | "max.partition.fetch.bytes" => "consumer",
        "retention.ms" | "retention.bytes" | "flush.messages" | "max.message.bytes" => "topic",
        _ => "broker",
    }
}

#[test]
fn every_setting_at_either_end_of_its_range_runs_without_overflow() {
    let (mut tried, mut attempts) = (0, 0);
    let mut refused = Vec::new();
    for r in RANGES {
        // `request.timeout.ms`, `retry.backoff.ms` and `metadata.max.age.ms` are settings of both clients.
        let tables: Vec<&str> = match r.key {
            "request.timeout.ms" | "retry.backoff.ms" | "metadata.max.age.ms" => vec!["producer", "consumer"],
            "min.insync.replicas" => vec!["broker", "topic"],
            k => vec![table_of(k)],
        };
        for table in tables {
            for value in [r.min, r.max] {
                attempts += 1;
                let text = scenario(table, r.key, value);
                let s = match common::parse(&text) {
                    Ok(s) => s,
                    Err(e) => {
                        refused.push(format!("{table} {} = {value}: {}", r.key, e[0]));
                        continue;
                    }
                };
                let mut sim = s.start(s.seed);
                let mut last = 0;
                for _ in 0..50_000 {
                    if sim.next_event_time().is_none_or(|t| t > s.duration_ms) {
                        break;
                    }
                    let Some(step) = sim.step() else { break };
                    assert!(step.time >= last, "{} = {value}: time went back from {last} to {}", r.key, step.time);
                    last = step.time;
                }
                tried += 1;
            }
        }
    }
    // Only the values Kafka's own cross-checks refuse may be refused.
    // The heartbeat must be positive and shorter than the session, for brokers and consumers.
    let expected_refusals = [
        "log.retention.ms = 0:",
        "min.insync.replicas = 2147483647:",
        "offsets.topic.num.partitions = 2147483647:",
        "consumer session.timeout.ms = 0:",
        "consumer heartbeat.interval.ms = 0:",
        "consumer heartbeat.interval.ms = 2147483647:",
        "broker broker.session.timeout.ms = 1:",
        "broker broker.heartbeat.interval.ms = 2147483647:",
    ];
    let before = refused.len();
    refused.retain(|r| !expected_refusals.iter().any(|e| r.contains(e)));
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
    assert_eq!(before, expected_refusals.len(), "each expected refusal happens");
    assert_eq!(tried + before, attempts);
    assert!(tried > 60, "only {tried} runs");
}

#[test]
fn the_largest_times_together_run_without_overflow() {
    let long = i64::MAX;
    let int = i32::MAX;
    let text = scenario("producer", "linger.ms", long.into())
        .replace(
            "\"group.min.session.timeout.ms\" = 0",
            &format!("\"group.min.session.timeout.ms\" = 0, \"replica.lag.time.max.ms\" = {long}, \"log.retention.check.interval.ms\" = {long}, \"log.retention.ms\" = {long}, \"replica.socket.timeout.ms\" = {int}, \"group.initial.rebalance.delay.ms\" = {int}"),
        )
        .replace(
            &format!("\"linger.ms\" = {long}"),
            &format!("\"linger.ms\" = {long}, \"retry.backoff.ms\" = {long}, \"retry.backoff.max.ms\" = {long}, \"request.timeout.ms\" = {int}"),
        )
        .replace(
            "\"group.id\" = \"g\"",
            &format!("\"group.id\" = \"g\", \"session.timeout.ms\" = {int}, \"heartbeat.interval.ms\" = {}, \"max.poll.interval.ms\" = {int}, \"auto.commit.interval.ms\" = {int}, \"fetch.max.wait.ms\" = {int}, \"retry.backoff.ms\" = {long}, \"request.timeout.ms\" = {int}", int - 1),
        );
    let s = common::parse(&text).unwrap_or_else(|e| panic!("{}\n{text}", e[0]));
    let mut sim = s.start(s.seed);
    let mut last = 0;
    while sim.next_event_time().is_some_and(|t| t <= s.duration_ms) {
        let Some(step) = sim.step() else { break };
        assert!(step.time >= last, "time went back from {last} to {}", step.time);
        last = step.time;
    }
    assert!(sim.steps_taken() > 10, "the run did something ({} steps)", sim.steps_taken());
}
