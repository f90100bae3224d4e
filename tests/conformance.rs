//! Differential conformance: the simulator's pure functions against the real Apache Kafka 4.1.2 client
//! classes (docs/conformance.md).
//!
//! Each kind of case (partitioner, assignor, producer_config, consumer_config, group_protocol,
//! record_size) is generated from a seeded
//! `ChaCha8Rng` and read from the curated files under `conformance/cases/`. Every case goes, in one JVM
//! per kind, to the Java oracle in `conformance/` (built here with Maven when its jar is missing or stale),
//! and to the simulator's own function; the two answers, in one JSON shape, must be equal in full.
//!
//! `KAFKASIM_CONFORMANCE_SEED=N` replaces the default seed, to explore other cases or to reproduce a run.

mod oracle;

use kafkasim::sim::assignor::{assign, AssignError, Member, Strategy};
use kafkasim::sim::config::{Acks, ConsumerConfigRaw, IsolationLevel, OffsetReset, ProducerConfigRaw};
use kafkasim::sim::map::VecMap;
use kafkasim::sim::murmur2::{murmur2, partition_for_key};
use oracle::conform;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------------------------
// partitioner: {"key_hex", "partitions"} → {"murmur2", "partition"}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex key")).collect()
}

/// A random key of 0 to 64 characters (rarely up to 10,000), drawn from ASCII, two- and three-byte
/// characters and four-byte ones (outside the Basic Multilingual Plane).
fn random_key(rng: &mut ChaCha8Rng) -> String {
    let len = if rng.random_bool(0.02) { rng.random_range(0..=10_000) } else { rng.random_range(0..=64) };
    (0..len)
        .map(|_| {
            let code = match rng.random_range(0..10) {
                0..=5 => rng.random_range(0x20..0x7f),
                6 => rng.random_range(0x80..0x800),
                7 | 8 => rng.random_range(0x800..0xd800),
                _ => rng.random_range(0x1_0000..0x11_0000),
            };
            char::from_u32(code).expect("no surrogates drawn")
        })
        .collect()
}

fn gen_partitioner(rng: &mut ChaCha8Rng) -> Value {
    let partitions = match rng.random_range(0..4) {
        0 => 1,
        1 => rng.random_range(1..=12),
        2 => rng.random_range(1..=1_000),
        _ => rng.random_range(1..=i32::MAX as u32),
    };
    json!({"key_hex": hex(random_key(rng).as_bytes()), "partitions": partitions})
}

fn sim_partitioner(case: &Value) -> Value {
    let bytes = unhex(case["key_hex"].as_str().expect("key_hex"));
    // The simulator's keys are `&str`: a record's key is its UTF-8 bytes.
    let key = std::str::from_utf8(&bytes).expect("curated keys are UTF-8, as the simulator's keys are");
    let partitions = case["partitions"].as_u64().expect("partitions") as u32;
    json!({"murmur2": murmur2(&bytes), "partition": partition_for_key(key, partitions)})
}

#[test]
fn partitioner() {
    conform("partitioner", gen_partitioner, sim_partitioner, Value::clone);
}

// ---------------------------------------------------------------------------------------------
// assignor: {"strategy", "partitions_per_topic", "members"} → {"assignment": {member: [[topic, p]]}}

const STRATEGIES: [&str; 4] = ["range", "roundrobin", "sticky", "cooperative-sticky"];

