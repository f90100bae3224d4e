//! Read-only views of the simulation state: what the JSON output, the expectations and the UI read.

use super::broker::Role;
use super::config::{ConsumerConfig, ProducerConfig};
use super::consumer::{AppBehaviour, AppState, ClientState, MemberState};
use super::coordinator::GroupPhase;
use super::ledger::GroupLedger;
use super::ledger::{LedgerRecord, Outcome, TxnFate};
use super::map::VecMap;
use super::txn::TxnState;
use super::types::{BrokerId, KafkaError, NodeId, RecordId, RecordKind, Tp};
use super::Sim;
use serde::Serialize;
use std::collections::BTreeMap;

/// One record in a replica's log, with its key and value.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LogEntryView {
    /// Offset.
    pub offset: u64,
    /// Leader epoch.
    pub epoch: u32,
    /// Ledger id.
    pub record: RecordId,
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: String,
    /// A record of a transaction, or a marker.
    #[serde(skip_serializing_if = "RecordKind::is_plain")]
    pub kind: RecordKind,
    /// For a transaction's record: whether its transaction committed, aborted or is still open.
    #[serde(skip_serializing_if = "TxnFate::is_none")]
    pub txn: TxnFate,
    /// For a transaction's record or a marker: the producer id it carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_id: Option<u32>,
}

/// One replica.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReplicaView {
    /// Broker.
    pub broker: BrokerId,
    /// Whether that broker is up.
    pub up: bool,
    /// leader, follower or unknown (no metadata: crashed or just restarted).
    pub role: &'static str,
    /// Log end offset.
    pub log_end_offset: u64,
    /// High watermark as this replica knows it.
    pub high_watermark: u64,
    /// Log start offset.
    pub log_start_offset: u64,
    /// Leader-epoch cache: (epoch, start offset).
    pub epochs: Vec<(u32, u64)>,
    /// The records.
    pub log: Vec<LogEntryView>,
    /// The last stable offset, when an open transaction holds it below the high watermark
    /// (none: it is the high watermark).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_stable_offset: Option<u64>,
}

/// One partition: the controller's view plus every replica.
#[derive(Clone, Debug, Serialize)]
pub struct PartitionView {
    /// `topic-N`.
    pub name: String,
    /// Leader (none = offline).
    pub leader: Option<BrokerId>,
    /// Leader epoch.
    pub leader_epoch: u32,
    /// In-sync replicas.
    pub isr: Vec<BrokerId>,
    /// Eligible leader replicas (KIP-966).
    pub elr: Vec<BrokerId>,
    /// The leader a leaderless partition last had (`lastKnownElr`).
    pub last_known_elr: Vec<BrokerId>,
    /// Replicas in assignment order.
    pub replicas: Vec<ReplicaView>,
}

/// The fate of one record.
#[derive(Clone, Debug, Serialize)]
pub struct RecordFate {
    /// Ledger id.
    pub id: RecordId,
    /// Producer name.
    pub producer: String,
    /// `topic-N`.
    pub partition: String,
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: String,
    /// Send attempts.
    pub attempts: u32,
    /// Every leader append: (broker, offset, epoch).
    pub appended: Vec<(BrokerId, u64, u32)>,
    /// Outcome at the producer.
    pub outcome: Outcome,
    /// How many copies sit in the current leader's log.
    pub copies_in_final_log: u32,
    /// Acknowledged but not in the final log, and not because retention deleted it.
    pub acknowledged_lost: bool,
    /// Not in the final log because retention deleted it (after `retention.ms` or past
    /// `retention.bytes`): kept as long as the topic promised, so not a loss.
    pub deleted_by_retention: bool,
}

/// Totals over the ledger.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct LedgerTotals {
    /// Records the application sent.
    pub sent: u32,
    /// Records acknowledged to the application.
    pub acknowledged: u32,
    /// Records that failed at the producer.
    pub failed: u32,
    /// Records not in the final log, leaving out those retention deleted.
    pub lost: u32,
    /// Acknowledged records not in the final log, leaving out those retention deleted.
    pub acknowledged_lost: u32,
    /// Records gone from the final log because retention deleted them.
    pub deleted_by_retention: u32,
    /// Records present more than once in the final log (extra copies counted once per record).
    pub duplicated: u32,
    /// Records that appear before an earlier-sent record of the same producer and key.
    pub out_of_order: u32,
    /// Records of transactions that were aborted.
    #[serde(skip_serializing_if = "is_zero")]
    pub aborted: u32,
}

