//! The `[[timeline]]` entries (and a challenge's solution) read into actions, with the names of
//! nodes, producers, topics and consumers they refer to.

use super::*;
use crate::sim::registry_glue::RegistryAction;
use crate::sim::setup::OffsetsToSend;
use crate::sim::Tp;

/// Refuses entries that would happen after the run's end, where they would silently never run:
/// an entry's `at`, and the last record of a produce spread out by `rate`.
pub(super) fn after_the_end(cx: &mut Ctx<'_>, entries: &[Spanned<StepDef>], duration_ms: u64, what: &str) {
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
        if RATES.contains(&rate) {
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

/// Every action a timeline entry holds, by its key (a challenge's `actions` name them so too).
fn step_kinds(e: &StepDef) -> Vec<&'static str> {
    let kinds = [
        (e.produce.is_some(), "produce"),
        (e.crash.is_some(), "crash"),
        (e.power_loss.is_some(), "power_loss"),
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
        (e.incremental_alter_configs.is_some(), "incremental_alter_configs"),
        (e.create_topics.is_some(), "create_topics"),
        (e.create_partitions.is_some(), "create_partitions"),
        (e.subscribe.is_some(), "subscribe"),
        (e.poll.is_some(), "poll"),
        (e.process.is_some(), "process"),
        (e.commit_sync.is_some(), "commit_sync"),
        (e.commit_async.is_some(), "commit_async"),
        (e.init_transactions.is_some(), "init_transactions"),
        (e.begin_transaction.is_some(), "begin_transaction"),
        (e.commit_transaction.is_some(), "commit_transaction"),
        (e.abort_transaction.is_some(), "abort_transaction"),
        (e.send_offsets_to_transaction.is_some(), "send_offsets_to_transaction"),
        (e.register_schema.is_some(), "register_schema"),
        (e.set_compatibility.is_some(), "set_compatibility"),
        (e.crash_registry.is_some(), "crash_registry"),
        (e.restart_registry.is_some(), "restart_registry"),
        (e.use_schema.is_some(), "use_schema"),
    ];
    kinds.iter().filter(|(set, _)| *set).map(|(_, k)| *k).collect()
}

/// The action a timeline entry holds, named as a challenge's `actions` name it.
pub(super) fn step_kind(e: &StepDef) -> Option<&'static str> {
    step_kinds(e).first().copied()
}

/// The keys a timeline entry may use for its action, for the hint of an empty entry.
const ACTION_KEYS: &str = "produce, crash, power_loss, controlled_shutdown, restart, cut, heal, link, say, pause, start_consumer, crash_consumer, close_consumer, stall_consumer, incremental_alter_configs, create_topics, create_partitions, subscribe, poll, process, commit_sync, commit_async, init_transactions, begin_transaction, commit_transaction, abort_transaction, send_offsets_to_transaction, register_schema, set_compatibility, crash_registry, restart_registry or use_schema";

