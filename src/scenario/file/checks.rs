//! Checks of a file's settings and names that Kafka or the simulator's budget make: topic and
//! client names, the broker's cross-setting rules, links, and the cost estimate against the budget.

use super::*;

/// Refuses a file whose run would never advance virtual time, or whose estimated steps or memory
/// are beyond `budget`, pointing at what drives the cost. The challenge's solution runs in the
/// same budget, so its records count too.
pub(super) fn check_cost(cx: &mut Ctx<'_>, def: &FileDef, setup: &Setup, solution_actions: &[TimedAction], duration_ms: u64, budget: &Budget) {
    let cluster = def.cluster.get_ref();
    let cluster_at = cluster.config.as_ref().map_or(cluster.brokers.span().start, |c| c.span().start);
    if let Some(setting) = cost::zero_delay_loop(setup) {
        cx.err(
            cluster.network.as_ref().map_or(cluster_at, |n| n.span().start),
            format!("with {setting} = 0 and links that take 0 ms, a fetch is answered and sent again at the same virtual millisecond, forever"),
            Some(format!("give the network latency_ms = 1 or more, or raise {setting}")),
        );
        return;
    }
    let mut full = setup.clone();
    full.timeline.extend(solution_actions.iter().cloned());
    let estimate = cost::estimate(&full, duration_ms);
    let records_at = largest_count_at(def);
    let at = |driver: Driver| match driver {
        Driver::Records => records_at,
        Driver::FollowerFetches | Driver::BrokerHeartbeats => def.duration_ms.as_ref().map_or(cluster_at, |d| d.span().start),
        Driver::ConsumerFetches => def.consumers.first().map_or(cluster_at, |c| c.span().start),
        Driver::Faults => def.timeline.first().map_or(cluster_at, |e| e.span().start),
    };
    let (steps, bytes) = (estimate.steps(), estimate.bytes());
    if steps > budget.steps {
        let part = estimate.most_steps().expect("an estimate has parts");
        cx.err(
            at(part.driver),
            format!("this run would take about {} steps, more than the {} a run may take {}; most come from {}", grouped(steps), grouped(budget.steps), budget.place, part.what),
            Some(hint(part.driver)),
        );
    } else if bytes > budget.bytes {
        let part = estimate.most_bytes().expect("an estimate has parts");
        cx.err(
            at(part.driver),
            format!("this run would need about {} MB, more than the {} MB a run may use {}; most of it is for {}", grouped(bytes >> 20), grouped(budget.bytes >> 20), budget.place, part.what),
            Some(hint(part.driver)),
        );
    }
}

pub(super) fn hint(driver: Driver) -> String {
    match driver {
        Driver::Records => "produce fewer records, or shorter keys and values",
        Driver::FollowerFetches => "shorten duration_ms, use fewer partitions or a lower replication.factor, or raise replica.fetch.wait.max.ms",
        Driver::ConsumerFetches => "shorten duration_ms, use fewer consumers, or raise fetch.max.wait.ms",
        Driver::BrokerHeartbeats => "shorten duration_ms or raise broker.heartbeat.interval.ms",
        Driver::Faults => "use fewer crashes, restarts and link changes",
    }
    .to_string()
}

/// Kafka's rules for a new topic's name (`Topic.validate` and the controller's collision check in
/// `ReplicationControlManager.validateNewTopicNames`), plus the internal topics the simulated
/// cluster creates itself.
pub(super) fn check_topic_name(cx: &mut Ctx<'_>, name: &Spanned<String>, earlier: &[TopicSpec]) {
    let at = name.span().start;
    let name = name.get_ref();
    let invalid = if name.is_empty() {
        Some("the empty string is not allowed".to_string())
    } else if name == "." || name == ".." {
        Some(format!("'{name}' is not allowed"))
    } else if name.chars().count() > 249 {
        Some(format!("it is {} characters long; the limit is 249", name.chars().count()))
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        Some("it contains characters other than ASCII alphanumerics, '.', '_' and '-'".to_string())
    } else {
        None
    };
    if let Some(reason) = invalid {
        cx.err(at, format!("topic name {} is invalid: {reason}", printable(name)), Some("Kafka answers INVALID_TOPIC_EXCEPTION; use 1 to 249 characters from a-z, A-Z, 0-9, '.', '_' and '-'".into()));
        return;
    }
    if INTERNAL_TOPICS.contains(&name.as_str()) {
        cx.err(at, format!("{name} is one of Kafka's internal topics"), Some("the cluster creates it itself (CreateTopics would answer TOPIC_ALREADY_EXISTS); give your topic another name".into()));
        return;
    }
    let unified = name.replace('.', "_");
    if let Some(other) = earlier.iter().find(|t| t.name != *name && t.name.replace('.', "_") == unified) {
        cx.err(
            at,
            format!("topic {name:?} collides with topic {:?}", other.name),
            Some("Kafka refuses two topics whose names differ only by '.' against '_' (their metric names would be the same)".into()),
        );
    }
}

