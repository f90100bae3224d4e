//! Formatters that turn steps into narration. The CLI, the page and the golden tests all read
//! this text, so it lives in the core.

use super::client::effect::ConsumerEffect;
use super::cluster::effect::ClusterEffect;
use super::group::effect::GroupEffect;
use super::ledger::InternalRecord;
use super::msg::Msg;
use super::narrate::{brokers, drop_reason, ms, offsets, partitions, records, Names};
pub use super::narrate::choice_letter;
use super::net::NetEffect;
use super::registry_glue::RegistryAction;
use super::serdes::Class;
use super::setup::{Action, OffsetsToSend, ScenarioEffect};
use super::step::{Effect, Step, StepEvent};
use super::timer::Timer;
use super::types::{KafkaError, NodeId, RecordId, Tp};
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

fn error_or_ok(error: &Option<KafkaError>) -> String {
    error.map_or("ok".to_string(), |e| format!("error {e}"))
}

impl Names for Sim {
    fn tp_name(&self, tp: Tp) -> String {
        Sim::tp_name(self, tp)
    }

    fn node_name(&self, node: NodeId) -> String {
        node_name(self, node)
    }

    fn producer_name(&self, producer: u32) -> &str {
        &self.producers[producer as usize].name
    }

    fn consumer_name(&self, c: u32) -> &str {
        &self.consumers[c as usize].name
    }

    fn group_name(&self, g: u32) -> &str {
        &self.groups[g as usize].name
    }

    fn consumer_group(&self, c: u32) -> u32 {
        self.consumers[c as usize].group
    }

    fn topic_partitions(&self, topic: u32) -> u32 {
        self.topics[topic as usize].partitions
    }

    fn topic_name(&self, topic: u32) -> &str {
        &self.topics[topic as usize].name
    }

    fn record_label(&self, id: RecordId) -> String {
        let r = self.ledger.get(id);
        if let Some(InternalRecord::TxnMarker { commit, .. }) = r.internal.as_deref() {
            return if *commit { "a COMMIT marker" } else { "an ABORT marker" }.to_string();
        }
        let label = match &r.key {
            Some(k) => format!("{k}={}", r.value),
            None => r.value.clone(),
        };
        // A serialized value's size is the lesson's point: the bytes its serializer wrote.
        match r.payload.as_deref() {
            Some(p) => match p.schema_id {
                Some(id) => format!("{label} ({} bytes: magic byte, schema id {id}, Avro)", p.bytes.len()),
                None => format!("{label} ({} bytes, {})", p.bytes.len(), p.serializer.short()),
            },
            None => label,
        }
    }

    fn txn_name(&self, txn: u32) -> &str {
        &self.txn_ids[txn as usize].name
    }