fn gen_assignor(rng: &mut ChaCha8Rng) -> Value {
    let strategy = STRATEGIES[rng.random_range(0..STRATEGIES.len())];
    let pool = ["t0", "t1", "t2", "orders", "payments", "a.b", "T-9", "ü"];
    let n_topics = rng.random_range(1..=4);
    let mut topics: Vec<&str> = Vec::new();
    while topics.len() < n_topics {
        let t = pool[rng.random_range(0..pool.len())];
        if !topics.contains(&t) {
            topics.push(t);
        }
    }
    let partitions: Map<String, Value> = topics.iter().map(|t| (t.to_string(), rng.random_range(1..=8u32).into())).collect();
    // Sometimes members subscribe to a topic that does not exist (yet).
    let subscribable: Vec<&str> = topics.iter().copied().chain(["missing"]).collect();
    let same_subscriptions = rng.random_bool(0.5);
    let common: Vec<&str> = subscribable.iter().copied().filter(|_| rng.random_bool(0.6)).collect();
    // A group always has at least one member: its leader, which runs the assignor.
    let n_members = rng.random_range(1..=7);
    let max_generation = rng.random_range(1..=6);
    let mut members = Vec::new();
    let mut ids = Vec::new();
    for i in 0..n_members {
        let id = match rng.random_range(0..3) {
            0 => format!("consumer-{}", i + 1),
            1 => format!("consumer-{}-{:08x}", rng.random_range(1..=20), rng.random::<u32>()),
            _ => format!("m{}", rng.random_range(0..100)),
        };
        if ids.contains(&id) {
            continue;
        }
        ids.push(id.clone());
        let subs: Vec<&str> =
            if same_subscriptions { common.clone() } else { subscribable.iter().copied().filter(|_| rng.random_bool(0.5)).collect() };
        // A previous assignment: partitions of existing topics, some claimed by two members, and now and
        // then one of a topic that has since been deleted.
        let mut owned: Vec<Value> = Vec::new();
        if rng.random_bool(0.6) {
            for (t, n) in &partitions {
                for p in 0..n.as_u64().expect("count") {
                    if rng.random_bool(0.3) {
                        owned.push(json!([t, p]));
                    }
                }
            }
            if rng.random_bool(0.05) {
                owned.push(json!(["deleted", 0]));
            }
        }
        let generation: Value = match rng.random_range(0..4) {
            0 => Value::Null,
            1 => max_generation.into(),
            _ => rng.random_range(1..=max_generation).into(),
        };
        // The coordinator fences a second member with the same group.instance.id, so the leader never
        // sees two.
        let instance: Value = if rng.random_bool(0.25) { format!("instance-{i}").into() } else { Value::Null };
        members.push(json!({
            "id": id, "subscriptions": subs, "owned_partitions": owned, "generation": generation, "group_instance_id": instance,
        }));
    }
    json!({"strategy": strategy, "partitions_per_topic": partitions, "members": members})
}

fn sim_assignor(case: &Value) -> Value {
    let strategy = Strategy::parse(case["strategy"].as_str().expect("strategy")).expect("a known strategy");
    let partitions: VecMap<String, u32> = case["partitions_per_topic"]
        .as_object()
        .expect("partitions_per_topic")
        .iter()
        .map(|(t, n)| (t.clone(), n.as_u64().expect("count") as u32))
        .collect();
    let members: Vec<Member> = serde_json::from_value(case["members"].clone()).expect("members as the simulator reads them");
    match assign(strategy, &partitions, &members) {
        Ok(assignment) => json!({"assignment": assignment.iter().map(|(m, tps)| (m.clone(), json!(tps))).collect::<Map<_, _>>()}),
        // The simulator fails exactly where Kafka throws; the one other refusal (a duplicate member id)
        // cannot be put to Kafka, whose group subscription is a map by member id.
        Err(e @ AssignError::PreviousOwnerNotReassignable(_)) => json!({"error": {"class": "java.lang.NullPointerException", "message": e.to_string()}}),
        Err(e) => json!({"error": {"class": "kafkasim.AssignError", "message": e.to_string()}}),
    }
}

#[test]
fn assignor() {
    conform("assignor", gen_assignor, sim_assignor, error_class);
}

// ---------------------------------------------------------------------------------------------
// producer_config and consumer_config: {"properties": {name: value as written}} →
// {"effective": {...}} or {"error": {"class", "message"}}.

const CONFIG_EXCEPTION: &str = "org.apache.kafka.common.config.ConfigException";

