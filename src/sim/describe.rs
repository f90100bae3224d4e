//! Formatters that turn steps into narration. The CLI, the page and the golden tests all read
//! this text, so it lives in the core.

use super::step::{CommitKind, DropReason, Effect, Election, IsrCause, Msg, Partitioning, RebalanceReason, RemoveReason, Revocation, Step, StepEvent, Timer};
use super::types::{BrokerId, NodeId, RecordId, Tp};
use super::Sim;
use std::fmt::Write;

/// `broker-2`, `controller` or the producer's name.
pub fn node_name(sim: &Sim, node: NodeId) -> String {
    match node {
        NodeId::Controller => "controller".to_string(),
        NodeId::Broker(b) => format!("broker-{b}"),
        NodeId::Producer(p) => sim.producers[p as usize].name.clone(),
        NodeId::Consumer(c) => sim.consumers[c as usize].name.clone(),
    }
}

/// The inverse of [`node_name`], as scenario files and the page write names: `controller`,
/// `broker-N` for N in 1..=`brokers`, or a producer's or consumer's name (producers first).
pub fn node_by_name<'a>(
    name: &str,
    brokers: u32,
    producers: impl IntoIterator<Item = &'a str>,
    consumers: impl IntoIterator<Item = &'a str>,
) -> Option<NodeId> {
    if name == "controller" {
        return Some(NodeId::Controller);
    }
    if let Some(n) = name.strip_prefix("broker-").and_then(|n| n.parse::<u32>().ok()) {
        return (1..=brokers).contains(&n).then_some(NodeId::Broker(n));
    }
    if let Some(i) = producers.into_iter().position(|p| p == name) {
        return Some(NodeId::Producer(i as u32));
    }
    consumers.into_iter().position(|c| c == name).map(|i| NodeId::Consumer(i as u32))
}

fn consumer(sim: &Sim, c: u32) -> &str {
    &sim.consumers[c as usize].name
}

fn group(sim: &Sim, g: u32) -> &str {
    &sim.groups[g as usize].name
}

fn partitions(sim: &Sim, list: &[Tp]) -> String {
    let names: Vec<String> = list.iter().map(|tp| sim.tp_name(*tp)).collect();
    format!("[{}]", names.join(", "))
}

fn offsets(sim: &Sim, list: &[(Tp, u64)]) -> String {
    let names: Vec<String> = list.iter().map(|(tp, o)| format!("{}={o}", sim.tp_name(*tp))).collect();
    names.join(", ")
}

fn error_or_ok(error: &Option<super::types::KafkaError>) -> String {
    error.map_or("ok".to_string(), |e| format!("error {e}"))
}

fn brokers(list: &[BrokerId]) -> String {
    let names: Vec<String> = list.iter().map(|b| b.to_string()).collect();
    format!("[{}]", names.join(","))
}

fn ms(v: u64) -> String {
    // Thousands separators make long timeouts readable in class (30,000 ms).
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out} ms")
}

/// `k1=v1` (or just the value when there is no key).
pub fn record_label(sim: &Sim, id: RecordId) -> String {
    let r = sim.ledger.get(id);
    match &r.key {
        Some(k) => format!("{k}={}", r.value),
        None => r.value.clone(),
    }
}

fn records(sim: &Sim, ids: &[RecordId]) -> String {
    const SHOWN: usize = 4;
    let mut labels: Vec<String> = ids.iter().take(SHOWN).map(|&id| record_label(sim, id)).collect();
    if ids.len() > SHOWN {
        labels.push(format!("… {} more", ids.len() - SHOWN));
    }
    labels.join(", ")
}

fn drop_reason(reason: DropReason) -> &'static str {
    match reason {
        DropReason::LinkCut => "the link is cut",
        DropReason::Loss => "lost on the link",
        DropReason::ReceiverDown => "the receiver is down",
        DropReason::SenderCrashed => "the sender crashed while it was in flight",
        DropReason::ConnectionBroken => "its connection broke when an earlier message was lost; nothing gets through until the producer reconnects",
    }
}