    fn pipeline_name(&self, pipeline: u32) -> &str {
        &self.pipelines[pipeline as usize].spec.name
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
        Msg::FindCoordinator { group: g } => format!("FindCoordinator for group {}", sim.group_name(*g)),
        Msg::FindCoordinatorResponse { group: g, coordinator } => match coordinator {
            Some(b) => format!("FindCoordinatorResponse: group {} → broker-{b}", sim.group_name(*g)),
            None => format!("FindCoordinatorResponse: group {} has no coordinator (COORDINATOR_NOT_AVAILABLE)", sim.group_name(*g)),
        },
        Msg::JoinGroup { group: g, member_id, owned, generation, .. } => {
            let who = if member_id.is_empty() { "new member".to_string() } else { member_id.clone() };
            let owned = if owned.is_empty() { String::new() } else { format!(", owns {} from generation {generation}", partitions(sim, owned)) };
            format!("JoinGroup {} ({who}{owned})", sim.group_name(*g))
        }
        Msg::JoinGroupResponse { group: g, result, .. } => match result {
            Ok(r) => {
                let role = if r.leader == r.member_id { ", you are the leader" } else { "" };
                format!("JoinGroupResponse {} generation {} as {}{role}", sim.group_name(*g), r.generation, r.member_id)
            }
            Err(e) => format!("JoinGroupResponse {} error {e}", sim.group_name(*g)),
        },
        Msg::SyncGroup { group: g, generation, assignments, .. } => {
            let what = if assignments.is_empty() { "" } else { " with the assignment" };
            format!("SyncGroup {} generation {generation}{what}", sim.group_name(*g))
        }
        Msg::SyncGroupResponse { group: g, result, .. } => match result {
            Ok(a) => format!("SyncGroupResponse {}: assigned {}", sim.group_name(*g), partitions(sim, a)),
            Err(e) => format!("SyncGroupResponse {} error {e}", sim.group_name(*g)),
        },
        Msg::GroupHeartbeat { group: g, generation, .. } => format!("Heartbeat {} generation {generation}", sim.group_name(*g)),
        Msg::GroupHeartbeatResponse { group: g, error } => format!("HeartbeatResponse {} {}", sim.group_name(*g), error_or_ok(error)),
        Msg::LeaveGroup { group: g, member_id } => format!("LeaveGroup {} ({member_id})", sim.group_name(*g)),
        Msg::OffsetCommit { group: g, generation, offsets: o, .. } => {
            format!("OffsetCommit {} generation {generation}: {}", sim.group_name(*g), offsets(sim, o))
        }
        Msg::OffsetCommitResponse { group: g, error, .. } => format!("OffsetCommitResponse {} {}", sim.group_name(*g), error_or_ok(error)),
        Msg::OffsetFetch { group: g, partitions: p, .. } => format!("OffsetFetch {} for {}", sim.group_name(*g), partitions(sim, p)),
        Msg::OffsetFetchResponse { group: g, result, .. } => match result {
            Ok(list) => {
                let parts: Vec<String> = list
                    .iter()
                    .map(|(tp, o)| format!("{}={}", sim.tp_name(*tp), o.map_or("none".to_string(), |o| o.to_string())))
                    .collect();
                format!("OffsetFetchResponse {}: {}", sim.group_name(*g), parts.join(", "))
            }
            Err(e) => format!("OffsetFetchResponse {} error {e}", sim.group_name(*g)),
        },
        Msg::ListOffsets { tp, earliest, read_committed, .. } => {
            let which = match (*earliest, *read_committed) {
                (true, _) => "earliest",
                (false, true) => "latest (read_committed: the last stable offset)",
                (false, false) => "latest",
            };
            format!("ListOffsets {} {which}", sim.tp_name(*tp))
        }
        Msg::ListOffsetsResponse { tp, result, .. } => match result {
            Ok(o) => format!("ListOffsetsResponse {} offset {o}", sim.tp_name(*tp)),
            Err(e) => format!("ListOffsetsResponse {} error {e}", sim.tp_name(*tp)),
        },
        Msg::ConsumerOffsetsForLeaderEpoch { tp, current_leader_epoch, leader_epoch, .. } => format!(
            "OffsetsForLeaderEpoch {} epoch {leader_epoch} (consumer; current leader epoch {current_leader_epoch})",
            sim.tp_name(*tp)
        ),
        Msg::ConsumerOffsetsForLeaderEpochResponse { tp, result, .. } => match result {
            Ok(Some((epoch, end))) => format!("OffsetsForLeaderEpochResponse {} epoch {epoch} ends at {end}", sim.tp_name(*tp)),
            Ok(None) => format!("OffsetsForLeaderEpochResponse {} epoch unknown", sim.tp_name(*tp)),
            Err(e) => format!("OffsetsForLeaderEpochResponse {} error {e}", sim.tp_name(*tp)),
        },
        Msg::ConsumerFetch { tp, offset, read_committed, .. } => {
            format!("Fetch {} from offset {offset} (consumer{})", sim.tp_name(*tp), if *read_committed { ", read_committed" } else { "" })
        }
        Msg::ConsumerFetchResponse { tp, records: recs, high_watermark, error, last_stable_offset, aborted, .. } => match (error, last_stable_offset) {
            (Some(e), _) => format!("FetchResponse {} error {e}", sim.tp_name(*tp)),
            (None, Some(lso)) => {
                let aborted = if aborted.is_empty() { String::new() } else { format!(", {} aborted transaction(s) among them", aborted.len()) };
                format!("FetchResponse {} {} record(s) below the LSO {lso} (HW {high_watermark}){aborted}", sim.tp_name(*tp), recs.len())
            }
            (None, None) => format!("FetchResponse {} {} record(s) below HW {high_watermark}", sim.tp_name(*tp), recs.len()),
        },
        Msg::FindTxnCoordinator { txn } => format!("FindCoordinator for transactional id {}", sim.txn_name(*txn)),
        Msg::FindTxnCoordinatorResponse { txn, coordinator } => match coordinator {
            Some(b) => format!("FindCoordinatorResponse: transactional id {} → broker-{b}", sim.txn_name(*txn)),
            None => format!("FindCoordinatorResponse: transactional id {} has no coordinator (COORDINATOR_NOT_AVAILABLE)", sim.txn_name(*txn)),
        },
        Msg::InitProducerId { txn: Some(txn), timeout_ms, .. } => format!("InitProducerId {} (transaction.timeout.ms {timeout_ms})", sim.txn_name(*txn)),
        Msg::InitProducerId { txn: None, .. } => "InitProducerId (idempotent, no transactional.id)".to_string(),
        Msg::InitProducerIdResponse { result, .. } => match result {
            Ok((pid, epoch)) => format!("InitProducerIdResponse: producer id {pid}, epoch {epoch}"),
            Err(e) => format!("InitProducerIdResponse error {e}"),
        },
        Msg::AddPartitionsToTxn { txn, tp, epoch, .. } => format!("AddPartitionsToTxn {} to {}'s transaction (epoch {epoch})", sim.tp_name(*tp), sim.txn_name(*txn)),
        Msg::AddPartitionsToTxnResponse { tp, error, .. } => match error {
            Some(e) => format!("AddPartitionsToTxnResponse {} error {e}", sim.tp_name(*tp)),
            None => format!("AddPartitionsToTxnResponse {} added", sim.tp_name(*tp)),
        },
        Msg::EndTxn { txn, epoch, commit, .. } => format!("EndTxn {} {} (epoch {epoch})", sim.txn_name(*txn), if *commit { "COMMIT" } else { "ABORT" }),
        Msg::EndTxnResponse { result, .. } => match result {
            Ok((_, epoch)) => format!("EndTxnResponse ok, new epoch {epoch}"),
            Err(e) => format!("EndTxnResponse error {e}"),
        },
        Msg::WriteTxnMarkers { txn, commit, tps, epoch, .. } => {
            let names: Vec<String> = tps.iter().map(|&tp| sim.tp_name(tp)).collect();
            format!("WriteTxnMarkers {} for {} (epoch {epoch}) to [{}]", if *commit { "COMMIT" } else { "ABORT" }, sim.txn_name(*txn), names.join(", "))
        }
        Msg::WriteTxnMarkersResponse { tp, error, .. } => match error {
            Some(e) => format!("WriteTxnMarkersResponse {} error {e}", sim.tp_name(*tp)),
            None => format!("WriteTxnMarkersResponse {} marker written", sim.tp_name(*tp)),
        },
        Msg::TxnOffsetCommit { txn, group, generation, offsets, epoch, .. } => {
            let parts: Vec<String> = offsets.iter().map(|(tp, o)| format!("{} → {o}", sim.tp_name(*tp))).collect();
            format!("TxnOffsetCommit {} in {}'s transaction (epoch {epoch}, generation {generation}): {}", sim.group_name(*group), sim.txn_name(*txn), parts.join(", "))
        }
        Msg::TxnOffsetCommitResponse { group, error, .. } => match error {
            Some(e) => format!("TxnOffsetCommitResponse {} error {e}", sim.group_name(*group)),
            None => format!("TxnOffsetCommitResponse {}: offsets written into the transaction", sim.group_name(*group)),
        },
    }
}

