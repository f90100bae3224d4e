//! Read-only views of the simulation state: what the JSON output, the expectations and the UI read.

use super::broker::Role;
use super::config::ProducerConfig;
use super::ledger::{LedgerRecord, Outcome};
use super::types::{BrokerId, KafkaError, RecordId, Tp};
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
}

/// One replica.
#[derive(Clone, Debug, Serialize)]
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
    /// Acknowledged but not in the final log.
    pub acknowledged_lost: bool,
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
    /// Records not in the final log.
    pub lost: u32,
    /// Acknowledged records not in the final log.
    pub acknowledged_lost: u32,
    /// Records present more than once in the final log (extra copies counted once per record).
    pub duplicated: u32,
    /// Records that appear before an earlier-sent record of the same producer and key.
    pub out_of_order: u32,
}

/// The ledger with each record's fate and the totals.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerView {
    /// Totals.
    pub totals: LedgerTotals,
    /// Every record.
    pub records: Vec<RecordFate>,
}

/// One producer's state.
#[derive(Clone, Debug, Serialize)]
pub struct ProducerView {
    /// Name.
    pub name: String,
    /// Settings in force.
    pub config: ProducerConfig,
    /// Producer id (0 = not idempotent).
    pub producer_id: u32,
    /// Errors seen and how often.
    pub errors_seen: BTreeMap<KafkaError, u32>,
    /// Records not yet acknowledged or failed.
    pub pending: u32,
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
        let rep = self.broker(broker).replicas[self.pidx(tp) as usize].as_ref()?;
        Some(
            rep.log
                .records()
                .map(|r| {
                    let l = self.ledger.get(r.record);
                    LogEntryView { offset: r.offset, epoch: r.epoch, record: r.record, key: l.key.clone(), value: l.value.clone() }
                })
                .collect(),
        )
    }

    /// The view of one partition.
    pub fn partition_view(&self, tp: Tp) -> PartitionView {
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
                    log: self.replica_log(b, tp).unwrap_or_default(),
                }
            })
            .collect();
        PartitionView {
            name: self.tp_name(tp),
            leader: part.leader,
            leader_epoch: part.leader_epoch,
            isr: part.isr.clone(),
            replicas,
        }
    }

    /// Each record's fate and the totals.
    pub fn ledger_view(&self) -> LedgerView {
        let mut copies: BTreeMap<RecordId, u32> = BTreeMap::new();
        let mut out_of_order = 0;
        for &tp in &self.tps {
            let Some(log) = self.final_log(tp) else { continue };
            let mut newest: BTreeMap<(u32, Option<&str>), RecordId> = BTreeMap::new();
            for id in log {
                *copies.entry(id).or_insert(0) += 1;
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
        let mut totals = LedgerTotals { out_of_order, ..LedgerTotals::default() };
        let records = self
            .ledger
            .records
            .iter()
            .map(|r: &LedgerRecord| {
                let n = copies.get(&r.id).copied().unwrap_or(0);
                let acknowledged = r.acknowledged();
                totals.sent += 1;
                totals.acknowledged += acknowledged as u32;
                totals.failed += matches!(r.outcome, Outcome::Failed { .. }) as u32;
                totals.lost += (n == 0) as u32;
                totals.acknowledged_lost += (acknowledged && n == 0) as u32;
                totals.duplicated += (n > 1) as u32;
                RecordFate {
                    id: r.id,
                    producer: self.producers[r.producer as usize].name.clone(),
                    partition: self.tp_name(r.tp),
                    key: r.key.clone(),
                    value: r.value.clone(),
                    attempts: r.attempts.len() as u32,
                    appended: r.appends.iter().map(|a| (a.broker, a.offset, a.epoch)).collect(),
                    outcome: r.outcome.clone(),
                    copies_in_final_log: n,
                    acknowledged_lost: acknowledged && n == 0,
                }
            })
            .collect();
        LedgerView { totals, records }
    }

    /// The whole state.
    pub fn state_view(&self) -> StateView {
        StateView {
            time: self.now(),
            steps: self.steps_taken(),
            partitions: self.tps.iter().map(|&tp| self.partition_view(tp)).collect(),
            producers: self
                .producers
                .iter()
                .map(|p| ProducerView {
                    name: p.name.clone(),
                    config: p.config.clone(),
                    producer_id: p.pid,
                    errors_seen: p.errors_seen.clone(),
                    pending: p.batches.values().map(|b| b.records.len() as u32).sum(),
                })
                .collect(),
        }
    }
}
