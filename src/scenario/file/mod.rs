//! The scenario file's shape (the definitions read from TOML) and its translation into a validated [`Scenario`].

use super::error::{closest, Locator, ScenarioError};
use super::walk::{from_toml_enum, from_toml_table, parse_root, toml_table, Ctx, FromToml, Item, Spanned};
use toml::de::DeValue;
use super::expect::{Check, ErrorSource, Expectation, GroupTotal, Total};
use crate::sim::map::VecMap;
use crate::sim::view::Verdict;
use super::cost::{self, Budget, Driver};
use super::{limits, Scenario};
use crate::sim::describe::node_by_name;
use crate::sim::config::{Acks, BrokerConfig, ConsumerConfigRaw, IsolationLevel, LinkParams, OffsetReset, ProducerConfigRaw, TopicConfig};
use crate::sim::{
    default_assignment, Action, AppBehaviour, AppCall, CommitPolicy, ConsumerSpec, NodeId, ProduceAction, ProducerSpec, Setup, TimedAction, TxnCall,
    TopicSpec,
};
use crate::sim::types::KafkaError;

mod checks;
mod clients;
mod expect;
mod pipelines;
mod schemas;
mod timeline;
mod topics;

use checks::*;
use clients::*;
use expect::*;
use pipelines::*;
use schemas::*;
use timeline::*;
use topics::*;

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
        pipelines: Vec<Spanned<PipelineDef>> = "pipelines",
        schema_registry: Option<Spanned<SchemaRegistryDef>> = "schema_registry",
        schemas: Vec<Spanned<SchemaDef>> = "schemas",
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
        impossible: Option<Spanned<String>> = "impossible",
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
        value_schema: Option<Spanned<String>> = "value_schema",
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
        application: Option<Spanned<String>> = "application",
        start: Option<bool> = "start",
        value_schema: Option<Spanned<String>> = "value_schema",
        on_deserialization_error: Option<Spanned<String>> = "on_deserialization_error",
    } required: ["name", "topics"]
}

toml_table! {
    struct PipelineDef {
        name: Spanned<String> = "name",
        consumer: Spanned<String> = "consumer",
        producer: Spanned<String> = "producer",
        output: Spanned<String> = "output",
        value: Option<Spanned<String>> = "value",
        guarantee: Option<Spanned<String>> = "guarantee",
    } required: ["name", "consumer", "producer", "output"]
}

toml_table! {
    struct SubscribeDef {
        consumer: Spanned<String> = "consumer",
        topics: Spanned<Vec<String>> = "topics",
    } required: ["consumer", "topics"]
}

toml_table! {
    struct PollTableDef {
        consumer: Spanned<String> = "consumer",
        timeout_ms: Option<Spanned<u64>> = "timeout_ms",
        process: Option<bool> = "process",
    } required: ["consumer"]
}

/// `poll = "c1"` or `poll = { consumer = "c1", timeout_ms = 500 }`.
struct PollDef {
    consumer: Spanned<String>,
    timeout_ms: Option<Spanned<u64>>,
    process: bool,
}

impl FromToml for PollDef {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        match v.get_ref() {
            DeValue::Table(_) => {
                let t = PollTableDef::from_toml(v, cx)?;
                Some(PollDef { consumer: t.consumer, timeout_ms: t.timeout_ms, process: t.process.unwrap_or(true) })
            }
            _ => Some(PollDef { consumer: Spanned::from_toml(v, cx)?, timeout_ms: None, process: true }),
        }
    }
}

toml_table! {
    struct StallDef {
        consumer: Spanned<String> = "consumer",
        ms: Spanned<u64> = "ms",
    } required: ["consumer", "ms"]
}

toml_table! {
    struct AlterConfigsDef {
        topic: Spanned<String> = "topic",
        config: Spanned<TopicConfig> = "config",
    } required: ["topic", "config"]
}