impl LedgerTotals {
    /// Counts one record with `copies` copies in the final logs; true when its fate went wrong
    /// (lost after its acknowledgement, duplicated or failed).
    fn count(&mut self, r: &LedgerRecord, copies: u32) -> bool {
        let acknowledged = r.acknowledged();
        let failed = matches!(r.outcome, Outcome::Failed { .. });
        let deleted = copies == 0 && r.deleted_by_retention_at.is_some();
        let lost = copies == 0 && !deleted;
        self.sent += 1;
        self.aborted += (r.txn == TxnFate::Aborted) as u32;
        self.acknowledged += acknowledged as u32;
        self.failed += failed as u32;
        self.lost += lost as u32;
        self.acknowledged_lost += (acknowledged && lost) as u32;
        self.deleted_by_retention += deleted as u32;
        self.duplicated += (copies > 1) as u32;
        (acknowledged && lost) || copies > 1 || failed
    }
}

/// Which records a group's per-record list holds.
#[derive(Clone, Copy)]
enum Rows<'a> {
    /// Every record.
    All,
    /// The records whose id is marked.
    Only(&'a [bool]),
    /// None, and no lag curve either: totals only.
    None,
}

/// The ledger with each record's fate and the totals.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerView {
    /// Totals.
    pub totals: LedgerTotals,
    /// Every record.
    pub records: Vec<RecordFate>,
    /// Per consumer group.
    pub groups: Vec<GroupLedgerView>,
    /// Per pipeline: its end-to-end verdict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<PipelineView>,
    /// The schema registry, in a run that has schemas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryView>,
}

/// The schema registry: whether it answers, its global level, and each subject's versions.
#[derive(Clone, Debug, Serialize)]
pub struct RegistryView {
    /// Whether it is up.
    pub up: bool,
    /// The global compatibility level.
    pub global: &'static str,
    /// Each subject.
    pub subjects: Vec<SubjectView>,
}

/// One subject of the registry.
#[derive(Clone, Debug, Serialize)]
pub struct SubjectView {
    /// Its name (`orders-value`).
    pub name: String,
    /// The level that applies to it.
    pub level: &'static str,
    /// Each version: its number, global id and the lesson's name for the schema.
    pub versions: Vec<(u32, u32, String)>,
}

/// One producer's state.
#[derive(Clone, Debug, Serialize)]
pub struct ProducerView {
    /// Name.
    pub name: String,
    /// Settings in force.
    pub config: ProducerConfig,
    /// Producer id (0: not idempotent, or InitProducerId has not answered yet).
    pub producer_id: u32,
    /// Errors seen and how often.
    pub errors_seen: VecMap<KafkaError, u32>,
    /// Records not yet acknowledged or failed.
    pub pending: u32,
    /// A transactional producer's transaction state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<ProducerTxnView>,
}

/// A transactional producer's side of its transactions.
#[derive(Clone, Debug, Serialize)]
pub struct ProducerTxnView {
    /// `transactional.id`.
    pub transactional_id: String,
    /// `TransactionManager`'s state (`READY`, `IN_TRANSACTION`…).
    pub state: &'static str,
    /// The producer epoch it has.
    pub epoch: u16,
    /// The error that put it in an error state.
    pub error: Option<KafkaError>,
}

/// A transactional id as its coordinator sees it.
#[derive(Clone, Debug, Serialize)]
pub struct TxnView {
    /// `transactional.id`.
    pub transactional_id: String,
    /// The coordinator: the leader of its `__transaction_state` partition.
    pub coordinator: Option<BrokerId>,
    /// The state there (none: not known there, e.g. just after a failover, or never used).
    pub state: Option<TxnState>,
    /// Producer id.
    pub producer_id: Option<u32>,
    /// Producer epoch.
    pub epoch: Option<u16>,
    /// The open transaction's partitions (`topic-N`).
    pub partitions: Vec<String>,
}

