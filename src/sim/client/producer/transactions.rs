//! A transactional producer (Kafka's `TransactionManager` with transaction version 2): the
//! application's `initTransactions`, `beginTransaction`, `commitTransaction` and
//! `abortTransaction`, the one transactional request the Sender has in flight at a time, and
//! the errors that leave the transaction abortable or the producer fenced.
//!
//! The application thread blocks in `initTransactions`, `commitTransaction` and
//! `abortTransaction` until they complete, so the calls and sends the timeline makes meanwhile
//! wait behind them, in order.

use super::{BlockedSend, Conn, Cx, Producer};
use crate::sim::client::effect::ProducerEffect;
use crate::sim::client::ClientEnv;
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, NodeId, Tp};
use serde::Serialize;
use std::collections::VecDeque;

/// The producer's transaction states (`TransactionManager.State`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TxnClientState {
    /// Before `initTransactions`.
    Uninitialized,
    /// In `initTransactions`: waiting for a producer id and epoch.
    Initializing,
    /// Initialized, no transaction open.
    Ready,
    /// Between `beginTransaction` and its commit or abort.
    InTransaction,
    /// In `commitTransaction`.
    CommittingTransaction,
    /// In `abortTransaction`.
    AbortingTransaction,
    /// A send failed: the application must abort the transaction.
    AbortableError,
    /// Fenced (or another fatal error): the producer must be closed.
    FatalError,
}

impl TxnClientState {
    /// Kafka's name.
    pub fn name(self) -> &'static str {
        match self {
            TxnClientState::Uninitialized => "UNINITIALIZED",
            TxnClientState::Initializing => "INITIALIZING",
            TxnClientState::Ready => "READY",
            TxnClientState::InTransaction => "IN_TRANSACTION",
            TxnClientState::CommittingTransaction => "COMMITTING_TRANSACTION",
            TxnClientState::AbortingTransaction => "ABORTING_TRANSACTION",
            TxnClientState::AbortableError => "ABORTABLE_ERROR",
            TxnClientState::FatalError => "FATAL_ERROR",
        }
    }

    /// A state the application thread waits in.
    fn blocks(self) -> bool {
        matches!(self, TxnClientState::Initializing | TxnClientState::CommittingTransaction | TxnClientState::AbortingTransaction)
    }
}

/// A call of the application on a transactional producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnCall {
    /// `initTransactions()`.
    InitTransactions,
    /// `beginTransaction()`.
    BeginTransaction,
    /// `commitTransaction()`.
    CommitTransaction,
    /// `abortTransaction()`.
    AbortTransaction,
    /// `sendOffsetsToTransaction(offsets, groupMetadata)` (its offsets travel beside it, in
    /// [`TxnOffsets`]).
    SendOffsetsToTransaction,
}

impl TxnCall {
    /// The Java method's name.
    pub fn name(self) -> &'static str {
        match self {
            TxnCall::InitTransactions => "initTransactions()",
            TxnCall::BeginTransaction => "beginTransaction()",
            TxnCall::CommitTransaction => "commitTransaction()",
            TxnCall::AbortTransaction => "abortTransaction()",
            TxnCall::SendOffsetsToTransaction => "sendOffsetsToTransaction()",
        }
    }
}

/// A call that waits while the application thread is blocked in another.
#[derive(Clone, Debug)]
pub(super) enum Waiting {
    Send(BlockedSend),
    Call(TxnCall),
    Offsets(TxnOffsets),
}

/// The transactional request the Sender sends next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Request {
    InitProducerId,
    EndTxn { commit: bool },
    /// The offsets of `sendOffsetsToTransaction`, to the group coordinator.
    TxnOffsetCommit,
}

impl Request {
    fn name(self) -> &'static str {
        match self {
            Request::InitProducerId => "InitProducerId",
            Request::EndTxn { .. } => "EndTxn",
            Request::TxnOffsetCommit => "TxnOffsetCommit",
        }
    }
}

/// What `sendOffsetsToTransaction(offsets, groupMetadata)` is given: the offsets, and the group
/// metadata of the consumer they come from (`new ConsumerGroupMetadata(groupId)` has generation
/// −1 and no member id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxnOffsets {
    /// Group index.
    pub group: u32,
    /// The consumer's generation (−1: none).
    pub generation: i32,
    /// The consumer's member id (empty: none).
    pub member_id: String,
    /// (partition, offset): the position of the next record to read.
    pub offsets: Vec<(Tp, u64)>,
}