/// A one-line description of a message.
pub fn describe_msg(sim: &Sim, msg: &Msg) -> String {
    match msg {
        Msg::Produce { tp, acks, records: recs, base_seq, producer_epoch, .. } => {
            let seq = match (*base_seq, *producer_epoch) {
                (s, _) if s < 0 => String::new(),
                (s, 0) => format!(", seq {s}"),
                (s, e) => format!(", producer epoch {e}, seq {s}"),
            };
            format!("Produce {} [{}] acks={}{}", sim.tp_name(*tp), records(sim, recs), acks.name(), seq)
        }
        Msg::ProduceResponse { tp, result, .. } => match result {
            Ok(offset) => format!("ProduceResponse {} ok, base offset {offset}", sim.tp_name(*tp)),
            Err(e) => format!("ProduceResponse {} error {e}", sim.tp_name(*tp)),
        },
        Msg::Fetch { tp, fetch_offset, last_fetched_epoch, leader_epoch, .. } => {
            let last = last_fetched_epoch.map_or(String::new(), |e| format!(", last fetched epoch {e}"));
            format!("Fetch {} from offset {fetch_offset} (leader epoch {leader_epoch}{last})", sim.tp_name(*tp))
        }
        Msg::FetchResponse { tp, records, high_watermark, diverging, error, .. } => {
            if let Some(e) = error {
                format!("FetchResponse {} error {e}", sim.tp_name(*tp))
            } else if let Some((epoch, end)) = diverging {
                format!("FetchResponse {} diverging: epoch {epoch} ends at {end}", sim.tp_name(*tp))
            } else {
                format!("FetchResponse {} {} record(s), HW {high_watermark}", sim.tp_name(*tp), records.len())
            }
        }
        Msg::Heartbeat { want_shut_down: true, .. } => "BrokerHeartbeat wantShutDown".to_string(),
        Msg::Heartbeat { .. } => "BrokerHeartbeat".to_string(),
        Msg::HeartbeatResponse { should_shut_down } => format!("BrokerHeartbeatResponse shouldShutDown = {should_shut_down}"),
        Msg::AlterPartition { tp, new_isr, .. } => {
            format!("AlterPartition {} ISR → {}", sim.tp_name(*tp), brokers(new_isr))
        }
        Msg::PartitionChange { tp, leader, leader_epoch, isr, .. } => format!(
            "PartitionChange {} leader {} epoch {leader_epoch} ISR {}",
            sim.tp_name(*tp),
            leader.map_or("none".to_string(), |l| l.to_string()),
            brokers(isr)
        ),
        Msg::ApiVersions => "ApiVersions (opening a connection)".to_string(),
        Msg::ApiVersionsResponse { .. } => "ApiVersionsResponse (the connection is ready)".to_string(),
        Msg::MetadataRequest => "MetadataRequest".to_string(),
        Msg::MetadataResponse { .. } => "MetadataResponse".to_string(),
        Msg::FindCoordinator { group: g } => format!("FindCoordinator for group {}", group(sim, *g)),
        Msg::FindCoordinatorResponse { group: g, coordinator } => match coordinator {
            Some(b) => format!("FindCoordinatorResponse: group {} → broker-{b}", group(sim, *g)),
            None => format!("FindCoordinatorResponse: group {} has no coordinator (COORDINATOR_NOT_AVAILABLE)", group(sim, *g)),
        },
        Msg::JoinGroup { group: g, member_id, owned, generation, .. } => {
            let who = if member_id.is_empty() { "new member".to_string() } else { member_id.clone() };
            let owned = if owned.is_empty() { String::new() } else { format!(", owns {} from generation {generation}", partitions(sim, owned)) };
            format!("JoinGroup {} ({who}{owned})", group(sim, *g))
        }
        Msg::JoinGroupResponse { group: g, result, .. } => match result {
            Ok(r) => {
                let role = if r.leader == r.member_id { ", you are the leader" } else { "" };
                format!("JoinGroupResponse {} generation {} as {}{role}", group(sim, *g), r.generation, r.member_id)
            }
            Err(e) => format!("JoinGroupResponse {} error {e}", group(sim, *g)),
        },
        Msg::SyncGroup { group: g, generation, assignments, .. } => {
            let what = if assignments.is_empty() { "" } else { " with the assignment" };
            format!("SyncGroup {} generation {generation}{what}", group(sim, *g))
        }
        Msg::SyncGroupResponse { group: g, result, .. } => match result {
            Ok(a) => format!("SyncGroupResponse {}: assigned {}", group(sim, *g), partitions(sim, a)),
            Err(e) => format!("SyncGroupResponse {} error {e}", group(sim, *g)),
        },
        Msg::GroupHeartbeat { group: g, generation, .. } => format!("Heartbeat {} generation {generation}", group(sim, *g)),
        Msg::GroupHeartbeatResponse { group: g, error } => format!("HeartbeatResponse {} {}", group(sim, *g), error_or_ok(error)),
        Msg::LeaveGroup { group: g, member_id } => format!("LeaveGroup {} ({member_id})", group(sim, *g)),
        Msg::OffsetCommit { group: g, generation, offsets: o, .. } => {
            format!("OffsetCommit {} generation {generation}: {}", group(sim, *g), offsets(sim, o))
        }
        Msg::OffsetCommitResponse { group: g, error, .. } => format!("OffsetCommitResponse {} {}", group(sim, *g), error_or_ok(error)),
        Msg::OffsetFetch { group: g, partitions: p, .. } => format!("OffsetFetch {} for {}", group(sim, *g), partitions(sim, p)),
        Msg::OffsetFetchResponse { group: g, result, .. } => match result {
            Ok(list) => {
                let parts: Vec<String> = list
                    .iter()
                    .map(|(tp, o)| format!("{}={}", sim.tp_name(*tp), o.map_or("none".to_string(), |o| o.to_string())))
                    .collect();
                format!("OffsetFetchResponse {}: {}", group(sim, *g), parts.join(", "))
            }
            Err(e) => format!("OffsetFetchResponse {} error {e}", group(sim, *g)),
        },
        Msg::ListOffsets { tp, earliest, .. } => {
            format!("ListOffsets {} {}", sim.tp_name(*tp), if *earliest { "earliest" } else { "latest" })
        }
        Msg::ListOffsetsResponse { tp, result, .. } => match result {
            Ok(o) => format!("ListOffsetsResponse {} offset {o}", sim.tp_name(*tp)),
            Err(e) => format!("ListOffsetsResponse {} error {e}", sim.tp_name(*tp)),
        },
        Msg::ConsumerFetch { tp, offset, .. } => format!("Fetch {} from offset {offset} (consumer)", sim.tp_name(*tp)),
        Msg::ConsumerFetchResponse { tp, records: recs, high_watermark, error, .. } => match error {
            Some(e) => format!("FetchResponse {} error {e}", sim.tp_name(*tp)),
            None => format!("FetchResponse {} {} record(s) below HW {high_watermark}", sim.tp_name(*tp), recs.len()),
        },
    }
}