/// Everything at one moment.
#[derive(Clone, Debug, Serialize)]
pub struct StateView {
    /// Virtual time.
    pub time: u64,
    /// Steps taken.
    pub steps: u64,
    /// Partitions.
    pub partitions: Vec<PartitionView>,
    /// Producers.
    pub producers: Vec<ProducerView>,
    /// Consumer groups as their coordinators see them.
    pub groups: Vec<GroupView>,
    /// Consumers.
    pub consumers: Vec<ConsumerView>,
    /// The links the timeline or the lecturer cut, each once.
    pub cut_links: Vec<CutLink>,
    /// The transactional ids, as their coordinators see them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transactions: Vec<TxnView>,
    /// The consume-transform-produce pipelines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<PipelineView>,
}

/// A consume-transform-produce pipeline: where its application is, and what its output shows.
#[derive(Clone, Debug, Serialize)]
pub struct PipelineView {
    /// Name.
    pub name: String,
    /// `at_least_once` or `exactly_once`.
    pub guarantee: &'static str,
    /// Where its application thread is.
    pub stage: crate::sim::app::pipeline::Stage,
    /// Its consumer's name.
    pub consumer: String,
    /// Its producer's name.
    pub producer: String,
    /// The output topic.
    pub output: String,
    /// Results sent in the batch under way.
    pub batch: u32,
    /// Batches whose offsets were committed.
    pub batches_committed: u32,
    /// Batches given up and read again.
    pub batches_redone: u32,
    /// The end-to-end count.
    pub results: crate::sim::pipeline_glue::PipelineVerdict,
    /// Its name: `exactly-once`, `at-least-once`, `at-most-once` or `none`.
    pub verdict: &'static str,
}

/// A cut link: nothing sent from `from` to `to` arrives (nor back, when `both`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CutLink {
    /// One end.
    pub from: NodeId,
    /// The other end.
    pub to: NodeId,
    /// Cut in both directions.
    pub both: bool,
}

/// One member of a group.
#[derive(Clone, Debug, Serialize)]
pub struct MemberView {
    /// Member id.
    pub member_id: String,
    /// Consumer name.
    pub consumer: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// Assigned partitions.
    pub assignment: Vec<String>,
}

/// A consumer group.
#[derive(Clone, Debug, Serialize)]
pub struct GroupView {
    /// `group.id`.
    pub name: String,
    /// `__consumer_offsets-N`.
    pub offsets_partition: String,
    /// The broker coordinating it now (none while its partition has no leader).
    pub coordinator: Option<BrokerId>,
    /// Empty, PreparingRebalance, CompletingRebalance or Stable.
    pub state: Option<GroupPhase>,
    /// Generation.
    pub generation: i32,
    /// The assignor (protocol) the group picked for its generation; empty before the first one.
    pub protocol: &'static str,
    /// Eager or cooperative rebalancing.
    pub rebalance_protocol: &'static str,
    /// Leader member id.
    pub leader: Option<String>,
    /// Members.
    pub members: Vec<MemberView>,
    /// Committed offsets by partition.
    pub committed: VecMap<String, u64>,
    /// Offsets that open transactions have written, by partition: committed only if their
    /// transaction commits.
    #[serde(skip_serializing_if = "VecMap::is_empty")]
    pub pending: VecMap<String, u64>,
    /// Rebalances started so far.
    pub rebalances: u32,
}

/// A consumer client.
#[derive(Clone, Debug, Serialize)]
pub struct ConsumerView {
    /// Name.
    pub name: String,
    /// `group.id`.
    pub group: String,
    /// Settings in force.
    pub config: ConsumerConfig,
    /// What the application does.
    pub app: AppBehaviour,
    /// Process state.
    pub state: ClientState,
    /// Group protocol state.
    pub member_state: MemberState,
    /// Application thread state.
    pub app_state: AppState,
    /// Member id.
    pub member_id: String,
    /// Generation.
    pub generation: i32,
    /// Owned partitions.
    pub assignment: Vec<String>,
    /// Position per owned partition.
    pub positions: VecMap<String, u64>,
    /// Records fetched but not yet returned by poll().
    pub buffered: u32,
    /// Records returned by poll() and not yet processed.
    pub unprocessed: u32,
    /// Errors seen and how often.
    pub errors_seen: VecMap<KafkaError, u32>,
}