toml_table! {
    struct StepDef {
        at: Spanned<u64> = "at",
        produce: Option<Spanned<ProduceDef>> = "produce",
        crash: Option<Spanned<u32>> = "crash",
        power_loss: Option<Spanned<u32>> = "power_loss",
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
        incremental_alter_configs: Option<Spanned<AlterConfigsDef>> = "incremental_alter_configs",
        create_topics: Option<Spanned<TopicDef>> = "create_topics",
        create_partitions: Option<Spanned<CreatePartitionsDef>> = "create_partitions",
        subscribe: Option<Spanned<SubscribeDef>> = "subscribe",
        poll: Option<Spanned<PollDef>> = "poll",
        process: Option<Spanned<String>> = "process",
        commit_sync: Option<Spanned<String>> = "commit_sync",
        commit_async: Option<Spanned<String>> = "commit_async",
        init_transactions: Option<Spanned<String>> = "init_transactions",
        begin_transaction: Option<Spanned<String>> = "begin_transaction",
        commit_transaction: Option<Spanned<String>> = "commit_transaction",
        abort_transaction: Option<Spanned<String>> = "abort_transaction",
        send_offsets_to_transaction: Option<Spanned<SendOffsetsDef>> = "send_offsets_to_transaction",
        register_schema: Option<Spanned<String>> = "register_schema",
        set_compatibility: Option<Spanned<SetCompatibilityDef>> = "set_compatibility",
        crash_registry: Option<Spanned<bool>> = "crash_registry",
        restart_registry: Option<Spanned<bool>> = "restart_registry",
        use_schema: Option<Spanned<UseSchemaDef>> = "use_schema",
    } required: ["at"]
}

toml_table! {
    struct SchemaRegistryDef {
        compatibility: Option<Spanned<String>> = "compatibility",
    }
}

toml_table! {
    struct SchemaDef {
        name: Spanned<String> = "name",
        subject: Spanned<String> = "subject",
        schema: Spanned<String> = "schema",
        registered: Option<bool> = "registered",
    } required: ["name", "subject", "schema"]
}

toml_table! {
    struct SetCompatibilityDef {
        subject: Option<Spanned<String>> = "subject",
        level: Spanned<String> = "level",
    } required: ["level"]
}

toml_table! {
    struct UseSchemaDef {
        producer: Option<Spanned<String>> = "producer",
        consumer: Option<Spanned<String>> = "consumer",
        schema: Spanned<String> = "schema",
    } required: ["schema"]
}

toml_table! {
    struct SendOffsetsDef {
        producer: Spanned<String> = "producer",
        group: Option<Spanned<String>> = "group",
        offsets: Option<Spanned<VecMap<String, u64>>> = "offsets",
        consumer: Option<Spanned<String>> = "consumer",
        member: Option<Spanned<String>> = "member",
        generation: Option<i32> = "generation",
    } required: ["producer"]
}

toml_table! {
    struct CreatePartitionsDef {
        topic: Spanned<String> = "topic",
        count: Spanned<u32> = "count",
        assignment: Option<Spanned<Vec<Vec<u32>>>> = "replica.assignment",
    } required: ["topic", "count"]
}

toml_table! {
    struct ProduceDef {
        producer: Option<Spanned<String>> = "producer",
        topic: Option<Spanned<String>> = "topic",
        key: Option<Spanned<String>> = "key",
        value: Option<Spanned<ValueDef>> = "value",
        count: Option<Spanned<u32>> = "count",
        rate: Option<Spanned<f64>> = "rate",
        partition: Option<Spanned<u32>> = "partition",
        value_bytes: Option<Spanned<u32>> = "value_bytes",
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
        unclean_elections: Option<u32> = "unclean_elections",
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
        errors_not_seen: Option<Spanned<Vec<String>>> = "errors_not_seen",
        errors_seen_one_of: Option<Spanned<Vec<String>>> = "errors_seen_one_of",
        group: Option<Spanned<String>> = "group",
        processed: Option<u32> = "processed",
        pending: Option<u32> = "pending",
        verdict: Option<Spanned<String>> = "verdict",
        generation: Option<i32> = "generation",
        rebalances: Option<u32> = "rebalances",
        committed: Option<Spanned<VecMap<String, u64>>> = "committed",
        not_committed: Option<Spanned<Vec<String>>> = "not_committed",
        group_state: Option<Spanned<String>> = "group_state",
        protocol: Option<Spanned<String>> = "protocol",
        lag: Option<u64> = "lag",
        assignment: Option<Spanned<VecMap<String, Vec<String>>>> = "assignment",
        consumer: Option<Spanned<String>> = "consumer",
        position: Option<Spanned<VecMap<String, u64>>> = "position",
        consumer_state: Option<Spanned<String>> = "consumer_state",
        offsets: Option<Spanned<VecMap<String, i64>>> = "offsets",
        read: Option<Vec<String>> = "read",
        read_offsets: Option<Spanned<VecMap<String, Vec<u64>>>> = "read_offsets",
        listener_calls: Option<Spanned<Vec<String>>> = "listener_calls",
        stopped_by: Option<Spanned<String>> = "stopped_by",
        member_id: Option<String> = "member_id",
        leader_epochs: Option<Vec<u32>> = "leader_epochs",
        aborted: Option<u32> = "aborted",
        last_stable_offset: Option<u64> = "last_stable_offset",
        transactional_id: Option<Spanned<String>> = "transactional_id",
        transaction_state: Option<Spanned<String>> = "transaction_state",
        pipeline: Option<Spanned<String>> = "pipeline",
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
    message_max_bytes: "message.max.bytes",
    transaction_state_log_num_partitions: "transaction.state.log.num.partitions",
    transaction_state_log_replication_factor: "transaction.state.log.replication.factor",
    transaction_state_log_min_isr: "transaction.state.log.min.isr",
    transaction_abort_timed_out_transaction_cleanup_interval_ms: "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    transaction_max_timeout_ms: "transaction.max.timeout.ms",
});

