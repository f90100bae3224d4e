//! `sendOffsetsToTransaction(offsets, groupMetadata)` of a transactional producer with
//! transaction version 2: one TxnOffsetCommit (v5) straight to the group's coordinator, with no
//! AddOffsetsToTxn first (the coordinator adds its `__consumer_offsets` partition to the
//! transaction itself). The application thread blocks until the coordinator has written the
//! offsets into the transaction; they become the group's committed offsets only if the
//! transaction commits.

use super::transactions::{Request, TxnCall, TxnClientState, TxnOffsets, Waiting};
use super::{Cx, Producer};
use crate::sim::client::effect::ProducerEffect;
use crate::sim::client::ClientEnv;
use crate::sim::types::KafkaError;

impl Producer {
    /// The application calls `sendOffsetsToTransaction` (a timeline entry); it waits behind a
    /// call the thread is blocked in.
    pub(crate) fn send_offsets_to_transaction(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, offsets: TxnOffsets) {
        let call = TxnCall::SendOffsetsToTransaction.name();
        let Some(t) = &mut self.txn else {
            cx.emit(ProducerEffect::TxnCallRefused { producer: self.index, call, state: "no transactional.id", error: None });
            return;
        };
        if t.blocked() || !self.blocked.is_empty() {
            t.waiting.push_back(Waiting::Offsets(offsets));
            return;
        }
        self.run_send_offsets(cx, offsets);
        self.drain(cx, env);
    }

    /// `TransactionManager.sendOffsetsToTransaction`: only inside a transaction and outside an
    /// error state (`maybeFailWithError`), with offsets to send; it marks the transaction as started, so its end needs
    /// an EndTxn even if nothing was sent.
    pub(super) fn run_send_offsets(&mut self, cx: &mut Cx<'_>, offsets: TxnOffsets) {
        let p = self.index;
        // `KafkaProducer.sendOffsetsToTransaction` does nothing for no offsets, not even the
        // state checks.
        if offsets.offsets.is_empty() {
            cx.emit(ProducerEffect::TxnOffsetsSending { producer: p, group: offsets.group, generation: offsets.generation, offsets: Vec::new() });
            return;
        }
        let t = self.txn_mut();
        if t.state != TxnClientState::InTransaction {
            return self.refuse_call(cx, TxnCall::SendOffsetsToTransaction.name());
        }
        t.started = true;
        t.next = Some(Request::TxnOffsetCommit);
        cx.emit(ProducerEffect::TxnOffsetsSending { producer: p, group: offsets.group, generation: offsets.generation, offsets: offsets.offsets.clone() });
        t.offsets = Some(offsets);
    }

    /// The group coordinator answered the TxnOffsetCommit (`TxnOffsetCommitHandler.handleResponse`).
    pub(super) fn txn_offsets_answered(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, error: Option<KafkaError>) {
        let p = self.index;
        let Some(error) = error else {
            let t = self.txn_mut();
            t.next = None;
            let group = t.offsets.take().map_or(0, |o| o.group);
            cx.emit(ProducerEffect::TxnOffsetsAdded { producer: p, group });
            return self.resume_calls(cx, env);
        };
        *self.errors_seen.entry(error).or_insert(0) += 1;
        let request = "TxnOffsetCommit";
        match error {
            // The coordinator moved or could not write: look it up again and retry.
            KafkaError::NotCoordinator | KafkaError::CoordinatorNotAvailable | KafkaError::RequestTimedOut => {
                self.txn_mut().group_coordinator = None;
                cx.emit(ProducerEffect::TxnRequestRetried { producer: p, request, error });
                self.txn_backoff(cx);
            }
            // Any other retriable error: retry with the same coordinator.
            KafkaError::ConcurrentTransactions | KafkaError::NotEnoughReplicas | KafkaError::NetworkException => {
                cx.emit(ProducerEffect::TxnRequestRetried { producer: p, request, error });
                self.txn_backoff(cx);
            }
            // The group moved on from the consumer's generation: the application must abort
            // (`CommitFailedException`, "consumer group metadata mismatch").
            KafkaError::UnknownMemberId | KafkaError::IllegalGeneration => self.txn_offsets_abortable(cx, env, KafkaError::CommitFailed),
            KafkaError::FencedInstanceId => self.txn_offsets_abortable(cx, env, error),
            KafkaError::InvalidProducerEpoch | KafkaError::ProducerFenced => self.txn_fatal(cx, env, KafkaError::ProducerFenced),
            other => self.txn_fatal(cx, env, other),
        }
    }

    /// An abortable error ends the call: it throws, and the transaction can only be aborted.
    fn txn_offsets_abortable(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, error: KafkaError) {
        self.enter_error_state(cx, TxnClientState::AbortableError, error);
        self.refuse_call(cx, TxnCall::SendOffsetsToTransaction.name());
        self.resume_calls(cx, env);
    }
}