/// What is compared of an answer: the result in full, or, for a refusal, only the exception's class.
/// The simulator's messages are its own, written for a scenario's author, so they are not compared.
fn error_class(answer: &Value) -> Value {
    match answer.get("error") {
        Some(error) => json!({"error": {"class": error["class"]}}),
        None => answer.clone(),
    }
}

/// A property as the scenario reader would give it to the simulator, or the simulator's refusal.
fn parse<T: std::str::FromStr>(props: &Value, name: &str) -> Result<Option<T>, String> {
    match props.get(name) {
        None => Ok(None),
        Some(v) => {
            let text = v.as_str().expect("property values are strings");
            text.parse().map(Some).map_err(|_| format!("{name} = {text:?} is not a value the scenario reader accepts"))
        }
    }
}

fn number(rng: &mut ChaCha8Rng, picks: &[u64], max: u64) -> String {
    if rng.random_bool(0.7) {
        picks[rng.random_range(0..picks.len())].to_string()
    } else {
        rng.random_range(0..=max).to_string()
    }
}

/// Sets each property with probability `p`.
fn maybe(props: &mut Map<String, Value>, rng: &mut ChaCha8Rng, p: f64, name: &str, value: impl FnOnce(&mut ChaCha8Rng) -> String) {
    if rng.random_bool(p) {
        let v = value(rng);
        props.insert(name.into(), v.into());
    }
}

const INT_MAX: u64 = i32::MAX as u64;

fn gen_producer(rng: &mut ChaCha8Rng) -> Value {
    let mut props = Map::new();
    let p = 0.35;
    maybe(&mut props, rng, p, "acks", |r| ["0", "1", "all", "-1"][r.random_range(0..4)].into());
    maybe(&mut props, rng, p, "retries", |r| number(r, &[0, 1, 3, 10, INT_MAX, INT_MAX + 1], INT_MAX));
    maybe(&mut props, rng, p, "enable.idempotence", |r| r.random_bool(0.5).to_string());
    maybe(&mut props, rng, p, "max.in.flight.requests.per.connection", |r| number(r, &[0, 1, 2, 5, 6, 10], 20));
    maybe(&mut props, rng, p, "linger.ms", |r| number(r, &[0, 1, 5, 10, 100, 1_000, 60_000, INT_MAX + 10], 200_000));
    maybe(&mut props, rng, p, "batch.size", |r| number(r, &[0, 1, 100, 16_384, 1 << 20, INT_MAX + 1], 1 << 21));
    maybe(&mut props, rng, p, "max.request.size", |r| number(r, &[0, 1, 1 << 20, INT_MAX, INT_MAX + 1], 1 << 24));
    maybe(&mut props, rng, p, "request.timeout.ms", |r| number(r, &[0, 1, 1_000, 30_000, 120_000, INT_MAX], 200_000));
    maybe(&mut props, rng, p, "delivery.timeout.ms", |r| number(r, &[0, 1_000, 30_000, 30_005, 35_000, 120_000, INT_MAX + 1], 250_000));
    maybe(&mut props, rng, p, "retry.backoff.ms", |r| number(r, &[0, 10, 100, 500, 1_000, 2_000], 10_000));
    maybe(&mut props, rng, p, "retry.backoff.max.ms", |r| number(r, &[0, 10, 100, 500, 1_000, 2_000], 10_000));
    maybe(&mut props, rng, p, "metadata.max.age.ms", |r| number(r, &[1, 1_000, 300_000], 600_000).replace_zero());
    json!({"properties": props})
}

