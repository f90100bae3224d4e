//! The root's glue to a leader's produce path: a produce request's checks and its answer by
//! `acks`, and what a moved high watermark sets off (the acks=all requests and the group layer's
//! offset commits waiting for it, parked consumer fetches and the groups' lag samples), since
//! those reach beyond one broker. The append, the high watermark's computation and the answers to
//! consumer fetches are methods of [`Broker`](super::cluster::broker::Broker) in the cluster layer.

use super::cluster::broker::{Role, Waiter};
use super::cluster::effect::ClusterEffect;
use super::cluster::log::SeqCheck;
use super::config::Acks;
use super::msg::Msg;
use super::txn_glue::ProduceRequest;
use super::types::{BrokerId, KafkaError, NodeId, RecordKind, Tp};
use super::Sim;

impl Sim {
    /// Answers a waiting produce request, or completes a waiting offset commit, transaction
    /// coordinator record or marker.
    pub(super) fn complete_waiter(&mut self, b: BrokerId, tp: Tp, w: &Waiter, result: Result<u64, KafkaError>) {
        match (w.client, w.group) {
            (NodeId::Consumer(c), Some(g)) => self.coordinator_commit_done(b, g, c, w.req, result),
            (NodeId::Producer(p), Some(g)) => self.txn_offsets_replicated(b, g, p, w.req, result),
            (NodeId::Broker(_), _) => self.txn_waiter_done(b, tp, w, result),
            (client, _) => self.send(NodeId::Broker(b), client, Msg::ProduceResponse { req: w.req, tp, result }),
        }
    }

    /// A produce request at partition `pidx`'s leader `b`: the leader's checks in Kafka's order,
    /// then, for a transaction's first batch on the partition, the coordinator's verification
    /// (unless `verified`: it has answered), then the append and the answer by `acks`.
    pub(super) fn leader_produce(&mut self, b: BrokerId, pidx: u32, produce: &ProduceRequest, verified: bool) {
        let ProduceRequest { producer, req, acks, pid, epoch: producer_epoch, base_seq, ref records, txn } = *produce;
        let records = records.as_slice();
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
        // `UnifiedLog.analyzeAndValidateRecords` checks the batch's size before the producer's
        // sequence (and after the min ISR check of `Partition.appendRecordsToLeader`).
        let bytes = self.batch_bytes(records);
        let max_message_bytes = self.topics[tp.topic as usize].config.max_message_bytes;
        if bytes > max_message_bytes {
            self.emit(ClusterEffect::BatchTooLarge { tp, broker: b, bytes, max_message_bytes, acks0: acks == Acks::None });
            return reply(self, Err(KafkaError::MessageTooLarge));
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
        if !verified && self.verify_first(b, pidx, produce) {
            return;
        }
        let kind = if txn.is_some() { RecordKind::Transactional } else { RecordKind::Plain };
        let base = self.with_broker_ledger(b, |broker, cx, layout, ledger| {
            broker.leader_append(cx, layout, ledger, pidx, records, (pid, producer_epoch), base_seq, kind)
        });
        self.leader_await(b, pidx, producer, req, acks, base, base + records.len() as u64);
    }

    /// A produce batch's size in bytes as the producer built it: the records' v2 sizes, with their
    /// offset and timestamp deltas (a record's timestamp is its `send()` time), and the header.
    fn batch_bytes(&self, records: &[u32]) -> u32 {
        let ledger = &self.ledger;
        super::size::batch_sizes(records.iter().map(|&r| {
            let rec = &ledger.records[r as usize];
            (rec.created_at, rec.key.as_ref().map(|k| k.len() as u32), Some(rec.value_bytes))
        }))
        .1
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
                    ls.waiters.push(Waiter { client: NodeId::Producer(producer), group: None, txn: None, req, required, base_offset: base });
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
            ls.waiters.push(Waiter { client: NodeId::Consumer(c), group: Some(g), txn: None, req, required: end, base_offset: base });
        }
        self.leader_maybe_advance_hw(b, pidx);
        self.leader_complete_waiters(b, pidx);
    }
}