from_toml_table!(TopicConfig {
    min_insync_replicas: "min.insync.replicas",
    unclean_leader_election_enable: "unclean.leader.election.enable",
    retention_ms: "retention.ms",
    retention_bytes: "retention.bytes",
    flush_messages: "flush.messages",
    max_message_bytes: "max.message.bytes",
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
    max_request_size: "max.request.size",
    metadata_max_age_ms: "metadata.max.age.ms",
    transactional_id: "transactional.id",
    transaction_timeout_ms: "transaction.timeout.ms",
    value_serializer: "value.serializer",
    schema_registry_url: "schema.registry.url",
    auto_register_schemas: "auto.register.schemas",
    use_latest_version: "use.latest.version",
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
    metadata_max_age_ms: "metadata.max.age.ms",
    isolation_level: "isolation.level",
    value_deserializer: "value.deserializer",
    schema_registry_url: "schema.registry.url",
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
from_toml_enum!(IsolationLevel { ReadUncommitted: "read_uncommitted", ReadCommitted: "read_committed" });

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
        if let Some(spec) = topic_spec(cx, t.span().start, t.get_ref(), &topics, brokers, &broker_config, &mut total_partitions) {
            topics.push(spec);
        }
    }
    if def.timeline.len() > limits::TIMELINE {
        cx.err(def.timeline[0].span().start, format!("more than {} timeline entries", limits::TIMELINE), None);
        return None;
    }
    let growth = timeline_topics(cx, &def.timeline, &mut topics, brokers, &broker_config, &mut total_partitions);

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

    let piped: Vec<&str> = def.pipelines.iter().map(|p| p.get_ref().consumer.get_ref().as_str()).collect();
    let mut consumers = consumers(cx, &def.consumers, &topics, &producers, &piped);
    let schemas = schemas(cx, &def);
    for (c, reader) in consumers.iter_mut().zip(&schemas.readers) {
        c.app.skip_bad_records = reader.skip_errors;
    }
    let pipelines = pipelines(cx, &def.pipelines, &topics, &producers, &consumers);
    let pipeline_names: Vec<String> = pipelines.iter().map(|p| p.name.clone()).collect();
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
    let clients = Clients { producers: &producers, consumers: &consumers, brokers, given_groups: &[], pipelines: &pipeline_names, schemas: &schemas };

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
    let timeline = timeline_actions(cx, &def.timeline, &topics, &clients, network, &mut records, Some(&growth));

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
    let given = given_groups(&timeline);
    let clients = Clients { given_groups: &given, ..clients };

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
        let solution = timeline_actions(cx, &ch.solution, &topics, &clients, network, &mut records, None);
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
        let impossible = ch.impossible.as_ref().map(|i| cx.text(i, "impossible").to_string());
        if let (Some(i), Some(first)) = (&ch.impossible, ch.solution.first()) {
            cx.err(
                first.span().start,
                "a challenge that is impossible has no solution",
                Some(format!("remove the [[challenge.solution]] entries, or `impossible` (line {})", cx.loc.line_col(i.span().start).0)),
            );
        }
        Some(super::Challenge { goal, actions: ch.actions.get_ref().clone(), expectation, solution, impossible })
    });
    if records > limits::RECORDS {
        cx.err(
            largest_count_at(&def),
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

    let setup = Setup { seed: def.seed, brokers, broker_config, network, links, topics, producers, consumers, timeline, pipelines, schemas: schemas.clone() };
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
