//! The range of every numeric Kafka setting a scenario file may give, checked where the value is
//! written.
//!
//! Kafka declares each setting with a type (INT, LONG, SHORT) and often a validator such as
//! `atLeast(0)`; a value outside that makes `KafkaProducer`, `KafkaConsumer` or the broker refuse to
//! start with a `ConfigException`. The table below copies those declarations from Kafka 4.1.2
//! (`ProducerConfig`, `ConsumerConfig`, `ReplicationConfigs`, `KRaftConfigs`, `ServerLogConfigs`,
//! `LogConfig`, `GroupCoordinatorConfig`), so a file is refused for the same values Kafka refuses,
//! and no value that passes can overflow the simulator's clock: the largest is a LONG's maximum and
//! a run lasts at most a day, so a time plus any setting fits in 64 bits (`tests/limits.rs` runs
//! every setting at either end of its range with overflow checks on).

use super::walk::{Ctx, Item};
use toml::de::DeValue;

const INT: i128 = i32::MAX as i128;
const LONG: i128 = i64::MAX as i128;
const SHORT: i128 = i16::MAX as i128;

/// One setting's allowed values and where the rule comes from.
pub struct Range {
    /// The Kafka property name.
    pub key: &'static str,
    /// Smallest allowed value.
    pub min: i128,
    /// Largest allowed value.
    pub max: i128,
    /// Kafka's declaration, shown as the hint.
    pub kafka: &'static str,
}

const fn r(key: &'static str, min: i128, max: i128, kafka: &'static str) -> Range {
    Range { key, min, max, kafka }
}

