//! Expectations: what a scenario says must hold, checked against the simulation.

use crate::sim::ledger::{ListenerMethod, Outcome};
use crate::sim::log::ReplicaLog;
use crate::sim::txn::TxnState;
use crate::sim::map::VecMap;
use crate::sim::types::{BrokerId, KafkaError, Strategy, Tp};
use crate::sim::view::{GroupLedgerView, Verdict};
use crate::sim::Sim;

/// A ledger total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    /// Records sent.
    Sent,
    /// Records acknowledged.
    Acknowledged,
    /// Records failed at the producer.
    Failed,
    /// Records not in the final log.
    Lost,
    /// Acknowledged records not in the final log.
    AcknowledgedLost,
    /// Records in the final log more than once.
    Duplicated,
    /// Records out of order per producer and key.
    OutOfOrder,
    /// Records of aborted transactions.
    Aborted,
}

impl Total {
    fn name(self) -> &'static str {
        match self {
            Total::Sent => "sent",
            Total::Acknowledged => "acknowledged",
            Total::Failed => "failed",
            Total::Lost => "lost",
            Total::AcknowledgedLost => "acknowledged_lost",
            Total::Duplicated => "duplicated",
            Total::OutOfOrder => "out_of_order",
            Total::Aborted => "aborted",
        }
    }
}

/// A per-group total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupTotal {
    /// Distinct records processed.
    Processed,
    /// Records the group skipped for good.
    Lost,
    /// Records processed more than once.
    Duplicated,
    /// Records not processed yet.
    Pending,
    /// Ordering violations per key.
    OutOfOrder,
    /// Rebalances started.
    Rebalances,
    /// Total lag at the time.
    Lag,
    /// Records of aborted transactions the group processed.
    AbortedProcessed,
}

impl GroupTotal {
    fn name(self) -> &'static str {
        match self {
            GroupTotal::Processed => "processed",
            GroupTotal::Lost => "lost",
            GroupTotal::Duplicated => "duplicated",
            GroupTotal::Pending => "pending",
            GroupTotal::OutOfOrder => "out_of_order",
            GroupTotal::Rebalances => "rebalances",
            GroupTotal::Lag => "lag",
            GroupTotal::AbortedProcessed => "aborted (records of aborted transactions processed)",
        }
    }
}