fn producer_raw(props: &Value) -> Result<ProducerConfigRaw, String> {
    let acks = match props.get("acks").map(|v| v.as_str().expect("a string")) {
        None => None,
        Some("0") => Some(Acks::None),
        Some("1") => Some(Acks::Leader),
        Some("all" | "-1") => Some(Acks::All),
        Some(other) => return Err(format!("acks = {other:?}")),
    };
    Ok(ProducerConfigRaw {
        acks,
        retries: parse(props, "retries")?,
        retry_backoff_ms: parse(props, "retry.backoff.ms")?,
        retry_backoff_max_ms: parse(props, "retry.backoff.max.ms")?,
        request_timeout_ms: parse(props, "request.timeout.ms")?,
        delivery_timeout_ms: parse(props, "delivery.timeout.ms")?,
        max_in_flight: parse(props, "max.in.flight.requests.per.connection")?,
        enable_idempotence: parse(props, "enable.idempotence")?,
        linger_ms: parse(props, "linger.ms")?,
        batch_size: parse(props, "batch.size")?,
        max_request_size: parse(props, "max.request.size")?,
        metadata_max_age_ms: parse(props, "metadata.max.age.ms")?,
        transactional_id: props.get("transactional.id").and_then(Value::as_str).map(str::to_string),
        transaction_timeout_ms: parse(props, "transaction.timeout.ms")?,
        // The serializers' settings are not the producer's: `ProducerConfig` never reads them.
        ..ProducerConfigRaw::default()
    })
}

fn sim_producer(case: &Value) -> Value {
    match producer_raw(&case["properties"]).and_then(|raw| raw.resolve()) {
        Err(_) => json!({"error": {"class": CONFIG_EXCEPTION}}),
        Ok(c) => json!({"effective": {
            "acks": c.acks.name(),
            "retries": c.retries,
            "enable.idempotence": c.enable_idempotence,
            "max.in.flight.requests.per.connection": c.max_in_flight,
            "linger.ms": c.linger_ms,
            "batch.size": c.batch_size,
            "max.request.size": c.max_request_size,
            "request.timeout.ms": c.request_timeout_ms,
            "delivery.timeout.ms": c.delivery_timeout_ms,
            "retry.backoff.ms": c.retry_backoff_ms,
            "retry.backoff.max.ms": c.retry_backoff_max_ms,
            "metadata.max.age.ms": c.metadata_max_age_ms,
        }}),
    }
}

#[test]
fn producer_config() {
    conform("producer_config", gen_producer, sim_producer, error_class);
}

const ASSIGNORS: [(&str, Strategy); 4] = [
    ("org.apache.kafka.clients.consumer.RangeAssignor", Strategy::Range),
    ("org.apache.kafka.clients.consumer.RoundRobinAssignor", Strategy::RoundRobin),
    ("org.apache.kafka.clients.consumer.StickyAssignor", Strategy::Sticky),
    ("org.apache.kafka.clients.consumer.CooperativeStickyAssignor", Strategy::CooperativeSticky),
];

/// Turns a drawn "0" into "1", for the timings the simulator cannot run at zero.
trait ReplaceZero {
    fn replace_zero(self) -> String;
}

impl ReplaceZero for String {
    fn replace_zero(self) -> String {
        if self == "0" {
            "1".into()
        } else {
            self
        }
    }
}

