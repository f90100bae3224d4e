//! The root's glue to transactions: running the transaction coordinator's handlers with the
//! cluster's metadata, appending its records to `__transaction_state` through the cluster layer's
//! produce path, writing the markers at the partitions' leaders, and a leader's AddPartitionsToTxn
//! before the first batch of a transaction on its partition (transaction version 2).

use super::cluster::broker::{Role, Waiter};
use super::config::Acks;
use super::ctx::{Ctx, Out};
use super::ledger::{InternalRecord, TxnFate};
use super::msg::Msg;
use super::txn::{TxnCoordinator, TxnLayout, TxnMetadata, TxnOut, TxnState};
use super::types::{BrokerId, KafkaError, NodeId, RecordKind, Tp};
use super::txn_offsets_glue::TxnOffsetCommitRequest;
use super::Sim;

/// A request a broker holds while it asks the transaction coordinator to add its partition to
/// the transaction.
#[derive(Clone, Debug)]
pub(crate) struct Verifying {
    pub(crate) broker: BrokerId,
    pub(crate) incarnation: u32,
    /// The AddPartitionsToTxn's request id.
    pub(crate) check: u64,
    pub(crate) pidx: u32,
    pub(crate) held: Held,
}

/// What waits for the partition to be added.
#[derive(Clone, Debug)]
pub(crate) enum Held {
    /// A transactional produce at a partition's leader.
    Produce(ProduceRequest),
    /// A TxnOffsetCommit at the group's coordinator.
    Offsets(TxnOffsetCommitRequest),
}

/// A produce request as the leader received it.
#[derive(Clone, Debug)]
pub(crate) struct ProduceRequest {
    pub producer: u32,
    pub req: u64,
    pub acks: Acks,
    pub pid: u32,
    pub epoch: u16,
    pub base_seq: i32,
    pub records: Vec<u32>,
    pub txn: Option<u32>,
}

/// Kafka's state ids in `__transaction_state` records.
fn state_id(state: TxnState) -> u8 {
    match state {
        TxnState::Empty => 0,
        TxnState::Ongoing => 1,
        TxnState::PrepareCommit => 2,
        TxnState::PrepareAbort => 3,
        TxnState::CompleteCommit => 4,
        TxnState::CompleteAbort => 5,
        TxnState::PrepareEpochFence => 7,
    }
}

fn state_of(id: u8) -> Option<TxnState> {
    TxnState::ALL.into_iter().find(|&s| state_id(s) == id)
}

impl Sim {
    /// The transactions broker `b` coordinates, in its memory.
    pub fn coordinated_txns(&self, b: BrokerId) -> &TxnCoordinator {
        &self.txn_states[(b - 1) as usize]
    }

    /// Runs a handler of the transaction coordinator on broker `b` with the cluster's metadata
    /// and the cluster's counter of producer ids, then does what it asked in order.
    pub(super) fn with_txn_coordinator<R>(&mut self, b: BrokerId, handler: impl FnOnce(&mut TxnCoordinator, &mut Ctx<'_, TxnOut>, &TxnLayout<'_>, &mut u32) -> R) -> R {
        let mut out = Vec::new();
        let leaders: Vec<Option<BrokerId>> = self.controller.parts.iter().map(|p| p.leader).collect();
        let layout = TxnLayout {
            broker: b,
            incarnation: self.brokers[(b - 1) as usize].incarnation,
            txn_ids: &self.txn_ids,
            topics: &self.topics,
            leaders: &leaders,
            config: &self.broker_config,
        };
        let coordinator = &mut self.txn_states[(b - 1) as usize];
        let result = handler(coordinator, &mut Ctx::new(&mut self.io, &mut out), &layout, &mut self.next_producer_id);
        for request in out {
            match request {
                Out::Send { routed: Some((id, fate)), from, to, msg } => self.enqueue(id, fate, from, to, msg),
                Out::Send { routed: None, from, to, msg } => self.send(from, to, msg),
                Out::Timer { at, timer } => self.schedule_timer(at, timer),
                Out::Effect(TxnOut::Effect(effect)) => self.emit(effect),
                Out::Effect(TxnOut::Append { txn, req, metadata }) => self.txn_append(b, txn, req, metadata),
            }
        }
        result
    }