/// One thing to check.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// A ledger total equals `value`.
    Total {
        /// Which.
        what: Total,
        /// Expected.
        value: u32,
    },
    /// The controller's leader (none = offline).
    Leader {
        /// Partition.
        tp: Tp,
        /// Expected leader.
        leader: Option<BrokerId>,
    },
    /// The leader epoch.
    LeaderEpoch {
        /// Partition.
        tp: Tp,
        /// Expected.
        epoch: u32,
    },
    /// The ISR (order-insensitive).
    Isr {
        /// Partition.
        tp: Tp,
        /// Expected members.
        isr: Vec<BrokerId>,
    },
    /// The eligible leader replicas (order-insensitive).
    Elr {
        /// Partition.
        tp: Tp,
        /// Expected members.
        elr: Vec<BrokerId>,
    },
    /// The HW of a replica (default: the leader).
    HighWatermark {
        /// Partition.
        tp: Tp,
        /// Replica, or the leader.
        replica: Option<BrokerId>,
        /// Expected.
        value: u64,
    },
    /// The last stable offset of a replica (default: the leader).
    LastStableOffset {
        /// Partition.
        tp: Tp,
        /// Replica, or the leader.
        replica: Option<BrokerId>,
        /// Expected.
        value: u64,
    },
    /// A pipeline's end-to-end count: its inputs below the committed offsets with no readable
    /// output (`lost`), or with more than one (`duplicated`).
    PipelineTotal {
        /// The pipeline.
        pipeline: String,
        /// Lost (else duplicated).
        lost: bool,
        /// Expected.
        value: u32,
    },
    /// A pipeline's end-to-end verdict.
    PipelineVerdict {
        /// The pipeline.
        pipeline: String,
        /// Expected.
        verdict: Verdict,
    },
    /// A transactional id's state at its coordinator.
    TransactionState {
        /// The `transactional.id`.
        transactional_id: String,
        /// Expected.
        state: TxnState,
    },
    /// A replica's LEO.
    LogEndOffset {
        /// Partition.
        tp: Tp,
        /// Replica.
        replica: BrokerId,
        /// Expected.
        value: u64,
    },
    /// A replica's log values in order.
    Log {
        /// Partition.
        tp: Tp,
        /// Replica.
        replica: BrokerId,
        /// Expected values.
        values: Vec<String>,
    },
    /// The producer saw each of these errors at least once.
    ErrorsSeen {
        /// Producer.
        producer: u32,
        /// Errors.
        errors: Vec<KafkaError>,
    },
    /// The client saw none of these errors.
    ErrorsNotSeen {
        /// Whose errors.
        who: ErrorSource,
        /// Errors.
        errors: Vec<KafkaError>,
    },
    /// The client saw at least one of these errors.
    ErrorsSeenOneOf {
        /// Whose errors.
        who: ErrorSource,
        /// Errors.
        errors: Vec<KafkaError>,
    },
    /// The producer saw no error at all.
    NoErrors {
        /// Producer.
        producer: u32,
    },
    /// A group total.
    GroupTotal {
        /// `group.id`.
        group: String,
        /// Which.
        what: GroupTotal,
        /// Expected.
        value: u64,
    },
    /// The delivery verdict for a group.
    Verdict {
        /// `group.id`.
        group: String,
        /// Expected.
        verdict: Verdict,
    },
    /// The group's generation on its coordinator.
    Generation {
        /// `group.id`.
        group: String,
        /// Expected.
        value: i32,
    },
    /// The group's committed offset for a partition (none: it has no committed offset there).
    Committed {
        /// `group.id`.
        group: String,
        /// Partition.
        tp: Tp,
        /// Expected.
        offset: Option<u64>,
    },
    /// A consumer's assignment (order-insensitive).
    Assignment {
        /// Consumer.
        consumer: u32,
        /// Expected partitions.
        tps: Vec<Tp>,
    },
    /// A consumer's position.
    Position {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// Expected.
        offset: u64,
    },
    /// A consumer's process state.
    ConsumerState {
        /// Consumer.
        consumer: u32,
        /// Expected (snake_case name).
        state: String,
    },
    /// The controller's unclean elections so far (a last-known-leader election counts, as in Kafka).
    UncleanElections {
        /// Expected.
        value: u32,
    },
    /// The group's state as `describeGroups` reports it.
    GroupState {
        /// `group.id`.
        group: String,
        /// Kafka's name (`Stable`, `Empty`, … or `Dead`).
        state: String,
    },
    /// The assignor the group picked for its generation.
    Protocol {
        /// `group.id`.
        group: String,
        /// Expected.
        strategy: Strategy,
    },
    /// The offset the producer's callback reported for the record with this value (-1 for acks=0,
    /// as `RecordMetadata.offset()` reports it).
    RecordOffset {
        /// Producer.
        producer: u32,
        /// The record's value.
        value: String,
        /// Expected.
        offset: i64,
    },
    /// The values a consumer's application processed, in order.
    Read {
        /// Consumer.
        consumer: u32,
        /// Expected values.
        values: Vec<String>,
    },
    /// The offsets a consumer's application processed on one partition, in order.
    ReadOffsets {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// Expected offsets.
        offsets: Vec<u64>,
    },
    /// Every rebalance listener call a consumer's application saw, in order.
    ListenerCalls {
        /// Consumer.
        consumer: u32,
        /// Expected calls, each a method and its partitions.
        calls: Vec<(ListenerMethod, Vec<Tp>)>,
    },
    /// The exception that stopped a consumer's poll loop (none: nothing stopped it).
    StoppedBy {
        /// Consumer.
        consumer: u32,
        /// Expected.
        error: Option<KafkaError>,
    },
    /// A consumer's member id.
    MemberId {
        /// Consumer.
        consumer: u32,
        /// Expected.
        id: String,
    },
    /// The leader epoch stored with each record of a replica's log, in order.
    LeaderEpochs {
        /// Partition.
        tp: Tp,
        /// Replica.
        replica: BrokerId,
        /// Expected epochs.
        epochs: Vec<u32>,
    },
    /// The consumer saw each of these errors (an empty list: no error at all).
    ConsumerErrorsSeen {
        /// Consumer.
        consumer: u32,
        /// Errors.
        errors: Vec<KafkaError>,
    },
}