fn gen_consumer(rng: &mut ChaCha8Rng) -> Value {
    let mut props = Map::new();
    // The simulator models consumers in groups only, so every generated consumer has a group.id.
    props.insert("group.id".into(), ["g", "orders-app", "ü-group"][rng.random_range(0..3)].into());
    let p = 0.35;
    maybe(&mut props, rng, p, "group.instance.id", |r| ["instance-1", "consumer-a", ""][r.random_range(0..3)].into());
    maybe(&mut props, rng, p, "partition.assignment.strategy", |r| {
        let first = ASSIGNORS[r.random_range(0..4)].0;
        if r.random_bool(0.3) {
            format!("{first},{}", ASSIGNORS[r.random_range(0..4)].0)
        } else {
            first.into()
        }
    });
    maybe(&mut props, rng, p, "enable.auto.commit", |r| r.random_bool(0.5).to_string());
    // Zero is left out of the five timings below: the simulator raises it to 1 ms (or, for the heartbeat,
    // refuses it), because a zero-length timer would never let its virtual time advance. Java takes 0.
    maybe(&mut props, rng, p, "auto.commit.interval.ms", |r| number(r, &[1, 100, 1_000, 5_000, INT_MAX + 1], 60_000).replace_zero());
    maybe(&mut props, rng, p, "auto.offset.reset", |r| ["earliest", "latest", "none"][r.random_range(0..3)].into());
    maybe(&mut props, rng, p, "session.timeout.ms", |r| number(r, &[1_000, 6_000, 10_000, 45_000, 300_000, INT_MAX + 1], 600_000));
    maybe(&mut props, rng, p, "heartbeat.interval.ms", |r| number(r, &[1, 1_000, 3_000, 10_000, 45_000, 50_000], 100_000).replace_zero());
    maybe(&mut props, rng, p, "max.poll.interval.ms", |r| number(r, &[0, 1, 1_000, 300_000, INT_MAX + 1], 600_000));
    maybe(&mut props, rng, p, "max.poll.records", |r| number(r, &[0, 1, 10, 500, INT_MAX + 1], 2_000));
    maybe(&mut props, rng, p, "fetch.max.wait.ms", |r| number(r, &[0, 1, 100, 500, INT_MAX + 1], 10_000));
    maybe(&mut props, rng, p, "max.partition.fetch.bytes", |r| number(r, &[1, 1_024, 1_048_576, INT_MAX + 1], 1 << 24).replace_zero());
    maybe(&mut props, rng, p, "request.timeout.ms", |r| number(r, &[1, 1_000, 30_000, INT_MAX + 1], 120_000).replace_zero());
    maybe(&mut props, rng, p, "retry.backoff.ms", |r| number(r, &[1, 100, 1_000], 10_000).replace_zero());
    maybe(&mut props, rng, p, "metadata.max.age.ms", |r| number(r, &[1, 1_000, 300_000], 600_000).replace_zero());
    json!({"properties": props})
}

fn consumer_raw(props: &Value) -> Result<ConsumerConfigRaw, String> {
    let text = |name: &str| props.get(name).map(|v| v.as_str().expect("a string").to_string());
    let auto_offset_reset = match text("auto.offset.reset").as_deref() {
        None => None,
        Some("earliest") => Some(OffsetReset::Earliest),
        Some("latest") => Some(OffsetReset::Latest),
        Some("none") => Some(OffsetReset::None),
        Some(other) => return Err(format!("auto.offset.reset = {other:?}")),
    };
    Ok(ConsumerConfigRaw {
        group_id: text("group.id"),
        group_instance_id: text("group.instance.id"),
        partition_assignment_strategy: text("partition.assignment.strategy"),
        enable_auto_commit: parse(props, "enable.auto.commit")?,
        auto_commit_interval_ms: parse(props, "auto.commit.interval.ms")?,
        auto_offset_reset,
        session_timeout_ms: parse(props, "session.timeout.ms")?,
        heartbeat_interval_ms: parse(props, "heartbeat.interval.ms")?,
        max_poll_interval_ms: parse(props, "max.poll.interval.ms")?,
        max_poll_records: parse(props, "max.poll.records")?,
        fetch_max_wait_ms: parse(props, "fetch.max.wait.ms")?,
        max_partition_fetch_bytes: parse(props, "max.partition.fetch.bytes")?,
        request_timeout_ms: parse(props, "request.timeout.ms")?,
        retry_backoff_ms: parse(props, "retry.backoff.ms")?,
        metadata_max_age_ms: parse(props, "metadata.max.age.ms")?,
        isolation_level: match text("isolation.level").as_deref() {
            None => None,
            Some("read_uncommitted") => Some(IsolationLevel::ReadUncommitted),
            Some("read_committed") => Some(IsolationLevel::ReadCommitted),
            Some(other) => return Err(format!("isolation.level = {other:?}")),
        },
        // The deserializers' settings are not the consumer's: `ConsumerConfig` never reads them.
        ..ConsumerConfigRaw::default()
    })
}

