//! The scenario file's shape (the definitions read from TOML) and its translation into a validated [`Scenario`].

use super::error::{closest, Locator, ScenarioError};
use super::walk::{from_toml_enum, from_toml_table, parse_root, toml_table, Ctx, FromToml, Item, Spanned};
use toml::de::DeValue;
use super::expect::{Check, Expectation, GroupTotal, Total};
use crate::sim::map::VecMap;
use crate::sim::view::Verdict;
use super::cost::{self, Budget, Driver};
use super::{limits, Scenario};
use crate::sim::describe::node_by_name;
use crate::sim::config::{Acks, BrokerConfig, ConsumerConfigRaw, LinkParams, OffsetReset, ProducerConfigRaw, TopicConfig};
use crate::sim::{
    default_assignment, Action, AppBehaviour, CommitPolicy, ConsumerSpec, NodeId, ProduceAction, ProducerSpec, Setup, TimedAction,
    TopicSpec,
};
use crate::sim::types::KafkaError;

toml_table! {
    struct FileDef {
        title: Spanned<String> = "title",
        summary: Spanned<String> = "summary",
        tags: Vec<String> = "tags",
        seed: u64 = "seed",
        duration_ms: Option<Spanned<u64>> = "duration_ms",
        cluster: Spanned<ClusterDef> = "cluster",
        links: Vec<Spanned<LinkDef>> = "links",
        topics: Vec<Spanned<TopicDef>> = "topics",
        producers: Vec<Spanned<ProducerDef>> = "producers",
        consumers: Vec<Spanned<ConsumerDef>> = "consumers",
        timeline: Vec<Spanned<StepDef>> = "timeline",
        expect: Vec<Spanned<ExpectDef>> = "expect",
        goal: Option<Spanned<String>> = "goal",
        module: Option<Spanned<u32>> = "module",
        lesson: u32 = "lesson",
        challenge: Option<Spanned<ChallengeDef>> = "challenge",
        compare: Option<Spanned<CompareDef>> = "compare",
    } required: ["title", "summary", "cluster", "topics"]
}

toml_table! {
    struct ChallengeDef {
        goal: Spanned<String> = "goal",
        actions: Spanned<Vec<String>> = "actions",
        expect: Spanned<ExpectDef> = "expect",
        solution: Vec<Spanned<StepDef>> = "solution",
    } required: ["goal", "actions", "expect"]
}

toml_table! {
    struct CompareDef {
        left: Spanned<String> = "left",
        right: Spanned<String> = "right",
        cluster: Option<Spanned<BrokerConfig>> = "cluster",
        topics: Option<Spanned<VecMap<String, TopicConfig>>> = "topics",
        producers: Option<Spanned<VecMap<String, ProducerConfigRaw>>> = "producers",
        consumers: Option<Spanned<VecMap<String, ConsumerConfigRaw>>> = "consumers",
        expect: Vec<Spanned<ExpectDef>> = "expect",
    } required: ["left", "right"]
}

toml_table! {
    struct ClusterDef {
        brokers: Spanned<u32> = "brokers",
        config: Option<Spanned<BrokerConfig>> = "config",
        network: Option<Spanned<LinkParams>> = "network",
    } required: ["brokers"]
}

toml_table! {
    struct LinkDef {
        from: Spanned<String> = "from",
        to: Spanned<String> = "to",
        one_way: bool = "one_way",
        latency_ms: Option<u64> = "latency_ms",
        jitter_ms: Option<u64> = "jitter_ms",
        loss: Option<f64> = "loss",
    } required: ["from", "to"]
}

toml_table! {
    struct LinkRefDef {
        from: Spanned<String> = "from",
        to: Spanned<String> = "to",
        one_way: bool = "one_way",
    } required: ["from", "to"]
}

toml_table! {
    struct TopicDef {
        name: Spanned<String> = "name",
        partitions: Spanned<u32> = "partitions",
        replication_factor: Spanned<u32> = "replication.factor" | "replication_factor",
        assignment: Option<Spanned<Vec<Vec<u32>>>> = "replica.assignment",
        config: Option<Spanned<TopicConfig>> = "config",
    } required: ["name", "partitions", "replication.factor"]
}

toml_table! {
    struct ProducerDef {
        name: Spanned<String> = "name",
        config: Option<Spanned<ProducerConfigRaw>> = "config",
    } required: ["name"]
}

toml_table! {
    struct ConsumerDef {
        name: Spanned<String> = "name",
        topics: Spanned<Vec<String>> = "topics",
        config: Option<Spanned<ConsumerConfigRaw>> = "config",
        processing_ms: Option<Spanned<u64>> = "processing_ms",
        commit: Option<Spanned<String>> = "commit",
        processing: Option<Spanned<String>> = "processing",
        start: Option<bool> = "start",
    } required: ["name", "topics"]
}

toml_table! {
    struct StallDef {
        consumer: Spanned<String> = "consumer",
        ms: Spanned<u64> = "ms",
    } required: ["consumer", "ms"]
}

toml_table! {
    struct StepDef {
        at: Spanned<u64> = "at",
        produce: Option<Spanned<ProduceDef>> = "produce",
        crash: Option<Spanned<u32>> = "crash",
        controlled_shutdown: Option<Spanned<u32>> = "controlled_shutdown",
        restart: Option<Spanned<u32>> = "restart",
        cut: Option<Spanned<LinkRefDef>> = "cut",
        heal: Option<Spanned<LinkRefDef>> = "heal",
        link: Option<Spanned<LinkDef>> = "link",
        say: Option<Spanned<String>> = "say",
        pause: Option<Spanned<PauseDef>> = "pause",
        start_consumer: Option<Spanned<String>> = "start_consumer",
        crash_consumer: Option<Spanned<String>> = "crash_consumer",
        close_consumer: Option<Spanned<String>> = "close_consumer",
        stall_consumer: Option<Spanned<StallDef>> = "stall_consumer",
    } required: ["at"]
}

toml_table! {
    struct ProduceDef {
        producer: Option<Spanned<String>> = "producer",
        topic: Option<Spanned<String>> = "topic",
        key: Option<Spanned<String>> = "key",
        value: Option<Spanned<String>> = "value",
        count: Option<Spanned<u32>> = "count",
        rate: Option<Spanned<f64>> = "rate",
        partition: Option<Spanned<u32>> = "partition",
    }
}