/// What happened to one record in one group.
#[derive(Clone, Debug, Serialize)]
pub struct GroupRecordView {
    /// Ledger id.
    pub id: RecordId,
    /// `topic-N`.
    pub partition: String,
    /// Offset in the final log.
    pub offset: u64,
    /// Times poll() returned it.
    pub fetched: u32,
    /// Times it was processed.
    pub processed: u32,
    /// Times a commit newly covered it.
    pub committed: u32,
    /// processed, duplicated, lost (skipped: the committed offset is past it) or pending.
    pub fate: &'static str,
}

/// Per-group delivery totals.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct GroupTotals {
    /// Distinct records processed at least once.
    pub processed: u32,
    /// Records never processed that the group's committed offset has passed: it will never read them.
    pub lost: u32,
    /// Records processed more than once.
    pub duplicated: u32,
    /// Records not processed yet, at or after the committed offset (lag).
    pub pending: u32,
    /// Records first processed after a later-sent record with the same producer and key.
    pub out_of_order: u32,
    /// End offset minus committed offset, summed over partitions, at this moment.
    pub lag: u64,
    /// Records of aborted transactions the group processed (a read_uncommitted group can).
    #[serde(skip_serializing_if = "is_zero")]
    pub aborted_processed: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The delivery guarantee a run showed for a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing lost, nothing processed twice.
    ExactlyOnce,
    /// Nothing lost, something processed twice.
    AtLeastOnce,
    /// Nothing processed twice, something lost.
    AtMostOnce,
    /// Both lost and duplicated records.
    None,
}

impl Verdict {
    /// The scenario-file name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::ExactlyOnce => "exactly-once",
            Verdict::AtLeastOnce => "at-least-once",
            Verdict::AtMostOnce => "at-most-once",
            Verdict::None => "none",
        }
    }

    /// The verdict of these counts of lost and duplicated records.
    pub fn of(lost: u32, duplicated: u32) -> Verdict {
        match (lost > 0, duplicated > 0) {
            (false, false) => Verdict::ExactlyOnce,
            (false, true) => Verdict::AtLeastOnce,
            (true, false) => Verdict::AtMostOnce,
            (true, true) => Verdict::None,
        }
    }

    /// Every verdict.
    pub const ALL: [Verdict; 4] = [Verdict::ExactlyOnce, Verdict::AtLeastOnce, Verdict::AtMostOnce, Verdict::None];
}

/// One group's share of the ledger.
#[derive(Clone, Debug, Serialize)]
pub struct GroupLedgerView {
    /// `group.id`.
    pub name: String,
    /// Totals.
    pub totals: GroupTotals,
    /// The guarantee that held.
    pub verdict: Verdict,
    /// Rebalances started.
    pub rebalances: u32,
    /// Every record the group could read, with its fate.
    pub records: Vec<GroupRecordView>,
    /// Lag samples: (time, partition, lag).
    pub lag: Vec<(u64, String, u64)>,
}

fn role_name(role: &Role) -> &'static str {
    match role {
        Role::Unknown => "unknown",
        Role::Leader(_) => "leader",
        Role::Follower(_) => "follower",
    }
}

impl Sim {
    /// The final log of a partition: the current leader's log, or none while offline.
    pub fn final_log(&self, tp: Tp) -> Option<Vec<RecordId>> {
        let pidx = self.pidx(tp);
        let leader = self.controller.parts[pidx as usize].leader?;
        let rep = self.broker(leader).replicas[pidx as usize].as_ref()?;
        Some(rep.log.records().map(|r| r.record).collect())
    }

    /// A replica's log with keys and values.
    pub fn replica_log(&self, broker: BrokerId, tp: Tp) -> Option<Vec<LogEntryView>> {
        self.replica_log_tail(broker, tp, usize::MAX)
    }

    /// The newest `records` entries of a replica's log, oldest first.
    pub fn replica_log_tail(&self, broker: BrokerId, tp: Tp, records: usize) -> Option<Vec<LogEntryView>> {
        let rep = self.broker(broker).replicas[self.pidx(tp) as usize].as_ref()?;
        let mut tail: Vec<LogEntryView> = rep
            .log
            .records()
            .rev()
            .take(records)
            .map(|r| {
                let l = self.ledger.get(r.record);
                LogEntryView { offset: r.offset, epoch: r.epoch, record: r.record, key: l.key.clone(), value: l.value.clone(), kind: r.kind, txn: l.txn, producer_id: (!r.kind.is_plain()).then_some(r.pid) }
            })
            .collect();
        tail.reverse();
        Some(tail)
    }