/// A transactional producer's state beside the idempotent producer's.
#[derive(Clone, Debug)]
pub struct TransactionManager {
    /// The `transactional.id` (index).
    pub txn: u32,
    /// The state.
    pub state: TxnClientState,
    /// The error that put it in an error state.
    pub last_error: Option<KafkaError>,
    /// The producer epoch from the coordinator.
    pub epoch: u16,
    /// The coordinator, once found.
    pub coordinator: Option<BrokerId>,
    /// The coordinator of the group whose offsets the application sends, once found.
    pub group_coordinator: Option<BrokerId>,
    pub(super) next: Option<Request>,
    /// The request in flight: its id (`FindCoordinator` has none: 0).
    pub(super) in_flight: Option<u64>,
    /// When the request in flight reaches `request.timeout.ms`.
    deadline: u64,
    pub(super) retry_at: u64,
    /// Whether the open transaction has sent anything (`transactionStarted`): an EndTxn is needed.
    pub(super) started: bool,
    /// The offsets a `sendOffsetsToTransaction` that has not returned yet is adding.
    pub offsets: Option<TxnOffsets>,
    pub(super) waiting: VecDeque<Waiting>,
}

impl TransactionManager {
    pub(super) fn new(txn: u32) -> TransactionManager {
        TransactionManager {
            txn,
            state: TxnClientState::Uninitialized,
            last_error: None,
            epoch: 0,
            coordinator: None,
            group_coordinator: None,
            next: None,
            in_flight: None,
            deadline: 0,
            retry_at: 0,
            started: false,
            offsets: None,
            waiting: VecDeque::new(),
        }
    }

    /// The application thread waits in a call: one of the blocking states, or a
    /// `sendOffsetsToTransaction` (which leaves the state IN_TRANSACTION).
    fn in_call(&self) -> bool {
        self.state.blocks() || self.offsets.is_some()
    }

    /// The application thread is inside a blocking call, or calls wait behind one.
    pub(super) fn blocked(&self) -> bool {
        self.in_call() || !self.waiting.is_empty()
    }

    /// Completing a transaction: every batch counts as ready at once (`RecordAccumulator.ready`).
    pub(super) fn completing(&self) -> bool {
        matches!(self.state, TxnClientState::CommittingTransaction | TxnClientState::AbortingTransaction)
    }
}

impl Producer {
    pub(super) fn txn_mut(&mut self) -> &mut TransactionManager {
        self.txn.as_mut().expect("a transactional producer")
    }

    pub(super) fn refuse_call(&mut self, cx: &mut Cx<'_>, call: &'static str) {
        let Some(t) = &self.txn else { return };
        cx.emit(ProducerEffect::TxnCallRefused { producer: self.index, call, state: t.state.name(), error: t.last_error });
    }

    /// The application calls a transactional method (a timeline entry).
    pub(crate) fn txn_call(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, call: TxnCall) {
        let Some(t) = &mut self.txn else {
            cx.emit(ProducerEffect::TxnCallRefused { producer: self.index, call: call.name(), state: "no transactional.id", error: None });
            return;
        };
        if t.blocked() || !self.blocked.is_empty() {
            t.waiting.push_back(Waiting::Call(call));
            return;
        }
        self.run_call(cx, env, call);
        self.drain(cx, env);
    }

    fn run_call(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, call: TxnCall) {
        let p = self.index;
        let t = self.txn_mut();
        let state = t.state;
        match (call, state) {
            (TxnCall::InitTransactions, TxnClientState::Uninitialized) => {
                t.state = TxnClientState::Initializing;
                t.next = Some(Request::InitProducerId);
            }
            (TxnCall::BeginTransaction, TxnClientState::Ready) => {
                t.state = TxnClientState::InTransaction;
                t.started = false;
            }
            (TxnCall::CommitTransaction, TxnClientState::InTransaction) => {
                t.state = TxnClientState::CommittingTransaction;
                t.next = Some(Request::EndTxn { commit: true });
            }
            (TxnCall::AbortTransaction, TxnClientState::InTransaction | TxnClientState::AbortableError) => {
                t.state = TxnClientState::AbortingTransaction;
                t.next = Some(Request::EndTxn { commit: false });
                // `abortUndrainedBatches`: what was never sent fails; what is in flight completes.
                let unsent: Vec<u64> = self.batches.iter().filter(|(_, b)| b.attempts == 0).map(|(id, _)| id).collect();
                for bid in unsent {
                    self.fail_batch(cx, env, bid, KafkaError::TransactionAborted, 0);
                }
            }
            _ => return self.refuse_call(cx, call.name()),
        }
        let t = self.txn.as_ref().expect("transactional");
        cx.emit(ProducerEffect::TxnStateChanged { producer: p, call: Some(call.name()), from: state.name(), to: t.state.name() });
        // No EndTxn when the transaction sent nothing (`transactionStarted` false).
        if t.next.is_some_and(|r| matches!(r, Request::EndTxn { .. })) && !t.started {
            self.end_locally(cx, env);
        }
    }