/// The client whose errors a check reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorSource {
    /// A producer, by index.
    Producer(u32),
    /// A consumer, by index.
    Consumer(u32),
}

/// A group of checks at one time, from one `[[expect]]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// When (none = end of run).
    pub at: Option<u64>,
    /// Line of the `[[expect]]` table.
    pub line: usize,
    /// Checks.
    pub checks: Vec<Check>,
    /// Whether counts are minimums rather than exact (a challenge's goal).
    pub at_least: bool,
}

/// The outcome of one check.
#[derive(Clone, Debug)]
pub struct CheckResult {
    /// What was checked, e.g. `leader of orders-0 = 2`.
    pub description: String,
    /// What was found.
    pub actual: String,
    /// Whether it held.
    pub passed: bool,
}

/// The outcome of one expectation.
#[derive(Clone, Debug)]
pub struct ExpectationResult {
    /// Line in the file.
    pub line: usize,
    /// Time checked.
    pub time: u64,
    /// Each check.
    pub checks: Vec<CheckResult>,
}

impl ExpectationResult {
    /// Whether every check held.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// The records a consumer's application processed, in order (its group's processing history).
fn processed_by(sim: &Sim, consumer: u32) -> impl Iterator<Item = crate::sim::ledger::Processing> + '_ {
    let group = sim.consumers[consumer as usize].group;
    sim.ledger.groups.get(group as usize).into_iter().flat_map(move |g| g.processing.iter().filter(move |p| p.consumer == consumer))
}

fn group_ledger(sim: &Sim, name: &str) -> Option<GroupLedgerView> {
    sim.find_group(name).map(|g| sim.group_ledger_totals(g))
}

fn list(v: &[BrokerId]) -> String {
    format!("{v:?}")
}

/// A listener call as the check prints it: `onPartitionsAssigned [orders-0, orders-1]`, the
/// partitions sorted (Kafka passes a collection whose order carries no meaning).
pub fn listener_call_text(sim: &Sim, method: ListenerMethod, tps: &[Tp]) -> String {
    let mut names: Vec<String> = tps.iter().map(|tp| sim.tp_name(*tp)).collect();
    names.sort();
    format!("{} [{}]", method.name(), names.join(", "))
}

/// The offsets the producer's callback reported for its records with this value, as
/// `RecordMetadata.offset()` gives them (-1 for acks=0), or why there is none.
fn reported_offsets(sim: &Sim, producer: u32, value: &str) -> String {
    let reported: Vec<String> = sim
        .ledger
        .records
        .iter()
        .filter(|r| r.producer == producer && r.value == value)
        .map(|r| match &r.outcome {
            Outcome::Acknowledged { offset, .. } => offset.map_or(-1, |o| o as i64).to_string(),
            Outcome::Failed { error, .. } => format!("failed with {}", error.name()),
            Outcome::Pending => "not acknowledged yet".to_string(),
        })
        .collect();
    match reported.len() {
        0 => "no such record".to_string(),
        1 => reported.into_iter().next().expect("one"),
        _ => format!("{} records with this value: {}", reported.len(), reported.join(", ")),
    }
}

