//! The transaction coordinator of one broker (Kafka's `TransactionCoordinator` with transaction
//! version 2, the default of a new 4.1 cluster): the transactions of the `__transaction_state`
//! partitions the broker leads, their producer ids and epochs, the markers it sends, and the
//! timeout sweep.
//!
//! Every transition is two-phase, as in Kafka: the coordinator prepares the new metadata, asks
//! the root to append it to `__transaction_state` with acks=all ([`TxnOut::Append`]), and only
//! when the append is replicated ([`TxnCoordinator::append_done`]) does the transition take
//! effect and the requester get its answer. A request that finds a transition pending gets
//! CONCURRENT_TRANSACTIONS.

use super::effect::{TxnCause, TxnEffect};
use super::state::{TxnMetadata, TxnState};
use super::TxnId;
use crate::sim::config::BrokerConfig;
use crate::sim::ctx::Ctx;
use crate::sim::map::VecMap;
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::topic::Topic;
use crate::sim::types::{BrokerId, KafkaError, NodeId, Tp};

/// How long the coordinator waits before sending again a marker whose partition had no leader or
/// refused it. Kafka re-queues such markers with a fresh leader lookup and no explicit backoff
/// (its pacing is the inter-broker send thread's); the simulator waits this long instead.
pub const MARKER_RETRY_MS: u64 = 100;

/// The inter-broker `request.timeout.ms` (30000): a WriteTxnMarkers with no answer by then (lost,
/// or its leader died) is given up and its markers sent again, as the marker channel's
/// `InterBrokerSendThread` does on a disconnect.
pub const MARKER_REQUEST_TIMEOUT_MS: u64 = 30_000;

/// What a coordinator's handler asks of the root besides messages and timers.
#[derive(Debug)]
pub enum TxnOut {
    /// An effect of the step.
    Effect(TxnEffect),
    /// Append the transition's record to the transactional id's `__transaction_state` partition
    /// with acks=all, and report with [`TxnCoordinator::append_done`] under `req`.
    Append {
        /// The `transactional.id` (index).
        txn: u32,
        /// The append's id.
        req: u64,
        /// The metadata the transition leads to.
        metadata: TxnMetadata,
    },
}

/// What a coordinator reads of the cluster.
pub struct TxnLayout<'a> {
    /// The broker it runs on.
    pub broker: BrokerId,
    /// That broker's incarnation (its timers carry it).
    pub incarnation: u32,
    /// The transactional ids and their `__transaction_state` partitions.
    pub txn_ids: &'a [TxnId],
    /// Topics, for partitions' global indexes.
    pub topics: &'a [Topic],
    /// The leader of every partition, by global index, as the cluster's metadata says.
    pub leaders: &'a [Option<BrokerId>],
    /// Broker settings.
    pub config: &'a BrokerConfig,
}

impl TxnLayout<'_> {
    fn pidx(&self, tp: Tp) -> usize {
        (self.topics[tp.topic as usize].base + tp.partition) as usize
    }
}

type Cx<'c> = Ctx<'c, TxnOut>;

/// Who waits for a transition.
#[derive(Clone, Copy, Debug)]
enum Reply {
    /// Nobody: the coordinator's own transition (completion, timeout).
    Nobody,
    /// InitProducerId: answered with the new producer id and epoch.
    Init { producer: u32, req: u64 },
    /// InitProducerId that fenced an open transaction: answered CONCURRENT_TRANSACTIONS once the
    /// abort is prepared, so the new instance retries until the abort is complete.
    Fence { producer: u32, req: u64 },
    /// EndTxn: answered with the new epoch once the commit or abort is prepared.
    EndTxn { producer: u32, req: u64 },
    /// A leader's AddPartitionsToTxn.
    Added { broker: BrokerId, req: u64, tp: Tp },
}

#[derive(Clone, Debug)]
struct Pending {
    to: TxnMetadata,
    req: u64,
    reply: Reply,
    cause: TxnCause,
}

/// One `transactional.id` at its coordinator.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The metadata in force.
    pub meta: TxnMetadata,
    /// No InitProducerId has completed yet (Kafka's epoch −1).
    fresh: bool,
    pending: Option<Pending>,
    /// While PrepareCommit or PrepareAbort: the partitions whose marker is not acknowledged yet,
    /// with the WriteTxnMarkers request carrying it (0: to be sent).
    pub markers: Vec<(Tp, u64)>,
}

