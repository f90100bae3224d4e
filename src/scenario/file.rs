//! The scenario file's shape (serde definitions) and its translation into a validated [`Scenario`].

use super::error::{closest, from_toml, Locator, ScenarioError};
use super::expect::{Check, Expectation, Total};
use super::{limits, Scenario};
use crate::sim::config::{BrokerConfig, LinkParams, ProducerConfigRaw, TopicConfig};
use crate::sim::{default_assignment, Action, NodeId, ProduceAction, ProducerSpec, Setup, TimedAction, TopicSpec};
use crate::sim::types::KafkaError;
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    title: Spanned<String>,
    summary: Spanned<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    seed: u64,
    duration_ms: Option<Spanned<u64>>,
    cluster: Spanned<ClusterDef>,
    #[serde(default)]
    links: Vec<Spanned<LinkDef>>,
    topics: Vec<Spanned<TopicDef>>,
    #[serde(default)]
    producers: Vec<Spanned<ProducerDef>>,
    #[serde(default)]
    timeline: Vec<Spanned<StepDef>>,
    #[serde(default)]
    expect: Vec<Spanned<ExpectDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterDef {
    brokers: Spanned<u32>,
    config: Option<Spanned<BrokerConfig>>,
    network: Option<Spanned<LinkParams>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkDef {
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(default)]
    one_way: bool,
    latency_ms: Option<u64>,
    jitter_ms: Option<u64>,
    loss: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRefDef {
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(default)]
    one_way: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicDef {
    name: Spanned<String>,
    partitions: Spanned<u32>,
    #[serde(rename = "replication.factor", alias = "replication_factor")]
    replication_factor: Spanned<u32>,
    #[serde(rename = "replica.assignment")]
    assignment: Option<Spanned<Vec<Vec<u32>>>>,
    config: Option<Spanned<TopicConfig>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProducerDef {
    name: Spanned<String>,
    config: Option<Spanned<ProducerConfigRaw>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDef {
    at: Spanned<u64>,
    produce: Option<Spanned<ProduceDef>>,
    crash: Option<Spanned<u32>>,
    restart: Option<Spanned<u32>>,
    cut: Option<Spanned<LinkRefDef>>,
    heal: Option<Spanned<LinkRefDef>>,
    link: Option<Spanned<LinkDef>>,
    say: Option<Spanned<String>>,
    pause: Option<Spanned<PauseDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProduceDef {
    producer: Option<Spanned<String>>,
    topic: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    value: Option<Spanned<String>>,
    count: Option<Spanned<u32>>,
    rate: Option<Spanned<f64>>,
    partition: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseDef {
    question: Spanned<String>,
    answer: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectDef {
    at: Option<Spanned<u64>>,
    sent: Option<u32>,
    acknowledged: Option<u32>,
    failed: Option<u32>,
    lost: Option<u32>,
    acknowledged_lost: Option<u32>,
    duplicated: Option<u32>,
    out_of_order: Option<u32>,
    partition: Option<Spanned<String>>,
    leader: Option<Spanned<u32>>,
    offline: Option<bool>,
    leader_epoch: Option<u32>,
    isr: Option<Spanned<Vec<u32>>>,
    high_watermark: Option<u64>,
    replica: Option<Spanned<u32>>,
    log: Option<Vec<String>>,
    log_end_offset: Option<u64>,
    producer: Option<Spanned<String>>,
    errors_seen: Option<Spanned<Vec<String>>>,
    no_errors: Option<bool>,
}

struct Ctx<'a> {
    loc: Locator<'a>,
    errors: Vec<ScenarioError>,
}

impl Ctx<'_> {
    fn err(&mut self, offset: usize, message: impl Into<String>, hint: Option<String>) {
        self.errors.push(self.loc.error(offset, message, hint));
    }

    fn text<'t>(&mut self, s: &'t Spanned<String>, what: &str) -> &'t str {
        if s.get_ref().chars().count() > limits::TEXT {
            self.err(s.span().start, format!("{what} is longer than {} characters", limits::TEXT), None);
        }
        s.get_ref()
    }
}

pub(super) fn parse(file: &str, text: &str) -> Result<Scenario, Vec<ScenarioError>> {
    let loc = Locator::new(file, text);
    if text.len() > limits::FILE_BYTES {
        return Err(vec![loc.error(0, format!("the file has {} bytes; the limit is {}", text.len(), limits::FILE_BYTES), None)]);
    }
    let def: FileDef = toml::from_str(text).map_err(|e| vec![from_toml(&loc, &e)])?;
    let mut cx = Ctx { loc, errors: Vec::new() };
    let scenario = translate(&mut cx, def);
    if cx.errors.is_empty() {
        Ok(scenario.expect("no errors means a scenario"))
    } else {
        cx.errors.sort_by_key(|e| (e.line, e.column));
        Err(cx.errors)
    }
}

fn translate(cx: &mut Ctx<'_>, def: FileDef) -> Option<Scenario> {
    let title = cx.text(&def.title, "title").to_string();
    let summary = cx.text(&def.summary, "summary").to_string();
    if title.trim().is_empty() {
        cx.err(def.title.span().start, "the title is empty", Some("a lesson needs a title students can read".into()));
    }

    let cluster = def.cluster.get_ref();
    let brokers = *cluster.brokers.get_ref();
    if brokers == 0 || brokers > limits::BROKERS {
        cx.err(
            cluster.brokers.span().start,
            format!("brokers = {brokers}, expected 1 to {}", limits::BROKERS),
            None,
        );
        return None;
    }
    let broker_config = cluster.config.as_ref().map(|c| c.get_ref().clone()).unwrap_or_default();
    if let Some(c) = &cluster.config {
        check_broker_config(cx, c.span().start, c.get_ref());
    }
    let network = cluster.network.as_ref().map(|n| *n.get_ref()).unwrap_or_default();
    if let Some(n) = &cluster.network {
        check_link(cx, n.span().start, n.get_ref());
    }

    // Topics.
    let mut topics = Vec::new();
    let mut total_partitions = 0u32;
    if def.topics.is_empty() {
        cx.err(0, "no topics", Some("add a [[topics]] table with name, partitions and \"replication.factor\"".into()));
    }
    if def.topics.len() > limits::TOPICS {
        cx.err(def.topics[0].span().start, format!("more than {} topics", limits::TOPICS), None);
        return None;
    }
    for t in &def.topics {
        let at = t.span().start;
        let t = t.get_ref();
        let name = t.name.get_ref().clone();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) || name.len() > 249 {
            cx.err(
                t.name.span().start,
                format!("topic name {name:?} is not a legal Kafka topic name"),
                Some("use 1 to 249 characters from a-z, A-Z, 0-9, '.', '_' and '-'".into()),
            );
        }
        if topics.iter().any(|x: &TopicSpec| x.name == name) {
            cx.err(t.name.span().start, format!("topic {name:?} is declared twice"), None);
        }
        let partitions = *t.partitions.get_ref();
        if partitions == 0 || partitions > limits::PARTITIONS_PER_TOPIC {
            cx.err(
                t.partitions.span().start,
                format!("partitions = {partitions}, expected 1 to {}", limits::PARTITIONS_PER_TOPIC),
                None,
            );
            continue;
        }
        total_partitions += partitions;
        if total_partitions > limits::PARTITIONS_TOTAL {
            cx.err(at, format!("more than {} partitions in the cluster", limits::PARTITIONS_TOTAL), None);
            return None;
        }
        let rf = *t.replication_factor.get_ref();
        if rf == 0 || rf > brokers {
            cx.err(
                t.replication_factor.span().start,
                format!("replication.factor = {rf}, but the cluster has {brokers} broker(s)"),
                Some("replication.factor must be between 1 and the number of brokers".into()),
            );
            continue;
        }
        let config = t.config.as_ref().map(|c| c.get_ref().clone()).unwrap_or_default();
        let effective = config.resolve(&broker_config);
        if effective.min_insync_replicas == 0 || effective.min_insync_replicas > rf {
            let offset = t.config.as_ref().map_or(at, |c| c.span().start);
            cx.err(
                offset,
                format!("min.insync.replicas = {} for a topic with replication.factor = {rf}", effective.min_insync_replicas),
                Some("min.insync.replicas must be between 1 and replication.factor, or acks=all writes can never succeed".into()),
            );
        }
        let assignment = match &t.assignment {
            Some(a) => {
                let list = a.get_ref();
                let ok = list.len() == partitions as usize
                    && list.iter().all(|r| {
                        r.len() == rf as usize
                            && r.iter().all(|&b| (1..=brokers).contains(&b))
                            && r.iter().enumerate().all(|(i, b)| !r[..i].contains(b))
                    });
                if !ok {
                    cx.err(
                        a.span().start,
                        "replica.assignment does not fit the topic",
                        Some(format!(
                            "give {partitions} list(s), each of {rf} distinct broker ids between 1 and {brokers}"
                        )),
                    );
                }
                list.clone()
            }
            None => default_assignment(partitions, rf, brokers),
        };
        topics.push(TopicSpec { name, assignment, config });
    }

    // Producers.
    let mut producers: Vec<ProducerSpec> = Vec::new();
    if def.producers.len() > limits::PRODUCERS {
        cx.err(def.producers[0].span().start, format!("more than {} producers", limits::PRODUCERS), None);
        return None;
    }
    for p in &def.producers {
        let p = p.get_ref();
        let name = p.name.get_ref().clone();
        if name.is_empty() || name == "controller" || name.starts_with("broker-") {
            cx.err(p.name.span().start, format!("producer name {name:?} is reserved or empty"), None);
        }
        if producers.iter().any(|x| x.name == name) {
            cx.err(p.name.span().start, format!("producer {name:?} is declared twice"), None);
        }
        let raw = p.config.as_ref().map(|c| c.get_ref().clone()).unwrap_or_default();
        match raw.resolve() {
            Ok(config) => producers.push(ProducerSpec { name, config }),
            Err(message) => {
                let offset = p.config.as_ref().map_or(p.name.span().start, |c| c.span().start);
                cx.err(offset, message, None);
            }
        }
    }

    let mut links = Vec::new();
    for l in &def.links {
        let span = l.span().start;
        let l = l.get_ref();
        let (from, to) = (node(cx, &l.from, &producers, brokers), node(cx, &l.to, &producers, brokers));
        let params = link_params(l, network);
        check_link(cx, span, &params);
        if let (Some(from), Some(to)) = (from, to) {
            links.push((from, to, params));
        }
    }

    // Timeline.
    let mut timeline = Vec::new();
    let mut records: u64 = 0;
    if def.timeline.len() > limits::TIMELINE {
        cx.err(def.timeline[0].span().start, format!("more than {} timeline entries", limits::TIMELINE), None);
        return None;
    }
    for entry in &def.timeline {
        let start = entry.span().start;
        let e = entry.get_ref();
        let at = *e.at.get_ref();
        if at > limits::DURATION_MS {
            cx.err(e.at.span().start, format!("at = {at} is beyond the limit of {} ms", limits::DURATION_MS), None);
        }
        let actions = [e.produce.is_some(), e.crash.is_some(), e.restart.is_some(), e.cut.is_some(), e.heal.is_some(), e.link.is_some(), e.pause.is_some()];
        let n = actions.iter().filter(|x| **x).count();
        if n > 1 {
            cx.err(start, "a timeline entry holds more than one action", Some("split it into several [[timeline]] entries with the same `at`".into()));
            continue;
        }
        if n == 0 && e.say.is_none() {
            cx.err(start, "a timeline entry with nothing to do", Some("add one of produce, crash, restart, cut, heal, link, say or pause".into()));
            continue;
        }
        if let Some(say) = &e.say {
            let text = cx.text(say, "say").to_string();
            timeline.push(TimedAction { at, action: Action::Say(text) });
        }
        let action = if let Some(p) = &e.produce {
            produce_action(cx, p, &topics, &producers, &mut records)
        } else if let Some(b) = &e.crash {
            broker_ref(cx, b, brokers).map(Action::Crash)
        } else if let Some(b) = &e.restart {
            broker_ref(cx, b, brokers).map(Action::Restart)
        } else if let Some(l) = &e.cut {
            let l = l.get_ref();
            let (from, to) = (node(cx, &l.from, &producers, brokers), node(cx, &l.to, &producers, brokers));
            from.zip(to).map(|(from, to)| Action::Cut { from, to, both: !l.one_way })
        } else if let Some(l) = &e.heal {
            let l = l.get_ref();
            let (from, to) = (node(cx, &l.from, &producers, brokers), node(cx, &l.to, &producers, brokers));
            from.zip(to).map(|(from, to)| Action::Heal { from, to, both: !l.one_way })
        } else if let Some(l) = &e.link {
            let span = l.span().start;
            let l = l.get_ref();
            let (from, to) = (node(cx, &l.from, &producers, brokers), node(cx, &l.to, &producers, brokers));
            let params = link_params(l, network);
            check_link(cx, span, &params);
            from.zip(to).map(|(from, to)| Action::SetLink { from, to, both: !l.one_way, params })
        } else if let Some(p) = &e.pause {
            let p = p.get_ref();
            let question = cx.text(&p.question, "question").to_string();
            let answer = p.answer.as_ref().map(|a| cx.text(a, "answer").to_string());
            Some(Action::Pause { question, answer })
        } else {
            None
        };
        if let Some(action) = action {
            timeline.push(TimedAction { at, action });
        }
    }
    if records > limits::RECORDS {
        cx.err(0, format!("the timeline produces {records} records; the limit is {}", limits::RECORDS), None);
    }

    let last_action = timeline.iter().map(|a| a.at).max().unwrap_or(0);
    let duration_ms = match &def.duration_ms {
        Some(d) => {
            let v = *d.get_ref();
            if v == 0 || v > limits::DURATION_MS {
                cx.err(d.span().start, format!("duration_ms = {v}, expected 1 to {}", limits::DURATION_MS), None);
            }
            v
        }
        None => last_action + 30_000,
    };

    let mut expectations = Vec::new();
    for e in &def.expect {
        if let Some(exp) = expectation(cx, e, &topics, &producers, brokers, duration_ms) {
            expectations.push(exp);
        }
    }

    Some(Scenario {
        title,
        summary,
        tags: def.tags,
        seed: def.seed,
        duration_ms,
        setup: Setup { seed: def.seed, brokers, broker_config, network, links, topics, producers, timeline },
        expectations,
    })
}

fn check_broker_config(cx: &mut Ctx<'_>, at: usize, c: &BrokerConfig) {
    let timeouts = [
        ("replica.lag.time.max.ms", c.replica_lag_time_max_ms),
        ("replica.socket.timeout.ms", c.replica_socket_timeout_ms),
        ("broker.session.timeout.ms", c.broker_session_timeout_ms),
        ("broker.heartbeat.interval.ms", c.broker_heartbeat_interval_ms),
        ("log.retention.check.interval.ms", c.log_retention_check_interval_ms),
    ];
    for (name, v) in timeouts {
        if v == 0 || v > limits::DURATION_MS {
            cx.err(at, format!("{name} = {v}, expected 1 to {}", limits::DURATION_MS), None);
        }
    }
    if c.broker_heartbeat_interval_ms >= c.broker_session_timeout_ms {
        cx.err(
            at,
            "broker.heartbeat.interval.ms must be less than broker.session.timeout.ms",
            Some("otherwise every broker is fenced between two heartbeats".into()),
        );
    }
    if c.replica_fetch_max_bytes == 0 {
        cx.err(at, "replica.fetch.max.bytes must be positive", None);
    }
}

fn check_link(cx: &mut Ctx<'_>, at: usize, l: &LinkParams) {
    if !(0.0..=1.0).contains(&l.loss) || l.loss.is_nan() {
        cx.err(at, format!("loss = {}, expected a probability from 0.0 to 1.0", l.loss), None);
    }
    if l.latency_ms > limits::LATENCY_MS || l.jitter_ms > limits::LATENCY_MS {
        cx.err(at, format!("latency_ms and jitter_ms must be at most {}", limits::LATENCY_MS), None);
    }
}

fn link_params(l: &LinkDef, base: LinkParams) -> LinkParams {
    LinkParams {
        latency_ms: l.latency_ms.unwrap_or(base.latency_ms),
        jitter_ms: l.jitter_ms.unwrap_or(base.jitter_ms),
        loss: l.loss.unwrap_or(base.loss),
    }
}

fn node_named(s: &Spanned<String>, producers: &[ProducerSpec], brokers: u32) -> Option<NodeId> {
    let name = s.get_ref().as_str();
    if name == "controller" {
        return Some(NodeId::Controller);
    }
    if let Some(n) = name.strip_prefix("broker-").and_then(|n| n.parse::<u32>().ok()) {
        return (1..=brokers).contains(&n).then_some(NodeId::Broker(n));
    }
    producers.iter().position(|p| p.name == name).map(|i| NodeId::Producer(i as u32))
}

fn node(cx: &mut Ctx<'_>, s: &Spanned<String>, producers: &[ProducerSpec], brokers: u32) -> Option<NodeId> {
    let found = node_named(s, producers, brokers);
    if found.is_none() {
        let mut names: Vec<String> = (1..=brokers).map(|b| format!("broker-{b}")).collect();
        names.push("controller".into());
        names.extend(producers.iter().map(|p| p.name.clone()));
        let hint = match closest(s.get_ref(), names.iter().map(String::as_str)) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("known nodes: {}", names.join(", ")),
        };
        cx.err(s.span().start, format!("unknown node {:?}", s.get_ref()), Some(hint));
    }
    found
}