toml_table! {
    struct PauseDef {
        question: Spanned<String> = "question",
        choices: Option<Spanned<Vec<String>>> = "choices",
        correct: Option<Spanned<u32>> = "correct",
        answer: Option<Spanned<String>> = "answer",
    } required: ["question"]
}

toml_table! {
    struct ExpectDef {
        at: Option<Spanned<u64>> = "at",
        sent: Option<u32> = "sent",
        acknowledged: Option<u32> = "acknowledged",
        failed: Option<u32> = "failed",
        lost: Option<u32> = "lost",
        acknowledged_lost: Option<u32> = "acknowledged_lost",
        duplicated: Option<u32> = "duplicated",
        out_of_order: Option<u32> = "out_of_order",
        partition: Option<Spanned<String>> = "partition",
        leader: Option<Spanned<u32>> = "leader",
        offline: Option<bool> = "offline",
        leader_epoch: Option<u32> = "leader_epoch",
        isr: Option<Spanned<Vec<u32>>> = "isr",
        elr: Option<Spanned<Vec<u32>>> = "elr",
        high_watermark: Option<u64> = "high_watermark",
        replica: Option<Spanned<u32>> = "replica",
        log: Option<Vec<String>> = "log",
        log_end_offset: Option<u64> = "log_end_offset",
        producer: Option<Spanned<String>> = "producer",
        errors_seen: Option<Spanned<Vec<String>>> = "errors_seen",
        no_errors: Option<bool> = "no_errors",
        group: Option<Spanned<String>> = "group",
        processed: Option<u32> = "processed",
        pending: Option<u32> = "pending",
        verdict: Option<Spanned<String>> = "verdict",
        generation: Option<i32> = "generation",
        rebalances: Option<u32> = "rebalances",
        committed: Option<Spanned<VecMap<String, u64>>> = "committed",
        lag: Option<u64> = "lag",
        assignment: Option<Spanned<VecMap<String, Vec<String>>>> = "assignment",
        consumer: Option<Spanned<String>> = "consumer",
        position: Option<Spanned<VecMap<String, u64>>> = "position",
        consumer_state: Option<Spanned<String>> = "consumer_state",
    }
}

from_toml_table!(BrokerConfig {
    replica_lag_time_max_ms: "replica.lag.time.max.ms",
    replica_fetch_wait_max_ms: "replica.fetch.wait.max.ms",
    replica_fetch_backoff_ms: "replica.fetch.backoff.ms",
    replica_fetch_max_bytes: "replica.fetch.max.bytes",
    replica_socket_timeout_ms: "replica.socket.timeout.ms",
    broker_session_timeout_ms: "broker.session.timeout.ms",
    broker_heartbeat_interval_ms: "broker.heartbeat.interval.ms",
    log_retention_check_interval_ms: "log.retention.check.interval.ms",
    min_insync_replicas: "min.insync.replicas",
    unclean_leader_election_enable: "unclean.leader.election.enable",
    log_retention_ms: "log.retention.ms",
    log_retention_bytes: "log.retention.bytes",
    offsets_topic_num_partitions: "offsets.topic.num.partitions",
    offsets_topic_replication_factor: "offsets.topic.replication.factor",
    offsets_commit_timeout_ms: "offsets.commit.timeout.ms",
    group_initial_rebalance_delay_ms: "group.initial.rebalance.delay.ms",
    eligible_leader_replicas_version: "eligible.leader.replicas.version",
    group_min_session_timeout_ms: "group.min.session.timeout.ms",
    group_max_session_timeout_ms: "group.max.session.timeout.ms",
});

from_toml_table!(TopicConfig {
    min_insync_replicas: "min.insync.replicas",
    unclean_leader_election_enable: "unclean.leader.election.enable",
    retention_ms: "retention.ms",
    retention_bytes: "retention.bytes",
});

from_toml_table!(ProducerConfigRaw {
    acks: "acks",
    retries: "retries",
    retry_backoff_ms: "retry.backoff.ms",
    retry_backoff_max_ms: "retry.backoff.max.ms",
    request_timeout_ms: "request.timeout.ms",
    delivery_timeout_ms: "delivery.timeout.ms",
    max_in_flight: "max.in.flight.requests.per.connection",
    enable_idempotence: "enable.idempotence",
    linger_ms: "linger.ms",
    batch_size: "batch.size",
});

from_toml_table!(ConsumerConfigRaw {
    group_id: "group.id",
    group_instance_id: "group.instance.id",
    partition_assignment_strategy: "partition.assignment.strategy",
    enable_auto_commit: "enable.auto.commit",
    auto_commit_interval_ms: "auto.commit.interval.ms",
    auto_offset_reset: "auto.offset.reset",
    session_timeout_ms: "session.timeout.ms",
    heartbeat_interval_ms: "heartbeat.interval.ms",
    max_poll_interval_ms: "max.poll.interval.ms",
    max_poll_records: "max.poll.records",
    fetch_max_wait_ms: "fetch.max.wait.ms",
    max_partition_fetch_bytes: "max.partition.fetch.bytes",
    request_timeout_ms: "request.timeout.ms",
    retry_backoff_ms: "retry.backoff.ms",
});

from_toml_table!(LinkParams {
    latency_ms: "latency_ms",
    jitter_ms: "jitter_ms",
    loss: "loss",
});

impl FromToml for Acks {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        let acks = match v.get_ref() {
            DeValue::Integer(i) => match (i.radix(), i.as_str()) {
                (10, "0") => Some(Acks::None),
                (10, "1") => Some(Acks::Leader),
                (10, "-1") => Some(Acks::All),
                _ => None,
            },
            DeValue::String(s) => match s.as_ref() {
                "0" => Some(Acks::None),
                "1" => Some(Acks::Leader),
                "all" | "-1" => Some(Acks::All),
                _ => None,
            },
            _ => None,
        };
        if acks.is_none() {
            cx.err(v.span().start, "acks must be 0, 1, \"all\" or -1", None);
        }
        acks
    }
}

from_toml_enum!(OffsetReset { Earliest: "earliest", Latest: "latest", None: "none" });

