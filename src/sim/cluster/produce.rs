//! The leader's produce path: appends (with the idempotent producer's sequence check), acks=all
//! responses parked until the high watermark passes them, the high watermark itself, and the
//! consumers' fetches that read up to it.
//!
//! Appends, the high watermark's computation and the consumers' fetches (answering, parking, and
//! answering when the high watermark moves or the wait ends) are methods of [`Broker`] taking a
//! [`Ctx`] and the cluster's [`Layout`]; an append also takes the [`Ledger`], where it records
//! each batch, and the partition's replica count and the consumer's fetch limits come in as
//! arguments. The produce request's checks and its answer by `acks`, and what a moved high
//! watermark sets off, reach beyond one broker and are the root's (`sim::produce_glue`).

use crate::sim::cluster::log::ReplicaLog;
use crate::sim::cluster::effect::ClusterEffect;
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{KafkaError, LogRecord, NodeId, RecordKind, Tp};
use crate::sim::ctx::Ctx;
use crate::sim::ledger::{Ledger, TxnFate};
use super::broker::{Broker, ConsumerParked, Role};
use super::Layout;

impl Broker {
    /// Appends a batch to the leader's log in its current epoch, records it in the ledger and
    /// answers parked follower fetches. Returns the batch's base offset. Used by produce requests,
    /// by the coordinators' own records (`pid` 0: no sequence numbers) and for transaction markers
    /// (`kind` a marker: one record, no sequence).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn leader_append(
        &mut self,
        cx: &mut Ctx<'_, ClusterEffect>,
        layout: &Layout,
        ledger: &mut Ledger,
        pidx: u32,
        records: &[u32],
        (pid, producer_epoch): (u32, u16),
        base_seq: i32,
        kind: RecordKind,
    ) -> u64 {
        let (now, b, tp) = (cx.now(), self.id, layout.tps[pidx as usize]);
        let rep = self.replicas[pidx as usize].as_deref_mut().expect("leader replica");
        let (epoch, base) = (rep.leader_epoch, rep.log.leo());
        // The records' sizes in this batch (their deltas count from its first record), the header
        // charged to the first, so that a log's bytes are its batches' bytes.
        let (sizes, _) = crate::sim::size::batch_sizes(records.iter().map(|&r| {
            let rec = &ledger.records[r as usize];
            (rec.created_at, rec.key.as_ref().map(|k| k.len() as u32), Some(rec.value_bytes))
        }));
        let batch: Vec<LogRecord> = records
            .iter()
            .enumerate()
            .map(|(i, &record)| LogRecord {
                offset: base + i as u64,
                epoch,
                record,
                pid,
                seq: if pid != 0 && !kind.is_marker() { base_seq + i as i32 } else { -1 },
                batch_start: i == 0,
                producer_epoch,
                append_time: now,
                kind,
                size: sizes[i] + if i == 0 { crate::sim::size::RECORD_BATCH_OVERHEAD } else { 0 },
            })
            .collect();
        for r in &batch {
            ledger.record_append(r.record, b, r.offset, epoch, now);
            if kind == RecordKind::Transactional {
                ledger.records[r.record as usize].txn = TxnFate::Open;
            }
        }
        rep.log.append(&batch);
        rep.log.flush_if_due(layout.topics[tp.topic as usize].config.flush_messages);
        cx.emit(ClusterEffect::LeaderAppended { tp, broker: b, first_offset: base, records: records.to_vec(), epoch });
        self.leader_answer_parked(cx, layout, pidx);
        base
    }

    /// Kafka's `maybeIncrementLeaderHW`: the HW is the smallest LEO in the maximal ISR (the committed
    /// ISR plus any pending additions, KIP-497). Followers whose LEO the leader has not heard yet hold it.
    /// `replicas` is the partition's replica count. Returns whether the HW moved.
    ///
    /// Since Kafka 3.7 (KAFKA-15583) the HW does not move at all while the committed ISR is smaller
    /// than the effective `min.insync.replicas` (the setting, at most the partition's replica count),
    /// whatever the producer's `acks`: a record written then is in the leader's log but not below the
    /// HW, so consumers do not see it until the ISR grows back. That keeps every record below the HW
    /// on at least min ISR replicas, which is what makes those replicas safe to elect (KIP-966).
    pub(crate) fn leader_advance_hw(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, replicas: u32) -> bool {
        let (b, tp) = (self.id, layout.tps[pidx as usize]);
        let min_isr = layout.topics[tp.topic as usize].config.min_insync_replicas;
        let effective_min_isr = min_isr.min(replicas);
        let Some(rep) = self.replicas[pidx as usize].as_deref_mut() else { return false };
        let Role::Leader(ls) = &mut rep.role else { return false };
        let leo = rep.log.leo();
        let mut hw = leo;
        let maximal = rep.isr.iter().chain(ls.pending_isr.iter().flatten());
        for &member in maximal {
            if member == b {
                continue;
            }
            match ls.followers.iter().find(|f| f.id == member).and_then(|f| f.leo) {
                Some(f_leo) => hw = hw.min(f_leo),
                None => return false,
            }
        }
        let old = rep.log.high_watermark();
        let isr_size = rep.isr.len() as u32;
        if hw > old && isr_size < effective_min_isr {
            if ls.held_hw != hw {
                ls.held_hw = hw;
                cx.emit(ClusterEffect::HighWatermarkHeld { tp, broker: b, hw: old, would_be: hw, isr_size, min_isr: effective_min_isr });
            }
            false
        } else if hw > old {
            rep.log.set_high_watermark(hw);
            cx.emit(ClusterEffect::HighWatermark { tp, broker: b, from: old, to: hw, leader: true });
            true
        } else {
            false
        }
    }

    /// A consumer's fetch: answered at once with what is below the high watermark (the last
    /// stable offset for read_committed), or parked until that passes it or the consumer's
    /// `fetch.max.wait.ms` (`wait`) ends. `max_bytes` is its `max.partition.fetch.bytes`.
    pub(crate) fn leader_consumer_fetch(
        &mut self,
        cx: &mut Ctx<'_, ClusterEffect>,
        layout: &Layout,
        pidx: u32,
        fetch: ConsumerFetchAt,
        (max_bytes, wait): (u64, u64),
    ) {
        let (b, tp) = (self.id, layout.tps[pidx as usize]);
        let ConsumerFetchAt { consumer: c, id, offset, read_committed } = fetch;
        let refuse = |cx: &mut Ctx<'_, ClusterEffect>, hw: u64, error: KafkaError| {
            let msg = Msg::ConsumerFetchResponse { id, tp, records: Vec::new(), high_watermark: hw, error: Some(error), last_stable_offset: None, aborted: Vec::new() };
            cx.send(NodeId::Broker(b), NodeId::Consumer(c), msg);
        };
        let Some(rep) = self.replicas[pidx as usize].as_deref_mut() else {
            return refuse(cx, 0, KafkaError::NotLeaderOrFollower);
        };
        let Role::Leader(ls) = &mut rep.role else {
            return refuse(cx, 0, KafkaError::NotLeaderOrFollower);
        };
        let log = &rep.log;
        let hw = log.high_watermark();
        if offset < log.log_start() || offset > log.leo() {
            return refuse(cx, hw, KafkaError::OffsetOutOfRange);
        }
        let parked = ConsumerParked { fetch: id, consumer: c, offset, max_bytes, read_committed };
        if let Some(msg) = consumer_read(log, tp, &parked) {
            return cx.send(NodeId::Broker(b), NodeId::Consumer(c), msg);
        }
        ls.consumer_parked.push(parked);
        let incarnation = self.incarnation;
        cx.set_timer(cx.now() + wait, Timer::ConsumerFetchWait { broker: b, incarnation, pidx, fetch: id });
    }

    /// The HW moved: parked consumer fetches that can now see records are answered.
    pub(crate) fn leader_answer_consumers(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32) {
        let (b, tp) = (self.id, layout.tps[pidx as usize]);
        let Some(rep) = self.replicas[pidx as usize].as_deref_mut() else { return };
        let Role::Leader(ls) = &mut rep.role else { return };
        if ls.consumer_parked.is_empty() {
            return;
        }
        let mut waiting = Vec::new();
        for p in ls.consumer_parked.drain(..) {
            match consumer_read(&rep.log, tp, &p) {
                Some(msg) => cx.send(NodeId::Broker(b), NodeId::Consumer(p.consumer), msg),
                None => waiting.push(p),
            }
        }
        ls.consumer_parked = waiting;
    }

    /// A parked consumer fetch reached its `fetch.max.wait.ms`: it is answered with no records.
    pub(crate) fn leader_consumer_fetch_expired(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, incarnation: u32, pidx: u32, fetch: u64) -> bool {
        if !self.timer_is_live(incarnation) {
            return false;
        }
        let (b, tp) = (self.id, layout.tps[pidx as usize]);
        let Some(rep) = self.replicas[pidx as usize].as_deref_mut() else { return false };
        let hw = rep.log.high_watermark();
        let Role::Leader(ls) = &mut rep.role else { return false };
        let Some(pos) = ls.consumer_parked.iter().position(|p| p.fetch == fetch) else { return false };
        let p = ls.consumer_parked.remove(pos);
        let last_stable_offset = p.read_committed.then(|| rep.log.last_stable_offset());
        let msg = Msg::ConsumerFetchResponse { id: p.fetch, tp, records: Vec::new(), high_watermark: hw, error: None, last_stable_offset, aborted: Vec::new() };
        cx.send(NodeId::Broker(b), NodeId::Consumer(p.consumer), msg);
        true
    }
}

