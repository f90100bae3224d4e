//! Guarantees checked after every step, for `kafkasim explore`, the property tests and the fuzzer.
//!
//! Some hold whatever the configuration (a high watermark never passes the log end, one leader per
//! partition and epoch, logs that agree with each other and with the ledger). One, "no
//! acknowledged record is lost", is a promise Kafka makes only under a safe configuration; it is
//! checked always, and [`Checker::safe`] says whether a violation breaks a promise or shows why
//! the configuration is unsafe.

use super::broker::Role;
use super::app::pipeline::Guarantee;
use super::config::Acks;
use super::config::IsolationLevel;
use super::ledger::{Outcome, TxnFate};
use super::map::VecMap;
use super::types::{BrokerId, RecordId, RecordKind};
use super::Sim;

/// The guarantees checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    /// Every replica has HW ≤ LEO and log start ≤ HW.
    HighWatermarkWithinLog,
    /// At most one broker ever leads a partition in a given leader epoch.
    OneLeaderPerEpoch,
    /// Each log has contiguous offsets and non-decreasing epochs, two replicas holding an offset
    /// in the same epoch hold the same record there, and an idempotent producer's records keep
    /// their send order.
    RecordsKeepTheirOrder,
    /// A record the producer saw acknowledged (acks=1 or all) stays at its offset in the leader's log.
    AcknowledgedRecordKept,
    /// A group's committed offset for a partition never goes backwards within a generation.
    CommittedOffsetMonotonic,
    /// Every record in every log is in the ledger, for that partition, appended at that offset.
    LedgerMatchesLogs,
    /// No record of a transaction still undecided lies below a leader's last stable offset.
    StableBelowLso,
    /// A read_committed consumer processes no record of an aborted or undecided transaction.
    ReadCommittedSeesOnlyCommitted,
    /// A pipeline's output holds exactly one readable result of each input below its group's
    /// committed offsets (a promise of `exactly_once` only).
    PipelineExactlyOnce,
}

impl Invariant {
    /// Every invariant, in the order they are checked.
    pub const ALL: [Invariant; 9] = [
        Invariant::HighWatermarkWithinLog,
        Invariant::OneLeaderPerEpoch,
        Invariant::RecordsKeepTheirOrder,
        Invariant::AcknowledgedRecordKept,
        Invariant::CommittedOffsetMonotonic,
        Invariant::LedgerMatchesLogs,
        Invariant::StableBelowLso,
        Invariant::ReadCommittedSeesOnlyCommitted,
        Invariant::PipelineExactlyOnce,
    ];

    /// A short name, as the CLI prints it.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::HighWatermarkWithinLog => "hw-within-log",
            Invariant::OneLeaderPerEpoch => "one-leader-per-epoch",
            Invariant::RecordsKeepTheirOrder => "records-keep-their-order",
            Invariant::AcknowledgedRecordKept => "acknowledged-record-kept",
            Invariant::CommittedOffsetMonotonic => "committed-offset-monotonic",
            Invariant::LedgerMatchesLogs => "ledger-matches-logs",
            Invariant::StableBelowLso => "stable-below-lso",
            Invariant::ReadCommittedSeesOnlyCommitted => "read-committed-sees-only-committed",
            Invariant::PipelineExactlyOnce => "pipeline-exactly-once",
        }
    }

    /// The guarantee in one sentence, for a class.
    pub fn sentence(self) -> &'static str {
        match self {
            Invariant::HighWatermarkWithinLog => "a replica's high watermark never passes its log end offset",
            Invariant::OneLeaderPerEpoch => "at most one broker leads a partition in each leader epoch",
            Invariant::RecordsKeepTheirOrder => "records in a partition keep their order on every replica",
            Invariant::AcknowledgedRecordKept => "no acknowledged record is lost",
            Invariant::CommittedOffsetMonotonic => "a committed offset never goes backwards within a generation",
            Invariant::LedgerMatchesLogs => "the ledger agrees with the logs",
            Invariant::StableBelowLso => "the last stable offset never passes a transaction that is still open",
            Invariant::ReadCommittedSeesOnlyCommitted => "a read_committed consumer never processes a record of an aborted transaction",
            Invariant::PipelineExactlyOnce => "a consume-transform-produce pipeline's output holds each input's result exactly once",
        }
    }
}

/// A broken guarantee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which one.
    pub invariant: Invariant,
    /// What exactly, with names, offsets and epochs.
    pub detail: String,
}