    /// A `send()` of a transactional producer: only inside a transaction; it marks the
    /// transaction as started. False when refused (the record is never created).
    pub(super) fn txn_allows_send(&mut self, cx: &mut Cx<'_>) -> bool {
        let Some(t) = &mut self.txn else { return true };
        if t.state == TxnClientState::InTransaction {
            t.started = true;
            return true;
        }
        self.refuse_call(cx, "send()");
        false
    }

    /// The Sender's transactional part (`maybeSendAndPollTransactionalRequest`), before any
    /// produce data: false while a transactional request is in flight or was just sent, when no
    /// produce request may go out.
    pub(super) fn txn_sender(&mut self, cx: &mut Cx<'_>) -> bool {
        let p = self.index;
        let now = cx.now();
        let incomplete = self.batches.values().next().is_some();
        let Some(t) = &mut self.txn else { return true };
        if t.in_flight.is_some() {
            return false;
        }
        let Some(request) = t.next else { return true };
        // EndTxn waits for every batch to be acknowledged or failed.
        if matches!(request, Request::EndTxn { .. }) && incomplete {
            return true;
        }
        if t.retry_at > now {
            return true;
        }
        let to_group = request == Request::TxnOffsetCommit;
        let Some(coordinator) = (if to_group { t.group_coordinator } else { t.coordinator }) else {
            t.in_flight = Some(0);
            let msg = match &t.offsets {
                Some(o) if to_group => Msg::FindCoordinator { group: o.group },
                _ => Msg::FindTxnCoordinator { txn: t.txn },
            };
            cx.send(NodeId::Producer(p), NodeId::Controller, msg);
            return false;
        };
        let timeout = self.config.request_timeout_ms;
        match self.conns[coordinator as usize] {
            Conn::Ready => {}
            Conn::Disconnected { reconnect_at } if reconnect_at <= now => {
                self.connect(cx, coordinator);
                return true;
            }
            Conn::Disconnected { reconnect_at } => {
                self.arm_wake(cx, reconnect_at);
                return true;
            }
            Conn::Connecting { .. } => return true,
        }
        let (pid, timeout_ms) = (self.pid, self.config.transaction_timeout_ms);
        let t = self.txn_mut();
        let req = cx.next_request_id();
        t.in_flight = Some(req);
        t.deadline = now + timeout;
        cx.set_timer(now + timeout, Timer::ProducerTxnRetry { producer: p });
        let msg = match request {
            Request::InitProducerId => Msg::InitProducerId { req, txn: Some(t.txn), timeout_ms },
            Request::EndTxn { commit } => Msg::EndTxn { req, txn: t.txn, pid, epoch: t.epoch, commit },
            Request::TxnOffsetCommit => {
                let o = t.offsets.clone().expect("offsets to send");
                Msg::TxnOffsetCommit { req, txn: t.txn, group: o.group, pid, epoch: t.epoch, generation: o.generation, member_id: o.member_id, offsets: o.offsets }
            }
        };
        cx.send(NodeId::Producer(p), NodeId::Broker(coordinator), msg);
        false
    }