fn describe_timer(sim: &Sim, timer: &Timer) -> String {
    match timer {
        Timer::Action { index } => format!("scenario action #{}", index + 1),
        Timer::ProduceTick { index, n } => format!("scenario action #{}: record {}", index + 1, n + 1),
        Timer::Heartbeat { broker, .. } => format!("broker-{broker} heartbeat timer"),
        Timer::ShutdownHeartbeat { broker, .. } => format!("broker-{broker} heartbeats again, still waiting to shut down"),
        Timer::SessionCheck { broker } => format!("controller checks broker-{broker}'s session"),
        Timer::FetchWait { broker, pidx, .. } => format!(
            "broker-{broker}: parked fetch for {} reached replica.fetch.wait.max.ms",
            sim.tp_name(sim.tp(*pidx))
        ),
        Timer::FetchBackoff { broker, pidx, .. } => {
            format!("broker-{broker}: replica.fetch.backoff.ms passed for {}", sim.tp_name(sim.tp(*pidx)))
        }
        Timer::FetchWatchdog { broker, pidx, .. } => {
            format!("broker-{broker}: fetch for {} hit replica.socket.timeout.ms", sim.tp_name(sim.tp(*pidx)))
        }
        Timer::IsrCheck { broker, .. } => format!("broker-{broker} ISR check (every replica.lag.time.max.ms / 2)"),
        Timer::RetentionCheck { broker, .. } => format!("broker-{broker} retention check"),
        Timer::ProducerDeadline { producer } => format!("{} deadline check", sim.producers[*producer as usize].name),
        Timer::ProducerWake { producer } => format!("{} sender wakes up", sim.producers[*producer as usize].name),
        Timer::ProducerConnectTimeout { producer, broker, .. } => {
            format!("{}'s connection to broker-{broker} hit socket.connection.setup.timeout.ms", sim.producers[*producer as usize].name)
        }
        Timer::ConsumerTick { consumer: c, .. } => format!("{} heartbeat thread", consumer(sim, *c)),
        Timer::ConsumerProcessed { consumer: c, .. } => format!("{} finished processing a record", consumer(sim, *c)),
        Timer::ConsumerPoll { consumer: c, .. } => format!("{} calls poll() again", consumer(sim, *c)),
        Timer::ConsumerFetchWait { broker, pidx, .. } => format!(
            "broker-{broker}: consumer fetch for {} reached fetch.max.wait.ms",
            sim.tp_name(sim.tp(*pidx))
        ),
        Timer::GroupJoinDeadline { broker, group: g, .. } => {
            format!("broker-{broker}: the join phase of group {} ends", group(sim, *g))
        }
        Timer::MemberSessionCheck { broker, group: g, member_id, .. } => {
            format!("broker-{broker} checks the session of {member_id} in group {}", group(sim, *g))
        }
    }
}

/// The headline of a step: what event it was.
pub fn describe_event(sim: &Sim, event: &StepEvent) -> String {
    match event {
        StepEvent::Deliver { from, to, msg, .. } => {
            format!("{} → {}: {}", node_name(sim, *from), node_name(sim, *to), describe_msg(sim, msg))
        }
        StepEvent::Dropped { from, to, msg, reason, .. } => format!(
            "{} → {}: {msg} dropped ({})",
            node_name(sim, *from),
            node_name(sim, *to),
            drop_reason(*reason)
        ),
        StepEvent::Timer { timer } => describe_timer(sim, timer),
    }
}