/// Remembers what the invariants need across steps (who led each epoch, committed offsets),
/// and what it has already checked, so that a step that changed nothing costs little. State is
/// kept in vectors indexed by partition (not maps), which keeps the page's download small.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    /// Per partition: (leader epoch, the broker that led it).
    leaders: Vec<Vec<(u32, BrokerId)>>,
    /// Per group, per partition: (generation, committed offset) last seen.
    committed: Vec<Vec<Option<(i32, u64)>>>,
    /// Each replica log's version when it was last checked, at `pidx * brokers + broker - 1`.
    checked: Vec<Option<u64>>,
    /// How far the ledger has been read, and the records read that are still in flight.
    scanned: usize,
    in_flight: Vec<RecordId>,
    /// Per partition: acknowledged records with their offsets.
    acknowledged: Vec<Vec<(RecordId, u64)>>,
    /// Per partition: the leader and its log's version when last judged.
    judged: Vec<Option<(BrokerId, u64)>>,
    /// Per group: how many of its processings have been looked at.
    processings: Vec<usize>,
    /// Per pipeline: what its verdict was last judged on (see [`pipeline_signature`]).
    pipelines: Vec<Option<u64>>,
}

impl Checker {
    /// A checker that has seen nothing yet.
    pub fn new() -> Checker {
        Checker::default()
    }

    /// Whether Kafka promises that no acknowledged record is lost in this simulation: every
    /// producer uses acks=all, every topic has `min.insync.replicas` ≥ 2 and
    /// `unclean.leader.election.enable=false`. (The fault budget, at most
    /// `replication.factor − min.insync.replicas` brokers down at once, is the caller's part.)
    pub fn safe(sim: &Sim) -> bool {
        sim.producers.iter().all(|p| p.config.acks == Acks::All)
            && sim.pipelines.iter().all(|p| p.spec.guarantee == Guarantee::ExactlyOnce)
            && sim
                .topics
                .iter()
                .filter(|t| !t.internal)
                .all(|t| t.config.min_insync_replicas >= 2 && !t.config.unclean_leader_election_enable)
    }

    /// Checks every invariant against the simulation as it is now; the first broken one, if any.
    pub fn check(&mut self, sim: &Sim) -> Option<Violation> {
        let partitions = sim.tps.len();
        if self.judged.len() != partitions {
            self.leaders.resize(partitions, Vec::new());
            self.checked.resize(partitions * sim.brokers.len(), None);
            self.acknowledged.resize(partitions, Vec::new());
            self.judged.resize(partitions, None);
        }
        for pidx in 0..partitions as u32 {
            if let Some(v) = self.check_partition(sim, pidx) {
                return Some(v);
            }
        }
        self.check_acknowledged(sim).or_else(|| self.check_committed(sim)).or_else(|| self.check_read_committed(sim)).or_else(|| self.check_pipelines(sim))
    }

    /// Every pipeline's verdict, judged again only when something it rests on moved. A duplicate
    /// is final, so it is judged at once; a loss only while no result of the pipeline is
    /// undecided and every partition it reads or writes has a leader, since a transaction's
    /// offsets may count before its marker reaches the output (they travel to different leaders).
    fn check_pipelines(&mut self, sim: &Sim) -> Option<Violation> {
        self.pipelines.resize(sim.pipelines.len(), None);
        for (i, p) in sim.pipelines.iter().enumerate() {
            let signature = pipeline_signature(sim, i);
            if self.pipelines[i].replace(signature) == Some(signature) {
                continue;
            }
            let v = sim.pipeline_verdict(i);
            let settled = v.undecided == 0 && !v.unavailable;
            if v.duplicated > 0 || (v.lost > 0 && settled) {
                return Some(Violation {
                    invariant: Invariant::PipelineExactlyOnce,
                    detail: format!(
                        "pipeline {} ({}): of {} input records below its committed offsets, {} have no result a read_committed reader of {} reads, {} have several",
                        p.spec.name,
                        p.spec.guarantee.name(),
                        v.inputs,
                        v.lost,
                        sim.topics[p.spec.output as usize].name,
                        v.duplicated
                    ),
                });
            }
        }
        None
    }