fn sim_consumer(case: &Value) -> Value {
    // `false`: the application does not commit by itself, so the defaults are the Java client's own.
    match consumer_raw(&case["properties"]).and_then(|raw| raw.resolve(false)) {
        // The simulator's messages name the exception the Java client throws where it is not a
        // ConfigException: the heartbeat check's and the assignor list's.
        Err(message) if message.contains("IllegalArgumentException") => json!({"error": {"class": "java.lang.IllegalArgumentException"}}),
        Err(message) if message.contains("KafkaException") => json!({"error": {"class": "org.apache.kafka.common.KafkaException"}}),
        Err(_) => json!({"error": {"class": CONFIG_EXCEPTION}}),
        Ok(c) => json!({"effective": {
            "group.id": c.group_id,
            "group.instance.id": c.group_instance_id,
            "partition.assignment.strategy": c.strategies.iter().map(|s| ASSIGNORS.iter().find(|a| a.1 == *s).expect("every strategy has a class").0).collect::<Vec<_>>(),
            "enable.auto.commit": c.enable_auto_commit,
            "auto.commit.interval.ms": c.auto_commit_interval_ms,
            "auto.offset.reset": c.auto_offset_reset.name(),
            "session.timeout.ms": c.session_timeout_ms,
            "heartbeat.interval.ms": c.heartbeat_interval_ms,
            "max.poll.interval.ms": c.max_poll_interval_ms,
            "max.poll.records": c.max_poll_records,
            "fetch.max.wait.ms": c.fetch_max_wait_ms,
            "max.partition.fetch.bytes": c.max_partition_fetch_bytes,
            "request.timeout.ms": c.request_timeout_ms,
            "retry.backoff.ms": c.retry_backoff_ms,
            "metadata.max.age.ms": c.metadata_max_age_ms,
        }}),
    }
}

#[test]
fn consumer_config() {
    conform("consumer_config", gen_consumer, sim_consumer, error_class);
}

// ---------------------------------------------------------------------------------------------
// group_protocol: {"members": [[name, ...], ...]} → {"protocol": name} or {"error": {"class"}}

/// One to five members, each listing one to four assignors in a random order. Most groups draw
/// from two or three assignors, so that members share some and votes tie often.
fn gen_group_protocol(rng: &mut ChaCha8Rng) -> Value {
    let pool_size = rng.random_range(1..=4usize);
    let mut pool: Vec<Strategy> = ASSIGNORS.iter().map(|a| a.1).collect();
    let pool: Vec<Strategy> = (0..pool_size).map(|_| pool.remove(rng.random_range(0..pool.len()))).collect();
    let members: Vec<Vec<&str>> = (0..rng.random_range(1..=5))
        .map(|_| {
            let mut left = pool.clone();
            let n = rng.random_range(1..=left.len());
            (0..n).map(|_| left.remove(rng.random_range(0..left.len())).name()).collect()
        })
        .collect();
    json!({"members": members})
}