/// A consumer's fetch as the leader receives it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConsumerFetchAt {
    /// The consumer.
    pub consumer: u32,
    /// Fetch id.
    pub id: u64,
    /// Its position.
    pub offset: u64,
    /// `isolation.level` = read_committed.
    pub read_committed: bool,
}

/// The answer to a consumer's fetch, if it can have records now: from its position up to the high
/// watermark (read_uncommitted) or the last stable offset (read_committed, with the aborted
/// transactions among them, `FetchIsolation`), at most `max_bytes` (but always at least one
/// record, as Kafka does).
fn consumer_read(log: &ReplicaLog, tp: Tp, p: &ConsumerParked) -> Option<Msg> {
    let hw = log.high_watermark();
    let end = if p.read_committed { log.last_stable_offset() } else { hw };
    if p.offset >= end {
        return None;
    }
    let records: Vec<LogRecord> = log.read(p.offset, p.max_bytes).into_iter().take_while(|r| r.offset < end).collect();
    let upper = records.last().map_or(p.offset, |r| r.offset + 1);
    let (last_stable_offset, aborted) = if p.read_committed { (Some(end), log.txns().aborted_between(p.offset, upper)) } else { (None, Vec::new()) };
    Some(Msg::ConsumerFetchResponse { id: p.fetch, tp, records, high_watermark: hw, error: None, last_stable_offset, aborted })
}
