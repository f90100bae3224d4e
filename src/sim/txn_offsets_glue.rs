//! The root's glue to the group coordinator's part in transactions (KIP-447 with transaction
//! version 2): a producer's TxnOffsetCommit is verified (the coordinator's broker adds the
//! group's `__consumer_offsets` partition to the transaction, as a leader does for a data
//! partition), checked by the group, and appended as a batch of the transaction; the offsets stay
//! pending until the transaction's marker on that partition is replicated, which commits or
//! drops them.

use super::cluster::broker::{Role, Waiter};
use super::cluster::log::SeqCheck;
use super::ledger::InternalRecord;
use super::msg::Msg;
use super::producer::TxnOffsets;
use super::setup::OffsetsToSend;
use super::txn_glue::{Held, Verifying};
use super::types::{BrokerId, KafkaError, NodeId, RecordKind, Tp};
use super::Sim;

/// A TxnOffsetCommit as the group coordinator's broker received it.
#[derive(Clone, Debug)]
pub(crate) struct TxnOffsetCommitRequest {
    pub producer: u32,
    pub req: u64,
    pub group: u32,
    pub pid: u32,
    pub epoch: u16,
    pub generation: i32,
    pub member_id: String,
    pub offsets: Vec<(Tp, u64)>,
}

impl Sim {
    /// What a `sendOffsetsToTransaction` entry passes, read at the moment of the call.
    pub(super) fn txn_offsets(&self, o: &OffsetsToSend) -> TxnOffsets {
        match o {
            OffsetsToSend::Given { group, offsets, member } => {
                let group = self.groups.iter().position(|g| g.name == *group).expect("the setup declares every group a timeline entry names") as u32;
                let (generation, member_id) = match *member {
                    Some((c, generation)) => (generation, self.consumers[c as usize].member_id.clone()),
                    None => (-1, String::new()),
                };
                TxnOffsets { group, generation, member_id, offsets: offsets.clone() }
            }
            &OffsetsToSend::Consumer(c) => {
                let cons = &self.consumers[c as usize];
                let offsets = cons.positions().map(|(pidx, o)| (self.tp(pidx), o)).collect();
                TxnOffsets { group: cons.group, generation: cons.generation, member_id: cons.member_id.clone(), offsets }
            }
        }
    }

    fn answer_txn_offsets(&mut self, b: BrokerId, producer: u32, req: u64, group: u32, error: Option<KafkaError>) {
        self.send(NodeId::Broker(b), NodeId::Producer(producer), Msg::TxnOffsetCommitResponse { req, group, error });
    }

    /// TxnOffsetCommit from producer `p` reached broker `b`. Unless the group's partition is
    /// already in the producer's transaction (an open transaction of that producer id in its
    /// log), the broker first asks the transaction coordinator to add it
    /// (`CoordinatorPartitionWriter.maybeStartTransactionVerification`).
    pub(crate) fn txn_offset_commit_receive(&mut self, b: BrokerId, p: u32, msg: &Msg) {
        let Msg::TxnOffsetCommit { req, txn, group, pid, epoch, generation, ref member_id, ref offsets } = *msg else { return };
        let request = TxnOffsetCommitRequest { producer: p, req, group, pid, epoch, generation, member_id: member_id.clone(), offsets: offsets.clone() };
        if !self.coordinated_groups(b).contains_key(&group) {
            return self.answer_txn_offsets(b, p, req, group, Some(KafkaError::NotCoordinator));
        }
        let pidx = self.groups[group as usize].pidx;
        if self.replica(b, pidx).is_some_and(|r| r.log.txns().is_open(pid, epoch)) {
            return self.txn_offset_commit_verified(b, request);
        }
        let Some(coordinator) = self.controller.parts[self.txn_ids[txn as usize].pidx as usize].leader else {
            return self.answer_txn_offsets(b, p, req, group, Some(KafkaError::CoordinatorNotAvailable));
        };
        let check = self.io.next_request_id();
        let incarnation = self.broker(b).incarnation;
        self.verifying.push(Verifying { broker: b, incarnation, check, pidx, held: Held::Offsets(request) });
        let msg = Msg::AddPartitionsToTxn { req: check, txn, pid, epoch, tp: self.tp(pidx) };
        self.send(NodeId::Broker(b), NodeId::Broker(coordinator), msg);
    }

    /// The group's partition is in the transaction: the group checks the request.
    pub(crate) fn txn_offset_commit_verified(&mut self, b: BrokerId, o: TxnOffsetCommitRequest) {
        self.with_coordinator(b, |co, cx, layout, _| {
            co.txn_offset_commit(cx, layout, (o.producer, o.req), o.group, (o.pid, o.epoch), (o.generation, &o.member_id), &o.offsets)
        });
    }