fn sim_group_protocol(case: &Value) -> Value {
    let lists: Vec<Vec<Strategy>> = case["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m.as_array().expect("a list").iter().map(|n| Strategy::parse(n.as_str().expect("a name")).expect("an assignor")).collect())
        .collect();
    let lists: Vec<&[Strategy]> = lists.iter().map(Vec::as_slice).collect();
    match kafkasim::sim::group::protocol::select_protocol(&lists) {
        Some(s) => json!({"protocol": s.name()}),
        None => json!({"error": {"class": "java.lang.IllegalArgumentException"}}),
    }
}

#[test]
fn group_protocol() {
    conform("group_protocol", gen_group_protocol, sim_group_protocol, error_class);
}

// ---------------------------------------------------------------------------------------------
// record_size: {"batch_size", "records": [{"key", "value", "timestamp"}]} →
// {"upper_bounds", "batches": [{"records", "size_in_bytes", "record_sizes", "full"}]}

/// A key or value: null, empty, short ASCII, mixed-width text (as the partitioner's keys), or long
/// (up to 50,000 bytes of one repeated character, ASCII or not).
fn random_field(rng: &mut ChaCha8Rng, null: f64) -> Value {
    if rng.random_bool(null) {
        return Value::Null;
    }
    match rng.random_range(0..20) {
        0..=1 => "".into(),
        2..=8 => (0..rng.random_range(1..=20)).map(|_| char::from(rng.random_range(0x20u8..0x7f))).collect::<String>().into(),
        9..=17 => random_key(rng).into(),
        _ => {
            let c = ['x', 'é', '語', '😀'][rng.random_range(0..4)];
            let bytes = rng.random_range(1..=50_000) / c.len_utf8();
            std::iter::repeat_n(c, bytes).collect::<String>().into()
        }
    }
}

fn gen_record_size(rng: &mut ChaCha8Rng) -> Value {
    // The accumulator's batch size (KafkaProducer runs batch.size = 0 as 1).
    let batch_size: u32 = match rng.random_range(0..6) {
        0 => 1,
        1 => 16_384,
        2 => rng.random_range(1..=300),
        3 => rng.random_range(100..=20_000),
        4 => rng.random_range(20_000..=200_000),
        _ => 1 << 20,
    };
    let count = if rng.random_bool(0.1) { rng.random_range(1..=60) } else { rng.random_range(1..=12) };
    // Timestamps never go back within a producer's batch (they are its send() times); the deltas
    // from the first cross the varlong boundaries now and then.
    let mut timestamp: u64 = rng.random_range(0..1u64 << 41);
    let records: Vec<Value> = (0..count)
        .map(|_| {
            timestamp += match rng.random_range(0..10) {
                0..=5 => 0,
                6..=7 => rng.random_range(1..=100),
                8 => rng.random_range(100..=100_000),
                _ => rng.random_range(100_000..=1u64 << 40),
            };
            json!({"key": random_field(rng, 0.3), "value": random_field(rng, 0.05), "timestamp": timestamp})
        })
        .collect();
    json!({"batch_size": batch_size, "records": records})
}

fn sim_record_size(case: &Value) -> Value {
    use kafkasim::sim::size::{batch_sizes, size_upper_bound, BatchSize};
    let batch_size = case["batch_size"].as_u64().expect("batch_size") as u32;
    let len = |v: &Value| v.as_str().map(|s| s.len() as u32);
    type Rec = (u64, Option<u32>, Option<u32>);
    let records: Vec<Rec> = case["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| (r["timestamp"].as_u64().expect("timestamp"), len(&r["key"]), len(&r["value"])))
        .collect();
    let upper_bounds: Vec<u32> = records.iter().map(|&(_, k, v)| size_upper_bound(k, v)).collect();
    // As the producer's send() does: join the open batch if it has room, else start one.
    let mut batches: Vec<(BatchSize, Vec<Rec>)> = Vec::new();
    for &(t, k, v) in &records {
        match batches.last_mut() {
            Some((size, members)) if size.has_room_for(t, k, v) => {
                size.append(t, k, v);
                members.push((t, k, v));
            }
            _ => batches.push((BatchSize::new(batch_size, t, k, v).0, vec![(t, k, v)])),
        }
    }
    let batches: Vec<Value> = batches
        .into_iter()
        .map(|(size, members)| {
            // The record sizes are what the leader checks and the log holds (`batch_sizes`); the
            // batch's size is the producer's own count, and both must be Kafka's.
            let (record_sizes, total) = batch_sizes(members.iter().copied());
            // Should the two counts part, the answer shows both, and the case disagrees.
            let size_in_bytes = if total == size.bytes { json!(total) } else { json!({"producer": size.bytes, "leader": total}) };
            json!({"records": members.len(), "size_in_bytes": size_in_bytes, "record_sizes": record_sizes, "full": size.is_full()})
        })
        .collect();
    json!({"upper_bounds": upper_bounds, "batches": batches})
}

#[test]
fn record_size() {
    conform("record_size", gen_record_size, sim_record_size, Value::clone);
}