/// The transactions a broker coordinates, in its memory: lost when it stops, and loaded from
/// `__transaction_state` by the next leader of each partition.
#[derive(Clone, Debug, Default)]
pub struct TxnCoordinator {
    /// By transactional id (index).
    pub txns: VecMap<u32, Entry>,
    /// The `__transaction_state` partitions (global index) it leads and has loaded.
    loaded: Vec<u32>,
}

impl TxnCoordinator {
    fn owns(&self, layout: &TxnLayout<'_>, txn: u32) -> bool {
        self.loaded.contains(&layout.txn_ids[txn as usize].pidx)
    }

    fn refuse(cx: &mut Cx<'_>, layout: &TxnLayout<'_>, txn: u32, request: &'static str, error: KafkaError) {
        cx.emit(TxnOut::Effect(TxnEffect::TxnRequestRefused { txn, coordinator: layout.broker, request, error }));
    }

    fn prepare(&mut self, cx: &mut Cx<'_>, txn: u32, to: TxnMetadata, reply: Reply, cause: TxnCause) {
        let req = cx.next_request_id();
        if let Some(entry) = self.txns.get_mut(&txn) {
            entry.pending = Some(Pending { to: to.clone(), req, reply, cause });
        }
        cx.emit(TxnOut::Append { txn, req, metadata: to });
    }