pub(super) fn parse(file: &str, text: &str, budget: &Budget) -> Result<Scenario, Vec<ScenarioError>> {
    let loc = Locator::new(file, text);
    if text.len() > limits::FILE_BYTES {
        return Err(vec![loc.error(0, format!("the file has {} bytes; the limit is {}", text.len(), limits::FILE_BYTES), None)]);
    }
    let root = parse_root(text, &loc).map_err(|e| vec![e])?;
    let mut cx = Ctx { loc, errors: Vec::new() };
    let Some(def) = FileDef::from_toml(&root, &mut cx) else {
        cx.errors.sort_by_key(|e| (e.line, e.column));
        return Err(cx.errors);
    };
    let compare = def.compare.as_ref().map(|c| (cx.text(&c.get_ref().left, "left").to_string(), cx.text(&c.get_ref().right, "right").to_string()));
    let mut scenario = translate(&mut cx, def, budget);
    if let (Some((left, right)), Some(s)) = (compare, scenario.as_mut()) {
        // The changed run is the same file with the compare table's settings merged into the
        // tables they name, read and checked as a scenario of its own: an error in it points
        // at the compare table, whose values keep their place in the file.
        let variant = variant_root(&root, &mut cx).and_then(|v| FileDef::from_toml(&v, &mut cx)).and_then(|d| translate(&mut cx, d, budget));
        s.compare = variant.map(|v| super::Compare { left, right, variant: Box::new(v) });
    }
    if cx.errors.is_empty() {
        Ok(scenario.expect("no errors means a scenario"))
    } else {
        cx.errors.sort_by_key(|e| (e.line, e.column));
        Err(cx.errors)
    }
}

/// The file's tree with `[compare]`'s settings merged into the tables they name, its
/// `[[compare.expect]]` in place of `[[expect]]`, and without `[compare]` and `[challenge]`.
fn variant_root<'i>(root: &Item<'i>, cx: &mut Ctx<'_>) -> Option<Item<'i>> {
    let mut tree = root.clone();
    let DeValue::Table(top) = tree.get_mut() else { return None };
    let compare = top.remove("compare")?;
    top.remove("challenge");
    let at = compare.span().start;
    let DeValue::Table(compare) = compare.into_inner() else { return None };
    let mut changes = 0;
    for (section, changed) in compare.iter() {
        let section = section.get_ref().as_ref();
        if section == "left" || section == "right" || section == "expect" {
            continue;
        }
        let span = changed.span();
        let DeValue::Table(changed) = changed.get_ref() else { continue };
        if section == "cluster" {
            let Some(cluster) = top.get_mut("cluster") else { continue };
            changes += changed.len();
            merge_config(cluster, changed, span);
            continue;
        }
        // `topics`, `producers` and `consumers` map a name (or "*" for every one) to settings.
        for (name, settings) in changed.iter() {
            let span = settings.span();
            let DeValue::Table(settings) = settings.get_ref() else { continue };
            changes += settings.len();
            let mut found = false;
            if let Some(DeValue::Array(list)) = top.get_mut(section).map(|v| v.get_mut()) {
                for entry in list.iter_mut() {
                    let named = match entry.get_ref() {
                        DeValue::Table(t) => t.get("name").is_some_and(|n| matches!(n.get_ref(), DeValue::String(s) if s.as_ref() == name.get_ref().as_ref())),
                        _ => false,
                    };
                    if named || name.get_ref().as_ref() == "*" {
                        found = true;
                        merge_config(entry, settings, span.clone());
                    }
                }
            }
            if !found {
                let what = section.trim_end_matches('s');
                cx.err(name.span().start, format!("compare names {what} {:?}, which this scenario does not declare", name.get_ref().as_ref()), Some(format!("name one of the scenario's {section}, or \"*\" for all of them")));
            }
        }
    }
    // The changed run is checked against what the compare table expects of it.
    top.remove("expect");
    if let Some((key, expect)) = compare.get_key_value("expect") {
        top.insert(key.clone(), expect.clone());
    }
    if changes == 0 {
        cx.err(at, "[compare] changes no setting", Some("add the setting to change, e.g. producers = { app = { acks = \"all\" } }".into()));
        return None;
    }
    Some(tree)
}

/// Sets each of `settings` (the compare table's, at `span`) in the `config` table of `target`
/// (creating it). The merged table takes the compare table's place in the file, so that an error
/// the change causes points at the change, not at the base table or at the file's start.
fn merge_config<'i>(target: &mut Item<'i>, settings: &toml::de::DeTable<'i>, span: std::ops::Range<usize>) {
    let DeValue::Table(target) = target.get_mut() else { return };
    let config = target
        .entry(toml::Spanned::new(span.clone(), "config".into()))
        .or_insert_with(|| toml::Spanned::new(span.clone(), DeValue::Table(Default::default())));
    let mut merged = match config.get_ref() {
        DeValue::Table(t) => t.clone(),
        _ => return,
    };
    for (k, v) in settings.iter() {
        merged.insert(k.clone(), v.clone());
    }
    *config = toml::Spanned::new(span, DeValue::Table(merged));
}

