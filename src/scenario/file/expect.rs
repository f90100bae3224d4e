//! The `[[expect]]` tables read into expectations.

use super::*;
use crate::sim::ledger::ListenerMethod;
use crate::sim::types::Strategy;
use crate::sim::txn::TxnState;

/// The group states Kafka's `describeGroups` reports (`Dead` for a group no coordinator holds).
const GROUP_STATES: [&str; 5] = ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"];

pub(super) fn expectation(cx: &mut Ctx<'_>, e: &Spanned<ExpectDef>, topics: &[TopicSpec], clients: &Clients<'_>, duration_ms: u64) -> Option<Expectation> {
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
    if let Some(p) = &e.pipeline {
        return pipeline_expectation(cx, e, p, clients, line);
    }
    let group = match &e.group {
        Some(gname) => {
            let mut names: Vec<&str> = Vec::new();
            for name in clients.consumers.iter().map(|c| &c.config.group_id).chain(clients.given_groups) {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
            let g = lookup(cx, "group", Some(gname), start, &names);
            g.map(|g| names[g as usize].to_string())
        }
        None => None,
    };
    if e.group.is_some() {
        let producer_only = [("sent", e.sent.is_some()), ("acknowledged", e.acknowledged.is_some()), ("failed", e.failed.is_some()), ("acknowledged_lost", e.acknowledged_lost.is_some())];
        refuse(cx, start, &producer_only, |name| format!("`{name}` is a producer total and this expectation names a group"), Some("put producer totals in their own [[expect]] table without `group`"));
        if let Some(g) = &group {
            let group_totals = [
                (GroupTotal::Processed, e.processed.map(u64::from)),
                (GroupTotal::Lost, e.lost.map(u64::from)),
                (GroupTotal::Duplicated, e.duplicated.map(u64::from)),
                (GroupTotal::Pending, e.pending.map(u64::from)),
                (GroupTotal::OutOfOrder, e.out_of_order.map(u64::from)),
                (GroupTotal::Rebalances, e.rebalances.map(u64::from)),
                (GroupTotal::Lag, e.lag),
                (GroupTotal::AbortedProcessed, e.aborted.map(u64::from)),
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
            if let Some(list) = &e.not_committed {
                for name in list.get_ref() {
                    if let Some(tp) = partition_named(cx, list.span().start, name, topics) {
                        checks.push(Check::Committed { group: g.clone(), tp, offset: None });
                    }
                }
            }
            if let Some(st) = &e.group_state {
                if GROUP_STATES.contains(&st.get_ref().as_str()) {
                    checks.push(Check::GroupState { group: g.clone(), state: st.get_ref().clone() });
                } else {
                    let hint = closest(st.get_ref(), GROUP_STATES.iter().copied())
                        .map_or(format!("use one of {}", GROUP_STATES.join(", ")), |b| format!("did you mean `{b}`?"));
                    cx.err(st.span().start, format!("unknown group state {:?}", st.get_ref()), Some(hint));
                }
            }
            if let Some(p) = &e.protocol {
                match Strategy::parse(p.get_ref()) {
                    Some(strategy) => checks.push(Check::Protocol { group: g.clone(), strategy }),
                    None => cx.err(p.span().start, format!("unknown assignor {:?}", p.get_ref()), Some("use range, roundrobin, sticky or cooperative-sticky".into())),
                }
            }
            if let Some(map) = &e.committed {
                for (name, &offset) in map.get_ref() {
                    if let Some(tp) = partition_named(cx, map.span().start, name, topics) {
                        checks.push(Check::Committed { group: g.clone(), tp, offset: Some(offset) });
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
            (Total::Aborted, e.aborted),
        ];
        for (what, v) in totals {
            if let Some(value) = v {
                checks.push(Check::Total { what, value });
            }
        }
        if let Some(value) = e.unclean_elections {
            checks.push(Check::UncleanElections { value });
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
            ("not_committed", e.not_committed.is_some()),
            ("group_state", e.group_state.is_some()),
            ("protocol", e.protocol.is_some()),
        ];
        refuse(cx, start, &group_only, |name| format!("`{name}` needs `group = \"…\"`"), None);
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
        if let Some(values) = &e.read {
            checks.push(Check::Read { consumer: c, values: values.clone() });
        }
        if let Some(map) = &e.read_offsets {
            for (name, offsets) in map.get_ref() {
                if let Some(tp) = partition_named(cx, map.span().start, name, topics) {
                    checks.push(Check::ReadOffsets { consumer: c, tp, offsets: offsets.clone() });
                }
            }
        }
        if let Some(list) = &e.listener_calls {
            let calls = list.get_ref().iter().filter_map(|call| listener_call(cx, list.span().start, call, topics)).collect();
            checks.push(Check::ListenerCalls { consumer: c, calls });
        }
        if let Some(name) = &e.stopped_by {
            if name.get_ref() == "nothing" {
                checks.push(Check::StoppedBy { consumer: c, error: None });
            } else if let Some(error) = error_name(cx, name.span().start, name.get_ref()) {
                checks.push(Check::StoppedBy { consumer: c, error: Some(error) });
            }
        }
        if let Some(id) = &e.member_id {
            checks.push(Check::MemberId { consumer: c, id: id.clone() });
        }
    } else {
        let consumer_only = [
            ("position", e.position.is_some()),
            ("consumer_state", e.consumer_state.is_some()),
            ("read", e.read.is_some()),
            ("read_offsets", e.read_offsets.is_some()),
            ("listener_calls", e.listener_calls.is_some()),
            ("stopped_by", e.stopped_by.is_some()),
            ("member_id", e.member_id.is_some()),
        ];
        for (name, set) in consumer_only {
            if set {
                cx.err(start, format!("`{name}` needs `consumer = \"…\"`"), None);
            }
        }
    }
    if let Some(map) = &e.offsets {
        let pnames: Vec<&str> = producers.iter().map(|x| x.name.as_str()).collect();
        if let Some(producer) = lookup(cx, "producer", e.producer.as_ref(), map.span().start, &pnames) {
            for (value, &offset) in map.get_ref() {
                checks.push(Check::RecordOffset { producer, value: value.clone(), offset });
            }
        }
    }
    let needs_partition = e.leader.is_some() || e.offline.is_some() || e.leader_epoch.is_some() || e.isr.is_some() || e.elr.is_some()
        || e.high_watermark.is_some() || e.last_stable_offset.is_some() || e.log.is_some() || e.log_end_offset.is_some() || e.replica.is_some() || e.leader_epochs.is_some();
    let tp = match &e.partition {
        Some(p) => partition_named(cx, p.span().start, p.get_ref(), topics),
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
    if (e.log.is_some() || e.log_end_offset.is_some() || e.leader_epochs.is_some()) && e.replica.is_none() {
        cx.err(start, "`log`, `log_end_offset` and `leader_epochs` need `replica = N` (the broker whose log to read)", None);
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
        if let Some(value) = e.last_stable_offset {
            checks.push(Check::LastStableOffset { tp, replica, value });
        }
        if let (Some(b), Some(value)) = (replica, e.log_end_offset) {
            checks.push(Check::LogEndOffset { tp, replica: b, value });
        }
        if let (Some(b), Some(values)) = (replica, &e.log) {
            checks.push(Check::Log { tp, replica: b, values: values.clone() });
        }
        if let (Some(b), Some(epochs)) = (replica, &e.leader_epochs) {
            checks.push(Check::LeaderEpochs { tp, replica: b, epochs: epochs.clone() });
        }
    }
    // Errors that must not have been seen, and a list of which at least one must have been, for
    // the consumer the table names, or else its producer.
    if e.errors_not_seen.is_some() || e.errors_seen_one_of.is_some() {
        let who = match consumer {
            Some(c) => Some(ErrorSource::Consumer(c)),
            None => {
                let pnames: Vec<&str> = producers.iter().map(|x| x.name.as_str()).collect();
                lookup(cx, "producer", e.producer.as_ref(), start, &pnames).map(ErrorSource::Producer)
            }
        };
        if let Some(who) = who {
            if e.errors_not_seen.is_some() {
                checks.push(Check::ErrorsNotSeen { who, errors: error_names(cx, e.errors_not_seen.as_ref()) });
            }
            if let Some(list) = &e.errors_seen_one_of {
                if list.get_ref().len() < 2 {
                    cx.err(list.span().start, "errors_seen_one_of lists fewer than two errors", Some("for one error use errors_seen".into()));
                }
                checks.push(Check::ErrorsSeenOneOf { who, errors: error_names(cx, Some(list)) });
            }
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
    match (&e.transactional_id, &e.transaction_state) {
        (Some(id), Some(state)) => {
            let ids: Vec<&str> = producers.iter().filter_map(|p| p.config.transactional_id.as_deref()).collect();
            let known = lookup(cx, "transactional.id", Some(id), id.span().start, &ids).is_some();
            let names: Vec<&str> = TxnState::ALL.iter().map(|s| s.name()).collect();
            let state = lookup(cx, "transaction state", Some(state), state.span().start, &names).map(|i| TxnState::ALL[i as usize]);
            if let (true, Some(state)) = (known, state) {
                checks.push(Check::TransactionState { transactional_id: id.get_ref().clone(), state });
            }
        }
        (Some(id), None) => cx.err(id.span().start, "`transactional_id` needs `transaction_state`", Some("e.g. transaction_state = \"CompleteCommit\"".into())),
        (None, Some(state)) => cx.err(state.span().start, "`transaction_state` needs `transactional_id`", None),
        (None, None) => {}
    }
    if checks.is_empty() && cx.errors.len() == errors_before {
        cx.err(start, "this expectation checks nothing", Some("add e.g. acknowledged_lost = 0, or partition + leader".into()));
        return None;
    }
    Some(Expectation { at: e.at.as_ref().map(|a| *a.get_ref()), line, checks, at_least: false })
}

/// Refuses each key of `keys` that is set (`(name, set)`), at `at`, with `message(name)`.
fn refuse(cx: &mut Ctx<'_>, at: usize, keys: &[(&str, bool)], message: impl Fn(&str) -> String, hint: Option<&str>) {
    for (name, _) in keys.iter().filter(|(_, set)| *set) {
        cx.err(at, message(name), hint.map(str::to_string));
    }
}

/// An `[[expect]]` naming a pipeline: its `verdict`, `lost` and `duplicated`, end to end.
fn pipeline_expectation(cx: &mut Ctx<'_>, e: &ExpectDef, p: &Spanned<String>, clients: &Clients<'_>, line: usize) -> Option<Expectation> {
    let names: Vec<&str> = clients.pipelines.iter().map(String::as_str).collect();
    let pipeline = names[lookup(cx, "pipeline", Some(p), p.span().start, &names)? as usize].to_string();
    // Every key of an [[expect]] table but `at` and the pipeline's own.
    let others = [
        ("sent", e.sent.is_some()),
        ("acknowledged", e.acknowledged.is_some()),
        ("failed", e.failed.is_some()),
        ("acknowledged_lost", e.acknowledged_lost.is_some()),
        ("out_of_order", e.out_of_order.is_some()),
        ("unclean_elections", e.unclean_elections.is_some()),
        ("partition", e.partition.is_some()),
        ("leader", e.leader.is_some()),
        ("offline", e.offline.is_some()),
        ("leader_epoch", e.leader_epoch.is_some()),
        ("isr", e.isr.is_some()),
        ("elr", e.elr.is_some()),
        ("high_watermark", e.high_watermark.is_some()),
        ("replica", e.replica.is_some()),
        ("log", e.log.is_some()),
        ("log_end_offset", e.log_end_offset.is_some()),
        ("producer", e.producer.is_some()),
        ("errors_seen", e.errors_seen.is_some()),
        ("no_errors", e.no_errors.is_some()),
        ("errors_not_seen", e.errors_not_seen.is_some()),
        ("errors_seen_one_of", e.errors_seen_one_of.is_some()),
        ("group", e.group.is_some()),
        ("processed", e.processed.is_some()),
        ("pending", e.pending.is_some()),
        ("generation", e.generation.is_some()),
        ("rebalances", e.rebalances.is_some()),
        ("committed", e.committed.is_some()),
        ("not_committed", e.not_committed.is_some()),
        ("group_state", e.group_state.is_some()),
        ("protocol", e.protocol.is_some()),
        ("lag", e.lag.is_some()),
        ("assignment", e.assignment.is_some()),
        ("consumer", e.consumer.is_some()),
        ("position", e.position.is_some()),
        ("consumer_state", e.consumer_state.is_some()),
        ("offsets", e.offsets.is_some()),
        ("read", e.read.is_some()),
        ("read_offsets", e.read_offsets.is_some()),
        ("listener_calls", e.listener_calls.is_some()),
        ("stopped_by", e.stopped_by.is_some()),
        ("member_id", e.member_id.is_some()),
        ("leader_epochs", e.leader_epochs.is_some()),
        ("aborted", e.aborted.is_some()),
        ("last_stable_offset", e.last_stable_offset.is_some()),
        ("transactional_id", e.transactional_id.is_some()),
        ("transaction_state", e.transaction_state.is_some()),
    ];
    refuse(
        cx,
        p.span().start,
        &others,
        |key| format!("`{key}` is not a pipeline check, and this expectation names a pipeline"),
        Some("a pipeline expectation checks `verdict`, `lost` and `duplicated`; put other checks in their own [[expect]] table"),
    );
    let mut checks = Vec::new();
    if let Some(v) = &e.verdict {
        match Verdict::ALL.iter().find(|x| x.name() == v.get_ref()) {
            Some(verdict) => checks.push(Check::PipelineVerdict { pipeline: pipeline.clone(), verdict: *verdict }),
            None => {
                let hint = closest(v.get_ref(), Verdict::ALL.iter().map(|x| x.name())).map_or("use exactly-once, at-least-once, at-most-once or none".to_string(), |b| format!("did you mean `{b}`?"));
                cx.err(v.span().start, format!("unknown verdict {:?}", v.get_ref()), Some(hint));
            }
        }
    }
    for (lost, value) in [(true, e.lost), (false, e.duplicated)] {
        if let Some(value) = value {
            checks.push(Check::PipelineTotal { pipeline: pipeline.clone(), lost, value });
        }
    }
    if checks.is_empty() {
        cx.err(p.span().start, "this pipeline expectation checks nothing", Some("a pipeline expectation checks `verdict`, `lost` and `duplicated`, e.g. verdict = \"exactly-once\"".into()));
        return None;
    }
    Some(Expectation { at: e.at.as_ref().map(|a| *a.get_ref()), line, checks, at_least: false })
}

pub(super) fn error_names(cx: &mut Ctx<'_>, list: Option<&Spanned<Vec<String>>>) -> Vec<KafkaError> {
    let mut errors = Vec::new();
    let Some(list) = list else { return errors };
    for name in list.get_ref() {
        errors.extend(error_name(cx, list.span().start, name));
    }
    errors
}

fn error_name(cx: &mut Ctx<'_>, at: usize, name: &str) -> Option<KafkaError> {
    let found = KafkaError::ALL.iter().find(|k| k.name() == name).copied();
    if found.is_none() {
        let hint = closest(name, KafkaError::ALL.iter().map(|k| k.name())).map(|b| format!("did you mean `{b}`?"));
        cx.err(at, format!("unknown error name {name:?}"), hint);
    }
    found
}

/// One expected listener call, written `onPartitionsAssigned [orders-0, orders-1]`.
fn listener_call(cx: &mut Ctx<'_>, at: usize, text: &str, topics: &[TopicSpec]) -> Option<(ListenerMethod, Vec<crate::sim::Tp>)> {
    const METHODS: [ListenerMethod; 3] = [ListenerMethod::Assigned, ListenerMethod::Revoked, ListenerMethod::Lost];
    let hint = "write a call as `onPartitionsAssigned [orders-0, orders-1]` (or onPartitionsRevoked, onPartitionsLost; `[]` for none)";
    let parsed = text.split_once(' ').and_then(|(method, rest)| {
        let method = METHODS.into_iter().find(|m| m.name() == method)?;
        let inner = rest.trim().strip_prefix('[')?.strip_suffix(']')?;
        Some((method, inner.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect::<Vec<_>>()))
    });
    let Some((method, names)) = parsed else {
        let first = text.split_whitespace().next().unwrap_or("");
        let hint = closest(first, METHODS.iter().map(|m| m.name()))
            .filter(|m| *m != first)
            .map_or(hint.to_string(), |m| format!("did you mean `{m}`? {hint}"));
        cx.err(at, format!("cannot read the listener call {text:?}"), Some(hint));
        return None;
    };
    let tps: Vec<_> = names.iter().filter_map(|n| partition_named(cx, at, n, topics)).collect();
    (tps.len() == names.len()).then_some((method, tps))
}

/// A user topic's partition by its `topic-N` name.
pub(super) fn partition_named(cx: &mut Ctx<'_>, at: usize, name: &str, topics: &[TopicSpec]) -> Option<crate::sim::Tp> {
    let found = name.rsplit_once('-').and_then(|(t, n)| {
        let topic = topics.iter().position(|x| x.name == t)?;
        let n: u32 = n.parse().ok()?;
        (n < topics[topic].assignment.len() as u32).then_some(crate::sim::Tp { topic: topic as u32, partition: n })
    });
    if found.is_none() {
        let all: Vec<String> = topics.iter().flat_map(|t| (0..t.assignment.len()).map(move |i| format!("{}-{i}", t.name))).collect();
        let hint = closest(name, all.iter().map(String::as_str))
            .map(|b| format!("did you mean `{b}`?"))
            .unwrap_or_else(|| "name a partition as topic-N, e.g. orders-0".into());
        cx.err(at, format!("unknown partition {name:?}"), Some(hint));
    }
    found
}