/// One effect as a sentence that says why, or `None` for effects shown only by animation.
pub fn describe_effect(sim: &Sim, effect: &Effect) -> Option<String> {
    let tpn = |tp: &Tp| sim.tp_name(*tp);
    Some(match effect {
        Effect::Sent { dropped: None, .. } => return None,
        Effect::Sent { from, to, msg, dropped: Some(reason), .. } => format!(
            "{msg} from {} to {} is dropped: {}",
            node_name(sim, *from),
            node_name(sim, *to),
            drop_reason(*reason)
        ),
        Effect::RecordsCreated { producer, tp, records: recs, how } => {
            let why = match how {
                Partitioning::Explicit => "partition given explicitly".to_string(),
                Partitioning::Key => format!(
                    "murmur2(key) % {} partitions",
                    sim.topics[tp.topic as usize].partitions
                ),
                Partitioning::Sticky => "no key: sticky partitioner".to_string(),
            };
            format!("{} sends {} to {} ({why})", sim.producers[*producer as usize].name, records(sim, recs), tpn(tp))
        }
        Effect::LeaderAppended { tp, broker, first_offset, records: recs, epoch } => format!(
            "broker-{broker} (leader) appends {} to {} at offset {}{} in epoch {epoch}",
            records(sim, recs),
            tpn(tp),
            first_offset,
            if recs.len() > 1 { format!("..{}", first_offset + recs.len() as u64 - 1) } else { String::new() }
        ),
        Effect::FollowerAppended { tp, broker, first_offset, count, leo } => format!(
            "broker-{broker} (follower) copies {count} record(s) of {} from offset {first_offset}; its LEO is now {leo}",
            tpn(tp)
        ),
        Effect::DuplicateIgnored { tp, broker, pid, first_seq, offset } => format!(
            "broker-{broker} sees producer id {pid} seq {first_seq} again: a retry of the batch already at offset {offset} of {}; not appended twice (idempotence)",
            tpn(tp)
        ),
        Effect::ProduceRejected { tp, broker, error, isr_size, min_isr, expected_seq } => {
            let why = match error {
                super::KafkaError::NotEnoughReplicas => {
                    format!("ISR has {isr_size} member(s), min.insync.replicas is {min_isr}; nothing appended")
                }
                super::KafkaError::NotEnoughReplicasAfterAppend => format!(
                    "the record is in the log, but the ISR shrank to {isr_size} (< min.insync.replicas {min_isr}) before it was committed"
                ),
                super::KafkaError::OutOfOrderSequenceNumber => {
                    format!("expected sequence {}, a gap means an earlier batch is missing", expected_seq.unwrap_or(0))
                }
                super::KafkaError::InvalidProducerEpoch => "the producer has since moved to a newer epoch on this partition".to_string(),
                _ => "this broker does not lead the partition".to_string(),
            };
            format!("broker-{broker} rejects the write to {} with {error}: {why}", tpn(tp))
        }
        Effect::ProducerDisconnected { producer: p, broker, cause, reconnect_at } => format!(
            "{} is disconnected from broker-{broker} ({cause}): it sends nothing there and tries to connect again at {} (reconnect.backoff.ms, doubling up to reconnect.backoff.max.ms); requests in flight there fail, queued batches wait, and it refreshes metadata",
            sim.producers[*p as usize].name,
            ms(*reconnect_at)
        ),
        Effect::ProducerConnected { producer: p, broker } => {
            format!("{}'s connection to broker-{broker} is ready: queued batches can go", sim.producers[*p as usize].name)
        }
        Effect::ProducerEpochBumped { producer: p, tp, epoch } => format!(
            "{} bumps its producer epoch for {} to {epoch} and numbers its unacknowledged batches there from sequence 0 again (OUT_OF_ORDER_SEQUENCE_NUMBER is not fatal for an idempotent producer)",
            sim.producers[*p as usize].name,
            tpn(tp)
        ),
        Effect::AwaitingReplication { tp, broker, required_offset } => format!(
            "broker-{broker} holds the response (acks=all) until the high watermark of {} reaches {required_offset}",
            tpn(tp)
        ),
        Effect::HighWatermark { tp, broker, from, to, leader } => {
            if *leader {
                format!("{} high watermark {from} → {to} on leader broker-{broker}: every ISR member has these records", tpn(tp))
            } else {
                format!("broker-{broker} learns the high watermark of {} from its fetch: {from} → {to}", tpn(tp))
            }
        }
        Effect::HighWatermarkHeld { tp, broker, hw, would_be, isr_size, min_isr } => format!(
            "{} high watermark stays at {hw} on leader broker-{broker}, though the ISR holds records up to offset {}: an ISR of {isr_size} is below min.insync.replicas {min_isr}, so they are not committed and consumers cannot read them yet",
            tpn(tp),
            would_be - 1
        ),
        Effect::IsrShrinkRequested { tp, leader, removed, lag_ms, max_lag_ms } => format!(
            "broker-{leader} asks to remove broker(s) {} from the ISR of {}: not caught up for {} (replica.lag.time.max.ms = {})",
            brokers(removed),
            tpn(tp),
            ms(*lag_ms),
            ms(*max_lag_ms)
        ),
        Effect::IsrExpandRequested { tp, leader, added, follower_leo } => format!(
            "broker-{leader} asks to add broker-{added} back to the ISR of {}: it caught up to offset {follower_leo}",
            tpn(tp)
        ),
        Effect::IsrChanged { tp, from, to, elr_from, elr_to, partition_epoch, cause } => {
            let why = match cause {
                IsrCause::AlterPartition => "at the leader's request",
                IsrCause::BrokerFenced => "the broker was fenced",
                IsrCause::BrokerUnfenced => "a broker was unfenced",
                IsrCause::ControlledShutdown => "the broker is shutting down and may not lead",
                IsrCause::UncleanShutdown => "the broker restarted after an unclean shutdown and may have lost unflushed records, so it is no longer eligible",
                IsrCause::ElrElection => "the new leader comes from the ELR and becomes the ISR",
                IsrCause::LastKnownLeaderElection => "the last known leader is elected and the ISR resets to it",
                IsrCause::UncleanElection => "unclean election resets the ISR to the new leader",
            };
            // Without eligible leader replicas the ELR is always empty, and the line stays as it was.
            if elr_from.is_empty() && elr_to.is_empty() {
                format!("controller: ISR of {} {} → {} ({why}; partition epoch {partition_epoch})", tpn(tp), brokers(from), brokers(to))
            } else if from == to {
                format!(
                    "controller: ELR of {} {} → {}, ISR stays {} ({why}; partition epoch {partition_epoch})",
                    tpn(tp),
                    brokers(elr_from),
                    brokers(elr_to),
                    brokers(to)
                )
            } else {
                format!(
                    "controller: ISR of {} {} → {}, ELR {} → {} ({why}; partition epoch {partition_epoch})",
                    tpn(tp),
                    brokers(from),
                    brokers(to),
                    brokers(elr_from),
                    brokers(elr_to)
                )
            }
        }
        Effect::AlterPartitionRejected { tp, leader, error } => {
            format!("controller rejects broker-{leader}'s AlterPartition for {} with {error}: it is based on stale state", tpn(tp))
        }
        Effect::BrokerFenced { broker, silent_ms, timeout_ms } => {
            if silent_ms >= timeout_ms {
                format!(
                    "controller fences broker-{broker}: no heartbeat for {} (broker.session.timeout.ms = {})",
                    ms(*silent_ms),
                    ms(*timeout_ms)
                )
            } else {
                format!("controller fences broker-{broker}: it re-registered after a restart, its old session is void")
            }
        }
        Effect::BrokerUnfenced { broker } => format!("controller unfences broker-{broker}: it heartbeats again"),
        Effect::LeaderElected { tp, leader, previous, epoch, election } => {
            let prev = previous.map_or("none".to_string(), |p| format!("broker-{p}"));
            let head = format!("controller elects broker-{leader} leader of {} in epoch {epoch} (was {prev})", tpn(tp));
            match election {
                Election::Isr => format!("{head}: first live ISR member in replica order"),
                Election::Elr => format!(
                    "{head} from the ELR: the ISR is empty, and broker-{leader} left it while it was below min.insync.replicas, so it has every committed record"
                ),
                Election::LastKnownLeader => format!(
                    "{head} as its last known leader: the ISR and the ELR are empty and it was the last to lead, so it may lead again even with unclean.leader.election.enable = false"
                ),
                Election::Unclean => {
                    format!("{head} UNCLEANLY: no ISR member is alive and unclean.leader.election.enable = true")
                }
            }
        }
        Effect::PartitionOffline { tp, isr, elr, last_known_leader, unclean_allowed } => {
            if *unclean_allowed {
                format!("{} is OFFLINE: no replica is alive", tpn(tp))
            } else if !isr.is_empty() {
                format!(
                    "{} is OFFLINE: no ISR member of {} is alive and unclean.leader.election.enable = false",
                    tpn(tp),
                    brokers(isr)
                )
            } else {
                let elr = if elr.is_empty() { "the ELR is empty too".to_string() } else { format!("no ELR member of {} is alive", brokers(elr)) };
                let back = last_known_leader.map_or(String::new(), |l| format!("; broker-{l}, its last known leader, may lead again when it returns"));
                format!("{} is OFFLINE: the ISR is empty, {elr}, and unclean.leader.election.enable = false{back}", tpn(tp))
            }
        }
        Effect::BecameLeader { tp, broker, epoch, leo } => {
            format!("broker-{broker} becomes leader of {} in epoch {epoch}; the epoch starts at offset {leo}", tpn(tp))
        }
        Effect::BecameFollower { tp, broker, leader, epoch } => match leader {
            Some(l) => format!("broker-{broker} follows broker-{l} for {} (epoch {epoch})", tpn(tp)),
            None => format!("broker-{broker} learns {} has no leader (epoch {epoch})", tpn(tp)),
        },
        Effect::Truncated { tp, broker, from, to, removed, leader_epoch_end: (epoch, end) } => format!(
            "broker-{broker} truncates {} from LEO {from} to {to}, removing {}: the leader says epoch {epoch} ends at offset {end} (leader-epoch truncation, KIP-101)",
            tpn(tp),
            if removed.is_empty() { "nothing".to_string() } else { records(sim, removed) }
        ),
        Effect::Acknowledged { producer, tp, records: recs, offset, acks } => match offset {
            Some(o) => format!(
                "{} gets the ack for {} at offset {o} of {} (acks={})",
                sim.producers[*producer as usize].name,
                records(sim, recs),
                tpn(tp),
                acks.name()
            ),
            None => format!(
                "{} counts {} as sent without any answer (acks=0)",
                sim.producers[*producer as usize].name,
                records(sim, recs)
            ),
        },
        Effect::ProduceError { producer, tp, records: recs, error, attempt, retry_at } => {
            let name = &sim.producers[*producer as usize].name;
            match retry_at {
                Some(at) => format!(
                    "{name} gets {error} for {} on {} (attempt {attempt}); retries at {} (retry.backoff.ms, doubling up to retry.backoff.max.ms)",
                    records(sim, recs),
                    tpn(tp),
                    ms(*at)
                ),
                None => format!("{name} gives up on {} for {}: {error} after {attempt} attempt(s)", records(sim, recs), tpn(tp)),
            }
        }
        Effect::MetadataUpdated { producer, changed } => {
            let name = &sim.producers[*producer as usize].name;
            if changed.is_empty() {
                format!("{name} refreshes metadata: no leader changed")
            } else {
                let list: Vec<String> = changed
                    .iter()
                    .map(|(tp, l)| format!("{} → {}", tpn(tp), l.map_or("none".to_string(), |l| format!("broker-{l}"))))
                    .collect();
                format!("{name} refreshes metadata: {}", list.join(", "))
            }
        }
        Effect::StaleResponse { producer, req } => format!(
            "{} ignores the response to request {req}: it already gave up on it",
            sim.producers[*producer as usize].name
        ),
        Effect::FetchFailed { tp, broker, error, retry_at } => format!(
            "broker-{broker}'s fetch for {} failed with {error}; it fetches again at {}",
            tpn(tp),
            ms(*retry_at)
        ),
        Effect::RetentionDeleted { tp, broker, records: recs, log_start } => format!(
            "broker-{broker} deletes {} old record(s) of {} by retention; log start offset is now {log_start}",
            recs.len(),
            tpn(tp)
        ),
        Effect::BrokerCrashed { broker } => format!("broker-{broker} CRASHES: its in-memory state and in-flight messages are lost; its log stays on disk"),
        Effect::ControlledShutdownBegan { broker } => format!(
            "broker-{broker} begins a controlled shutdown: it asks the controller to move its leaderships away before it stops"
        ),
        Effect::BrokerShutDown { broker } => format!(
            "broker-{broker} shuts down cleanly: it leads nothing, its log is flushed and a clean-shutdown file is written"
        ),
        Effect::BrokerInControlledShutdown { broker } => format!(
            "controller puts broker-{broker} in controlled shutdown: it leaves every ISR, and the partitions it led elect new leaders"
        ),
        Effect::ShutdownGranted { broker } => {
            format!("controller fences broker-{broker}, which leads nothing now, and lets it shut down (shouldShutDown = true)")
        }
        Effect::BrokerRestarted { broker } => format!("broker-{broker} restarts and registers with the controller"),
        Effect::LinkCut { from, to, both } => format!(
            "network partition: {} {} {} cut",
            node_name(sim, *from),
            if *both { "⇹" } else { "→" },
            node_name(sim, *to)
        ),
        Effect::LinkHealed { from, to, both } => format!(
            "network healed: {} {} {}",
            node_name(sim, *from),
            if *both { "⇹" } else { "→" },
            node_name(sim, *to)
        ),
        Effect::LinkChanged { from, to, latency_ms, jitter_ms, loss } => format!(
            "link {} → {} now has latency {latency_ms} ms, jitter {jitter_ms} ms, loss {:.0}%",
            node_name(sim, *from),
            node_name(sim, *to),
            loss * 100.0
        ),
        Effect::ConsumerAdded { consumer: c, like } => {
            format!("a new consumer {} is added to group {}, with the settings of {}", consumer(sim, *c), sim.groups[sim.consumers[*c as usize].group as usize].name, consumer(sim, *like))
        }
        Effect::ConsumerStarted { consumer: c } => format!("{} starts", consumer(sim, *c)),
        Effect::ConsumerCrashed { consumer: c, unprocessed } => format!(
            "{} CRASHES: no commit, no LeaveGroup; {unprocessed} fetched record(s) it had not processed are gone with it",
            consumer(sim, *c)
        ),
        Effect::ConsumerClosed { consumer: c, left_group } => {
            let how = if *left_group { "sends LeaveGroup so the group rebalances at once" } else { "is static: no LeaveGroup" };
            format!("{} closes and {how}", consumer(sim, *c))
        }
        Effect::ConsumerStalled { consumer: c, until } => {
            format!("{}'s application thread blocks until {} (no poll() meanwhile)", consumer(sim, *c), ms(*until))
        }
        Effect::CoordinatorFound { consumer: c, coordinator, offsets_partition } => format!(
            "{} finds its coordinator: broker-{coordinator}, leader of __consumer_offsets-{offsets_partition}",
            consumer(sim, *c)
        ),
        Effect::RebalanceStarted { group: g, coordinator, reason, deadline } => {
            let why = match reason {
                RebalanceReason::MemberJoined { consumer: c } => format!("{} joined", consumer(sim, *c)),
                RebalanceReason::MemberRejoined { consumer: c } => format!("{} rejoined with new metadata", consumer(sim, *c)),
                RebalanceReason::MemberRemoved { consumer: c } => format!("{} left the group", consumer(sim, *c)),
            };
            format!(
                "REBALANCE of group {} on broker-{coordinator}: {why}; members must rejoin by {}",
                group(sim, *g),
                ms(*deadline)
            )
        }
        Effect::MemberRemoved { group: g, member_id, consumer: c, reason } => {
            let why = match reason {
                RemoveReason::SessionTimeout => "no heartbeat within session.timeout.ms",
                RemoveReason::LeftGroup => "it sent LeaveGroup",
                RemoveReason::RebalanceTimeout => "it did not rejoin within the rebalance timeout (max.poll.interval.ms)",
            };
            format!("group {} removes {member_id} ({}): {why}", group(sim, *g), consumer(sim, *c))
        }
        Effect::GenerationStarted { group: g, generation, leader, members, strategy } => {
            let names: Vec<&str> = members.iter().map(|(c, _)| consumer(sim, *c)).collect();
            format!(
                "group {} generation {generation}: members [{}], leader {leader}, assignor {}",
                group(sim, *g),
                names.join(", "),
                strategy.name()
            )
        }
        Effect::AssignmentComputed { consumer: c, assignment, withheld, .. } => {
            let parts: Vec<String> =
                assignment.iter().map(|(m, tps)| format!("{} → {}", consumer(sim, *m), partitions(sim, tps))).collect();
            let mut s = format!("leader {} assigns: {}", consumer(sim, *c), parts.join("; "));
            if !withheld.is_empty() {
                let _ = write!(s, " (withheld until revoked: {})", partitions(sim, withheld));
            }
            s
        }
        Effect::AssignmentFailed { group: g, reason } => format!("group {}: the assignor failed: {reason}", group(sim, *g)),
        Effect::GroupStable { group: g, generation } => format!("group {} is Stable in generation {generation}", group(sim, *g)),
        Effect::StaticMemberReplaced { group: g, consumer: c, old_member, new_member } => format!(
            "static member {} is back ({old_member} → {new_member}) within session.timeout.ms: group {} keeps its assignment, no rebalance",
            consumer(sim, *c),
            group(sim, *g)
        ),
        Effect::PartitionsRevoked { consumer: c, partitions: p, how } => match how {
            Revocation::Eager if p.is_empty() => {
                format!("{} onPartitionsRevoked [] (eager: called before every rejoin, even when it owns nothing)", consumer(sim, *c))
            }
            Revocation::Eager => format!("{} onPartitionsRevoked {} (eager: everything)", consumer(sim, *c), partitions(sim, p)),
            Revocation::Cooperative => format!(
                "{} onPartitionsRevoked {} (cooperative: only the partitions that move)",
                consumer(sim, *c),
                partitions(sim, p)
            ),
            Revocation::Lost => format!(
                "{} onPartitionsLost {}: it is no longer in the group, another member may own them already",
                consumer(sim, *c),
                partitions(sim, p)
            ),
        },
        Effect::PartitionsAssigned { consumer: c, partitions: p, generation } => {
            format!("{} onPartitionsAssigned {} (generation {generation})", consumer(sim, *c), partitions(sim, p))
        }
        Effect::Polled { consumer: c, records: recs } => {
            let ids: Vec<RecordId> = recs.iter().map(|r| r.2).collect();
            let (first, last) = (recs.first().expect("not empty"), recs.last().expect("not empty"));
            format!(
                "{} poll() returns {} record(s) [{}]; position of {} now {}",
                consumer(sim, *c),
                recs.len(),
                records(sim, &ids),
                sim.tp_name(last.0),
                last.1 + 1
            ) + if first.0 != last.0 { " (and others)" } else { "" }
        }
        Effect::RecordProcessed { consumer: c, tp, offset, record, times } => {
            let again = if *times > 1 { format!(" — DUPLICATE: processed {times} times by this group") } else { String::new() };
            format!("{} processed {}@{offset} ({}){again}", consumer(sim, *c), sim.tp_name(*tp), record_label(sim, *record))
        }
        Effect::CommitSent { consumer: c, offsets: o, kind } => {
            let why = match kind {
                CommitKind::Auto => "auto-commit inside poll(): auto.commit.interval.ms passed",
                CommitKind::BeforeRebalance => "auto-commit before rejoining the group",
                CommitKind::OnClose => "auto-commit on close()",
                CommitKind::SyncBeforeProcessing => "commitSync() BEFORE processing",
                CommitKind::SyncAfterProcessing => "commitSync() after processing",
                CommitKind::AsyncAfterProcessing => "commitAsync() after processing",
            };
            format!("{} commits {} ({why})", consumer(sim, *c), offsets(sim, o))
        }
        Effect::OffsetsCommitted { group: g, coordinator, consumer: c, offsets: o } => format!(
            "broker-{coordinator} stored {}'s commit for group {}: {}",
            consumer(sim, *c),
            group(sim, *g),
            offsets(sim, o)
        ),
        Effect::CommitFailed { consumer: c, error, offsets: o } => {
            format!("{}'s commit of {} FAILED: {error}", consumer(sim, *c), offsets(sim, o))
        }
        Effect::PositionFromCommit { consumer: c, tp, offset } => {
            format!("{} resumes {} at the committed offset {offset}", consumer(sim, *c), sim.tp_name(*tp))
        }
        Effect::OffsetReset { consumer: c, tp, offset, policy, out_of_range } => {
            let why = if *out_of_range { "its position is out of range" } else { "no committed offset" };
            format!("{} starts {} at {offset}: {why}, auto.offset.reset={}", consumer(sim, *c), sim.tp_name(*tp), policy.name())
        }
        Effect::ConsumerRequestFailed { consumer: c, request, error } => {
            format!("{}'s {request} failed: {error}", consumer(sim, *c))
        }
        Effect::PollTimeout { consumer: c, since_poll_ms, max_ms, left_group } => {
            let then = if *left_group { "it leaves the group" } else { "static member: it waits for session.timeout.ms" };
            format!(
                "{} has not called poll() for {} > max.poll.interval.ms ({}): {then}",
                consumer(sim, *c),
                ms(*since_poll_ms),
                ms(*max_ms)
            )
        }
        Effect::ConsumerFailed { consumer: c, error, tp } => {
            let thrown = match error {
                super::KafkaError::NoOffsetForPartition => "NoOffsetForPartitionException (no committed offset and auto.offset.reset=none)".to_string(),
                super::KafkaError::OffsetOutOfRange => "OffsetOutOfRangeException (its position is outside the log and auto.offset.reset=none)".to_string(),
                other => other.to_string(),
            };
            format!("{}'s poll() throws {thrown} for {}: the consumer stops", consumer(sim, *c), sim.tp_name(*tp))
        }
        Effect::GroupLoaded { group: g, coordinator, generation, offsets: o } => format!(
            "broker-{coordinator} becomes coordinator of group {} and loads it from __consumer_offsets: generation {generation}, committed {}",
            group(sim, *g),
            if o.is_empty() { "nothing".to_string() } else { offsets(sim, o) }
        ),
        Effect::Say { text } => format!("💬 {text}"),
        Effect::Pause { question, answer, choices, correct } => {
            let mut s = format!("⏸ QUESTION: {question}");
            for (i, choice) in choices.iter().enumerate() {
                let mark = if *correct == Some(i as u32) { " ✓" } else { "" };
                let _ = write!(s, "\n      {}) {choice}{mark}", choice_letter(i));
            }
            if let Some(a) = answer {
                let _ = write!(s, "\n      ANSWER: {a}");
            }
            s
        }
    })
}