    /// Every record a read_committed consumer processed since the last check was plain or of a
    /// committed transaction: it reads only below the last stable offset, where every
    /// transaction has its marker, and drops the aborted ones.
    fn check_read_committed(&mut self, sim: &Sim) -> Option<Violation> {
        self.processings.resize(sim.ledger.groups.len(), 0);
        for (g, gl) in sim.ledger.groups.iter().enumerate() {
            let from = std::mem::replace(&mut self.processings[g], gl.processing.len());
            for p in gl.processing.iter_from(from) {
                let consumer = &sim.consumers[p.consumer as usize];
                if consumer.config.isolation_level != IsolationLevel::ReadCommitted {
                    continue;
                }
                let fate = sim.ledger.get(p.record).txn;
                if matches!(fate, TxnFate::Aborted | TxnFate::Open) {
                    return Some(Violation {
                        invariant: Invariant::ReadCommittedSeesOnlyCommitted,
                        detail: format!(
                            "{} (read_committed) processed record #{} at {}@{}, of a transaction that is {}",
                            consumer.name,
                            p.record,
                            sim.tp_name(p.tp),
                            p.offset,
                            if fate == TxnFate::Aborted { "aborted" } else { "still open" }
                        ),
                    });
                }
            }
        }
        None
    }
    /// The per-replica invariants of one partition. A log whose version has not moved since it
    /// was last checked is not read again.
    fn check_partition(&mut self, sim: &Sim, pidx: u32) -> Option<Violation> {
        let tp = sim.tp(pidx);
        let name = || sim.tp_name(tp);
        let fail = |invariant, detail: String| Some(Violation { invariant, detail });
        let mut changed = false;
        for broker in &sim.brokers {
            let Some(rep) = broker.replicas[pidx as usize].as_ref() else { continue };
            if broker.up && matches!(rep.role, Role::Leader(_)) {
                let led = &mut self.leaders[pidx as usize];
                let first = match led.iter().find(|(epoch, _)| *epoch == rep.leader_epoch) {
                    Some(&(_, first)) => first,
                    None => {
                        led.push((rep.leader_epoch, broker.id));
                        broker.id
                    }
                };
                if first != broker.id {
                    return fail(
                        Invariant::OneLeaderPerEpoch,
                        format!("broker-{} and broker-{first} both led {} in leader epoch {}", broker.id, name(), rep.leader_epoch),
                    );
                }
            }
            let log = &rep.log;
            let slot = &mut self.checked[pidx as usize * sim.brokers.len() + broker.id as usize - 1];
            if slot.replace(log.version()) == Some(log.version()) {
                continue;
            }
            changed = true;
            if log.high_watermark() > log.leo() || log.log_start() > log.high_watermark() {
                return fail(
                    Invariant::HighWatermarkWithinLog,
                    format!(
                        "broker-{} has {} with log start {}, HW {} and LEO {}",
                        broker.id,
                        name(),
                        log.log_start(),
                        log.high_watermark(),
                        log.leo()
                    ),
                );
            }
            let mut newest_by_producer: VecMap<u32, RecordId> = VecMap::new();
            let mut last_epoch = 0;
            // Only a leader's last stable offset is what consumers read up to.
            let lso = matches!(rep.role, Role::Leader(_)).then(|| log.last_stable_offset());
            for (i, r) in log.records().enumerate() {
                let expected = log.log_start() + i as u64;
                if r.offset != expected || r.epoch < last_epoch {
                    return fail(
                        Invariant::RecordsKeepTheirOrder,
                        format!(
                            "broker-{}'s log of {} has offset {} (epoch {}) where offset {expected} (epoch ≥ {last_epoch}) belongs",
                            broker.id,
                            name(),
                            r.offset,
                            r.epoch
                        ),
                    );
                }
                last_epoch = r.epoch;
                let rec = sim.ledger.get(r.record);
                if rec.tp != tp || !rec.appends.iter().any(|a| a.offset == r.offset) {
                    return fail(
                        Invariant::LedgerMatchesLogs,
                        format!(
                            "broker-{}'s log of {} holds record #{} at offset {}, which the ledger never appended there",
                            broker.id,
                            name(),
                            r.record,
                            r.offset
                        ),
                    );
                }
                if lso.is_some_and(|lso| r.offset < lso) && r.kind == RecordKind::Transactional && rec.txn == TxnFate::Open {
                    return fail(
                        Invariant::StableBelowLso,
                        format!(
                            "broker-{}'s last stable offset of {} is {}, past record #{} at offset {}, whose transaction has no marker yet",
                            broker.id,
                            name(),
                            lso.unwrap_or_default(),
                            r.record,
                            r.offset
                        ),
                    );
                }
                // A marker is written by the coordinator when the transaction ends, not sent by
                // the producer in order with its records.
                if r.pid != 0 && !r.kind.is_marker() {
                    if let Some(&newer) = newest_by_producer.get(&r.pid).filter(|&&newer| newer > r.record) {
                        return fail(
                            Invariant::RecordsKeepTheirOrder,
                            format!(
                                "broker-{}'s log of {} has the idempotent producer's record #{} after #{newer}, which it sent later",
                                broker.id,
                                name(),
                                r.record
                            ),
                        );
                    }
                    newest_by_producer.insert(r.pid, r.record);
                }
            }
        }
        if changed {
            return check_replicas_agree(sim, pidx);
        }
        None
    }