/// Kafka's internal topics, which the simulated cluster creates itself.
pub(super) const INTERNAL_TOPICS: [&str; 2] = ["__consumer_offsets", "__transaction_state"];

/// A name as the error shows it: quoted, with control characters escaped so that a terminal
/// prints them as text.
pub(super) fn printable(name: &str) -> String {
    format!("{:?}", name.chars().take(60).collect::<String>()) + if name.chars().count() > 60 { "…" } else { "" }
}

/// The rules for a client's name (a producer or consumer): the page and the trace show it, so it
/// must be short and printable, and it must not be a broker's or the controller's name.
pub(super) fn check_client_name(cx: &mut Ctx<'_>, what: &str, name: &Spanned<String>) {
    let at = name.span().start;
    let text = name.get_ref();
    if text.is_empty() || text == "controller" || text.starts_with("broker-") {
        cx.err(at, format!("{what} name {} is reserved or empty", printable(text)), Some("brokers are named broker-1, broker-2…; give the client another name".into()));
    } else if text.chars().count() > NAME_CHARS {
        cx.err(at, format!("{what} name is {} characters long; the limit is {NAME_CHARS}", text.chars().count()), None);
    } else if text.chars().any(char::is_control) {
        cx.err(at, format!("{what} name {} contains a control character", printable(text)), Some("names are shown in the trace and the page; use printable characters".into()));
    }
}

/// The longest client name: long enough for any real one, short enough to draw.
pub(super) const NAME_CHARS: usize = 100;

pub(super) fn check_broker_config(cx: &mut Ctx<'_>, at: usize, c: &BrokerConfig) {
    // KafkaConfig.validateValues refuses these combinations at broker start-up.
    if c.log_retention_ms == 0 {
        cx.err(at, "log.retention.ms = 0 is not allowed", Some("Kafka requires log.retention.ms to be -1 (unlimited) or at least 1".into()));
    }
    if c.replica_fetch_wait_max_ms > c.replica_socket_timeout_ms {
        cx.err(
            at,
            format!("replica.fetch.wait.max.ms = {} is above replica.socket.timeout.ms = {}", c.replica_fetch_wait_max_ms, c.replica_socket_timeout_ms),
            Some("Kafka requires replica.socket.timeout.ms to be at least replica.fetch.wait.max.ms, to prevent unnecessary socket timeouts".into()),
        );
    }
    if c.replica_fetch_wait_max_ms > c.replica_lag_time_max_ms {
        cx.err(
            at,
            format!("replica.fetch.wait.max.ms = {} is above replica.lag.time.max.ms = {}", c.replica_fetch_wait_max_ms, c.replica_lag_time_max_ms),
            Some("Kafka requires replica.fetch.wait.max.ms to be at most replica.lag.time.max.ms, to prevent frequent changes in the ISR".into()),
        );
    }
    if c.broker_heartbeat_interval_ms >= c.broker_session_timeout_ms {
        cx.err(
            at,
            "broker.heartbeat.interval.ms must be less than broker.session.timeout.ms",
            Some("otherwise every broker is fenced between two heartbeats".into()),
        );
    }
}

pub(super) fn check_link(cx: &mut Ctx<'_>, at: usize, l: &LinkParams) {
    if !(0.0..=1.0).contains(&l.loss) || l.loss.is_nan() {
        cx.err(at, format!("loss = {}, expected a probability from 0.0 to 1.0", l.loss), None);
    }
    if l.latency_ms > limits::LATENCY_MS || l.jitter_ms > limits::LATENCY_MS {
        cx.err(at, format!("latency_ms and jitter_ms must be at most {}", limits::LATENCY_MS), None);
    }
}

/// Where the largest produce `count` of the timeline or the challenge's solution is written: the
/// one to lower when a file produces too much.
pub(super) fn largest_count_at(def: &FileDef) -> usize {
    let solution = def.challenge.as_ref().map_or(&[][..], |c| &c.get_ref().solution[..]);
    def.timeline
        .iter()
        .chain(solution)
        .filter_map(|e| e.get_ref().produce.as_ref()?.get_ref().count.as_ref())
        .max_by_key(|c| *c.get_ref())
        .map_or(0, |c| c.span().start)
}

/// A number with thousands separators, as a person reads a large one: 2,060,212,290.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_numbers_are_grouped_in_thousands() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(1_000), "1,000");
        assert_eq!(super::grouped(2_060_212_290), "2,060,212,290");
    }
}