fn translate(cx: &mut Ctx<'_>, def: FileDef, budget: &Budget) -> Option<Scenario> {
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
        check_topic_name(cx, &t.name, &topics);
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
        check_client_name(cx, "producer", &p.name);
        if producers.iter().any(|x| x.name == name) {
            cx.err(p.name.span().start, format!("producer {name:?} is declared twice"), None);
        }
        let raw = p.config.as_ref().map(|c| c.get_ref().clone()).unwrap_or_default();
        match raw.resolve() {
            Ok(config) => producers.push(ProducerSpec { name, config }),
            Err(message) => {
                let offset = p.config.as_ref().map_or(p.name.span().start, |c| c.span().start);
                cx.err(offset, message, None);
                // Kept with the defaults, so that the timeline's references to it raise no second,
                // misleading error.
                if let Ok(config) = ProducerConfigRaw::default().resolve() {
                    producers.push(ProducerSpec { name, config });
                }
            }
        }
    }

    let consumers = consumers(cx, &def.consumers, &topics, &producers);
    // A group's first FindCoordinator makes the cluster create `__consumer_offsets` with all its
    // partitions, which count toward the cluster's limit like any topic's.
    let offsets_partitions = broker_config.offsets_topic_num_partitions;
    if !consumers.is_empty() && u64::from(total_partitions) + u64::from(offsets_partitions) > u64::from(limits::PARTITIONS_TOTAL) {
        let at = cluster.config.as_ref().map_or(cluster.brokers.span().start, |c| c.span().start);
        cx.err(
            at,
            format!(
                "the topics' {total_partitions} partitions and __consumer_offsets' {offsets_partitions} (offsets.topic.num.partitions) are more than the {} partitions a cluster may have here",
                limits::PARTITIONS_TOTAL
            ),
            Some("lower offsets.topic.num.partitions (Kafka's default is 50) or the topics' partitions".into()),
        );
    }
    let clients = Clients { producers: &producers, consumers: &consumers, brokers };

    let mut links = Vec::new();
    for l in &def.links {
        let span = l.span().start;
        let l = l.get_ref();
        let ends = link_ends(cx, &l.from, &l.to, &clients);
        let params = link_params(l, network);
        check_link(cx, span, &params);
        if let Some((from, to)) = ends {
            links.push((from, to, params));
        }
    }

    // Timeline.
    let mut records: u64 = 0;
    if def.timeline.len() > limits::TIMELINE {
        cx.err(def.timeline[0].span().start, format!("more than {} timeline entries", limits::TIMELINE), None);
        return None;
    }
    let timeline = timeline_actions(cx, &def.timeline, &topics, &clients, network, &mut records);

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

    after_the_end(cx, &def.timeline, duration_ms, "timeline entry");

    let mut expectations = Vec::new();
    for e in &def.expect {
        if let Some(exp) = expectation(cx, e, &topics, &clients, duration_ms) {
            expectations.push(exp);
        }
    }

    let challenge = def.challenge.as_ref().and_then(|ch| {
        let ch = ch.get_ref();
        let goal = cx.text(&ch.goal, "goal").to_string();
        for a in ch.actions.get_ref() {
            if !super::CHALLENGE_ACTIONS.contains(&a.as_str()) {
                let hint = closest(a, super::CHALLENGE_ACTIONS).map_or_else(
                    || format!("use some of {}", super::CHALLENGE_ACTIONS.join(", ")),
                    |b| format!("did you mean `{b}`?"),
                );
                cx.err(ch.actions.span().start, format!("unknown action {a:?}"), Some(hint));
            }
        }
        if ch.actions.get_ref().is_empty() {
            cx.err(ch.actions.span().start, "a challenge with no actions allowed", Some("list the page's actions the class may use, e.g. [\"crash\", \"restart\"]".into()));
        }
        if let Some(at) = &ch.expect.get_ref().at {
            cx.err(at.span().start, "a challenge's goal has no `at`", Some("it is checked at the step the page shows and at the end of the run".into()));
        }
        let solution = timeline_actions(cx, &ch.solution, &topics, &clients, network, &mut records);
        after_the_end(cx, &ch.solution, duration_ms, "solution entry");
        for entry in &ch.solution {
            let Some(kind) = step_kind(entry.get_ref()) else { continue };
            if !ch.actions.get_ref().iter().any(|a| a == kind) {
                cx.err(
                    entry.span().start,
                    format!("the solution uses `{kind}`, which the challenge does not allow"),
                    Some(format!("a solution may use only the challenge's actions ({}), as the class can", ch.actions.get_ref().join(", "))),
                );
            }
        }
        let mut expectation = expectation(cx, &ch.expect, &topics, &clients, duration_ms)?;
        if expectation.checks.is_empty() {
            cx.err(ch.expect.span().start, "the challenge's goal checks nothing", Some("give it a check, e.g. expect = { acknowledged_lost = 1 }".into()));
        }
        expectation.at_least = true;
        Some(super::Challenge { goal, actions: ch.actions.get_ref().clone(), expectation, solution })
    });
    if records > limits::RECORDS {
        // The largest count is the one to lower.
        let solution = def.challenge.as_ref().map_or(&[][..], |c| &c.get_ref().solution[..]);
        let at = def
            .timeline
            .iter()
            .chain(solution)
            .filter_map(|e| e.get_ref().produce.as_ref()?.get_ref().count.as_ref())
            .max_by_key(|c| *c.get_ref())
            .map_or(0, |c| c.span().start);
        cx.err(
            at,
            format!("the timeline and the challenge's solution produce {records} records; the limit is {}", limits::RECORDS),
            Some("lower the produce entries' count".into()),
        );
    }
    let goal = def.goal.as_ref().map(|g| cx.text(g, "goal").to_string());
    if let Some(m) = &def.module {
        if !(1..=super::MODULES.len() as u32).contains(m.get_ref()) {
            cx.err(m.span().start, format!("module = {}, expected 1 to {}", m.get_ref(), super::MODULES.len()), Some(format!("the modules are: {}", super::MODULES.iter().enumerate().map(|(i, m)| format!("{} {m}", i + 1)).collect::<Vec<_>>().join("; "))));
        }
    }

    let setup = Setup { seed: def.seed, brokers, broker_config, network, links, topics, producers, consumers, timeline };
    if cx.errors.is_empty() {
        check_cost(cx, &def, &setup, challenge.as_ref().map_or(&[][..], |c| &c.solution[..]), duration_ms, budget);
    }

    Some(Scenario {
        goal,
        module: def.module.as_ref().map(|m| *m.get_ref()),
        lesson: def.lesson,
        challenge,
        compare: None,
        title,
        summary,
        tags: def.tags,
        seed: def.seed,
        duration_ms,
        setup,
        expectations,
    })
}

/// Refuses a file whose run would never advance virtual time, or whose estimated steps or memory
/// are beyond `budget`, pointing at what drives the cost. The challenge's solution runs in the
/// same budget, so its records count too.
fn check_cost(cx: &mut Ctx<'_>, def: &FileDef, setup: &Setup, solution_actions: &[TimedAction], duration_ms: u64, budget: &Budget) {
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
    let solution = def.challenge.as_ref().map_or(&[][..], |c| &c.get_ref().solution[..]);
    let records_at = def
        .timeline
        .iter()
        .chain(solution)
        .filter_map(|e| e.get_ref().produce.as_ref()?.get_ref().count.as_ref())
        .max_by_key(|c| *c.get_ref())
        .map_or(0, |c| c.span().start);
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
            format!("this run would take about {steps} steps, more than the {} a run may take {}; most come from {}", budget.steps, budget.place, part.what),
            Some(hint(part.driver)),
        );
    } else if bytes > budget.bytes {
        let part = estimate.most_bytes().expect("an estimate has parts");
        cx.err(
            at(part.driver),
            format!("this run would need about {} MB, more than the {} MB a run may use {}; most of it is for {}", bytes >> 20, budget.bytes >> 20, budget.place, part.what),
            Some(hint(part.driver)),
        );
    }
}