impl Expectation {
    /// Checks against the simulation's current state.
    pub fn check(&self, sim: &Sim) -> ExpectationResult {
        // The ledger totals read every record: each is counted once per expectation, and only when
        // a check needs it (a run of 100,000 records spent half its time recounting them).
        let ledger = self.checks.iter().any(|c| matches!(c, Check::Total { .. })).then(|| sim.ledger_totals());
        let mut groups: VecMap<&str, Option<GroupLedgerView>> = VecMap::new();
        for c in &self.checks {
            if let Check::GroupTotal { group, .. } | Check::Verdict { group, .. } = c {
                groups.entry(group.as_str()).or_insert_with(|| group_ledger(sim, group));
            }
        }
        let group_ledger = |name: &str| groups.get(name).and_then(Option::as_ref);
        let checks = self
            .checks
            .iter()
            .map(|c| {
                let (description, expected, actual) = match c {
                    Check::Total { what, value } => {
                        let t = ledger.as_ref().expect("counted when a total is checked");
                        let got = match what {
                            Total::Sent => t.sent,
                            Total::Acknowledged => t.acknowledged,
                            Total::Failed => t.failed,
                            Total::Lost => t.lost,
                            Total::AcknowledgedLost => t.acknowledged_lost,
                            Total::Duplicated => t.duplicated,
                            Total::OutOfOrder => t.out_of_order,
                            Total::Aborted => t.aborted,
                        };
                        if self.at_least {
                            return CheckResult { description: format!("{} ≥ {value}", what.name()), actual: got.to_string(), passed: got >= *value };
                        }
                        (what.name().to_string(), value.to_string(), got.to_string())
                    }
                    Check::Leader { tp, leader } => {
                        let got = sim.controller.parts[sim.pidx(*tp) as usize].leader;
                        let show = |l: Option<BrokerId>| l.map_or("none (offline)".to_string(), |b| b.to_string());
                        (format!("leader of {}", sim.tp_name(*tp)), show(*leader), show(got))
                    }
                    Check::LeaderEpoch { tp, epoch } => {
                        let got = sim.controller.parts[sim.pidx(*tp) as usize].leader_epoch;
                        (format!("leader epoch of {}", sim.tp_name(*tp)), epoch.to_string(), got.to_string())
                    }
                    Check::Isr { tp, isr } => {
                        let mut want = isr.clone();
                        want.sort_unstable();
                        let mut got = sim.controller.parts[sim.pidx(*tp) as usize].isr.clone();
                        got.sort_unstable();
                        (format!("ISR of {}", sim.tp_name(*tp)), list(&want), list(&got))
                    }
                    Check::Elr { tp, elr } => {
                        let mut want = elr.clone();
                        want.sort_unstable();
                        let got = &sim.controller.parts[sim.pidx(*tp) as usize].elr;
                        (format!("ELR of {}", sim.tp_name(*tp)), list(&want), list(got))
                    }
                    Check::HighWatermark { tp, replica, value } => log_figure(sim, "high watermark", *tp, *replica, *value, ReplicaLog::high_watermark),
                    Check::LastStableOffset { tp, replica, value } => {
                        log_figure(sim, "last stable offset", *tp, *replica, *value, ReplicaLog::last_stable_offset)
                    }
                    Check::PipelineTotal { pipeline, lost, value } => {
                        let what = if *lost { "lost" } else { "duplicated" };
                        let got = sim.pipelines.iter().position(|p| &p.spec.name == pipeline).map_or("no such pipeline".to_string(), |i| {
                            let v = sim.pipeline_verdict(i);
                            (if *lost { v.lost } else { v.duplicated }).to_string()
                        });
                        (format!("input records {what} by pipeline {pipeline}"), value.to_string(), got)
                    }
                    Check::PipelineVerdict { pipeline, verdict } => {
                        let got = sim.pipelines.iter().position(|p| &p.spec.name == pipeline).map_or("no such pipeline".to_string(), |i| {
                            let v = sim.pipeline_verdict(i);
                            format!("{} ({} inputs, lost {}, duplicated {})", v.verdict().name(), v.inputs, v.lost, v.duplicated)
                        });
                        let passed = got.starts_with(&format!("{} ", verdict.name()));
                        return CheckResult { description: format!("verdict of pipeline {pipeline} = {}", verdict.name()), actual: got, passed };
                    }
                    Check::TransactionState { transactional_id, state } => {
                        let got = sim
                            .txn_views()
                            .into_iter()
                            .find(|t| &t.transactional_id == transactional_id)
                            .and_then(|t| t.state)
                            .map_or("unknown at its coordinator".to_string(), |s| s.name().to_string());
                        (format!("transaction state of {transactional_id}"), state.name().to_string(), got)
                    }
                    Check::LogEndOffset { tp, replica, value } => {
                        let got = sim.broker(*replica).replicas[sim.pidx(*tp) as usize]
                            .as_ref()
                            .map_or("no replica".to_string(), |r| r.log.leo().to_string());
                        (format!("log end offset of {} on broker-{replica}", sim.tp_name(*tp)), value.to_string(), got)
                    }
                    Check::Log { tp, replica, values } => {
                        let got = sim
                            .replica_log(*replica, *tp)
                            .map(|l| l.into_iter().map(|e| e.value).collect::<Vec<_>>())
                            .map_or("no replica".to_string(), |v| format!("{v:?}"));
                        (format!("log of {} on broker-{replica}", sim.tp_name(*tp)), format!("{values:?}"), got)
                    }
                    Check::ErrorsSeen { producer, errors } => {
                        let p = &sim.producers[*producer as usize];
                        let missing: Vec<&str> =
                            errors.iter().filter(|e| !p.errors_seen.contains_key(e)).map(|e| e.name()).collect();
                        let seen: Vec<&str> = p.errors_seen.keys().map(|e| e.name()).collect();
                        let want: Vec<&str> = errors.iter().map(|e| e.name()).collect();
                        let ok = missing.is_empty();
                        return CheckResult {
                            description: format!("{} saw errors {want:?}", p.name),
                            actual: format!("saw {seen:?}"),
                            passed: ok,
                        };
                    }
                    Check::GroupTotal { group, what, value } => {
                        let got = group_ledger(group).map(|v| {
                            let t = &v.totals;
                            match what {
                                GroupTotal::Processed => t.processed as u64,
                                GroupTotal::Lost => t.lost as u64,
                                GroupTotal::Duplicated => t.duplicated as u64,
                                GroupTotal::Pending => t.pending as u64,
                                GroupTotal::OutOfOrder => t.out_of_order as u64,
                                GroupTotal::Rebalances => v.rebalances as u64,
                                GroupTotal::Lag => t.lag,
                                GroupTotal::AbortedProcessed => t.aborted_processed as u64,
                            }
                        });
                        if self.at_least {
                            return CheckResult {
                                description: format!("{} of group {group} ≥ {value}", what.name()),
                                actual: got.map_or("no such group".into(), |g| g.to_string()),
                                passed: got.is_some_and(|g| g >= *value),
                            };
                        }
                        (format!("{} of group {group}", what.name()), value.to_string(), got.map_or("no such group".into(), |g| g.to_string()))
                    }
                    Check::Verdict { group, verdict } => {
                        let got = group_ledger(group).map_or("no such group".to_string(), |v| {
                            format!("{} (lost {}, duplicated {})", v.verdict.name(), v.totals.lost, v.totals.duplicated)
                        });
                        let passed = got.starts_with(&format!("{} ", verdict.name()));
                        return CheckResult { description: format!("verdict of group {group} = {}", verdict.name()), actual: got, passed };
                    }
                    Check::Generation { group, value } => {
                        let got = sim.find_group(group).map_or("no such group".to_string(), |g| sim.group_view(g).generation.to_string());
                        (format!("generation of group {group}"), value.to_string(), got)
                    }
                    Check::UncleanElections { value } => {
                        let got = sim.controller.unclean_elections;
                        if self.at_least {
                            return CheckResult { description: format!("unclean elections ≥ {value}"), actual: got.to_string(), passed: got >= *value };
                        }
                        ("unclean elections".to_string(), value.to_string(), got.to_string())
                    }
                    Check::GroupState { group, state } => {
                        let got = sim.find_group(group).map_or("no such group", |g| sim.group_view(g).state.map_or("Dead", |s| s.name()));
                        (format!("state of group {group}"), state.clone(), got.to_string())
                    }
                    Check::Protocol { group, strategy } => {
                        let got = sim.find_group(group).map_or("no such group", |g| sim.group_view(g).protocol);
                        let got = if got.is_empty() { "none yet" } else { got };
                        (format!("assignor of group {group}"), strategy.name().to_string(), got.to_string())
                    }
                    Check::Committed { group, tp, offset } => {
                        let got = sim.find_group(group).map_or("no such group".to_string(), |g| {
                            sim.group_view(g).committed.get(&sim.tp_name(*tp)).map_or("none".to_string(), |o| o.to_string())
                        });
                        let want = offset.map_or("none".to_string(), |o| o.to_string());
                        (format!("committed offset of group {group} on {}", sim.tp_name(*tp)), want, got)
                    }
                    Check::Assignment { consumer, tps } => {
                        let mut want: Vec<String> = tps.iter().map(|tp| sim.tp_name(*tp)).collect();
                        want.sort();
                        let mut got = sim.consumer_view(*consumer).assignment;
                        got.sort();
                        (format!("assignment of {}", sim.consumers[*consumer as usize].name), format!("{want:?}"), format!("{got:?}"))
                    }
                    Check::Position { consumer, tp, offset } => {
                        let got = sim.consumer_view(*consumer).positions.get(&sim.tp_name(*tp)).map_or("none".to_string(), |o| o.to_string());
                        (format!("position of {} on {}", sim.consumers[*consumer as usize].name, sim.tp_name(*tp)), offset.to_string(), got)
                    }
                    Check::ConsumerState { consumer, state } => {
                        let got = sim.consumers[*consumer as usize].state.name().to_string();
                        (format!("state of {}", sim.consumers[*consumer as usize].name), state.clone(), got)
                    }
                    Check::RecordOffset { producer, value, offset } => (
                        format!("offset reported to {} for {value:?}", sim.producers[*producer as usize].name),
                        offset.to_string(),
                        reported_offsets(sim, *producer, value),
                    ),
                    Check::Read { consumer, values } => {
                        let got: Vec<&str> = processed_by(sim, *consumer).map(|p| sim.ledger.get(p.record).value.as_str()).collect();
                        (format!("values {} read", sim.consumers[*consumer as usize].name), format!("{values:?}"), format!("{got:?}"))
                    }
                    Check::ReadOffsets { consumer, tp, offsets } => {
                        let got: Vec<u64> = processed_by(sim, *consumer).filter(|p| p.tp == *tp).map(|p| p.offset).collect();
                        (
                            format!("offsets {} read on {}", sim.consumers[*consumer as usize].name, sim.tp_name(*tp)),
                            format!("{offsets:?}"),
                            format!("{got:?}"),
                        )
                    }
                    Check::ListenerCalls { consumer, calls } => {
                        let want: Vec<String> = calls.iter().map(|(m, tps)| listener_call_text(sim, *m, tps)).collect();
                        let got: Vec<String> = sim
                            .ledger
                            .listener_calls
                            .iter()
                            .filter(|c| c.consumer == *consumer)
                            .map(|c| listener_call_text(sim, c.method, &c.partitions))
                            .collect();
                        (format!("listener calls of {}", sim.consumers[*consumer as usize].name), format!("{want:?}"), format!("{got:?}"))
                    }
                    Check::StoppedBy { consumer, error } => {
                        let show = |e: Option<&KafkaError>| e.map_or("nothing".to_string(), |e| e.name().to_string());
                        (
                            format!("what stopped {}", sim.consumers[*consumer as usize].name),
                            show(error.as_ref()),
                            show(sim.ledger.stopped_by.get(consumer)),
                        )
                    }
                    Check::MemberId { consumer, id } => {
                        let got = sim.consumer_view(*consumer).member_id;
                        let got = if got.is_empty() { "none (not in a group)".to_string() } else { got };
                        (format!("member id of {}", sim.consumers[*consumer as usize].name), id.clone(), got)
                    }
                    Check::LeaderEpochs { tp, replica, epochs } => {
                        let got = sim
                            .replica_log(*replica, *tp)
                            .map(|l| l.into_iter().map(|e| e.epoch).collect::<Vec<_>>())
                            .map_or("no replica".to_string(), |v| format!("{v:?}"));
                        (format!("leader epochs of the records of {} on broker-{replica}", sim.tp_name(*tp)), format!("{epochs:?}"), got)
                    }
                    Check::ConsumerErrorsSeen { consumer, errors } => {
                        let c = &sim.consumers[*consumer as usize];
                        let seen: Vec<&str> = c.errors_seen.keys().map(|e| e.name()).collect();
                        let want: Vec<&str> = errors.iter().map(|e| e.name()).collect();
                        let passed = if errors.is_empty() { seen.is_empty() } else { errors.iter().all(|e| c.errors_seen.contains_key(e)) };
                        let description =
                            if errors.is_empty() { format!("{} saw no errors", c.name) } else { format!("{} saw errors {want:?}", c.name) };
                        return CheckResult { description, actual: format!("saw {seen:?}"), passed };
                    }
                    Check::ErrorsNotSeen { who, errors } | Check::ErrorsSeenOneOf { who, errors } => {
                        let (name, seen) = match who {
                            ErrorSource::Producer(p) => (&sim.producers[*p as usize].name, &sim.producers[*p as usize].errors_seen),
                            ErrorSource::Consumer(c) => (&sim.consumers[*c as usize].name, &sim.consumers[*c as usize].errors_seen),
                        };
                        let want: Vec<&str> = errors.iter().map(|e| e.name()).collect();
                        let actual = format!("saw {:?}", seen.keys().map(|e| e.name()).collect::<Vec<_>>());
                        let (description, passed) = if matches!(c, Check::ErrorsNotSeen { .. }) {
                            (format!("{name} saw none of {want:?}"), errors.iter().all(|e| !seen.contains_key(e)))
                        } else {
                            (format!("{name} saw one of {want:?}"), errors.iter().any(|e| seen.contains_key(e)))
                        };
                        return CheckResult { description, actual, passed };
                    }
                    Check::NoErrors { producer } => {
                        let p = &sim.producers[*producer as usize];
                        let seen: Vec<&str> = p.errors_seen.keys().map(|e| e.name()).collect();
                        return CheckResult {
                            description: format!("{} saw no errors", p.name),
                            actual: format!("saw {seen:?}"),
                            passed: seen.is_empty(),
                        };
                    }
                };
                CheckResult { passed: expected == actual, description: format!("{description} = {expected}"), actual }
            })
            .collect();
        ExpectationResult { line: self.line, time: self.at.unwrap_or(sim.now()), checks }
    }
}

/// A figure of a replica's log (`replica`, or the partition's leader) against the expected
/// `value`: what the check says, expected and got.
fn log_figure(sim: &Sim, what: &str, tp: Tp, replica: Option<BrokerId>, value: u64, figure: fn(&ReplicaLog) -> u64) -> (String, String, String) {
    let pidx = sim.pidx(tp) as usize;
    let who = replica.or(sim.controller.parts[pidx].leader);
    let got = who
        .and_then(|b| sim.broker(b).replicas[pidx].as_ref())
        .map_or("none (no leader)".to_string(), |r| figure(&r.log).to_string());
    let whose = replica.map_or("leader".to_string(), |b| format!("broker-{b}"));
    (format!("{what} of {} on {whose}", sim.tp_name(tp)), value.to_string(), got)
}