    /// A response to the transactional request in flight.
    pub(super) fn txn_receive(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, msg: &Msg) {
        let Some(t) = &mut self.txn else { return };
        match msg {
            Msg::FindTxnCoordinatorResponse { coordinator, .. } => {
                if t.in_flight != Some(0) {
                    return;
                }
                t.in_flight = None;
                t.coordinator = *coordinator;
                if coordinator.is_none() {
                    self.txn_backoff(cx);
                }
            }
            Msg::FindCoordinatorResponse { coordinator, .. } => {
                if t.in_flight != Some(0) {
                    return;
                }
                // A lookup answered after the producer failed ends too, or nothing could be sent again.
                t.in_flight = None;
                if t.next != Some(Request::TxnOffsetCommit) {
                    return;
                }
                t.group_coordinator = *coordinator;
                if coordinator.is_none() {
                    self.txn_backoff(cx);
                }
            }
            Msg::TxnOffsetCommitResponse { req, error, .. } => {
                if t.in_flight != Some(*req) {
                    return;
                }
                t.in_flight = None;
                if t.next == Some(Request::TxnOffsetCommit) {
                    self.txn_offsets_answered(cx, env, *error);
                }
            }
            Msg::InitProducerIdResponse { req, result } | Msg::EndTxnResponse { req, result } => {
                if t.in_flight != Some(*req) {
                    return;
                }
                t.in_flight = None;
                // An answer that arrives after a fatal error changes nothing: every call fails now.
                if t.state == TxnClientState::FatalError {
                    return;
                }
                let request = if matches!(msg, Msg::InitProducerIdResponse { .. }) { "InitProducerId" } else { "EndTxn" };
                match *result {
                    Ok((pid, epoch)) => self.txn_done(cx, env, pid, epoch),
                    Err(error) => self.txn_request_failed(cx, env, request, error),
                }
            }
            _ => return,
        }
        self.drain(cx, env);
    }

    fn txn_request_failed(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, request: &'static str, error: KafkaError) {
        let p = self.index;
        *self.errors_seen.entry(error).or_insert(0) += 1;
        let t = self.txn_mut();
        match error {
            KafkaError::NotCoordinator | KafkaError::CoordinatorNotAvailable => {
                t.coordinator = None;
                cx.emit(ProducerEffect::TxnRequestRetried { producer: p, request, error });
                self.txn_backoff(cx);
            }
            KafkaError::ConcurrentTransactions => {
                cx.emit(ProducerEffect::TxnRequestRetried { producer: p, request, error });
                self.txn_backoff(cx);
            }
            _ => {
                // PRODUCER_FENCED, INVALID_TXN_STATE and the unexpected errors are fatal.
                let fatal = if error == KafkaError::InvalidProducerEpoch { KafkaError::ProducerFenced } else { error };
                self.txn_fatal(cx, env, fatal);
            }
        }
    }

    pub(super) fn txn_backoff(&mut self, cx: &mut Cx<'_>) {
        let p = self.index;
        let at = cx.now() + self.config.retry_backoff_ms;
        self.txn_mut().retry_at = at;
        cx.set_timer(at, Timer::ProducerTxnRetry { producer: p });
    }

    /// The retry timer of a transactional request, or its `request.timeout.ms`: a request with
    /// no answer by then (lost, or its coordinator died) is given up, the coordinator looked up
    /// again and the request sent again (`NetworkClient` closes the connection on a timeout).
    pub(crate) fn txn_retry(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) -> bool {
        let p = self.index;
        let now = cx.now();
        let Some(t) = &mut self.txn else { return self.id_retry(cx, env) };
        if t.in_flight.is_some_and(|r| r != 0) && t.deadline == now {
            let request = t.next.map_or("EndTxn", Request::name);
            t.in_flight = None;
            if t.next == Some(Request::TxnOffsetCommit) {
                t.group_coordinator = None;
            } else {
                t.coordinator = None;
            }
            *self.errors_seen.entry(KafkaError::RequestTimedOut).or_insert(0) += 1;
            cx.emit(ProducerEffect::TxnRequestRetried { producer: p, request, error: KafkaError::RequestTimedOut });
            self.txn_backoff(cx);
            return true;
        }
        let due = t.retry_at == now && t.next.is_some();
        if due {
            self.drain(cx, env);
        }
        due
    }

    /// InitProducerId or EndTxn succeeded: the new producer id and epoch, sequences from 0, and
    /// the application thread goes on.
    fn txn_done(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, pid: u32, epoch: u16) {
        let p = self.index;
        self.pid = pid;
        self.next_seq.clear();
        self.last_acked.clear();
        let t = self.txn_mut();
        t.epoch = epoch;
        let from = t.state;
        t.state = TxnClientState::Ready;
        t.next = None;
        t.started = false;
        cx.emit(ProducerEffect::TxnStateChanged { producer: p, call: None, from: from.name(), to: TxnClientState::Ready.name() });
        self.resume_calls(cx, env);
    }