fn hint(driver: Driver) -> String {
    match driver {
        Driver::Records => "produce fewer records, or shorter keys and values",
        Driver::FollowerFetches => "shorten duration_ms, use fewer partitions or a lower replication.factor, or raise replica.fetch.wait.max.ms",
        Driver::ConsumerFetches => "shorten duration_ms, use fewer consumers, or raise fetch.max.wait.ms",
        Driver::BrokerHeartbeats => "shorten duration_ms or raise broker.heartbeat.interval.ms",
        Driver::Faults => "use fewer crashes, restarts and link changes",
    }
    .to_string()
}

/// Refuses entries that would happen after the run's end, where they would silently never run:
/// an entry's `at`, and the last record of a produce spread out by `rate`.
fn after_the_end(cx: &mut Ctx<'_>, entries: &[Spanned<StepDef>], duration_ms: u64, what: &str) {
    for entry in entries {
        let e = entry.get_ref();
        let at = *e.at.get_ref();
        if at > duration_ms {
            cx.err(e.at.span().start, format!("this {what} at {at} ms is after the end of the run ({duration_ms} ms)"), Some("raise duration_ms or move the entry earlier; it would never run".into()));
            continue;
        }
        let Some(p) = &e.produce else { continue };
        let p = p.get_ref();
        let (Some(rate), count) = (p.rate.as_ref(), p.count.as_ref().map_or(1, |c| *c.get_ref())) else { continue };
        let rate = *rate.get_ref();
        if (MIN_RATE..=1_000_000.0).contains(&rate) {
            let last = at as f64 + f64::from(count.saturating_sub(1)) * 1000.0 / rate;
            if last > duration_ms as f64 {
                cx.err(
                    p.rate.as_ref().map_or(entry.span().start, |r| r.span().start),
                    format!("at rate = {rate} the last of {count} records would be sent at {} ms, after the end of the run ({duration_ms} ms)", last.ceil()),
                    Some("raise the rate or duration_ms, or lower the count".into()),
                );
            }
        }
    }
}

/// The action a timeline entry holds, named as a challenge's `actions` name it.
fn step_kind(e: &StepDef) -> Option<&'static str> {
    let kinds = [
        (e.produce.is_some(), "produce"),
        (e.crash.is_some(), "crash"),
        (e.controlled_shutdown.is_some(), "controlled_shutdown"),
        (e.restart.is_some(), "restart"),
        (e.cut.is_some(), "cut"),
        (e.heal.is_some(), "heal"),
        (e.link.is_some(), "link"),
        (e.pause.is_some(), "pause"),
        (e.start_consumer.is_some(), "start_consumer"),
        (e.crash_consumer.is_some(), "crash_consumer"),
        (e.close_consumer.is_some(), "close_consumer"),
        (e.stall_consumer.is_some(), "stall_consumer"),
    ];
    kinds.iter().find(|(set, _)| *set).map(|(_, k)| *k)
}