    /// The view of one partition.
    pub fn partition_view(&self, tp: Tp) -> PartitionView {
        self.partition_view_tail(tp, usize::MAX)
    }

    /// The view of one partition, each replica's log cut to its newest `records` entries.
    pub fn partition_view_tail(&self, tp: Tp, records: usize) -> PartitionView {
        let pidx = self.pidx(tp) as usize;
        let part = &self.controller.parts[pidx];
        let replicas = part
            .replicas
            .iter()
            .map(|&b| {
                let broker = self.broker(b);
                let rep = broker.replicas[pidx].as_ref().expect("assigned replica");
                ReplicaView {
                    broker: b,
                    up: broker.up,
                    role: role_name(&rep.role),
                    log_end_offset: rep.log.leo(),
                    high_watermark: rep.log.high_watermark(),
                    log_start_offset: rep.log.log_start(),
                    epochs: rep.log.epochs().to_vec(),
                    log: self.replica_log_tail(b, tp, records).unwrap_or_default(),
                    last_stable_offset: Some(rep.log.last_stable_offset()).filter(|&lso| lso != rep.log.high_watermark()),
                }
            })
            .collect();
        PartitionView {
            name: self.tp_name(tp),
            leader: part.leader,
            leader_epoch: part.leader_epoch,
            isr: part.isr.clone(),
            elr: part.elr.clone(),
            last_known_elr: part.last_known_elr.clone(),
            replicas,
        }
    }

    /// Each record's fate and the totals.
    pub fn ledger_view(&self) -> LedgerView {
        self.ledger_view_limited(usize::MAX)
    }

    /// The ledger with at most `rows` records listed (and only those in each group's list):
    /// every record whose fate went wrong (lost after its acknowledgement, duplicated or failed),
    /// up to half the rows, then the newest others. The totals still count every record. The page
    /// uses it on large runs, where listing 100,000 records on every step would stall it.
    pub fn ledger_view_limited(&self, rows: usize) -> LedgerView {
        let (copies, out_of_order) = self.final_copies();
        let names = self.tp_names();
        let mut totals = LedgerTotals { out_of_order, ..LedgerTotals::default() };
        let mut troubled = Vec::new();
        let mut fine = Vec::new();
        for r in self.ledger.records.iter().filter(|r| r.internal.is_none()) {
            if totals.count(r, copies[r.id as usize]) {
                troubled.push(r);
            } else {
                fine.push(r);
            }
        }
        // Over the limit: troubled records first (up to half the rows), then the newest others.
        let shown: Vec<&LedgerRecord> = if troubled.len() + fine.len() <= rows {
            let mut all = troubled;
            all.append(&mut fine);
            all.sort_by_key(|r| r.id);
            all
        } else {
            troubled.truncate(rows / 2);
            let room = rows - troubled.len();
            troubled.extend_from_slice(&fine[fine.len().saturating_sub(room)..]);
            troubled
        };
        let mut keep = vec![false; self.ledger.records.len()];
        let records = shown
            .into_iter()
            .map(|r| {
                keep[r.id as usize] = true;
                let n = copies[r.id as usize];
                RecordFate {
                    id: r.id,
                    producer: self.producers[r.producer as usize].name.clone(),
                    partition: names[self.pidx(r.tp) as usize].clone(),
                    key: r.key.clone(),
                    value: r.value.clone(),
                    attempts: r.attempts,
                    appended: r.appends.iter().map(|a| (a.broker, a.offset, a.epoch)).collect(),
                    outcome: r.outcome.clone(),
                    copies_in_final_log: n,
                    acknowledged_lost: r.acknowledged() && n == 0 && r.deleted_by_retention_at.is_none(),
                    deleted_by_retention: n == 0 && r.deleted_by_retention_at.is_some(),
                }
            })
            .collect();
        let groups = (0..self.groups.len() as u32).map(|g| self.group_ledger_view_named(g, &names, Rows::Only(&keep))).collect();
        let pipelines = (0..self.pipelines.len()).map(|i| self.pipeline_view(i)).collect();
        LedgerView { totals, records, groups, pipelines, registry: self.registry_view() }
    }