/// Translates timeline entries (of the scenario, or of a challenge's solution) into actions.
/// `growth` holds the scenario timeline's topic creations, read beforehand; a challenge's
/// solution (`None`) may not create topics.
pub(super) fn timeline_actions(
    cx: &mut Ctx<'_>,
    entries: &[Spanned<StepDef>],
    topics: &[TopicSpec],
    clients: &Clients<'_>,
    network: LinkParams,
    records: &mut u64,
    growth: Option<&Growth>,
) -> Vec<TimedAction> {
    let (producers, consumers, brokers) = (clients.producers, clients.consumers, clients.brokers);
    let mut timeline = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let start = entry.span().start;
        let e = entry.get_ref();
        let at = *e.at.get_ref();
        if at > limits::DURATION_MS {
            cx.err(e.at.span().start, format!("at = {at} is beyond the limit of {} ms", limits::DURATION_MS), None);
        }
        let n = step_kinds(e).len();
        if n > 1 {
            cx.err(start, "a timeline entry holds more than one action", Some("split it into several [[timeline]] entries with the same `at`".into()));
            continue;
        }
        if n == 0 && e.say.is_none() {
            cx.err(start, "a timeline entry with nothing to do", Some(format!("add one of {ACTION_KEYS}")));
            continue;
        }
        if let Some(say) = &e.say {
            let text = cx.text(say, "say").to_string();
            timeline.push(TimedAction { at, action: Action::Say(text) });
        }
        let action = if let Some(p) = &e.produce {
            let action = produce_action(cx, p, topics, clients, records);
            if let (Some(Action::Produce(a)), Some(growth)) = (&action, growth) {
                check_produce_exists(cx, p, a, at, topics, growth);
            }
            action
        } else if e.create_topics.is_some() || e.create_partitions.is_some() {
            if growth.is_none() {
                cx.err(start, "a challenge's solution cannot create topics or partitions", Some("create them in the scenario's [[timeline]]".into()));
            }
            growth.and_then(|g| g.actions.get(&index).cloned())
        } else if let Some(b) = &e.crash {
            broker_ref(cx, b, brokers).map(Action::Crash)
        } else if let Some(b) = &e.power_loss {
            broker_ref(cx, b, brokers).map(Action::PowerLoss)
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
        } else if let Some(name) = &e.register_schema {
            schema_ref(cx, name, &clients.schemas.specs).map(|i| Action::Registry(RegistryAction::Register(i)))
        } else if let Some(set) = &e.set_compatibility {
            let set = set.get_ref();
            schema_level(cx, &set.level).map(|level| Action::Registry(RegistryAction::SetCompatibility { subject: set.subject.as_ref().map(|s| s.get_ref().clone()), level }))
        } else if let Some(flag) = &e.crash_registry {
            registry_flag(cx, flag, "crash_registry").then_some(Action::Registry(RegistryAction::Crash))
        } else if let Some(flag) = &e.restart_registry {
            registry_flag(cx, flag, "restart_registry").then_some(Action::Registry(RegistryAction::Restart))
        } else if let Some(u) = &e.use_schema {
            use_schema_action(cx, u, clients)
        } else if let Some(alter) = &e.incremental_alter_configs {
            alter_configs_action(cx, alter, topics)
        } else if let Some(sub) = &e.subscribe {
            let sub = sub.get_ref();
            let tnames: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
            let mut subscribed = subscription(cx, &sub.topics, &tnames, "subscribe with no topic is unsubscribe(), which the simulator does not model");
            subscribed.sort_unstable();
            let consumer = consumer_ref(cx, &sub.consumer, consumers);
            consumer.filter(|_| !subscribed.is_empty()).map(|consumer| Action::Subscribe { consumer, topics: subscribed })
        } else if let Some(p) = &e.poll {
            let p = p.get_ref();
            let timeout_ms = p.timeout_ms.as_ref().map_or(DEFAULT_POLL_TIMEOUT_MS, |t| *t.get_ref());
            if let Some(t) = p.timeout_ms.as_ref().filter(|_| timeout_ms > limits::DURATION_MS) {
                cx.err(t.span().start, format!("timeout_ms = {timeout_ms}, expected 0 to {}", limits::DURATION_MS), None);
            }
            scripted_ref(cx, &p.consumer, consumers, "poll").map(|consumer| Action::AppCall { consumer, call: AppCall::Poll { timeout_ms, process: p.process } })
        } else if let Some(c) = &e.process {
            scripted_ref(cx, c, consumers, "process").map(|consumer| Action::AppCall { consumer, call: AppCall::Process })
        } else if let Some(c) = &e.commit_sync {
            scripted_ref(cx, c, consumers, "commit_sync").map(|consumer| Action::AppCall { consumer, call: AppCall::CommitSync })
        } else if let Some(c) = &e.commit_async {
            scripted_ref(cx, c, consumers, "commit_async").map(|consumer| Action::AppCall { consumer, call: AppCall::CommitAsync })
        } else if let Some((name, call)) = transaction_call(e) {
            transactional_ref(cx, name, producers).map(|producer| Action::Transaction { producer, call })
        } else if let Some(s) = &e.send_offsets_to_transaction {
            send_offsets_action(cx, s, topics, producers, consumers)
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

/// A record may go only to a topic and partition that exist when it is sent: before that, the
/// Java client's `send()` would block for `max.block.ms` and throw a TimeoutException.
fn check_produce_exists(cx: &mut Ctx<'_>, p: &Spanned<ProduceDef>, a: &ProduceAction, at: u64, topics: &[TopicSpec], growth: &Growth) {
    let name = &topics[a.topic as usize].name;
    let span = p.get_ref().topic.as_ref().map_or(p.span().start, |t| t.span().start);
    let hint = "send() would block in waitOnMetadata for max.block.ms (60 s) and throw a TimeoutException; the simulator leaves that out, so produce once it exists";
    if growth.count_at(a.topic, at) == 0 {
        let when = growth.created_at(a.topic, 0).unwrap_or(0);
        cx.err(span, format!("topic {name:?} does not exist yet at {at} ms: create_topics creates it at {when} ms"), Some(hint.into()));
    } else if let Some(part) = a.partition.filter(|&q| q >= growth.count_at(a.topic, at)) {
        let when = growth.created_at(a.topic, part).map_or("never".to_string(), |t| format!("at {t} ms"));
        cx.err(p.get_ref().partition.as_ref().map_or(span, |x| x.span().start), format!("partition {part} of {name:?} does not exist yet at {at} ms (create_partitions creates it {when})"), Some(hint.into()));
    }
}

/// `incremental_alter_configs = { topic = "…", config = { … } }`: the topic must exist, the table
/// must set something, and the settings must still fit the topic (as at creation).
fn alter_configs_action(cx: &mut Ctx<'_>, alter: &Spanned<AlterConfigsDef>, topics: &[TopicSpec]) -> Option<Action> {
    let a = alter.get_ref();
    let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    let topic = lookup(cx, "topic", Some(&a.topic), alter.span().start, &names)?;
    let set = a.config.get_ref().clone();
    if set.set_entries().is_empty() {
        cx.err(a.config.span().start, "incremental_alter_configs sets nothing", Some("give a topic setting, e.g. config = { \"min.insync.replicas\" = 1 }".into()));
        return None;
    }
    let rf = topics[topic as usize].assignment.first().map_or(0, Vec::len) as u32;
    if let Some(min_isr) = set.min_insync_replicas {
        if min_isr == 0 || min_isr > rf {
            cx.err(
                a.config.span().start,
                format!("min.insync.replicas = {min_isr} for a topic with replication.factor = {rf}"),
                Some("min.insync.replicas must be between 1 and replication.factor, or acks=all writes can never succeed".into()),
            );
            return None;
        }
    }
    Some(Action::IncrementalAlterConfigs { topic, set })
}

pub(super) fn link_params(l: &LinkDef, base: LinkParams) -> LinkParams {
    LinkParams {
        latency_ms: l.latency_ms.unwrap_or(base.latency_ms),
        jitter_ms: l.jitter_ms.unwrap_or(base.jitter_ms),
        loss: l.loss.unwrap_or(base.loss),
    }
}

/// The clients and brokers a scenario names.
pub(super) struct Clients<'a> {
    pub(super) producers: &'a [ProducerSpec],
    pub(super) consumers: &'a [ConsumerSpec],
    pub(super) brokers: u32,
    /// Groups without consumers that the timeline sends offsets for in a transaction.
    pub(super) given_groups: &'a [String],
    /// The pipelines' names.
    pub(super) pipelines: &'a [String],
    /// The schemas and the clients' serializers.
    pub(super) schemas: &'a crate::sim::registry::Schemas,
}

/// The groups that only `send_offsets_to_transaction` entries name, in order.
pub(super) fn given_groups(timeline: &[TimedAction]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in timeline {
        if let Action::SendOffsetsToTransaction { offsets: OffsetsToSend::Given { group, .. }, .. } = &t.action {
            if !names.contains(group) {
                names.push(group.clone());
            }
        }
    }
    names
}

pub(super) fn node_named(s: &Spanned<String>, clients: &Clients<'_>) -> Option<NodeId> {
    node_by_name(
        s.get_ref(),
        clients.brokers,
        clients.producers.iter().map(|p| p.name.as_str()),
        clients.consumers.iter().map(|c| c.name.as_str()),
    )
}

pub(super) fn node(cx: &mut Ctx<'_>, s: &Spanned<String>, clients: &Clients<'_>) -> Option<NodeId> {
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
pub(super) fn link_ends(cx: &mut Ctx<'_>, from: &Spanned<String>, to: &Spanned<String>, clients: &Clients<'_>) -> Option<(NodeId, NodeId)> {
    let ends = (node(cx, from, clients), node(cx, to, clients));
    let (Some(a), Some(b)) = ends else { return None };
    if a == b {
        cx.err(to.span().start, format!("a link from {} to itself", printable(from.get_ref())), Some("a link joins two different nodes; name the other end in `to`".into()));
        return None;
    }
    Some((a, b))
}

pub(super) fn broker_ref(cx: &mut Ctx<'_>, b: &Spanned<u32>, brokers: u32) -> Option<u32> {
    let id = *b.get_ref();
    if (1..=brokers).contains(&id) {
        Some(id)
    } else {
        cx.err(b.span().start, format!("there is no broker {id}"), Some(format!("brokers are numbered 1 to {brokers}")));
        None
    }
}

pub(super) fn lookup(cx: &mut Ctx<'_>, what: &str, given: Option<&Spanned<String>>, at: usize, names: &[&str]) -> Option<u32> {
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

/// The largest `value_bytes`: 16 MiB. The padding is never stored (a record keeps its text and its
/// length), so the bound is not for memory but keeps every size well inside 32 bits, and below the
/// client's `buffer.memory` (32 MiB), whose own RecordTooLargeException is not modelled.
pub(super) const MAX_VALUE_BYTES: u32 = 16 * 1024 * 1024;

/// The slowest produce rate, in records per second: one record every 1000 s of virtual time.
pub(super) const MIN_RATE: f64 = 0.001;
/// The fastest produce rate, in records per second.
const MAX_RATE: f64 = 1_000_000.0;
/// The produce rates a file may give; the end-of-run check uses only rates inside it.
const RATES: std::ops::RangeInclusive<f64> = MIN_RATE..=MAX_RATE;

pub(super) fn produce_action(
    cx: &mut Ctx<'_>,
    p: &Spanned<ProduceDef>,
    topics: &[TopicSpec],
    clients: &Clients<'_>,
    records: &mut u64,
) -> Option<Action> {
    let producers = clients.producers;
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
        if !RATES.contains(&rate) {
            // Display writes a tiny rate with hundreds of zeros; the scientific form stays short.
            let shown = if rate != 0.0 && rate.abs() < MIN_RATE { format!("{rate:e}") } else { format!("{rate}") };
            cx.err(r.span().start, format!("rate = {shown}, expected records per second from {MIN_RATE} to {MAX_RATE}"), Some("a rate of 0.001 sends one record every 1000 s".into()));
        }
    }
    let key = p.key.as_ref().map(|k| cx.text(k, "key").to_string());
    let (value, value_json) = match p.value.as_ref().map(|v| (v.get_ref(), v.span().start)) {
        None | Some((ValueDef::Empty, _)) => ("v{n}".to_string(), None),
        Some((ValueDef::Text(t), at)) => {
            if t.chars().count() > limits::TEXT {
                cx.err(at, format!("value is longer than {} characters", limits::TEXT), None);
            }
            (t.clone(), None)
        }
        Some((ValueDef::Structured(json), at)) => {
            let text = json.to_string();
            if text.chars().count() > limits::TEXT {
                cx.err(at, format!("value is longer than {} characters", limits::TEXT), None);
            }
            if let Some(vb) = &p.value_bytes {
                cx.err(vb.span().start, "value_bytes pads a text value; a structured value's size is what its serializer writes", Some("remove value_bytes".into()));
            }
            (text, Some(json.clone()))
        }
    };
    let (producer, topic) = (producer?, topic?);
    if let Some((json, at)) = value_json.as_ref().zip(p.value.as_ref().map(|v| v.span().start)) {
        check_value(cx, at, clients.schemas, producer, json);
    } else if clients.schemas.writes(producer) {
        let at = p.value.as_ref().map_or(at, |v| v.span().start);
        check_value(cx, at, clients.schemas, producer, &serde_json::Value::String(value.clone()));
    }
    if let Some(part) = &p.partition {
        let n = topics[topic as usize].assignment.len() as u32;
        if *part.get_ref() >= n {
            cx.err(part.span().start, format!("partition {} does not exist", part.get_ref()), Some(format!("topic has partitions 0 to {}", n - 1)));
        }
    }
    let value_bytes = p.value_bytes.as_ref().map(|vb| {
        let n = *vb.get_ref();
        // The longest value the template gives: `{n}` filled with the last record's number.
        let longest = value.replace("{n}", &count.to_string()).len();
        if n > MAX_VALUE_BYTES {
            cx.err(vb.span().start, format!("value_bytes = {n}, expected at most {MAX_VALUE_BYTES} (16 MiB)"), Some("a value above max.request.size (1048576 by default) is refused by send() already".into()));
        } else if (n as usize) < longest {
            cx.err(vb.span().start, format!("value_bytes = {n} is shorter than the value's text ({longest} bytes)"), Some("value_bytes pads the value's text to that length".into()));
        }
        n
    });
    Some(Action::Produce(ProduceAction {
        producer,
        topic,
        partition: p.partition.as_ref().map(|x| *x.get_ref()),
        key,
        value,
        value_json,
        value_bytes,
        count,
        rate: p.rate.as_ref().map(|r| *r.get_ref()),
        literal: false,
    }))
}

/// The `timeout_ms` of a `poll` action that gives none.
pub(super) const DEFAULT_POLL_TIMEOUT_MS: u64 = 1000;

/// A consumer that a `poll`, `process`, `commit_sync` or `commit_async` action names: it must run a
/// scripted application (a looping one polls and commits by its own policy).
fn scripted_ref(cx: &mut Ctx<'_>, s: &Spanned<String>, consumers: &[ConsumerSpec], key: &str) -> Option<u32> {
    let c = consumer_ref(cx, s, consumers)?;
    if !consumers[c as usize].app.scripted {
        cx.err(
            s.span().start,
            format!("{key} needs a scripted application, and consumer {} runs its own poll loop", printable(s.get_ref())),
            Some("set application = \"scripted\" in its [[consumers]] table (and remove `commit` and `processing`)".into()),
        );
        return None;
    }
    Some(c)
}

/// The transactional call a timeline entry holds, with the producer it names.
fn transaction_call(e: &StepDef) -> Option<(&Spanned<String>, TxnCall)> {
    [
        (&e.init_transactions, TxnCall::InitTransactions),
        (&e.begin_transaction, TxnCall::BeginTransaction),
        (&e.commit_transaction, TxnCall::CommitTransaction),
        (&e.abort_transaction, TxnCall::AbortTransaction),
    ]
    .into_iter()
    .find_map(|(name, call)| name.as_ref().map(|n| (n, call)))
}

/// A `send_offsets_to_transaction` entry: a group's offsets given as `group` and `offsets`, or a
/// consumer whose positions and group metadata are sent.
fn send_offsets_action(cx: &mut Ctx<'_>, s: &Spanned<SendOffsetsDef>, topics: &[TopicSpec], producers: &[ProducerSpec], consumers: &[ConsumerSpec]) -> Option<Action> {
    let d = s.get_ref();
    let producer = transactional_ref(cx, &d.producer, producers);
    let offsets = match (&d.consumer, &d.group, &d.offsets) {
        (Some(c), None, None) if d.member.is_none() && d.generation.is_none() => consumer_ref(cx, c, consumers).map(OffsetsToSend::Consumer),
        (None, Some(group), Some(map)) => {
            let group = cx.text(group, "group").to_string();
            let offsets: Vec<(Tp, u64)> = map.get_ref().iter().filter_map(|(name, &o)| expect::partition_named(cx, map.span().start, name, topics).map(|tp| (tp, o))).collect();
            if offsets.is_empty() && map.get_ref().is_empty() {
                cx.err(map.span().start, "no offsets to send", Some("give each partition's next offset to read, e.g. offsets = { \"orders-0\" = 7 }".into()));
            }
            let member = match (&d.member, d.generation) {
                (None, None) => Some(None),
                (Some(m), Some(generation)) => consumer_ref(cx, m, consumers).map(|c| Some((c, generation))),
                _ => {
                    cx.err(s.span().start, "`member` and `generation` go together", Some("send a member's group metadata with both, e.g. member = \"c1\", generation = 1, or neither for new ConsumerGroupMetadata(group)".into()));
                    None
                }
            };
            (offsets.len() == map.get_ref().iter().count() && !offsets.is_empty()).then_some(()).and(member).map(|member| OffsetsToSend::Given { group, offsets, member })
        }
        _ => {
            cx.err(
                s.span().start,
                "send_offsets_to_transaction needs either `consumer`, or `group` with `offsets`",
                Some("send a consumer's positions with consumer = \"…\", or give them: group = \"g\", offsets = { \"orders-0\" = 7 }".into()),
            );
            None
        }
    };
    Some(Action::SendOffsetsToTransaction { producer: producer?, offsets: offsets? })
}

/// A producer named by a transactional call, which needs a `transactional.id`.
fn transactional_ref(cx: &mut Ctx<'_>, s: &Spanned<String>, producers: &[ProducerSpec]) -> Option<u32> {
    let names: Vec<&str> = producers.iter().map(|p| p.name.as_str()).collect();
    let p = lookup(cx, "producer", Some(s), s.span().start, &names)?;
    if producers[p as usize].config.transactional_id.is_none() {
        cx.err(s.span().start, format!("producer {} has no transactional.id", s.get_ref()), Some("give it one in its config: `transactional.id = \"…\"`".into()));
        return None;
    }
    Some(p)
}

pub(super) fn consumer_ref(cx: &mut Ctx<'_>, s: &Spanned<String>, consumers: &[ConsumerSpec]) -> Option<u32> {
    let names: Vec<&str> = consumers.iter().map(|c| c.name.as_str()).collect();
    lookup(cx, "consumer", Some(s), s.span().start, &names)
}

/// `crash_registry = true`: only `true` means anything.
fn registry_flag(cx: &mut Ctx<'_>, flag: &Spanned<bool>, key: &str) -> bool {
    if !*flag.get_ref() {
        cx.err(flag.span().start, format!("{key} = false does nothing"), Some(format!("write {key} = true, or remove the entry")));
    }
    *flag.get_ref()
}

/// `use_schema = { producer = "p1", schema = "order-v2" }` (or `consumer = …`): a redeployment.
fn use_schema_action(cx: &mut Ctx<'_>, u: &Spanned<UseSchemaDef>, clients: &Clients<'_>) -> Option<Action> {
    let at = u.span().start;
    let u = u.get_ref();
    let schema = schema_ref(cx, &u.schema, &clients.schemas.specs);
    match (&u.producer, &u.consumer) {
        (Some(p), None) => {
            let pnames: Vec<&str> = clients.producers.iter().map(|x| x.name.as_str()).collect();
            let producer = lookup(cx, "producer", Some(p), at, &pnames)?;
            if clients.schemas.writers.get(producer as usize).is_none_or(|w| w.schema.is_none()) {
                cx.err(p.span().start, format!("producer {:?} writes no Avro schema", p.get_ref()), Some("give it value.serializer = KafkaAvroSerializer and a value_schema first".into()));
            }
            Some(Action::Registry(RegistryAction::SwitchProducer { producer, schema: schema? }))
        }
        (None, Some(c)) => {
            let consumer = consumer_ref(cx, c, clients.consumers)?;
            if !clients.schemas.readers.get(consumer as usize).is_some_and(|r| r.deserializer == crate::sim::serdes::Deserializer::Avro) {
                cx.err(c.span().start, format!("consumer {:?} reads no Avro", c.get_ref()), Some("give it value.deserializer = KafkaAvroDeserializer first".into()));
            }
            Some(Action::Registry(RegistryAction::SwitchConsumer { consumer, schema: schema? }))
        }
        _ => {
            cx.err(at, "use_schema names one producer or one consumer", Some("use_schema = { producer = \"p1\", schema = \"order-v2\" } or { consumer = \"c1\", schema = \"order-v2\" }".into()));
            None
        }
    }
}
