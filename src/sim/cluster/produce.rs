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
use crate::sim::types::{KafkaError, LogRecord, NodeId};
use crate::sim::ctx::Ctx;
use crate::sim::ledger::Ledger;
use super::broker::{Broker, ConsumerParked, Role};
use super::Layout;

impl Broker {
    /// Appends a batch to the leader's log in its current epoch, records it in the ledger and
    /// answers parked follower fetches. Returns the batch's base offset. Used by produce requests
    /// and by the group coordinator's own records (`pid` 0: no sequence numbers).
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
                seq: if pid != 0 { base_seq + i as i32 } else { -1 },
                batch_start: i == 0,
                producer_epoch,
                append_time: now,
                size: sizes[i] + if i == 0 { crate::sim::size::RECORD_BATCH_OVERHEAD } else { 0 },
            })
            .collect();
        for r in &batch {
            ledger.record_append(r.record, b, r.offset, epoch, now);
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

    /// A consumer's fetch from `offset`: answered at once with what is below the high watermark,
    /// or parked until the high watermark passes it or the consumer's `fetch.max.wait.ms` (`wait`)
    /// ends. `max_bytes` is its `max.partition.fetch.bytes`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn leader_consumer_fetch(
        &mut self,
        cx: &mut Ctx<'_, ClusterEffect>,
        layout: &Layout,
        pidx: u32,
        c: u32,
        id: u64,
        offset: u64,
        (max_bytes, wait): (u64, u64),
    ) {
        let (b, tp) = (self.id, layout.tps[pidx as usize]);
        let reply = |cx: &mut Ctx<'_, ClusterEffect>, records: Vec<LogRecord>, hw: u64, error: Option<KafkaError>| {
            cx.send(NodeId::Broker(b), NodeId::Consumer(c), Msg::ConsumerFetchResponse { id, tp, records, high_watermark: hw, error });
        };
        let Some(rep) = self.replicas[pidx as usize].as_deref_mut() else {
            return reply(cx, Vec::new(), 0, Some(KafkaError::NotLeaderOrFollower));
        };
        let Role::Leader(ls) = &mut rep.role else {
            return reply(cx, Vec::new(), 0, Some(KafkaError::NotLeaderOrFollower));
        };
        let log = &rep.log;
        let hw = log.high_watermark();
        if offset < log.log_start() || offset > log.leo() {
            return reply(cx, Vec::new(), hw, Some(KafkaError::OffsetOutOfRange));
        }
        let records = consumer_read(log, offset, max_bytes);
        if !records.is_empty() {
            return reply(cx, records, hw, None);
        }
        ls.consumer_parked.push(ConsumerParked { fetch: id, consumer: c, offset, max_bytes });
        let incarnation = self.incarnation;
        cx.set_timer(cx.now() + wait, Timer::ConsumerFetchWait { broker: b, incarnation, pidx, fetch: id });
    }

    /// The HW moved: parked consumer fetches that can now see records are answered.
    pub(crate) fn leader_answer_consumers(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32) {
        let (b, tp) = (self.id, layout.tps[pidx as usize]);
        let Some(rep) = self.replicas[pidx as usize].as_deref_mut() else { return };
        let hw = rep.log.high_watermark();
        let Role::Leader(ls) = &mut rep.role else { return };
        if ls.consumer_parked.is_empty() {
            return;
        }
        let (ready, waiting): (Vec<ConsumerParked>, Vec<ConsumerParked>) =
            ls.consumer_parked.drain(..).partition(|p| p.offset < hw);
        ls.consumer_parked = waiting;
        for p in ready {
            let records = consumer_read(&rep.log, p.offset, p.max_bytes);
            let msg = Msg::ConsumerFetchResponse { id: p.fetch, tp, records, high_watermark: hw, error: None };
            cx.send(NodeId::Broker(b), NodeId::Consumer(p.consumer), msg);
        }
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
        let msg = Msg::ConsumerFetchResponse { id: p.fetch, tp, records: Vec::new(), high_watermark: hw, error: None };
        cx.send(NodeId::Broker(b), NodeId::Consumer(p.consumer), msg);
        true
    }
}

/// What a consumer may read: from `offset` up to the high watermark (read_uncommitted), at most
/// `max_bytes` (but always at least one record, as Kafka does).
fn consumer_read(log: &ReplicaLog, offset: u64, max_bytes: u64) -> Vec<LogRecord> {
    let hw = log.high_watermark();
    if offset >= hw {
        return Vec::new();
    }
    log.read(offset, max_bytes).into_iter().take_while(|r| r.offset < hw).collect()
}