/// Kafka's rules for a new topic's name (`Topic.validate` and the controller's collision check in
/// `ReplicationControlManager.validateNewTopicNames`), plus the internal topics the simulated
/// cluster creates itself.
fn check_topic_name(cx: &mut Ctx<'_>, name: &Spanned<String>, earlier: &[TopicSpec]) {
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
const INTERNAL_TOPICS: [&str; 2] = ["__consumer_offsets", "__transaction_state"];

/// A name as the error shows it: quoted, with control characters escaped so that a terminal
/// prints them as text.
fn printable(name: &str) -> String {
    format!("{:?}", name.chars().take(60).collect::<String>()) + if name.chars().count() > 60 { "…" } else { "" }
}

/// The rules for a client's name (a producer or consumer): the page and the trace show it, so it
/// must be short and printable, and it must not be a broker's or the controller's name.
fn check_client_name(cx: &mut Ctx<'_>, what: &str, name: &Spanned<String>) {
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
const NAME_CHARS: usize = 100;

/// Translates timeline entries (of the scenario, or of a challenge's solution) into actions.
fn timeline_actions(cx: &mut Ctx<'_>, entries: &[Spanned<StepDef>], topics: &[TopicSpec], clients: &Clients<'_>, network: LinkParams, records: &mut u64) -> Vec<TimedAction> {
    let (producers, consumers, brokers) = (clients.producers, clients.consumers, clients.brokers);
    let mut timeline = Vec::new();
    for entry in entries {
        let start = entry.span().start;
        let e = entry.get_ref();
        let at = *e.at.get_ref();
        if at > limits::DURATION_MS {
            cx.err(e.at.span().start, format!("at = {at} is beyond the limit of {} ms", limits::DURATION_MS), None);
        }
        let actions = [
            e.produce.is_some(),
            e.crash.is_some(),
            e.controlled_shutdown.is_some(),
            e.restart.is_some(),
            e.cut.is_some(),
            e.heal.is_some(),
            e.link.is_some(),
            e.pause.is_some(),
            e.start_consumer.is_some(),
            e.crash_consumer.is_some(),
            e.close_consumer.is_some(),
            e.stall_consumer.is_some(),
        ];
        let n = actions.iter().filter(|x| **x).count();
        if n > 1 {
            cx.err(start, "a timeline entry holds more than one action", Some("split it into several [[timeline]] entries with the same `at`".into()));
            continue;
        }
        if n == 0 && e.say.is_none() {
            cx.err(
                start,
                "a timeline entry with nothing to do",
                Some("add one of produce, crash, controlled_shutdown, restart, cut, heal, link, say, pause, start_consumer, crash_consumer, close_consumer or stall_consumer".into()),
            );
            continue;
        }
        if let Some(say) = &e.say {
            let text = cx.text(say, "say").to_string();
            timeline.push(TimedAction { at, action: Action::Say(text) });
        }
        let action = if let Some(p) = &e.produce {
            produce_action(cx, p, topics, producers, records)
        } else if let Some(b) = &e.crash {
            broker_ref(cx, b, brokers).map(Action::Crash)
        } else if let Some(b) = &e.controlled_shutdown {
            broker_ref(cx, b, brokers).map(Action::ControlledShutdown)
        } else if let Some(b) = &e.restart {
            broker_ref(cx, b, brokers).map(Action::Restart)
        } else if let Some(l) = &e.cut {
            let l = l.get_ref();
            let ends = link_ends(cx, &l.from, &l.to, clients);
            ends.map(|(from, to)| Action::Cut { from, to, both: !l.one_way })
        } else if let Some(l) = &e.heal {
            let l = l.get_ref();
            let ends = link_ends(cx, &l.from, &l.to, clients);
            ends.map(|(from, to)| Action::Heal { from, to, both: !l.one_way })
        } else if let Some(l) = &e.link {
            let span = l.span().start;
            let l = l.get_ref();
            let ends = link_ends(cx, &l.from, &l.to, clients);
            let params = link_params(l, network);
            check_link(cx, span, &params);
            ends.map(|(from, to)| Action::SetLink { from, to, both: !l.one_way, params })
        } else if let Some(c) = &e.start_consumer {
            consumer_ref(cx, c, consumers).map(Action::StartConsumer)
        } else if let Some(c) = &e.crash_consumer {
            consumer_ref(cx, c, consumers).map(Action::CrashConsumer)
        } else if let Some(c) = &e.close_consumer {
            consumer_ref(cx, c, consumers).map(Action::CloseConsumer)
        } else if let Some(st) = &e.stall_consumer {
            let st = st.get_ref();
            let ms = *st.ms.get_ref();
            if ms == 0 || ms > limits::DURATION_MS {
                cx.err(st.ms.span().start, format!("ms = {ms}, expected 1 to {}", limits::DURATION_MS), None);
            }
            consumer_ref(cx, &st.consumer, consumers).map(|consumer| Action::StallConsumer { consumer, ms })
        } else if let Some(p) = &e.pause {
            let p = p.get_ref();
            let question = cx.text(&p.question, "question").to_string();
            let answer = p.answer.as_ref().map(|a| cx.text(a, "answer").to_string());
            let choices: Vec<String> = p.choices.as_ref().map_or_else(Vec::new, |c| c.get_ref().clone());
            if let Some(c) = &p.choices {
                if !(2..=6).contains(&choices.len()) {
                    cx.err(c.span().start, format!("{} choices, expected 2 to 6", choices.len()), Some("a question for the class offers two to six answers to pick from".into()));
                }
                if choices.iter().any(|x| x.chars().count() > limits::TEXT) {
                    cx.err(c.span().start, format!("a choice is longer than {} characters", limits::TEXT), None);
                }
            }
            let correct = match &p.correct {
                Some(n) if p.choices.is_none() => {
                    cx.err(n.span().start, "`correct` needs `choices`", Some("list the answers in `choices = [\"…\", \"…\"]`; `correct` is the right one's number, from 1".into()));
                    None
                }
                Some(n) if *n.get_ref() == 0 || *n.get_ref() as usize > choices.len() => {
                    cx.err(n.span().start, format!("correct = {}, expected 1 to {}", n.get_ref(), choices.len()), Some("`correct` counts the choices from 1".into()));
                    None
                }
                Some(n) => Some(*n.get_ref() - 1),
                None => None,
            };
            Some(Action::Pause { question, answer, choices, correct })
        } else {
            None
        };
        if let Some(action) = action {
            timeline.push(TimedAction { at, action });
        }
    }
    timeline
}

fn check_broker_config(cx: &mut Ctx<'_>, at: usize, c: &BrokerConfig) {
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

/// The clients and brokers a scenario names.
struct Clients<'a> {
    producers: &'a [ProducerSpec],
    consumers: &'a [ConsumerSpec],
    brokers: u32,
}

fn node_named(s: &Spanned<String>, clients: &Clients<'_>) -> Option<NodeId> {
    node_by_name(
        s.get_ref(),
        clients.brokers,
        clients.producers.iter().map(|p| p.name.as_str()),
        clients.consumers.iter().map(|c| c.name.as_str()),
    )
}

fn node(cx: &mut Ctx<'_>, s: &Spanned<String>, clients: &Clients<'_>) -> Option<NodeId> {
    if let Some(id) = s.get_ref().strip_prefix("broker-") {
        if id.starts_with('0') || id.starts_with('+') {
            let canonical = id.trim_start_matches(['0', '+']);
            cx.err(s.span().start, format!("unknown node {}", printable(s.get_ref())), Some(format!("brokers are named without leading zeros: broker-{canonical}")));
            return None;
        }
    }
    let found = node_named(s, clients);
    if found.is_none() {
        let mut names: Vec<String> = (1..=clients.brokers).map(|b| format!("broker-{b}")).collect();
        names.push("controller".into());
        names.extend(clients.producers.iter().map(|p| p.name.clone()));
        names.extend(clients.consumers.iter().map(|c| c.name.clone()));
        let hint = match closest(s.get_ref(), names.iter().map(String::as_str)) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("known nodes: {}", names.join(", ")),
        };
        cx.err(s.span().start, format!("unknown node {:?}", s.get_ref()), Some(hint));
    }
    found
}

/// The two ends of a link, which must be two different nodes.
fn link_ends(cx: &mut Ctx<'_>, from: &Spanned<String>, to: &Spanned<String>, clients: &Clients<'_>) -> Option<(NodeId, NodeId)> {
    let ends = (node(cx, from, clients), node(cx, to, clients));
    let (Some(a), Some(b)) = ends else { return None };
    if a == b {
        cx.err(to.span().start, format!("a link from {} to itself", printable(from.get_ref())), Some("a link joins two different nodes; name the other end in `to`".into()));
        return None;
    }
    Some((a, b))
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

/// The slowest produce rate, in records per second: one record every 1000 s of virtual time.
const MIN_RATE: f64 = 0.001;

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
        if !(MIN_RATE..=1_000_000.0).contains(&rate) {
            // Display writes a tiny rate with hundreds of zeros; the scientific form stays short.
            let shown = if rate != 0.0 && rate.abs() < MIN_RATE { format!("{rate:e}") } else { format!("{rate}") };
            cx.err(r.span().start, format!("rate = {shown}, expected records per second from {MIN_RATE} to 1000000"), Some("a rate of 0.001 sends one record every 1000 s".into()));
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
        literal: false,
    }))
}

