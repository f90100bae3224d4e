//! The leader's produce path: appends (with the idempotent producer's sequence check), acks=all
//! responses parked until the high watermark passes them, the high watermark itself, and the
//! consumers' fetches that read up to it.
//!
//! Appends, the high watermark's computation and the consumers' fetches (answering, parking, and
//! answering when the high watermark moves or the wait ends) are methods of [`Broker`] taking a
//! [`Ctx`] and the cluster's [`Layout`]; an append also takes the [`Ledger`], where it records
//! each batch, and the partition's replica count and the consumer's fetch limits come in as
//! arguments. The rest is still `impl Sim`: the produce request's checks and its answer by
//! `acks`, and what a moved high watermark sets off (acks=all waiters, which include the group
//! layer's offset commits, parked consumer fetches and the groups' lag samples), since those
//! reach beyond one broker.

use crate::sim::config::Acks;
use crate::sim::cluster::log::{ReplicaLog, SeqCheck};
use crate::sim::cluster::effect::ClusterEffect;
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, LogRecord, NodeId, Tp};
use crate::sim::ctx::Ctx;
use crate::sim::ledger::Ledger;
use crate::sim::Sim;
use super::broker::{Broker, ConsumerParked, Role, Waiter};
use super::Layout;

impl Sim {
    /// Answers a waiting produce request, or completes a waiting offset commit.
    pub(super) fn complete_waiter(&mut self, b: BrokerId, tp: Tp, w: &Waiter, result: Result<u64, KafkaError>) {
        match (w.client, w.group) {
            (NodeId::Consumer(c), Some(g)) => self.coordinator_commit_done(b, g, c, w.req, result),
            (client, _) => self.send(NodeId::Broker(b), client, Msg::ProduceResponse { req: w.req, tp, result }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn leader_produce(
        &mut self,
        b: BrokerId,
        pidx: u32,
        producer: u32,
        req: u64,
        acks: Acks,
        (pid, producer_epoch): (u32, u16),
        base_seq: i32,
        records: &[u32],
    ) {
        let tp = self.tp(pidx);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let reply = |sim: &mut Sim, result: Result<u64, KafkaError>| {
            if acks != Acks::None {
                sim.send(NodeId::Broker(b), NodeId::Producer(producer), Msg::ProduceResponse { req, tp, result });
            }
        };
        let Some(rep) = self.replica(b, pidx).filter(|r| matches!(r.role, Role::Leader(_))) else {
            self.emit(ClusterEffect::ProduceRejected {
                tp,
                broker: b,
                error: KafkaError::NotLeaderOrFollower,
                isr_size: 0,
                min_isr,
                expected_seq: None,
            });
            return reply(self, Err(KafkaError::NotLeaderOrFollower));
        };
        let isr_size = rep.isr.len() as u32;
        if acks == Acks::All && isr_size < min_isr {
            self.emit(ClusterEffect::ProduceRejected {
                tp,
                broker: b,
                error: KafkaError::NotEnoughReplicas,
                isr_size,
                min_isr,
                expected_seq: None,
            });
            return reply(self, Err(KafkaError::NotEnoughReplicas));
        }
        if pid != 0 {
            let last_seq = base_seq + records.len() as i32 - 1;
            match rep.log.check_sequence(pid, producer_epoch, base_seq, last_seq) {
                SeqCheck::Append => {}
                SeqCheck::Duplicate(meta) => {
                    self.emit(ClusterEffect::DuplicateIgnored { tp, broker: b, pid, first_seq: base_seq, offset: meta.first_offset });
                    return self.leader_await(b, pidx, producer, req, acks, meta.first_offset, meta.last_offset + 1);
                }
                SeqCheck::OutOfOrder { expected } => {
                    self.emit(ClusterEffect::ProduceRejected {
                        tp,
                        broker: b,
                        error: KafkaError::OutOfOrderSequenceNumber,
                        isr_size,
                        min_isr,
                        expected_seq: Some(expected),
                    });
                    return reply(self, Err(KafkaError::OutOfOrderSequenceNumber));
                }
                SeqCheck::StaleEpoch => {
                    self.emit(ClusterEffect::ProduceRejected {
                        tp,
                        broker: b,
                        error: KafkaError::InvalidProducerEpoch,
                        isr_size,
                        min_isr,
                        expected_seq: None,
                    });
                    return reply(self, Err(KafkaError::InvalidProducerEpoch));
                }
            }
        }
        let base = self.with_broker_ledger(b, |broker, cx, layout, ledger| {
            broker.leader_append(cx, layout, ledger, pidx, records, (pid, producer_epoch), base_seq)
        });
        self.leader_await(b, pidx, producer, req, acks, base, base + records.len() as u64);
    }

    /// Answers a produce request according to `acks`: at once for acks=1, after replication for all.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn leader_await(&mut self, b: BrokerId, pidx: u32, producer: u32, req: u64, acks: Acks, base: u64, required: u64) {
        let tp = self.tp(pidx);
        match acks {
            Acks::None => self.leader_maybe_advance_hw(b, pidx),
            Acks::Leader => {
                let msg = Msg::ProduceResponse { req, tp, result: Ok(base) };
                self.send(NodeId::Broker(b), NodeId::Producer(producer), msg);
                self.leader_maybe_advance_hw(b, pidx);
            }
            Acks::All => {
                if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
                    ls.waiters.push(Waiter { client: NodeId::Producer(producer), group: None, req, required, base_offset: base });
                }
                self.emit(ClusterEffect::AwaitingReplication { tp, broker: b, required_offset: required });
                self.leader_maybe_advance_hw(b, pidx);
                self.leader_complete_waiters(b, pidx);
            }
        }
    }

    /// Moves the leader's HW if it can ([`Broker::leader_advance_hw`]); a moved HW completes the
    /// acks=all requests and offset commits below it, answers parked consumer fetches and samples
    /// the groups' lag.
    pub(super) fn leader_maybe_advance_hw(&mut self, b: BrokerId, pidx: u32) {
        let replicas = self.controller.parts[pidx as usize].replicas.len() as u32;
        if self.with_broker(b, |broker, cx, layout| broker.leader_advance_hw(cx, layout, pidx, replicas)) {
            self.leader_complete_waiters(b, pidx);
            self.with_broker(b, |broker, cx, layout| broker.leader_answer_consumers(cx, layout, pidx));
            self.ledger_sample_lag(pidx);
        }
    }

    /// Completes acks=all requests whose records are now below the HW (Kafka's
    /// `checkEnoughReplicasReachOffset`): success if the ISR still has `min.insync.replicas`
    /// members, NOT_ENOUGH_REPLICAS_AFTER_APPEND otherwise.
    pub(super) fn leader_complete_waiters(&mut self, b: BrokerId, pidx: u32) {
        let tp = self.tp(pidx);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let Some(rep) = self.replica_mut(b, pidx) else { return };
        let hw = rep.log.high_watermark();
        let isr_size = rep.isr.len() as u32;
        let Role::Leader(ls) = &mut rep.role else { return };
        let (done, waiting): (Vec<Waiter>, Vec<Waiter>) = ls.waiters.drain(..).partition(|w| w.required <= hw);
        ls.waiters = waiting;
        for w in done {
            let result = if isr_size >= min_isr {
                Ok(w.base_offset)
            } else {
                self.emit(ClusterEffect::ProduceRejected {
                    tp,
                    broker: b,
                    error: KafkaError::NotEnoughReplicasAfterAppend,
                    isr_size,
                    min_isr,
                    expected_seq: None,
                });
                Err(KafkaError::NotEnoughReplicasAfterAppend)
            };
            self.complete_waiter(b, tp, &w, result);
        }
    }

    /// An offset commit waits, like an acks=all produce, until the HW passes its records.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn leader_wait_for_commit(&mut self, b: BrokerId, pidx: u32, g: u32, c: u32, req: u64, base: u64, end: u64) {
        if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
            ls.waiters.push(Waiter { client: NodeId::Consumer(c), group: Some(g), req, required: end, base_offset: base });
        }
        self.leader_maybe_advance_hw(b, pidx);
        self.leader_complete_waiters(b, pidx);
    }
}

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
                size: ledger.records[record as usize].size,
            })
            .collect();
        for r in &batch {
            ledger.record_append(r.record, b, r.offset, epoch, now);
        }
        rep.log.append(&batch);
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
    pub(super) fn leader_advance_hw(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, replicas: u32) -> bool {
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
    pub(super) fn leader_consumer_fetch(
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
    pub(super) fn leader_answer_consumers(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32) {
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