/// One step as JSON: its fields and its narration under `text`, as `kafkasim run --format json`
/// and the page's export write it.
pub fn step_json(sim: &Sim, step: &Step) -> serde_json::Value {
    #[derive(serde::Serialize)]
    struct JsonStep<'a> {
        #[serde(flatten)]
        step: &'a Step,
        text: String,
    }
    serde_json::to_value(JsonStep { step, text: describe_step(sim, step) }).expect("steps serialize")
}

/// The letter a pause point's choice is known by: A, B, C…
pub fn choice_letter(index: usize) -> char {
    (b'A' + (index % 26) as u8) as char
}

/// Whether a step is routine background work (heartbeats, empty fetches) that changes nothing a
/// student needs to see. The CLI hides these unless asked; they are still steps.
pub fn is_routine(step: &Step) -> bool {
    let quiet_event = match &step.event {
        StepEvent::Deliver { msg, .. } => {
            matches!(
                msg,
                Msg::Heartbeat { .. }
                    | Msg::Fetch { .. }
                    | Msg::FetchResponse { .. }
                    | Msg::MetadataRequest
                    | Msg::GroupHeartbeat { .. }
                    | Msg::GroupHeartbeatResponse { error: None, .. }
                    | Msg::ConsumerFetch { .. }
                    | Msg::ConsumerFetchResponse { error: None, .. }
            )
        }
        StepEvent::Timer { timer } => matches!(
            timer,
            Timer::Heartbeat { .. } | Timer::FetchWait { .. } | Timer::ConsumerTick { .. } | Timer::ConsumerFetchWait { .. }
        ),
        StepEvent::Dropped { .. } => false,
    };
    quiet_event && step.effects.iter().all(|e| matches!(e, Effect::Sent { dropped: None, .. }))
}