fn expectation(cx: &mut Ctx<'_>, e: &Spanned<ExpectDef>, topics: &[TopicSpec], clients: &Clients<'_>, duration_ms: u64) -> Option<Expectation> {
    let (producers, brokers) = (clients.producers, clients.brokers);
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
    let group = match &e.group {
        Some(gname) => {
            let mut names: Vec<&str> = Vec::new();
            for c in clients.consumers {
                if !names.contains(&c.config.group_id.as_str()) {
                    names.push(&c.config.group_id);
                }
            }
            let g = lookup(cx, "group", Some(gname), start, &names);
            g.map(|g| names[g as usize].to_string())
        }
        None => None,
    };
    if e.group.is_some() {
        let producer_only = [("sent", e.sent.is_some()), ("acknowledged", e.acknowledged.is_some()), ("failed", e.failed.is_some()), ("acknowledged_lost", e.acknowledged_lost.is_some())];
        for (name, set) in producer_only {
            if set {
                cx.err(start, format!("`{name}` is a producer total and this expectation names a group"), Some("put producer totals in their own [[expect]] table without `group`".into()));
            }
        }
        if let Some(g) = &group {
            let group_totals = [
                (GroupTotal::Processed, e.processed.map(u64::from)),
                (GroupTotal::Lost, e.lost.map(u64::from)),
                (GroupTotal::Duplicated, e.duplicated.map(u64::from)),
                (GroupTotal::Pending, e.pending.map(u64::from)),
                (GroupTotal::OutOfOrder, e.out_of_order.map(u64::from)),
                (GroupTotal::Rebalances, e.rebalances.map(u64::from)),
                (GroupTotal::Lag, e.lag),
            ];
            for (what, v) in group_totals {
                if let Some(value) = v {
                    checks.push(Check::GroupTotal { group: g.clone(), what, value });
                }
            }
            if let Some(v) = &e.verdict {
                match Verdict::ALL.iter().find(|x| x.name() == v.get_ref()) {
                    Some(verdict) => checks.push(Check::Verdict { group: g.clone(), verdict: *verdict }),
                    None => {
                        let hint = closest(v.get_ref(), Verdict::ALL.iter().map(|x| x.name())).map_or(
                            "use exactly-once, at-least-once, at-most-once or none".to_string(),
                            |b| format!("did you mean `{b}`?"),
                        );
                        cx.err(v.span().start, format!("unknown verdict {:?}", v.get_ref()), Some(hint));
                    }
                }
            }
            if let Some(value) = e.generation {
                checks.push(Check::Generation { group: g.clone(), value });
            }
            if let Some(map) = &e.committed {
                for (name, &offset) in map.get_ref() {
                    if let Some(tp) = partition_named(cx, map.span().start, name, topics) {
                        checks.push(Check::Committed { group: g.clone(), tp, offset });
                    }
                }
            }
            if let Some(map) = &e.assignment {
                for (cname, parts) in map.get_ref() {
                    let Some(consumer) = clients.consumers.iter().position(|c| &c.name == cname) else {
                        cx.err(map.span().start, format!("unknown consumer {cname:?}"), None);
                        continue;
                    };
                    let tps: Vec<_> = parts.iter().filter_map(|p| partition_named(cx, map.span().start, p, topics)).collect();
                    checks.push(Check::Assignment { consumer: consumer as u32, tps });
                }
            }
        }
    } else {
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
        let group_only = [
            ("processed", e.processed.is_some()),
            ("pending", e.pending.is_some()),
            ("verdict", e.verdict.is_some()),
            ("generation", e.generation.is_some()),
            ("rebalances", e.rebalances.is_some()),
            ("committed", e.committed.is_some()),
            ("lag", e.lag.is_some()),
            ("assignment", e.assignment.is_some()),
        ];
        for (name, set) in group_only {
            if set {
                cx.err(start, format!("`{name}` needs `group = \"…\"`"), None);
            }
        }
    }
    let consumer = match &e.consumer {
        Some(c) => consumer_ref(cx, c, clients.consumers),
        None => None,
    };
    if let Some(c) = consumer {
        if let Some(map) = &e.position {
            for (name, &offset) in map.get_ref() {
                if let Some(tp) = partition_named(cx, map.span().start, name, topics) {
                    checks.push(Check::Position { consumer: c, tp, offset });
                }
            }
        }
        if let Some(st) = &e.consumer_state {
            const STATES: [&str; 5] = ["not_started", "running", "crashed", "closed", "failed"];
            if STATES.contains(&st.get_ref().as_str()) {
                checks.push(Check::ConsumerState { consumer: c, state: st.get_ref().clone() });
            } else {
                cx.err(st.span().start, format!("unknown consumer state {:?}", st.get_ref()), Some(format!("use one of {}", STATES.join(", "))));
            }
        }
    } else if e.position.is_some() || e.consumer_state.is_some() {
        cx.err(start, "`position` and `consumer_state` need `consumer = \"…\"`", None);
    }
    let needs_partition = e.leader.is_some() || e.offline.is_some() || e.leader_epoch.is_some() || e.isr.is_some() || e.elr.is_some()
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
        if let Some(elr) = &e.elr {
            for &b in elr.get_ref() {
                if !(1..=brokers).contains(&b) {
                    cx.err(elr.span().start, format!("there is no broker {b}"), None);
                }
            }
            checks.push(Check::Elr { tp, elr: elr.get_ref().clone() });
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
    if let (Some(c), true) = (consumer, e.errors_seen.is_some() || e.no_errors.is_some()) {
        let errors = error_names(cx, e.errors_seen.as_ref());
        if e.errors_seen.is_some() {
            checks.push(Check::ConsumerErrorsSeen { consumer: c, errors });
        }
        if e.no_errors == Some(true) {
            checks.push(Check::ConsumerErrorsSeen { consumer: c, errors: Vec::new() });
        }
    } else if e.errors_seen.is_some() || e.no_errors.is_some() {
        let pnames: Vec<&str> = producers.iter().map(|x| x.name.as_str()).collect();
        if let Some(p) = lookup(cx, "producer", e.producer.as_ref(), start, &pnames) {
            if e.errors_seen.is_some() {
                let errors = error_names(cx, e.errors_seen.as_ref());
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
    Some(Expectation { at: e.at.as_ref().map(|a| *a.get_ref()), line, checks, at_least: false })
}

fn consumer_ref(cx: &mut Ctx<'_>, s: &Spanned<String>, consumers: &[ConsumerSpec]) -> Option<u32> {
    let names: Vec<&str> = consumers.iter().map(|c| c.name.as_str()).collect();
    lookup(cx, "consumer", Some(s), s.span().start, &names)
}

fn consumers(cx: &mut Ctx<'_>, defs: &[Spanned<ConsumerDef>], topics: &[TopicSpec], producers: &[ProducerSpec]) -> Vec<ConsumerSpec> {
    let mut out: Vec<ConsumerSpec> = Vec::new();
    if defs.len() > limits::CONSUMERS {
        cx.err(defs[0].span().start, format!("more than {} consumers", limits::CONSUMERS), None);
        return out;
    }
    let tnames: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    for d in defs {
        let at = d.span().start;
        let d = d.get_ref();
        let name = d.name.get_ref().clone();
        check_client_name(cx, "consumer", &d.name);
        if producers.iter().any(|p| p.name == name) || out.iter().any(|c| c.name == name) {
            cx.err(d.name.span().start, format!("consumer name {} is already used", printable(&name)), Some("every producer and consumer needs its own name".into()));
        }
        let mut subscribed = Vec::new();
        for t in d.topics.get_ref() {
            match tnames.iter().position(|n| n == t) {
                Some(i) if !subscribed.contains(&(i as u32)) => subscribed.push(i as u32),
                Some(_) => {}
                None => {
                    let hint = closest(t, tnames.iter().copied()).map(|b| format!("did you mean `{b}`?"));
                    cx.err(d.topics.span().start, format!("unknown topic {t:?}"), hint);
                }
            }
        }
        if d.topics.get_ref().is_empty() {
            cx.err(d.topics.span().start, "a consumer must subscribe to at least one topic", None);
        }
        let commit = match &d.commit {
            None => CommitPolicy::Auto,
            Some(c) => match CommitPolicy::ALL.iter().find(|p| p.name() == c.get_ref()) {
                Some(p) => *p,
                None => {
                    let hint = closest(c.get_ref(), CommitPolicy::ALL.iter().map(|p| p.name()))
                        .map_or("use auto, before-processing, after-processing or after-processing-async".to_string(), |b| format!("did you mean `{b}`?"));
                    cx.err(c.span().start, format!("unknown commit policy {:?}", c.get_ref()), Some(hint));
                    CommitPolicy::Auto
                }
            },
        };
        let worker = match d.processing.as_ref().map(|p| p.get_ref().as_str()) {
            None | Some("in-loop") => false,
            Some("worker") => true,
            Some(other) => {
                let span = d.processing.as_ref().map_or(at, |p| p.span().start);
                cx.err(span, format!("unknown processing mode {other:?}"), Some("use \"in-loop\" or \"worker\"".into()));
                false
            }
        };
        let processing_ms = d.processing_ms.as_ref().map_or(5, |p| *p.get_ref());
        if processing_ms > limits::DURATION_MS {
            let span = d.processing_ms.as_ref().map_or(at, |p| p.span().start);
            cx.err(span, format!("processing_ms = {processing_ms} is beyond the limit of {} ms", limits::DURATION_MS), None);
        }
        let raw = d.config.as_ref().map(|c| c.get_ref().clone()).unwrap_or_default();
        let config_at = d.config.as_ref().map_or(at, |c| c.span().start);
        let config = match raw.resolve(commit != CommitPolicy::Auto) {
            Ok(c) => c,
            Err(message) => {
                cx.err(config_at, message, None);
                // The consumer is kept, with the defaults, so that the timeline's references to it
                // raise no second, misleading error.
                let fallback = ConsumerConfigRaw { group_id: Some(name.clone()), ..Default::default() };
                let Ok(c) = fallback.resolve(false) else { continue };
                c
            }
        };
        if commit == CommitPolicy::Auto && !config.enable_auto_commit {
            cx.err(
                config_at,
                "commit = \"auto\" with enable.auto.commit = false: this consumer would never commit",
                Some("set enable.auto.commit = true, or choose commit = \"after-processing\"".into()),
            );
        }
        if worker && commit != CommitPolicy::Auto {
            let span = d.processing.as_ref().map_or(at, |p| p.span().start);
            cx.err(span, "processing = \"worker\" is simulated with commit = \"auto\" only", Some("manual commits from a worker thread are not modelled".into()));
        }
        for other in out.iter().filter(|o| o.config.group_id == config.group_id) {
            if other.config.strategy != config.strategy {
                cx.err(
                    config_at,
                    format!(
                        "group {:?} mixes partition.assignment.strategy {} and {}",
                        config.group_id,
                        other.config.strategy.name(),
                        config.strategy.name()
                    ),
                    Some("Kafka would fail the join with INCONSISTENT_GROUP_PROTOCOL; give every member the same strategy".into()),
                );
                break;
            }
            if other.config.group_instance_id.is_some() && other.config.group_instance_id == config.group_instance_id {
                cx.err(config_at, format!("group.instance.id {:?} is used twice in one group", config.group_instance_id.as_deref().unwrap_or("")), Some("static members need distinct ids; two at once fence each other (FENCED_INSTANCE_ID)".into()));
            }
        }
        out.push(ConsumerSpec {
            name,
            config,
            topics: subscribed,
            app: AppBehaviour { processing_ms, commit, worker },
            autostart: d.start.unwrap_or(true),
        });
    }
    out
}

fn error_names(cx: &mut Ctx<'_>, list: Option<&Spanned<Vec<String>>>) -> Vec<KafkaError> {
    let mut errors = Vec::new();
    let Some(list) = list else { return errors };
    for name in list.get_ref() {
        match KafkaError::ALL.iter().find(|k| k.name() == name) {
            Some(k) => errors.push(*k),
            None => {
                let hint = closest(name, KafkaError::ALL.iter().map(|k| k.name())).map(|b| format!("did you mean `{b}`?"));
                cx.err(list.span().start, format!("unknown error name {name:?}"), hint);
            }
        }
    }
    errors
}

/// A user topic's partition by its `topic-N` name.
fn partition_named(cx: &mut Ctx<'_>, at: usize, name: &str, topics: &[TopicSpec]) -> Option<crate::sim::Tp> {
    let found = name.rsplit_once('-').and_then(|(t, n)| {
        let topic = topics.iter().position(|x| x.name == t)?;
        let n: u32 = n.parse().ok()?;
        (n < topics[topic].assignment.len() as u32).then_some(crate::sim::Tp { topic: topic as u32, partition: n })
    });
    if found.is_none() {
        cx.err(at, format!("unknown partition {name:?}"), Some("name a partition as topic-N, e.g. orders-0".into()));
    }
    found
}