    /// A commit or abort of a transaction that sent nothing completes in the client.
    fn end_locally(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        let p = self.index;
        let t = self.txn_mut();
        let from = t.state;
        t.state = TxnClientState::Ready;
        t.next = None;
        cx.emit(ProducerEffect::TxnStateChanged { producer: p, call: None, from: from.name(), to: TxnClientState::Ready.name() });
        self.resume_calls(cx, env);
    }

    /// Runs the calls that waited while the application thread was blocked, until one blocks.
    pub(super) fn resume_calls(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        while self.txn.as_ref().is_some_and(|t| !t.in_call()) && self.blocked.is_empty() {
            let Some(next) = self.txn_mut().waiting.pop_front() else { break };
            match next {
                Waiting::Send(send) => self.send_now(cx, env, send),
                Waiting::Call(call) => self.run_call(cx, env, call),
                Waiting::Offsets(offsets) => self.run_send_offsets(cx, offsets),
            }
        }
    }

    /// A batch of the transaction failed for good (`TransactionManager.handleFailedBatch`):
    /// fenced is fatal, anything else leaves the transaction abortable; a commit waiting for
    /// its batches then fails, and the application must abort.
    pub(super) fn txn_batch_failed(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, error: KafkaError) {
        let p = self.index;
        let Some(t) = &mut self.txn else { return };
        if error == KafkaError::TransactionAborted || matches!(t.state, TxnClientState::AbortingTransaction | TxnClientState::FatalError) {
            return;
        }
        if error == KafkaError::ProducerFenced {
            return self.txn_fatal(cx, env, error);
        }
        let from = t.state;
        t.state = TxnClientState::AbortableError;
        t.last_error = Some(error);
        if from == TxnClientState::CommittingTransaction {
            t.next = None;
        }
        cx.emit(ProducerEffect::TxnStateChanged { producer: p, call: None, from: from.name(), to: TxnClientState::AbortableError.name() });
        if from == TxnClientState::CommittingTransaction {
            self.refuse_call(cx, TxnCall::CommitTransaction.name());
            self.resume_calls(cx, env);
        }
    }

    /// Fenced, or an error the producer cannot recover from: every call fails from now on (a
    /// `sendOffsetsToTransaction` waiting for its answer throws the error).
    pub(super) fn txn_fatal(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, error: KafkaError) {
        if self.enter_error_state(cx, TxnClientState::FatalError, error) {
            self.refuse_call(cx, TxnCall::SendOffsetsToTransaction.name());
        }
        let unsent: Vec<u64> = self.batches.iter().filter(|(_, b)| b.attempts == 0).map(|(id, _)| id).collect();
        for bid in unsent {
            self.fail_batch(cx, env, bid, error, 0);
        }
        self.resume_calls(cx, env);
    }

    /// Moves to an error state: no request is pending any more, and a `sendOffsetsToTransaction`
    /// waiting for its answer is over. Returns whether one was.
    pub(super) fn enter_error_state(&mut self, cx: &mut Cx<'_>, to: TxnClientState, error: KafkaError) -> bool {
        let p = self.index;
        let t = self.txn_mut();
        let from = t.state;
        t.state = to;
        t.last_error = Some(error);
        t.next = None;
        let sending_offsets = t.offsets.take().is_some();
        cx.emit(ProducerEffect::TxnStateChanged { producer: p, call: None, from: from.name(), to: to.name() });
        sending_offsets
    }

    /// The connection to the coordinator failed: the request on it, if any, is given up, and the
    /// coordinator looked up again before the next one (`TxnRequestHandler.onComplete` on a
    /// disconnect).
    pub(super) fn txn_connection_failed(&mut self, cx: &mut Cx<'_>, broker: BrokerId) {
        let Some(t) = &mut self.txn else { return };
        // The request in flight, if any, went to the group's coordinator for a TxnOffsetCommit,
        // and to the transaction coordinator otherwise.
        let target = if t.next == Some(Request::TxnOffsetCommit) { t.group_coordinator } else { t.coordinator };
        if t.group_coordinator == Some(broker) {
            t.group_coordinator = None;
        }
        if t.coordinator == Some(broker) {
            t.coordinator = None;
        }
        if target != Some(broker) {
            return;
        }
        if t.in_flight.is_some_and(|r| r != 0) {
            t.in_flight = None;
        }
        if t.next.is_some() {
            self.txn_backoff(cx);
        }
    }
}