    /// Appends a transition's record to the transactional id's `__transaction_state` partition
    /// with acks=all (`TransactionLog.EnforcedRequiredAcks`); the coordinator hears when it is
    /// replicated, or at once that it could not be written.
    fn txn_append(&mut self, b: BrokerId, txn: u32, req: u64, meta: TxnMetadata) {
        let pidx = self.txn_ids[txn as usize].pidx;
        let tp = self.tp(pidx);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let too_few = match self.replica(b, pidx) {
            Some(r) if matches!(r.role, Role::Leader(_)) => (r.isr.len() as u32) < min_isr,
            _ => {
                return self.with_txn_coordinator(b, |co, cx, layout, _| co.append_done(cx, layout, req, Err(KafkaError::NotLeaderOrFollower)));
            }
        };
        if too_few {
            return self.with_txn_coordinator(b, |co, cx, layout, _| co.append_done(cx, layout, req, Err(KafkaError::NotEnoughReplicas)));
        }
        let names: Vec<String> = meta.partitions.iter().map(|&p| self.tp_name(p)).collect();
        let value = format!("{} pid {} epoch {} [{}]", meta.state.name(), meta.pid, meta.epoch, names.join(", "));
        let record = InternalRecord::TransactionState {
            txn,
            pid: meta.pid,
            epoch: meta.epoch,
            state: state_id(meta.state),
            partitions: meta.partitions,
            timeout_ms: meta.timeout_ms,
            start: meta.start,
        };
        let key = self.txn_ids[txn as usize].name.clone();
        let id = self.ledger.create_internal(tp, record, key, value, self.io.now);
        let base = self.with_broker_ledger(b, |broker, cx, layout, ledger| broker.leader_append(cx, layout, ledger, pidx, &[id], (0, 0), -1, RecordKind::Plain));
        if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
            ls.waiters.push(Waiter { client: NodeId::Broker(b), group: None, txn: Some(req), req, required: base + 1, base_offset: base });
        }
        self.leader_maybe_advance_hw(b, pidx);
        self.leader_complete_waiters(b, pidx);
    }

    /// A waiter of the transactions' kind completed: a coordinator's record, or a marker.
    pub(super) fn txn_waiter_done(&mut self, b: BrokerId, tp: Tp, w: &Waiter, result: Result<u64, KafkaError>) {
        match (w.client, w.txn) {
            (NodeId::Broker(_), Some(append)) => self.with_txn_coordinator(b, |co, cx, layout, _| co.append_done(cx, layout, append, result.map(|_| ()))),
            (coordinator, _) => {
                if result.is_ok() {
                    self.txn_marker_replicated(b, tp, w.base_offset);
                }
                let msg = Msg::WriteTxnMarkersResponse { req: w.req, tp, error: result.err() };
                self.send(NodeId::Broker(b), coordinator, msg);
            }
        }
    }

    /// A request for the transaction coordinator reached broker `b`.
    pub(crate) fn txn_receive(&mut self, b: BrokerId, from: NodeId, msg: &Msg) {
        match (from, msg) {
            (NodeId::Producer(p), &Msg::InitProducerId { req, txn: None, .. }) => {
                // `handleInitProducerId` with no transactional id: a new producer id at once.
                self.next_producer_id += 1;
                self.send(NodeId::Broker(b), NodeId::Producer(p), Msg::InitProducerIdResponse { req, result: Ok((self.next_producer_id, 0)) });
            }
            (NodeId::Producer(p), &Msg::InitProducerId { req, txn: Some(txn), timeout_ms }) => {
                self.with_txn_coordinator(b, |co, cx, layout, pids| co.init_producer_id(cx, layout, pids, p, req, txn, timeout_ms));
            }
            (NodeId::Producer(p), &Msg::EndTxn { req, txn, pid, epoch, commit }) => {
                self.with_txn_coordinator(b, |co, cx, layout, _| co.end_txn(cx, layout, p, req, txn, (pid, epoch), commit));
            }
            (NodeId::Broker(leader), &Msg::AddPartitionsToTxn { req, txn, pid, epoch, tp }) => {
                self.with_txn_coordinator(b, |co, cx, layout, _| co.add_partition(cx, layout, leader, req, txn, (pid, epoch), tp));
            }
            (NodeId::Broker(_), &Msg::WriteTxnMarkersResponse { req, tp, error }) => {
                self.with_txn_coordinator(b, |co, cx, layout, _| co.marker_written(cx, layout, req, tp, error));
            }
            (NodeId::Broker(coordinator), Msg::WriteTxnMarkers { req, pid, epoch, commit, tps, .. }) => {
                for &tp in tps {
                    self.write_marker(b, coordinator, *req, tp, (*pid, *epoch), *commit);
                }
            }
            (NodeId::Broker(_), &Msg::AddPartitionsToTxnResponse { req, tp, error }) => self.verified(b, req, tp, error),
            _ => {}
        }
    }

    /// Appends one transaction marker at the leader of `tp` (acks=all: answered once
    /// replicated), or answers why it cannot.
    fn write_marker(&mut self, b: BrokerId, coordinator: BrokerId, req: u64, tp: Tp, (pid, epoch): (u32, u16), commit: bool) {
        let pidx = self.pidx(tp);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let refuse = |sim: &mut Sim, error: KafkaError| {
            sim.send(NodeId::Broker(b), NodeId::Broker(coordinator), Msg::WriteTxnMarkersResponse { req, tp, error: Some(error) });
        };
        let isr = match self.replica(b, pidx) {
            Some(r) if matches!(r.role, Role::Leader(_)) => r.isr.len() as u32,
            _ => return refuse(self, KafkaError::NotLeaderOrFollower),
        };
        if isr < min_isr {
            return refuse(self, KafkaError::NotEnoughReplicas);
        }
        // The ledger keeps each record's fate: the records of the transaction this marker ends.
        let fate = if commit { TxnFate::Committed } else { TxnFate::Aborted };
        let ended: Vec<u32> = self
            .replica(b, pidx)
            .and_then(|rep| {
                let (_, first) = rep.log.txns().open().find(|&(p, _)| p == pid)?;
                // From the transaction's first record on, not from the log's start: a long log
                // would otherwise be read again at every marker.
                let ended = (first..rep.log.leo()).filter_map(|o| rep.log.get(o));
                Some(ended.filter(|r| r.pid == pid && r.kind == RecordKind::Transactional).map(|r| r.record).collect())
            })
            .unwrap_or_default();
        for id in ended {
            self.ledger.records[id as usize].txn = fate;
        }
        let kind = if commit { RecordKind::Commit } else { RecordKind::Abort };
        let record = InternalRecord::TxnMarker { commit, pid, epoch };
        let value = if commit { "COMMIT" } else { "ABORT" }.to_string();
        let id = self.ledger.create_internal(tp, record, "control".into(), value, self.io.now);
        let base = self.with_broker_ledger(b, |broker, cx, layout, ledger| broker.leader_append(cx, layout, ledger, pidx, &[id], (pid, epoch), -1, kind));
        if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
            ls.waiters.push(Waiter { client: NodeId::Broker(coordinator), group: None, txn: None, req, required: base + 1, base_offset: base });
        }
        self.leader_maybe_advance_hw(b, pidx);
        self.leader_complete_waiters(b, pidx);
    }

    /// A transactional batch for a partition where its producer has no transaction open: the
    /// leader asks the coordinator to add the partition first (`maybeStartTransactionVerification`),
    /// and holds the batch meanwhile. Returns false when the batch may be appended at once.
    pub(super) fn verify_first(&mut self, b: BrokerId, pidx: u32, produce: &ProduceRequest) -> bool {
        let Some(txn) = produce.txn else { return false };
        if self.replica(b, pidx).is_some_and(|r| r.log.txns().is_open(produce.pid, produce.epoch)) {
            return false;
        }
        let tp = self.tp(pidx);
        let coordinator = self.controller.parts[self.txn_ids[txn as usize].pidx as usize].leader;
        let Some(coordinator) = coordinator else {
            // `ReplicaManager` maps the coordinator's absence to NOT_ENOUGH_REPLICAS, which the
            // producer retries.
            let msg = Msg::ProduceResponse { req: produce.req, tp, result: Err(KafkaError::NotEnoughReplicas) };
            self.send(NodeId::Broker(b), NodeId::Producer(produce.producer), msg);
            return true;
        };
        let check = self.io.next_request_id();
        let incarnation = self.broker(b).incarnation;
        self.verifying.push(Verifying { broker: b, incarnation, check, pidx, held: Held::Produce(produce.clone()) });
        let msg = Msg::AddPartitionsToTxn { req: check, txn, pid: produce.pid, epoch: produce.epoch, tp };
        self.send(NodeId::Broker(b), NodeId::Broker(coordinator), msg);
        true
    }

    /// The coordinator answered a broker's AddPartitionsToTxn: the held batch is appended, or
    /// refused with the error Kafka's `AddPartitionsToTxnManager` and `ReplicaManager` map it to;
    /// a held TxnOffsetCommit goes on to the group, or is refused.
    fn verified(&mut self, b: BrokerId, check: u64, tp: Tp, error: Option<KafkaError>) {
        let Some(at) = self.verifying.iter().position(|v| v.broker == b && v.check == check) else { return };
        let v = self.verifying.remove(at);
        if v.incarnation != self.broker(b).incarnation {
            return;
        }
        let produce = match v.held {
            Held::Produce(produce) => produce,
            Held::Offsets(offsets) => {
                return match error {
                    None => self.txn_offset_commit_verified(b, offsets),
                    Some(e) => self.txn_offset_commit_refused(b, &offsets, e),
                };
            }
        };
        match error {
            None => self.leader_produce(b, v.pidx, &produce, true),
            Some(e) => {
                let mapped = match e {
                    KafkaError::ProducerFenced => KafkaError::InvalidProducerEpoch,
                    KafkaError::NotCoordinator | KafkaError::CoordinatorNotAvailable | KafkaError::NetworkException => KafkaError::NotEnoughReplicas,
                    other => other,
                };
                let msg = Msg::ProduceResponse { req: produce.req, tp, result: Err(mapped) };
                self.send(NodeId::Broker(b), NodeId::Producer(produce.producer), msg);
            }
        }
    }

    /// Broker `b` stopped or started: the transactions it coordinated and the batches it held
    /// are gone with its memory.
    pub(crate) fn forget_coordinated_txns(&mut self, b: BrokerId) {
        self.txn_states[(b - 1) as usize].forget();
        self.verifying.retain(|v| v.broker != b);
    }

    /// Broker `b` became leader of partition `pidx`: if it is a `__transaction_state` partition
    /// in use, its coordinator loads the transactions written there.
    pub(crate) fn txn_coordinator_load(&mut self, b: BrokerId, pidx: u32) {
        if !self.txn_ids.iter().any(|t| t.pidx == pidx) {
            return;
        }
        let Some(rep) = self.broker(b).replicas[pidx as usize].as_ref() else { return };
        let mut last: Vec<(u32, TxnMetadata)> = Vec::new();
        for r in rep.log.records() {
            let Some(InternalRecord::TransactionState { txn, pid, epoch, state, partitions, timeout_ms, start }) =
                self.ledger.records[r.record as usize].internal.as_deref()
            else {
                continue;
            };
            let Some(state) = state_of(*state) else { continue };
            let meta = TxnMetadata { pid: *pid, epoch: *epoch, state, partitions: partitions.clone(), timeout_ms: *timeout_ms, start: *start };
            match last.iter_mut().find(|(t, _)| t == txn) {
                Some(entry) => entry.1 = meta,
                None => last.push((*txn, meta)),
            }
        }
        last.sort_by_key(|(t, _)| *t);
        self.with_txn_coordinator(b, |co, cx, layout, _| co.load(cx, layout, pidx, last));
    }

    /// Broker `b` stopped leading partition `pidx`.
    pub(crate) fn txn_coordinator_unload(&mut self, b: BrokerId, pidx: u32) {
        if self.txn_ids.iter().any(|t| t.pidx == pidx) {
            self.with_txn_coordinator(b, |co, _, layout, _| co.unload(layout, pidx));
        }
    }
}