/// What a timeline entry does, in a few words, for the headline of the step that runs it.
fn action_label(sim: &Sim, action: &Action) -> String {
    let consumer = |c: &u32| sim.consumer_name(*c).to_string();
    let link = |from: &NodeId, to: &NodeId, both: &bool| format!("{} {} {}", node_name(sim, *from), if *both { "↔" } else { "→" }, node_name(sim, *to));
    match action {
        Action::Produce(p) => {
            let records = if p.count == 1 { "1 record".to_string() } else { format!("{} records", p.count) };
            format!("{} sends {records} to {}", sim.producer_name(p.producer), sim.topics[p.topic as usize].name)
        }
        Action::Crash(b) => format!("crash broker-{b}"),
        Action::PowerLoss(b) => format!("broker-{b} loses power"),
        Action::ControlledShutdown(b) => format!("controlled shutdown of broker-{b}"),
        Action::Restart(b) => format!("restart broker-{b}"),
        Action::Cut { from, to, both } => format!("cut the link {}", link(from, to, both)),
        Action::Heal { from, to, both } => format!("heal the link {}", link(from, to, both)),
        Action::SetLink { from, to, both, .. } => format!("change the link {}", link(from, to, both)),
        Action::Say(_) => "the lecturer says".to_string(),
        Action::Registry(a) => {
            let spec = |i: &u32| sim.schemas.specs[*i as usize].name.clone();
            match a {
                RegistryAction::Register(i) => format!("register {} with schema-registry", spec(i)),
                RegistryAction::SetCompatibility { subject: Some(s), level } => format!("set {s}'s compatibility to {}", level.name()),
                RegistryAction::SetCompatibility { subject: None, level } => format!("set the global compatibility to {}", level.name()),
                RegistryAction::Crash => "crash schema-registry".to_string(),
                RegistryAction::Restart => "restart schema-registry".to_string(),
                RegistryAction::SwitchProducer { producer, schema } => format!("redeploy {} with {}", sim.producer_name(*producer), spec(schema)),
                RegistryAction::SwitchConsumer { consumer: c, schema } => format!("redeploy {} with {}", consumer(c), spec(schema)),
            }
        }
        Action::Pause { .. } => "a question for the class".to_string(),
        Action::StartConsumer(c) => format!("start {}", consumer(c)),
        Action::AddConsumer { name, .. } => format!("add consumer {name}"),
        Action::CrashConsumer(c) => format!("crash {}", consumer(c)),
        Action::CloseConsumer(c) => format!("close() {}", consumer(c)),
        Action::StallConsumer { consumer: c, ms } => format!("stall {} for {ms} ms", consumer(c)),
        Action::Subscribe { consumer: c, topics } => {
            let names: Vec<&str> = topics.iter().map(|t| sim.topics[*t as usize].name.as_str()).collect();
            format!("{} calls subscribe([{}])", consumer(c), names.join(", "))
        }
        Action::AppCall { consumer: c, call } => format!("{} calls {}", consumer(c), call.name()),
        Action::Transaction { producer, call } => format!("{} calls {}", sim.producer_name(*producer), call.name()),
        Action::SendOffsetsToTransaction { producer, offsets: OffsetsToSend::Given { group, .. } } => {
            format!("{} calls sendOffsetsToTransaction for group {group}", sim.producer_name(*producer))
        }
        Action::SendOffsetsToTransaction { producer, offsets: OffsetsToSend::Consumer(c) } => {
            format!("{} calls sendOffsetsToTransaction with {}'s positions and groupMetadata()", sim.producer_name(*producer), consumer(c))
        }
        Action::IncrementalAlterConfigs { topic, .. } => format!("incrementalAlterConfigs on topic {}", sim.topics[*topic as usize].name),
        Action::CreateTopics { topic, partitions } => format!("createTopics {} with {partitions} partition(s)", sim.topics[*topic as usize].name),
        Action::CreatePartitions { topic, count } => format!("createPartitions: {} to {count} partitions", sim.topics[*topic as usize].name),
    }
}