    /// The transaction coordinator refused to add the group's partition, mapped as the group
    /// coordinator maps a failed write (`handleOperationException`).
    pub(crate) fn txn_offset_commit_refused(&mut self, b: BrokerId, o: &TxnOffsetCommitRequest, error: KafkaError) {
        let mapped = match error {
            KafkaError::ProducerFenced => KafkaError::InvalidProducerEpoch,
            KafkaError::NotCoordinator | KafkaError::CoordinatorNotAvailable | KafkaError::NetworkException | KafkaError::NotEnoughReplicas => {
                KafkaError::CoordinatorNotAvailable
            }
            other => other,
        };
        self.answer_txn_offsets(b, o.producer, o.req, o.group, Some(mapped));
    }

    /// Appends a transaction's offsets to the group's `__consumer_offsets` partition as a batch of
    /// the transaction (acks=all); the producer's answer waits for the high watermark.
    pub(super) fn coordinator_txn_append(&mut self, b: BrokerId, g: u32, (producer, req): (u32, u64), (pid, epoch): (u32, u16), offsets: Vec<(Tp, u64)>) {
        let pidx = self.groups[g as usize].pidx;
        let tp = self.tp(pidx);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let check = match self.replica(b, pidx) {
            Some(r) if matches!(r.role, Role::Leader(_)) => {
                if (r.isr.len() as u32) < min_isr {
                    Err(KafkaError::CoordinatorNotAvailable)
                } else if r.log.check_sequence(pid, epoch, -1, -1) == SeqCheck::StaleEpoch {
                    Err(KafkaError::InvalidProducerEpoch)
                } else {
                    Ok(())
                }
            }
            _ => Err(KafkaError::NotCoordinator),
        };
        if let Err(error) = check {
            return self.answer_txn_offsets(b, producer, req, g, Some(error));
        }
        let now = self.io.now;
        let group = self.groups[g as usize].name.clone();
        let ids: Vec<u32> = offsets
            .iter()
            .map(|&(data, offset)| {
                let key = format!("{group},{}", self.tp_name(data));
                self.ledger.create_internal(tp, InternalRecord::TxnOffsetCommit { group: g, tp: data, offset, pid }, key, offset.to_string(), now)
            })
            .collect();
        let base = self.with_broker_ledger(b, |broker, cx, layout, ledger| broker.leader_append(cx, layout, ledger, pidx, &ids, (pid, epoch), -1, RecordKind::Transactional));
        self.with_coordinator(b, |co, cx, layout, _| co.txn_offsets_written(cx, layout, g, pid, base, &offsets));
        if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
            let required = base + ids.len() as u64;
            ls.waiters.push(Waiter { client: NodeId::Producer(producer), group: Some(g), txn: None, req, required, base_offset: base });
        }
        self.leader_maybe_advance_hw(b, pidx);
        self.leader_complete_waiters(b, pidx);
    }

    /// The transaction's offsets are replicated, or could not be: the producer's answer.
    pub(super) fn txn_offsets_replicated(&mut self, b: BrokerId, g: u32, producer: u32, req: u64, result: Result<u64, KafkaError>) {
        let error = match result {
            Ok(_) => None,
            Err(KafkaError::NotLeaderOrFollower) => Some(KafkaError::NotCoordinator),
            Err(_) => Some(KafkaError::CoordinatorNotAvailable),
        };
        self.answer_txn_offsets(b, producer, req, g, error);
    }

    /// A marker at `base` in partition `tp` is replicated: if that is a `__consumer_offsets`
    /// partition of the scenario's groups, their pending offsets of the transaction are committed
    /// or dropped, and the ledger counts what the committed ones cover.
    pub(super) fn txn_marker_replicated(&mut self, b: BrokerId, tp: Tp, base: u64) {
        let pidx = self.pidx(tp);
        if !self.groups.iter().any(|g| g.pidx == pidx) {
            return;
        }
        let Some(id) = self.replica(b, pidx).and_then(|r| r.log.get(base)).map(|r| r.record) else { return };
        let Some(&InternalRecord::TxnMarker { commit, pid, .. }) = self.ledger.get(id).internal.as_deref() else { return };
        let stored = self.with_coordinator(b, |co, cx, layout, _| co.txn_marker(cx, layout, pidx, pid, commit));
        for (g, p, offset) in stored {
            self.ledger_commit(g, p, offset);
        }
    }
}