    /// The ledger's totals alone. Expectations read only these, and on a run of 100,000 records
    /// the whole view would copy every record's key and value (a peak of about 30 MB).
    pub fn ledger_totals(&self) -> LedgerTotals {
        let (copies, out_of_order) = self.final_copies();
        let mut totals = LedgerTotals { out_of_order, ..LedgerTotals::default() };
        for r in self.ledger.records.iter().filter(|r| r.internal.is_none()) {
            totals.count(r, copies[r.id as usize]);
        }
        totals
    }

    /// How many copies of each record (by id) the final logs hold, and how many records of a
    /// producer and key sit in a final log after a newer one.
    fn final_copies(&self) -> (Vec<u32>, u32) {
        // Indexed by record id: a large run has hundreds of thousands of records.
        let mut copies: Vec<u32> = vec![0; self.ledger.records.len()];
        let mut out_of_order = 0;
        for &tp in &self.tps {
            if self.topics[tp.topic as usize].internal {
                continue;
            }
            let Some(log) = self.final_log(tp) else { continue };
            // A std `BTreeMap`: a partition's log can hold thousands of keys, arriving in no order.
            let mut newest: BTreeMap<(u32, Option<&str>), RecordId> = BTreeMap::new();
            for id in log {
                copies[id as usize] += 1;
                let rec = self.ledger.get(id);
                let group = (rec.producer, rec.key.as_deref());
                match newest.get(&group) {
                    Some(&seen) if seen > id => out_of_order += 1,
                    _ => {
                        newest.insert(group, id);
                    }
                }
            }
        }
        (copies, out_of_order)
    }

    /// Every partition's `topic-N` name, by global index.
    fn tp_names(&self) -> Vec<String> {
        self.tps.iter().map(|tp| self.tp_name(*tp)).collect()
    }

    /// One group's delivery record: per record fate, totals, verdict and lag.
    pub fn group_ledger_view(&self, g: u32) -> GroupLedgerView {
        self.group_ledger_view_named(g, &self.tp_names(), Rows::All)
    }

    /// One group's totals, verdict and rebalances, with no per-record list and no lag curve.
    pub fn group_ledger_totals(&self, g: u32) -> GroupLedgerView {
        self.group_ledger_view_named(g, &self.tp_names(), Rows::None)
    }

    /// `rows` says which records the per-record list holds; totals count all.
    fn group_ledger_view_named(&self, g: u32, names: &[String], rows: Rows) -> GroupLedgerView {
        let empty = GroupLedger::default();
        let gl = self.ledger.groups.get(g as usize).unwrap_or(&empty);
        let mut totals = GroupTotals::default();
        let mut records = Vec::new();
        let reads_committed = self.group_reads_committed(g);
        for (&pidx, &start) in &gl.start_offsets {
            let committed = gl.committed.get(&pidx).copied().unwrap_or(start);
            let Some(leader) = self.controller.parts[pidx as usize].leader else { continue };
            let Some(rep) = self.replica(leader, pidx) else { continue };
            let hw = rep.log.high_watermark();
            let end = if reads_committed { rep.log.last_stable_offset() } else { hw };
            totals.lag += end.saturating_sub(committed);
            totals.lost += gl.deleted_unread.get(&pidx).copied().unwrap_or(0) as u32;
            // Markers are never returned to a consumer, so they are no group's to process.
            for r in rep.log.records().filter(|r| r.offset >= start && r.offset < hw && !r.kind.is_marker()) {
                let c = gl.records.get(r.record as usize).cloned().unwrap_or_default();
                let aborted = self.ledger.get(r.record).txn == TxnFate::Aborted;
                // A record of an aborted transaction is not one the group should process: unread,
                // it is no loss; read (read_uncommitted), it is counted apart.
                let fate = match c.processed {
                    0 if aborted => "aborted",
                    0 if r.offset < committed => "lost",
                    0 => "pending",
                    _ if aborted => "aborted but processed",
                    1 => "processed",
                    _ => "duplicated",
                };
                totals.aborted_processed += (fate == "aborted but processed") as u32;
                totals.lost += (fate == "lost") as u32;
                totals.pending += (fate == "pending") as u32;
                totals.duplicated += (fate == "duplicated") as u32;
                let listed = match rows {
                    Rows::All => true,
                    Rows::Only(keep) => keep[r.record as usize],
                    Rows::None => false,
                };
                if !listed {
                    continue;
                }
                records.push(GroupRecordView {
                    id: r.record,
                    partition: names[pidx as usize].clone(),
                    offset: r.offset,
                    fetched: c.fetched,
                    processed: c.processed,
                    committed: c.committed,
                    fate,
                });
            }
        }
        totals.processed = gl.records.iter().filter(|c| c.processed > 0).count() as u32;
        let mut seen = vec![false; self.ledger.records.len()];
        // A std `BTreeMap`: a group reads every key of the run, in no order.
        let mut newest: BTreeMap<(u32, &str), RecordId> = BTreeMap::new();
        for p in gl.processing.iter() {
            if std::mem::replace(&mut seen[p.record as usize], true) {
                continue;
            }
            let rec = self.ledger.get(p.record);
            let Some(key) = rec.key.as_deref() else { continue };
            match newest.get(&(rec.producer, key)) {
                Some(&seen) if seen > p.record => totals.out_of_order += 1,
                _ => {
                    newest.insert((rec.producer, key), p.record);
                }
            }
        }
        let verdict = Verdict::of(totals.lost, totals.duplicated);
        let lag = match rows {
            Rows::None => Vec::new(),
            _ => gl.lag.iter().map(|s| (s.at, names[s.pidx as usize].clone(), s.lag)).collect(),
        };
        GroupLedgerView { name: self.groups[g as usize].name.clone(), totals, verdict, rebalances: gl.rebalances, records, lag }
    }