/// Every numeric setting with Kafka's type and validator. Where Kafka declares no validator the
/// type's own range applies, except that a negative time or size, which the simulator cannot
/// represent, is refused (the setting is then listed with a minimum of 0 and says so).
pub const RANGES: &[Range] = &[
    // Producer (ProducerConfig).
    r("retries", 0, INT, "Kafka 4.1.2's ProducerConfig declares it INT, between(0, Integer.MAX_VALUE)"),
    r("retry.backoff.ms", 0, LONG, "Kafka 4.1.2's ProducerConfig and ConsumerConfig declare it LONG, atLeast(0)"),
    r("retry.backoff.max.ms", 0, LONG, "Kafka 4.1.2's ProducerConfig declares it LONG, atLeast(0)"),
    r("request.timeout.ms", 0, INT, "Kafka 4.1.2's ProducerConfig and ConsumerConfig declare it INT, atLeast(0)"),
    r("delivery.timeout.ms", 0, INT, "Kafka 4.1.2's ProducerConfig declares it INT, atLeast(0)"),
    r("max.in.flight.requests.per.connection", 1, INT, "Kafka 4.1.2's ProducerConfig declares it INT, atLeast(1)"),
    r("linger.ms", 0, LONG, "Kafka 4.1.2's ProducerConfig declares it LONG, atLeast(0)"),
    r("batch.size", 0, INT, "Kafka 4.1.2's ProducerConfig declares it INT, atLeast(0)"),
    r("max.request.size", 0, INT, "Kafka 4.1.2's ProducerConfig declares it INT, atLeast(0)"),
    r("metadata.max.age.ms", 0, LONG, "Kafka 4.1.2's ProducerConfig and ConsumerConfig declare it LONG, atLeast(0)"),
    // Consumer (ConsumerConfig).
    r("auto.commit.interval.ms", 0, INT, "Kafka 4.1.2's ConsumerConfig declares it INT, atLeast(0)"),
    r("session.timeout.ms", 0, INT, "Kafka 4.1.2's ConsumerConfig declares it INT (no validator; the simulator refuses a negative time)"),
    r("heartbeat.interval.ms", 0, INT, "Kafka 4.1.2's ConsumerConfig declares it INT (no validator; the simulator refuses a negative time)"),
    r("max.poll.interval.ms", 1, INT, "Kafka 4.1.2's ConsumerConfig declares it INT, atLeast(1)"),
    r("max.poll.records", 1, INT, "Kafka 4.1.2's ConsumerConfig declares it INT, atLeast(1)"),
    r("fetch.max.wait.ms", 0, INT, "Kafka 4.1.2's ConsumerConfig declares it INT, atLeast(0)"),
    r("max.partition.fetch.bytes", 0, INT, "Kafka 4.1.2's ConsumerConfig declares it INT, atLeast(0)"),
    // Broker (ReplicationConfigs, KRaftConfigs, ServerLogConfigs, GroupCoordinatorConfig).
    r("replica.lag.time.max.ms", 1, LONG, "Kafka 4.1.2's ReplicationConfigs declares it LONG (no validator; the simulator needs at least 1)"),
    r("replica.fetch.wait.max.ms", 0, INT, "Kafka 4.1.2's ReplicationConfigs declares it INT (no validator; the simulator refuses a negative time)"),
    r("replica.fetch.backoff.ms", 0, INT, "Kafka 4.1.2's ReplicationConfigs declares it INT, atLeast(0)"),
    r("replica.fetch.max.bytes", 1, INT, "Kafka 4.1.2's ReplicationConfigs declares it INT, atLeast(0) (the simulator needs at least 1)"),
    r("replica.socket.timeout.ms", 1, INT, "Kafka 4.1.2's ReplicationConfigs declares it INT (no validator; the simulator needs at least 1)"),
    r("broker.session.timeout.ms", 1, INT, "Kafka 4.1.2's KRaftConfigs declares it INT (the simulator needs at least 1)"),
    r("broker.heartbeat.interval.ms", 1, INT, "Kafka 4.1.2's KRaftConfigs declares it INT (the simulator needs at least 1)"),
    r("log.retention.check.interval.ms", 1, LONG, "Kafka 4.1.2's ServerLogConfigs declares it LONG, atLeast(1)"),
    r("min.insync.replicas", 1, INT, "Kafka 4.1.2's ServerLogConfigs and LogConfig declare it INT, atLeast(1)"),
    r("log.retention.ms", -1, LONG, "Kafka 4.1.2's ServerLogConfigs declares it LONG; KafkaConfig requires -1 (unlimited) or at least 1"),
    r("log.retention.bytes", i64::MIN as i128, LONG, "Kafka 4.1.2's ServerLogConfigs declares it LONG (no validator; any negative value means no limit)"),
    r("retention.ms", -1, LONG, "Kafka 4.1.2's LogConfig declares it LONG, atLeast(-1)"),
    r("flush.messages", 1, LONG, "Kafka 4.1.2's LogConfig declares it LONG, atLeast(1)"),
    r("retention.bytes", i64::MIN as i128, LONG, "Kafka 4.1.2's LogConfig declares it LONG (no validator; any negative value means no limit)"),
    r("message.max.bytes", 0, INT, "Kafka 4.1.2's ServerConfigs declares it INT, atLeast(0)"),
    r("max.message.bytes", 0, INT, "Kafka 4.1.2's LogConfig declares it INT, atLeast(0)"),
    r("offsets.topic.num.partitions", 1, INT, "Kafka 4.1.2's GroupCoordinatorConfig declares it INT, atLeast(1)"),
    r("offsets.topic.replication.factor", 1, SHORT, "Kafka 4.1.2's GroupCoordinatorConfig declares it SHORT, atLeast(1)"),
    r("group.initial.rebalance.delay.ms", 0, INT, "Kafka 4.1.2's GroupCoordinatorConfig declares it INT (no validator; the simulator refuses a negative time)"),
    r("group.min.session.timeout.ms", 0, INT, "Kafka 4.1.2's GroupCoordinatorConfig declares it INT (no validator; the simulator refuses a negative time)"),
    r("group.max.session.timeout.ms", 0, INT, "Kafka 4.1.2's GroupCoordinatorConfig declares it INT (no validator; the simulator refuses a negative time)"),
    r("offsets.commit.timeout.ms", 1, INT, "Kafka 4.1.2's GroupCoordinatorConfig declares it INT, atLeast(1)"),
    r("eligible.leader.replicas.version", 0, 1, "Kafka 4.1.2 knows feature levels 0 (off) and 1 (eligible leader replicas on)"),
];

/// The range declared for `key`, if it is a numeric Kafka setting.
pub fn range_of(key: &str) -> Option<&'static Range> {
    RANGES.iter().find(|r| r.key == key)
}

/// Checks an integer written for `key` against its range. Returns `false` (after reporting a
/// located error) when it is outside; values of other types are left to the reader's type check.
pub(crate) fn check(cx: &mut Ctx<'_>, key: &str, v: &Item<'_>) -> bool {
    let (Some(range), DeValue::Integer(i)) = (range_of(key), v.get_ref()) else { return true };
    let Ok(n) = i128::from_str_radix(i.as_str(), i.radix()) else { return true };
    if (range.min..=range.max).contains(&n) {
        return true;
    }
    cx.err(
        v.span().start,
        format!("{key} = {n} is out of range: expected {} to {}", range.min, range.max),
        Some(range.kafka.to_string()),
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_listed_once_with_a_non_empty_range() {
        for (i, r) in RANGES.iter().enumerate() {
            assert!(r.min <= r.max, "{}", r.key);
            assert!(RANGES[..i].iter().all(|o| o.key != r.key), "{} listed twice", r.key);
        }
    }
}