fn broker_ref(cx: &mut Ctx<'_>, b: &Spanned<u32>, brokers: u32) -> Option<u32> {
    let id = *b.get_ref();
    if (1..=brokers).contains(&id) {
        Some(id)
    } else {
        cx.err(b.span().start, format!("there is no broker {id}"), Some(format!("brokers are numbered 1 to {brokers}")));
        None
    }
}

fn lookup(cx: &mut Ctx<'_>, what: &str, given: Option<&Spanned<String>>, at: usize, names: &[&str]) -> Option<u32> {
    match given {
        Some(s) => match names.iter().position(|n| *n == s.get_ref()) {
            Some(i) => Some(i as u32),
            None => {
                let hint = closest(s.get_ref(), names.iter().copied()).map(|b| format!("did you mean `{b}`?"));
                cx.err(s.span().start, format!("unknown {what} {:?}", s.get_ref()), hint);
                None
            }
        },
        None if names.len() == 1 => Some(0),
        None => {
            cx.err(at, format!("which {what}? there are {}", names.len()), Some(format!("add `{what} = \"…\"`")));
            None
        }
    }
}

fn produce_action(
    cx: &mut Ctx<'_>,
    p: &Spanned<ProduceDef>,
    topics: &[TopicSpec],
    producers: &[ProducerSpec],
    records: &mut u64,
) -> Option<Action> {
    let at = p.span().start;
    let p = p.get_ref();
    let pnames: Vec<&str> = producers.iter().map(|x| x.name.as_str()).collect();
    let tnames: Vec<&str> = topics.iter().map(|x| x.name.as_str()).collect();
    let producer = lookup(cx, "producer", p.producer.as_ref(), at, &pnames);
    let topic = lookup(cx, "topic", p.topic.as_ref(), at, &tnames);
    let count = p.count.as_ref().map_or(1, |c| *c.get_ref());
    if count == 0 {
        cx.err(p.count.as_ref().map_or(at, |c| c.span().start), "count = 0 produces nothing", Some("use count = 1 or more".into()));
    }
    *records += count as u64;
    if let Some(r) = &p.rate {
        let rate = *r.get_ref();
        if !(rate > 0.0 && rate <= 1_000_000.0) {
            cx.err(r.span().start, format!("rate = {rate}, expected records per second from above 0 to 1,000,000"), None);
        }
    }
    let key = p.key.as_ref().map(|k| cx.text(k, "key").to_string());
    let value = p.value.as_ref().map_or("v{n}".to_string(), |v| cx.text(v, "value").to_string());
    let (producer, topic) = (producer?, topic?);
    if let Some(part) = &p.partition {
        let n = topics[topic as usize].assignment.len() as u32;
        if *part.get_ref() >= n {
            cx.err(part.span().start, format!("partition {} does not exist", part.get_ref()), Some(format!("topic has partitions 0 to {}", n - 1)));
        }
    }
    Some(Action::Produce(ProduceAction {
        producer,
        topic,
        partition: p.partition.as_ref().map(|x| *x.get_ref()),
        key,
        value,
        count,
        rate: p.rate.as_ref().map(|r| *r.get_ref()),
    }))
}