    /// InitProducerId (`handleInitProducerId`): a new or bumped epoch for an idle transactional
    /// id; an open transaction is fenced and aborted first. `next_pid` is the cluster's counter
    /// of producer ids.
    #[allow(clippy::too_many_arguments)]
    pub fn init_producer_id(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>, next_pid: &mut u32, producer: u32, req: u64, txn: u32, timeout_ms: u64) {
        let b = layout.broker;
        let refuse = |cx: &mut Cx<'_>, error: KafkaError| {
            Self::refuse(cx, layout, txn, "InitProducerId", error);
            cx.send(NodeId::Broker(b), NodeId::Producer(producer), Msg::InitProducerIdResponse { req, result: Err(error) });
        };
        if !self.owns(layout, txn) {
            return refuse(cx, KafkaError::NotCoordinator);
        }
        let now = cx.now();
        let entry = self.txns.entry(txn).or_insert_with(|| {
            *next_pid += 1;
            let meta = TxnMetadata { pid: *next_pid, epoch: 0, state: TxnState::Empty, partitions: Vec::new(), timeout_ms, start: now };
            Entry { meta, fresh: true, pending: None, markers: Vec::new() }
        });
        if entry.pending.is_some() || matches!(entry.meta.state, TxnState::PrepareCommit | TxnState::PrepareAbort) {
            return refuse(cx, KafkaError::ConcurrentTransactions);
        }
        let meta = entry.meta.clone();
        if meta.state == TxnState::Ongoing {
            // `prepareFenceProducerEpoch`, then an abort at the bumped epoch.
            let to = TxnMetadata { epoch: meta.epoch + 1, state: TxnState::PrepareAbort, ..meta };
            self.prepare(cx, txn, to, Reply::Fence { producer, req }, TxnCause::Fenced);
        } else {
            let epoch = if entry.fresh { 0 } else { meta.epoch + 1 };
            let to = TxnMetadata { epoch, state: TxnState::Empty, partitions: Vec::new(), timeout_ms, ..meta };
            self.prepare(cx, txn, to, Reply::Init { producer, req }, TxnCause::InitProducerId);
        }
    }

    /// A leader's AddPartitionsToTxn (transaction version 2: the first transactional produce to
    /// a partition adds it to the transaction, `handleAddPartitionsToTransaction`).
    #[allow(clippy::too_many_arguments)]
    pub fn add_partition(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>, broker: BrokerId, req: u64, txn: u32, (pid, epoch): (u32, u16), tp: Tp) {
        let b = layout.broker;
        let answer = |cx: &mut Cx<'_>, error: Option<KafkaError>| {
            if let Some(e) = error {
                Self::refuse(cx, layout, txn, "AddPartitionsToTxn", e);
            }
            cx.send(NodeId::Broker(b), NodeId::Broker(broker), Msg::AddPartitionsToTxnResponse { req, tp, error });
        };
        if !self.owns(layout, txn) {
            return answer(cx, Some(KafkaError::NotCoordinator));
        }
        let Some(entry) = self.txns.get(&txn) else { return answer(cx, Some(KafkaError::InvalidProducerIdMapping)) };
        let meta = entry.meta.clone();
        let error = if entry.pending.is_some() {
            Some(KafkaError::ConcurrentTransactions)
        } else if pid != meta.pid {
            Some(KafkaError::InvalidProducerIdMapping)
        } else if epoch != meta.epoch {
            Some(KafkaError::ProducerFenced)
        } else if matches!(meta.state, TxnState::PrepareCommit | TxnState::PrepareAbort) {
            Some(KafkaError::ConcurrentTransactions)
        } else {
            None
        };
        if error.is_some() {
            return answer(cx, error);
        }
        if meta.state == TxnState::Ongoing && meta.partitions.contains(&tp) {
            return answer(cx, None);
        }
        let start = if meta.state == TxnState::Ongoing { meta.start } else { cx.now() };
        let mut partitions = meta.partitions.clone();
        partitions.push(tp);
        partitions.sort_unstable();
        let to = TxnMetadata { state: TxnState::Ongoing, partitions, start, ..meta };
        self.prepare(cx, txn, to, Reply::Added { broker, req, tp }, TxnCause::PartitionAdded);
    }

    /// EndTxn with transaction version 2 (`endTransaction`): a commit or abort of the open
    /// transaction bumps the epoch; a retry of one that already completed is answered with the
    /// epoch it gave.
    #[allow(clippy::too_many_arguments)]
    pub fn end_txn(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>, producer: u32, req: u64, txn: u32, (pid, epoch): (u32, u16), commit: bool) {
        let b = layout.broker;
        let respond = |cx: &mut Cx<'_>, result: Result<(u32, u16), KafkaError>| {
            if let Err(e) = result {
                Self::refuse(cx, layout, txn, "EndTxn", e);
            }
            cx.send(NodeId::Broker(b), NodeId::Producer(producer), Msg::EndTxnResponse { req, result });
        };
        if !self.owns(layout, txn) {
            return respond(cx, Err(KafkaError::NotCoordinator));
        }
        let Some(entry) = self.txns.get(&txn) else { return respond(cx, Err(KafkaError::InvalidProducerIdMapping)) };
        let meta = entry.meta.clone();
        if entry.pending.is_some() || matches!(meta.state, TxnState::PrepareCommit | TxnState::PrepareAbort) {
            return respond(cx, Err(KafkaError::ConcurrentTransactions));
        }
        if pid != meta.pid {
            return respond(cx, Err(KafkaError::InvalidProducerIdMapping));
        }
        let retry = meta.epoch == epoch.wrapping_add(1);
        let current = meta.epoch == epoch;
        let valid = match meta.state {
            TxnState::Ongoing | TxnState::Empty => current,
            _ => current || retry,
        };
        if !valid {
            return respond(cx, Err(KafkaError::ProducerFenced));
        }
        let prepare = |state: TxnState| TxnMetadata { epoch: meta.epoch + 1, state, ..meta.clone() };
        let to = match (meta.state, commit, retry) {
            (TxnState::Ongoing, true, _) => prepare(TxnState::PrepareCommit),
            (TxnState::Ongoing, false, _) | (TxnState::Empty, false, _) => prepare(TxnState::PrepareAbort),
            (TxnState::CompleteAbort, false, true) | (TxnState::CompleteCommit, true, true) => return respond(cx, Ok((meta.pid, meta.epoch))),
            (TxnState::CompleteAbort | TxnState::CompleteCommit, false, false) => prepare(TxnState::PrepareAbort),
            _ => return respond(cx, Err(KafkaError::InvalidTxnState)),
        };
        self.prepare(cx, txn, to, Reply::EndTxn { producer, req }, TxnCause::EndTxn);
    }

    /// The record of a transition reached every in-sync replica of `__transaction_state`
    /// (`Ok`), or could not be written: the transition takes effect, or is dropped, and whoever
    /// waits for it is answered.
    pub fn append_done(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>, req: u64, result: Result<(), KafkaError>) {
        let b = layout.broker;
        let Some(txn) = self.txns.iter().find(|(_, e)| e.pending.as_ref().is_some_and(|p| p.req == req)).map(|(&t, _)| t) else { return };
        let entry = self.txns.get_mut(&txn).expect("found");
        let pending = entry.pending.take().expect("found");
        let reply = |cx: &mut Cx<'_>, error: Option<KafkaError>, meta: &TxnMetadata| match pending.reply {
            Reply::Nobody => {}
            Reply::Init { producer, req } => {
                let result = error.map_or(Ok((meta.pid, meta.epoch)), Err);
                cx.send(NodeId::Broker(b), NodeId::Producer(producer), Msg::InitProducerIdResponse { req, result });
            }
            Reply::Fence { producer, req } => {
                let result = Err(error.unwrap_or(KafkaError::ConcurrentTransactions));
                cx.send(NodeId::Broker(b), NodeId::Producer(producer), Msg::InitProducerIdResponse { req, result });
            }
            Reply::EndTxn { producer, req } => {
                let result = error.map_or(Ok((meta.pid, meta.epoch)), Err);
                cx.send(NodeId::Broker(b), NodeId::Producer(producer), Msg::EndTxnResponse { req, result });
            }
            Reply::Added { broker, req, tp } => cx.send(NodeId::Broker(b), NodeId::Broker(broker), Msg::AddPartitionsToTxnResponse { req, tp, error }),
        };
        if let Err(e) = result {
            // `TransactionStateManager.appendTransactionToLog`'s mapping of append errors.
            let error = if e == KafkaError::NotLeaderOrFollower { KafkaError::NotCoordinator } else { KafkaError::CoordinatorNotAvailable };
            Self::refuse(cx, layout, txn, "the __transaction_state write", error);
            let meta = entry.meta.clone();
            reply(cx, Some(error), &meta);
            return;
        }
        let from = entry.meta.state;
        entry.meta = pending.to;
        entry.fresh = false;
        let meta = entry.meta.clone();
        cx.emit(TxnOut::Effect(TxnEffect::TxnTransition {
            txn,
            coordinator: b,
            from,
            to: meta.state,
            pid: meta.pid,
            epoch: meta.epoch,
            partitions: meta.partitions.clone(),
            cause: pending.cause,
        }));
        reply(cx, None, &meta);
        if matches!(meta.state, TxnState::PrepareCommit | TxnState::PrepareAbort) {
            entry.markers = meta.partitions.iter().map(|&tp| (tp, 0)).collect();
            self.send_markers(cx, layout, txn);
        }
    }

    /// Sends the markers not yet sent, one WriteTxnMarkers per leader; a partition with no
    /// leader waits for [`MARKER_RETRY_MS`]. With none left to acknowledge, completes.
    fn send_markers(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>, txn: u32) {
        let b = layout.broker;
        let Some(entry) = self.txns.get_mut(&txn) else { return };
        if entry.markers.is_empty() {
            return self.complete(cx, txn);
        }
        let (pid, epoch, commit) = (entry.meta.pid, entry.meta.epoch, entry.meta.state == TxnState::PrepareCommit);
        let mut by_leader: VecMap<BrokerId, Vec<Tp>> = VecMap::new();
        let mut waiting = false;
        for (tp, sent) in &entry.markers {
            if *sent != 0 {
                continue;
            }
            match layout.leaders[layout.pidx(*tp)] {
                Some(leader) => by_leader.entry(leader).or_default().push(*tp),
                None => waiting = true,
            }
        }
        for (&leader, tps) in by_leader.iter() {
            let req = cx.next_request_id();
            for m in entry.markers.iter_mut().filter(|m| tps.contains(&m.0)) {
                m.1 = req;
            }
            cx.emit(TxnOut::Effect(TxnEffect::MarkersSent { txn, coordinator: b, commit, partitions: tps.clone() }));
            cx.send(NodeId::Broker(b), NodeId::Broker(leader), Msg::WriteTxnMarkers { req, txn, pid, epoch, commit, tps: tps.clone() });
            cx.set_timer(cx.now() + MARKER_REQUEST_TIMEOUT_MS, Timer::TxnMarkerTimeout { broker: b, incarnation: layout.incarnation, txn, req });
        }
        if waiting {
            cx.set_timer(cx.now() + MARKER_RETRY_MS, Timer::TxnMarkerRetry { broker: b, incarnation: layout.incarnation, txn });
        }
    }

    /// Every marker is written: CompleteCommit or CompleteAbort, with no partitions.
    fn complete(&mut self, cx: &mut Cx<'_>, txn: u32) {
        let Some(entry) = self.txns.get(&txn) else { return };
        if entry.pending.is_some() {
            return;
        }
        let state = match entry.meta.state {
            TxnState::PrepareCommit => TxnState::CompleteCommit,
            TxnState::PrepareAbort => TxnState::CompleteAbort,
            _ => return,
        };
        let to = TxnMetadata { state, partitions: Vec::new(), ..entry.meta.clone() };
        self.prepare(cx, txn, to, Reply::Nobody, TxnCause::MarkersWritten);
    }

    /// A leader answered for one partition's marker.
    pub fn marker_written(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>, req: u64, tp: Tp, error: Option<KafkaError>) {
        let Some(txn) = self.txns.iter().find(|(_, e)| e.markers.contains(&(tp, req))).map(|(&t, _)| t) else { return };
        let entry = self.txns.get_mut(&txn).expect("found");
        match error {
            None => entry.markers.retain(|m| *m != (tp, req)),
            Some(_) => {
                for m in entry.markers.iter_mut().filter(|m| **m == (tp, req)) {
                    m.1 = 0;
                }
                cx.set_timer(cx.now() + MARKER_RETRY_MS, Timer::TxnMarkerRetry { broker: layout.broker, incarnation: layout.incarnation, txn });
                return;
            }
        }
        if entry.markers.is_empty() {
            self.complete(cx, txn);
        }
    }

    /// The marker retry timer: sends again what has no answer.
    pub fn retry_markers(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>, txn: u32) -> bool {
        let unsent = self.txns.get(&txn).is_some_and(|e| e.markers.iter().any(|m| m.1 == 0));
        if unsent {
            self.send_markers(cx, layout, txn);
        }
        unsent
    }

    /// A WriteTxnMarkers request timed out: the markers it carried that are still unanswered are
    /// sent again, to their partitions' current leaders.
    pub fn marker_timeout(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>, txn: u32, req: u64) -> bool {
        let Some(entry) = self.txns.get_mut(&txn) else { return false };
        let mut expired = false;
        for m in entry.markers.iter_mut().filter(|m| m.1 == req) {
            m.1 = 0;
            expired = true;
        }
        if expired {
            self.send_markers(cx, layout, txn);
        }
        expired
    }

    /// The periodic sweep (`abortTimedOutTransactions`, every
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`): a transaction open longer
    /// than its timeout is fenced and aborted; a completion whose write failed is tried again.
    pub fn sweep(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>) -> bool {
        let now = cx.now();
        let interval = layout.config.transaction_abort_timed_out_transaction_cleanup_interval_ms;
        cx.set_timer(now + interval, Timer::TxnSweep { broker: layout.broker, incarnation: layout.incarnation });
        let due: Vec<(u32, TxnMetadata)> = self
            .txns
            .iter()
            .filter(|(_, e)| e.pending.is_none() && e.meta.state == TxnState::Ongoing && e.meta.start + e.meta.timeout_ms < now)
            .map(|(&t, e)| (t, e.meta.clone()))
            .collect();
        let stuck: Vec<u32> = self
            .txns
            .iter()
            .filter(|(_, e)| e.pending.is_none() && e.markers.is_empty() && matches!(e.meta.state, TxnState::PrepareCommit | TxnState::PrepareAbort))
            .map(|(&t, _)| t)
            .collect();
        let acted = !due.is_empty() || !stuck.is_empty();
        for (txn, meta) in due {
            let to = TxnMetadata { epoch: meta.epoch + 1, state: TxnState::PrepareAbort, ..meta };
            self.prepare(cx, txn, to, Reply::Nobody, TxnCause::TimedOut);
        }
        for txn in stuck {
            self.complete(cx, txn);
        }
        acted
    }

    /// The broker became leader of `__transaction_state` partition `pidx`: it loads the last
    /// record of each transactional id there, and a prepared commit or abort sends its markers
    /// again (`loadTransactionsForTxnTopicPartition`).
    pub fn load(&mut self, cx: &mut Cx<'_>, layout: &TxnLayout<'_>, pidx: u32, records: Vec<(u32, TxnMetadata)>) {
        if !self.loaded.contains(&pidx) {
            self.loaded.push(pidx);
        }
        for (txn, meta) in records {
            self.txns.insert(txn, Entry { meta, fresh: false, pending: None, markers: Vec::new() });
        }
        let here: Vec<(u32, TxnState)> =
            self.txns.iter().filter(|(&t, _)| layout.txn_ids[t as usize].pidx == pidx).map(|(&t, e)| (t, e.meta.state)).collect();
        cx.emit(TxnOut::Effect(TxnEffect::TxnsLoaded { coordinator: layout.broker, txns: here.clone() }));
        for (txn, state) in here {
            if matches!(state, TxnState::PrepareCommit | TxnState::PrepareAbort) {
                if let Some(e) = self.txns.get_mut(&txn) {
                    e.markers = e.meta.partitions.iter().map(|&tp| (tp, 0)).collect();
                }
                self.send_markers(cx, layout, txn);
            }
        }
    }

    /// The broker no longer leads `__transaction_state` partition `pidx`: its transactions move
    /// to the next leader.
    pub fn unload(&mut self, layout: &TxnLayout<'_>, pidx: u32) {
        self.loaded.retain(|&p| p != pidx);
        self.txns.retain(|&t, _| layout.txn_ids[t as usize].pidx != pidx);
    }

    /// The broker stopped: everything in memory is gone.
    pub fn forget(&mut self) {
        self.loaded.clear();
        self.txns.clear();
    }
}