/// A step's first narration line: time, step number and the event.
pub fn describe_headline(sim: &Sim, step: &Step) -> String {
    format!("[{:>9}] #{:<5} {}", ms(step.time), step.index, describe_event(sim, &step.event))
}

/// The full narration of a step: a headline and one indented line per effect.
pub fn describe_step(sim: &Sim, step: &Step) -> String {
    let mut out = describe_headline(sim, step);
    for effect in &step.effects {
        if let Some(line) = describe_effect(sim, effect) {
            let _ = write!(out, "\n              · {line}");
        }
    }
    out
}

/// The kinds of step that get a marker on the page's timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkerKind {
    /// A broker or consumer crashed, closed or stalled.
    Crash,
    /// A broker or consumer started again.
    Restart,
    /// A leader election, or a partition went offline.
    Election,
    /// The ISR shrank or grew.
    Isr,
    /// A consumer group started a rebalance.
    Rebalance,
    /// A follower truncated records away, or a group processed a record again.
    Loss,
    /// A link was cut or healed.
    Network,
    /// A pause point with a question.
    Pause,
}

impl MarkerKind {
    /// Every kind, most telling first (the page's legend lists them in this order).
    pub const ALL: [MarkerKind; 8] = [
        MarkerKind::Loss,
        MarkerKind::Crash,
        MarkerKind::Election,
        MarkerKind::Rebalance,
        MarkerKind::Isr,
        MarkerKind::Restart,
        MarkerKind::Network,
        MarkerKind::Pause,
    ];