fn expectation(
    cx: &mut Ctx<'_>,
    e: &Spanned<ExpectDef>,
    topics: &[TopicSpec],
    producers: &[ProducerSpec],
    brokers: u32,
    duration_ms: u64,
) -> Option<Expectation> {
    let start = e.span().start;
    let line = cx.loc.line_col(start).0;
    let errors_before = cx.errors.len();
    let e = e.get_ref();
    let mut checks = Vec::new();
    if let Some(at) = &e.at {
        if *at.get_ref() > duration_ms {
            cx.err(at.span().start, format!("at = {} is after the end of the run ({duration_ms} ms)", at.get_ref()), Some("raise duration_ms or move the expectation earlier".into()));
        }
    }
    let totals = [
        (Total::Sent, e.sent),
        (Total::Acknowledged, e.acknowledged),
        (Total::Failed, e.failed),
        (Total::Lost, e.lost),
        (Total::AcknowledgedLost, e.acknowledged_lost),
        (Total::Duplicated, e.duplicated),
        (Total::OutOfOrder, e.out_of_order),
    ];
    for (what, v) in totals {
        if let Some(value) = v {
            checks.push(Check::Total { what, value });
        }
    }
    let needs_partition = e.leader.is_some() || e.offline.is_some() || e.leader_epoch.is_some() || e.isr.is_some()
        || e.high_watermark.is_some() || e.log.is_some() || e.log_end_offset.is_some() || e.replica.is_some();
    let tp = match &e.partition {
        Some(p) => {
            let name = p.get_ref();
            let found = name.rsplit_once('-').and_then(|(t, n)| {
                let topic = topics.iter().position(|x| x.name == t)?;
                let n: u32 = n.parse().ok()?;
                (n < topics[topic].assignment.len() as u32).then_some(crate::sim::Tp { topic: topic as u32, partition: n })
            });
            if found.is_none() {
                let all: Vec<String> = topics
                    .iter()
                    .flat_map(|t| (0..t.assignment.len()).map(move |i| format!("{}-{i}", t.name)))
                    .collect();
                let hint = closest(name, all.iter().map(String::as_str)).map(|b| format!("did you mean `{b}`?"))
                    .or_else(|| Some("name a partition as topic-N, e.g. orders-0".into()));
                cx.err(p.span().start, format!("unknown partition {name:?}"), hint);
            }
            found
        }
        None => {
            if needs_partition {
                cx.err(start, "this expectation needs `partition = \"topic-N\"`", None);
            }
            None
        }
    };
    let replica = match &e.replica {
        Some(r) => broker_ref(cx, r, brokers),
        None => None,
    };
    if (e.log.is_some() || e.log_end_offset.is_some()) && e.replica.is_none() {
        cx.err(start, "`log` and `log_end_offset` need `replica = N` (the broker whose log to read)", None);
    }
    if let Some(tp) = tp {
        if let Some(l) = &e.leader {
            if let Some(b) = broker_ref(cx, l, brokers) {
                checks.push(Check::Leader { tp, leader: Some(b) });
            }
        }
        if e.offline == Some(true) {
            checks.push(Check::Leader { tp, leader: None });
        }
        if let Some(epoch) = e.leader_epoch {
            checks.push(Check::LeaderEpoch { tp, epoch });
        }
        if let Some(isr) = &e.isr {
            for &b in isr.get_ref() {
                if !(1..=brokers).contains(&b) {
                    cx.err(isr.span().start, format!("there is no broker {b}"), None);
                }
            }
            checks.push(Check::Isr { tp, isr: isr.get_ref().clone() });
        }
        if let Some(value) = e.high_watermark {
            checks.push(Check::HighWatermark { tp, replica, value });
        }
        if let (Some(b), Some(value)) = (replica, e.log_end_offset) {
            checks.push(Check::LogEndOffset { tp, replica: b, value });
        }
        if let (Some(b), Some(values)) = (replica, &e.log) {
            checks.push(Check::Log { tp, replica: b, values: values.clone() });
        }
    }
    if e.errors_seen.is_some() || e.no_errors.is_some() {
        let pnames: Vec<&str> = producers.iter().map(|x| x.name.as_str()).collect();
        if let Some(p) = lookup(cx, "producer", e.producer.as_ref(), start, &pnames) {
            if let Some(list) = &e.errors_seen {
                let mut errors = Vec::new();
                for name in list.get_ref() {
                    match KafkaError::ALL.iter().find(|k| k.name() == name) {
                        Some(k) => errors.push(*k),
                        None => {
                            let hint = closest(name, KafkaError::ALL.iter().map(|k| k.name())).map(|b| format!("did you mean `{b}`?"));
                            cx.err(list.span().start, format!("unknown error name {name:?}"), hint);
                        }
                    }
                }
                checks.push(Check::ErrorsSeen { producer: p, errors });
            }
            if e.no_errors == Some(true) {
                checks.push(Check::NoErrors { producer: p });
            }
        }
    }
    if checks.is_empty() && cx.errors.len() == errors_before {
        cx.err(start, "this expectation checks nothing", Some("add e.g. acknowledged_lost = 0, or partition + leader".into()));
        return None;
    }
    Some(Expectation { at: e.at.as_ref().map(|a| *a.get_ref()), line, checks })
}