fn describe_timer(sim: &Sim, timer: &Timer) -> String {
    match timer {
        Timer::Action { index } => format!("timeline: {}", action_label(sim, &sim.timeline()[*index].action)),
        Timer::ProduceTick { index, n } => format!("timeline: {}, record {}", action_label(sim, &sim.timeline()[*index].action), n + 1),
        Timer::Heartbeat { broker, .. } => format!("broker-{broker} heartbeat timer"),
        Timer::ShutdownHeartbeat { broker, .. } => format!("broker-{broker} heartbeats again, still waiting to shut down"),
        Timer::SessionCheck { broker } => format!("controller checks broker-{broker}'s session"),
        Timer::ElectUnclean => "controller's periodic check for leaderless partitions that allow unclean election (every 5 minutes)".to_string(),
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
        Timer::ProducerDeadline { producer } => format!("{} deadline check", sim.producer_name(*producer)),
        Timer::ProducerWake { producer } => format!("{} sender wakes up", sim.producer_name(*producer)),
        Timer::ProducerMetadataRefresh { producer } => format!("{}'s metadata is due for a refresh", sim.producer_name(*producer)),
        Timer::ProducerConnectTimeout { producer, broker, .. } => {
            format!("{}'s connection to broker-{broker} hit socket.connection.setup.timeout.ms", sim.producer_name(*producer))
        }
        Timer::ConsumerTick { consumer: c, .. } => format!("{} heartbeat thread", sim.consumer_name(*c)),
        Timer::ConsumerProcessed { consumer: c, .. } => format!("{} finished processing a record", sim.consumer_name(*c)),
        Timer::ConsumerPoll { consumer: c, .. } => format!("{} calls poll() again", sim.consumer_name(*c)),
        Timer::ConsumerPollTimeout { consumer: c, .. } => format!("{}'s poll() reaches its timeout", sim.consumer_name(*c)),
        Timer::ConsumerOffsetFetchRetry { consumer: c, .. } => format!("{} asks for its committed offsets again", sim.consumer_name(*c)),
        Timer::ConsumerCommitRetry { consumer: c, .. } => format!("{}'s commitSync() tries again", sim.consumer_name(*c)),
        Timer::ConsumerReconnect { consumer: c, broker, .. } => {
            format!("{}'s reconnect backoff to broker-{broker} has passed (reconnect.backoff.ms)", sim.consumer_name(*c))
        }
        Timer::ConsumerFetchWait { broker, pidx, .. } => format!(
            "broker-{broker}: consumer fetch for {} reached fetch.max.wait.ms",
            sim.tp_name(sim.tp(*pidx))
        ),
        Timer::GroupJoinDeadline { broker, group: g, .. } => {
            format!("broker-{broker}: the join phase of group {} ends", sim.group_name(*g))
        }
        Timer::CommitTimeout { broker, group: g, .. } => {
            format!("broker-{broker}: offsets.commit.timeout.ms of a commit for group {} ends", sim.group_name(*g))
        }
        Timer::OffsetFetchTimeout { broker, group: g, .. } => {
            format!("broker-{broker}: offsets.commit.timeout.ms of a held OffsetFetch for group {} ends", sim.group_name(*g))
        }
        Timer::MemberSessionCheck { broker, group: g, member_id, .. } => {
            format!("broker-{broker} checks the session of {member_id} in group {}", sim.group_name(*g))
        }
        Timer::TxnSweep { broker, .. } => {
            format!("broker-{broker}'s transaction coordinator looks for transactions open longer than their transaction.timeout.ms")
        }
        Timer::TxnMarkerRetry { broker, txn, .. } => format!("broker-{broker} sends {}'s markers again", sim.txn_name(*txn)),
        Timer::TxnMarkerTimeout { broker, txn, .. } => {
            format!("broker-{broker}: a WriteTxnMarkers for {} has had no answer for request.timeout.ms; it sends the markers again", sim.txn_name(*txn))
        }
        Timer::ProducerTxnRetry { producer } => {
            // The same timer serves an idempotent producer's InitProducerId.
            let request = if sim.producers[*producer as usize].txn.is_some() { "transactional request" } else { "InitProducerId" };
            format!("{}'s {request} timer (retry.backoff.ms, or request.timeout.ms of the request in flight)", sim.producer_name(*producer))
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

/// One effect as a sentence that says why, or `None` for effects shown only by animation. Each
/// layer narrates its own effects.
pub fn describe_effect(sim: &Sim, effect: &Effect) -> Option<String> {
    effect.describe(sim)
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
    quiet_event && step.effects.iter().all(|e| matches!(e, Effect::Net(NetEffect::Sent { dropped: None, .. })))
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
                Effect::Cluster(ClusterEffect::BrokerCrashed { .. } | ClusterEffect::BrokerShutDown { .. } | ClusterEffect::BrokerPowerLost { .. })
                | Effect::Consumer(ConsumerEffect::ConsumerCrashed { .. } | ConsumerEffect::ConsumerClosed { .. } | ConsumerEffect::ConsumerStalled { .. }) => MarkerKind::Crash,
                Effect::Cluster(ClusterEffect::BrokerRestarted { .. }) | Effect::Consumer(ConsumerEffect::ConsumerStarted { .. } | ConsumerEffect::ConsumerAdded { .. }) => MarkerKind::Restart,
                Effect::Cluster(ClusterEffect::LeaderElected { .. } | ClusterEffect::PartitionOffline { .. }) => MarkerKind::Election,
                Effect::Cluster(ClusterEffect::IsrChanged { .. }) => MarkerKind::Isr,
                Effect::Group(GroupEffect::RebalanceStarted { .. }) => MarkerKind::Rebalance,
                Effect::Cluster(ClusterEffect::Truncated { removed, .. }) if !removed.is_empty() => MarkerKind::Loss,
                Effect::Consumer(ConsumerEffect::RecordProcessed { times, .. }) if *times > 1 => MarkerKind::Loss,
                Effect::Net(NetEffect::LinkCut { .. } | NetEffect::LinkHealed { .. }) => MarkerKind::Network,
                Effect::Scenario(ScenarioEffect::Pause { .. }) => MarkerKind::Pause,
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