    /// The CSS-friendly name (`crash`, `election`…).
    pub fn name(self) -> &'static str {
        match self {
            MarkerKind::Crash => "crash",
            MarkerKind::Restart => "restart",
            MarkerKind::Election => "election",
            MarkerKind::Isr => "isr",
            MarkerKind::Rebalance => "rebalance",
            MarkerKind::Loss => "loss",
            MarkerKind::Network => "network",
            MarkerKind::Pause => "pause",
        }
    }
}

/// Why a step deserves a timeline marker: its most telling effect (in the order of
/// [`MarkerKind::ALL`]) decides the kind, and that effect's narration is the label. Routine steps
/// get none.
pub fn marker(sim: &Sim, step: &Step) -> Option<(MarkerKind, String)> {
    step.effects
        .iter()
        .filter_map(|effect| {
            let kind = match effect {
                Effect::BrokerCrashed { .. } | Effect::BrokerShutDown { .. } | Effect::ConsumerCrashed { .. } | Effect::ConsumerClosed { .. } | Effect::ConsumerStalled { .. } => MarkerKind::Crash,
                Effect::BrokerRestarted { .. } | Effect::ConsumerStarted { .. } | Effect::ConsumerAdded { .. } => MarkerKind::Restart,
                Effect::LeaderElected { .. } | Effect::PartitionOffline { .. } => MarkerKind::Election,
                Effect::IsrChanged { .. } => MarkerKind::Isr,
                Effect::RebalanceStarted { .. } => MarkerKind::Rebalance,
                Effect::Truncated { removed, .. } if !removed.is_empty() => MarkerKind::Loss,
                Effect::RecordProcessed { times, .. } if *times > 1 => MarkerKind::Loss,
                Effect::LinkCut { .. } | Effect::LinkHealed { .. } => MarkerKind::Network,
                Effect::Pause { .. } => MarkerKind::Pause,
                _ => return None,
            };
            Some((kind, effect))
        })
        .min_by_key(|(kind, _)| MarkerKind::ALL.iter().position(|k| k == kind))
        .map(|(kind, effect)| (kind, describe_effect(sim, effect).unwrap_or_default()))
}

/// A 64-bit FNV-1a hash of a run's narrated trace (every step, routine ones included), so that
/// the CLI and the page can show that they ran the same thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceHash(u64);

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash(0xcbf2_9ce4_8422_2325)
    }
}

impl TraceHash {
    /// Adds one step's narration (and a newline).
    pub fn add(&mut self, sim: &Sim, step: &Step) {
        for byte in describe_step(sim, step).bytes().chain(std::iter::once(b'\n')) {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash as 16 hex digits.
    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}