    /// Each acknowledged record with an offset is still at that offset in the current leader's
    /// log (unless retention has deleted it). A partition with no live leader is not judged. A
    /// partition is judged again only when its leader, the leader's log or its set of
    /// acknowledged records changes.
    fn check_acknowledged(&mut self, sim: &Sim) -> Option<Violation> {
        let records = &sim.ledger.records;
        self.in_flight.extend(self.scanned as RecordId..records.len() as RecordId);
        self.scanned = records.len();
        let mut newly: Vec<u32> = Vec::new();
        let acknowledged = &mut self.acknowledged;
        self.in_flight.retain(|&id| {
            let rec = &records[id as usize];
            match rec.outcome {
                Outcome::Pending => true,
                Outcome::Acknowledged { offset: Some(offset), .. } if rec.internal.is_none() => {
                    let pidx = sim.pidx(rec.tp);
                    acknowledged[pidx as usize].push((id, offset));
                    newly.push(pidx);
                    false
                }
                _ => false,
            }
        });
        for (pidx, acked) in self.acknowledged.iter().enumerate() {
            let pidx = pidx as u32;
            if acked.is_empty() {
                continue;
            }
            let Some(leader) = sim.controller.parts[pidx as usize].leader else { continue };
            let broker = sim.broker(leader);
            let Some(rep) = broker.replicas[pidx as usize].as_ref().filter(|_| broker.up) else { continue };
            let key = (leader, rep.log.version());
            if self.judged[pidx as usize].replace(key) == Some(key) && !newly.contains(&pidx) {
                continue;
            }
            for &(id, offset) in acked {
                if offset < rep.log.log_start() {
                    continue;
                }
                let held = rep.log.get(offset).map(|r| r.record);
                if held != Some(id) {
                    let now_there = match held {
                        Some(other) => format!("holds {:?} there", sim.ledger.get(other).value),
                        None => format!("has no offset {offset}: its log ends at {}", rep.log.leo()),
                    };
                    return Some(Violation {
                        invariant: Invariant::AcknowledgedRecordKept,
                        detail: format!(
                            "{:?} was acknowledged at offset {offset} of {}, but the leader broker-{leader} {now_there}",
                            sim.ledger.get(id).value,
                            sim.tp_name(sim.tp(pidx))
                        ),
                    });
                }
            }
        }
        None
    }

    /// Committed offsets, as each group's live coordinator holds them, only move forward while
    /// the generation stays the same.
    fn check_committed(&mut self, sim: &Sim) -> Option<Violation> {
        for (g, info) in sim.groups.iter().enumerate() {
            let Some(coordinator) = sim.controller.parts[info.pidx as usize].leader else { continue };
            let broker = sim.broker(coordinator);
            if !broker.up {
                continue;
            }
            let Some(state) = sim.coordinated_groups(coordinator).get(&(g as u32)) else { continue };
            if self.committed.len() <= g {
                self.committed.resize(g + 1, Vec::new());
            }
            let seen = &mut self.committed[g];
            for (&pidx, &offset) in &state.offsets {
                if seen.len() <= pidx as usize {
                    seen.resize(pidx as usize + 1, None);
                }
                if let Some((generation, before)) = seen[pidx as usize] {
                    if generation == state.generation && offset < before {
                        return Some(Violation {
                            invariant: Invariant::CommittedOffsetMonotonic,
                            detail: format!(
                                "group {}'s committed offset for {} went from {before} back to {offset} in generation {generation}",
                                info.name,
                                sim.tp_name(sim.tp(pidx))
                            ),
                        });
                    }
                }
                seen[pidx as usize] = Some((state.generation, offset));
            }
        }
        None
    }
}