    /// The group as its current coordinator holds it.
    pub fn group_view(&self, g: u32) -> GroupView {
        let info = &self.groups[g as usize];
        let coordinator = self.controller.parts[info.pidx as usize].leader;
        let state = coordinator.and_then(|b| self.coordinated_groups(b).get(&g));
        let names = |tps: &[Tp]| tps.iter().map(|tp| self.tp_name(*tp)).collect::<Vec<_>>();
        GroupView {
            name: info.name.clone(),
            offsets_partition: self.tp_name(self.tps[info.pidx as usize]),
            coordinator: coordinator.filter(|_| state.is_some()),
            state: state.map(|s| s.phase),
            generation: state.map_or(-1, |s| s.generation),
            protocol: state.and_then(|s| s.protocol).map_or("", |p| p.name()),
            rebalance_protocol: if self.consumers.iter().filter(|c| c.group == g).all(|c| c.config.cooperative()) { "cooperative" } else { "eager" },
            leader: state.and_then(|s| s.leader.clone()),
            members: state
                .map(|s| {
                    s.members
                        .iter()
                        .map(|(id, m)| MemberView {
                            member_id: id.clone(),
                            consumer: self.consumers[m.consumer as usize].name.clone(),
                            group_instance_id: m.instance_id.clone(),
                            assignment: names(&m.assignment),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            committed: state
                .map(|s| s.offsets.iter().map(|(&p, &o)| (self.tp_name(self.tps[p as usize]), o)).collect())
                .unwrap_or_default(),
            pending: state
                .map(|s| s.pending_txn_offsets.values().flatten().map(|o| (self.tp_name(self.tps[o.pidx as usize]), o.offset)).collect())
                .unwrap_or_default(),
            rebalances: self.ledger.groups.get(g as usize).map_or(0, |gl| gl.rebalances),
        }
    }

    /// A pipeline's state.
    pub fn pipeline_view(&self, i: usize) -> PipelineView {
        let p = &self.pipelines[i];
        let results = self.pipeline_verdict(i);
        PipelineView {
            name: p.spec.name.clone(),
            guarantee: p.spec.guarantee.name(),
            stage: p.stage,
            consumer: self.consumers[p.spec.consumer as usize].name.clone(),
            producer: self.producers[p.spec.producer as usize].name.clone(),
            output: self.topics[p.spec.output as usize].name.clone(),
            batch: p.batch.len() as u32,
            batches_committed: p.batches_committed,
            batches_redone: p.batches_redone,
            verdict: results.verdict().name(),
            results,
        }
    }

    /// A consumer's state.
    pub fn consumer_view(&self, c: u32) -> ConsumerView {
        let cons = &self.consumers[c as usize];
        let name = |p: u32| self.tp_name(self.tps[p as usize]);
        ConsumerView {
            name: cons.name.clone(),
            group: self.groups[cons.group as usize].name.clone(),
            config: cons.config.clone(),
            app: cons.app_behaviour.clone(),
            state: cons.state,
            member_state: cons.member,
            app_state: cons.app,
            member_id: cons.member_id.clone(),
            generation: cons.generation,
            assignment: cons.assigned().map(name).collect(),
            positions: cons.positions().map(|(p, o)| (name(p), o)).collect(),
            buffered: cons.buffered(),
            unprocessed: cons.processing.len() as u32,
            errors_seen: cons.errors_seen.clone(),
        }
    }

    /// The whole state.
    pub fn state_view(&self) -> StateView {
        self.state_view_tail(usize::MAX)
    }

    /// The whole state with each replica's log cut to its newest `records` entries: what a
    /// picture that draws only the newest records needs, at a fraction of the cost on a long run.
    pub fn state_view_tail(&self, records: usize) -> StateView {
        StateView {
            time: self.now(),
            steps: self.steps_taken(),
            partitions: self.tps.iter().map(|&tp| self.partition_view_tail(tp, records)).collect(),
            producers: self
                .producers
                .iter()
                .map(|p| ProducerView {
                    name: p.name.clone(),
                    config: p.config.clone(),
                    producer_id: p.pid,
                    errors_seen: p.errors_seen.clone(),
                    pending: p.batches.values().map(|b| b.records.len() as u32).sum(),
                    transaction: p.txn.as_ref().map(|t| ProducerTxnView {
                        transactional_id: self.txn_ids[t.txn as usize].name.clone(),
                        state: t.state.name(),
                        epoch: t.epoch,
                        error: t.last_error,
                    }),
                })
                .collect(),
            groups: (0..self.groups.len() as u32).map(|g| self.group_view(g)).collect(),
            consumers: (0..self.consumers.len() as u32).map(|c| self.consumer_view(c)).collect(),
            cut_links: self.cut_links(),
            transactions: self.txn_views(),
            pipelines: (0..self.pipelines.len()).map(|i| self.pipeline_view(i)).collect(),
        }
    }

    /// The registry, when the scenario names schemas.
    pub fn registry_view(&self) -> Option<RegistryView> {
        let s = &self.schemas;
        if s.specs.is_empty() {
            return None;
        }
        let name_of = |id: u32| s.specs.iter().find(|spec| s.registry.schemas.get(id as usize - 1).is_some_and(|st| st.json == spec.json)).map_or_else(|| format!("#{id}"), |spec| spec.name.clone());
        let subjects = s
            .registry
            .subjects
            .iter()
            .map(|(name, sub)| SubjectView {
                name: name.clone(),
                level: s.registry.level(name).name(),
                versions: sub.versions.iter().enumerate().map(|(v, &id)| (v as u32 + 1, id, name_of(id))).collect(),
            })
            .collect();
        Some(RegistryView { up: s.registry.up, global: s.registry.global.name(), subjects })
    }

    /// Every transactional id, with its state at its current coordinator.
    pub fn txn_views(&self) -> Vec<TxnView> {
        self.txn_ids
            .iter()
            .enumerate()
            .map(|(t, id)| {
                let coordinator = self.controller.parts[id.pidx as usize].leader;
                let entry = coordinator.and_then(|b| self.coordinated_txns(b).txns.get(&(t as u32)));
                TxnView {
                    transactional_id: id.name.clone(),
                    coordinator,
                    state: entry.map(|e| e.meta.state),
                    producer_id: entry.map(|e| e.meta.pid),
                    epoch: entry.map(|e| e.meta.epoch),
                    partitions: entry.map(|e| e.meta.partitions.iter().map(|&tp| self.tp_name(tp)).collect()).unwrap_or_default(),
                }
            })
            .collect()
    }

    /// The cut links, a link cut both ways once (from its smaller end).
    pub fn cut_links(&self) -> Vec<CutLink> {
        let cut = &self.io.net.cut;
        cut.iter()
            .filter_map(|&(from, to)| {
                let both = cut.contains(&(to, from));
                (!both || from < to).then_some(CutLink { from, to, both })
            })
            .collect()
    }
}