/// Two replicas that hold an offset written in the same leader epoch hold the same record.
/// What pipeline `i`'s verdict rests on: its group's committed offsets and the leaders and last
/// stable offsets of its input partitions (the inputs below those offsets do not change
/// otherwise), and the leaders,
/// last stable offsets and log starts of its output partitions (a result becomes readable, or
/// its transaction decided, only when the LSO moves). A hash, so equal signatures may in
/// principle hide a change; the verdict is then judged at the next change.
fn pipeline_signature(sim: &Sim, i: usize) -> u64 {
    let spec = &sim.pipelines[i].spec;
    let consumer = &sim.consumers[spec.consumer as usize];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |x: u64| h = (h ^ x).wrapping_mul(0x0100_0000_01b3);
    let committed = sim.ledger.groups.get(consumer.group as usize).map(|g| &g.committed);
    let leader_of = |pidx: u32| sim.controller.parts[pidx as usize].leader;
    for &t in &consumer.topics {
        let topic = &sim.topics[t as usize];
        for pidx in topic.base..topic.base + topic.partitions {
            mix(committed.and_then(|c| c.get(&pidx)).map_or(u64::MAX, |&o| o));
            mix(leader_of(pidx).map_or(0, u64::from));
            // An input written in a transaction counts once its marker is stable.
            mix(sim.leader_log(pidx).map_or(0, |log| log.last_stable_offset()));
        }
    }
    let output = &sim.topics[spec.output as usize];
    for pidx in output.base..output.base + output.partitions {
        mix(leader_of(pidx).map_or(0, u64::from));
        if let Some(log) = sim.leader_log(pidx) {
            mix(log.last_stable_offset());
            mix(log.log_start());
        }
    }
    h
}

fn check_replicas_agree(sim: &Sim, pidx: u32) -> Option<Violation> {
    let holders: Vec<_> = sim.brokers.iter().filter_map(|b| b.replicas[pidx as usize].as_ref().map(|r| (b.id, &r.log))).collect();
    for (i, (a, la)) in holders.iter().enumerate() {
        for (b, lb) in &holders[i + 1..] {
            let from = la.log_start().max(lb.log_start());
            let to = la.leo().min(lb.leo());
            for offset in from..to {
                let (Some(ra), Some(rb)) = (la.get(offset), lb.get(offset)) else { continue };
                if ra.epoch == rb.epoch && ra.record != rb.record {
                    return Some(Violation {
                        invariant: Invariant::RecordsKeepTheirOrder,
                        detail: format!(
                            "broker-{a} and broker-{b} hold different records at offset {offset} of {} in the same epoch {}",
                            sim.tp_name(sim.tp(pidx)),
                            ra.epoch
                        ),
                    });
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::broker::LeaderState;

    /// A shipped scenario run to `ms`, with a checker that has seen every step and found nothing.
    fn run(name: &str, ms: u64) -> (Sim, Checker) {
        let scenario = crate::scenario::parse(name, crate::builtin::get(name).unwrap()).unwrap();
        let mut sim = scenario.start(scenario.seed);
        let mut checker = Checker::new();
        sim.run_until(ms, |_, _| {});
        assert_eq!(checker.check(&sim), None);
        (sim, checker)
    }

    #[test]
    fn a_record_the_ledger_never_appended_is_caught() {
        let (mut sim, _) = run("acks-all-survives-crash", 5_000);
        let id = sim.brokers[0].replicas[0].as_ref().unwrap().log.records().next().unwrap().record;
        sim.ledger.records[id as usize].appends.clear();
        let v = Checker::new().check(&sim).unwrap();
        assert_eq!(v.invariant, Invariant::LedgerMatchesLogs, "{v:?}");
    }

    #[test]
    fn two_leaders_in_one_epoch_are_caught() {
        let (mut sim, mut checker) = run("acks-all-survives-crash", 1_000);
        let leader = sim.controller.parts[0].leader.unwrap();
        let epoch = sim.controller.parts[0].leader_epoch;
        let other = sim.brokers.iter().position(|b| b.id != leader && b.up && b.replicas[0].is_some()).unwrap();
        let rep = sim.brokers[other].replicas[0].as_mut().unwrap();
        rep.role = Role::Leader(LeaderState::default());
        rep.leader_epoch = epoch;
        let v = checker.check(&sim).unwrap();
        assert_eq!(v.invariant, Invariant::OneLeaderPerEpoch, "{v:?}");
    }

    #[test]
    fn a_committed_offset_going_back_in_one_generation_is_caught() {
        let (mut sim, mut checker) = run("consumer-commit-after-processing", 30_000);
        let coordinator = sim.controller.parts[sim.groups[0].pidx as usize].leader.unwrap();
        let state = sim.group_states[coordinator as usize - 1].groups.get_mut(&0).unwrap();
        let committed = state.offsets.values_mut().next().unwrap();
        assert!(*committed > 0);
        *committed -= 1;
        let v = checker.check(&sim).unwrap();
        assert_eq!(v.invariant, Invariant::CommittedOffsetMonotonic, "{v:?}");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = Invariant::ALL.iter().map(|i| i.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Invariant::ALL.len());
    }
}
