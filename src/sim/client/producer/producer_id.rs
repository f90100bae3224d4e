//! An idempotent producer's producer id: the Java client's `TransactionManager` without a
//! `transactional.id`. Before its first produce request the Sender asks the least-loaded broker
//! (InitProducerId with no transactional id), which answers at once with a new producer id and
//! epoch 0 (`KafkaApis.handleInitProducerId`); until then no batch is sent.

use super::{Conn, Cx, Disconnect, Producer};
use crate::sim::client::effect::ProducerEffect;
use crate::sim::client::ClientEnv;
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, NodeId};

/// The InitProducerId of an idempotent producer that has no producer id yet.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdRequest {
    /// The request in flight: its id, the broker it went to, and its `request.timeout.ms`.
    in_flight: Option<(u64, BrokerId, u64)>,
    /// Not before this time (`retry.backoff.ms` after a failure).
    retry_at: u64,
}

impl Producer {
    /// The Sender's first run, when the producer is made: an idempotent producer asks for its
    /// producer id.
    pub(crate) fn start_sender(&mut self, cx: &mut Cx<'_>) {
        self.id_sender(cx);
    }

    /// The Sender's `bumpIdempotentEpochAndResetIdIfNeeded`, before any produce data: false while
    /// the producer waits for its producer id, when no produce request may go out.
    pub(super) fn id_sender(&mut self, cx: &mut Cx<'_>) -> bool {
        let Some(r) = self.id_request else { return true };
        let now = cx.now();
        if r.in_flight.is_some() {
            return false;
        }
        if r.retry_at > now {
            self.arm_wake(cx, r.retry_at);
            return false;
        }
        // `NetworkClient.leastLoadedNode`: a ready connection with the fewest requests in flight,
        // else the broker whose reconnect backoff ends first.
        let brokers = 1..self.conns.len() as BrokerId;
        let ready = brokers.clone().filter(|&b| self.conns[b as usize] == Conn::Ready).min_by_key(|&b| self.in_flight_to(b));
        let Some(broker) = ready else {
            let next = brokers.filter_map(|b| match self.conns[b as usize] {
                Conn::Disconnected { reconnect_at } => Some((reconnect_at, b)),
                _ => None,
            });
            match next.min() {
                Some((at, b)) if at <= now => self.connect(cx, b),
                Some((at, _)) => self.arm_wake(cx, at),
                None => {}
            }
            return false;
        };
        let p = self.index;
        let req = cx.next_request_id();
        let deadline = now + self.config.request_timeout_ms;
        self.id_request = Some(IdRequest { in_flight: Some((req, broker, deadline)), ..r });
        cx.set_timer(deadline, Timer::ProducerTxnRetry { producer: p });
        cx.send(NodeId::Producer(p), NodeId::Broker(broker), Msg::InitProducerId { req, txn: None, timeout_ms: self.config.transaction_timeout_ms });
        false
    }

    /// The answer to the InitProducerId in flight.
    pub(super) fn id_received(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, req: u64, result: Result<(u32, u16), KafkaError>) {
        let Some(r) = self.id_request else { return };
        if r.in_flight.is_none_or(|(sent, ..)| sent != req) {
            return;
        }
        match result {
            Ok((pid, _)) => {
                self.id_request = None;
                self.pid = pid;
                cx.emit(ProducerEffect::ProducerIdAssigned { producer: self.index, pid });
            }
            Err(error) => self.id_failed(cx, error),
        }
        self.drain(cx, env);
    }

    /// The request failed or timed out: it is sent again, to the least-loaded broker then, after
    /// `retry.backoff.ms`.
    fn id_failed(&mut self, cx: &mut Cx<'_>, error: KafkaError) {
        let p = self.index;
        let at = cx.now() + self.config.retry_backoff_ms;
        self.id_request = Some(IdRequest { in_flight: None, retry_at: at });
        *self.errors_seen.entry(error).or_insert(0) += 1;
        cx.emit(ProducerEffect::TxnRequestRetried { producer: p, request: "InitProducerId", error });
        cx.set_timer(at, Timer::ProducerTxnRetry { producer: p });
    }

    /// The retry timer, or the `request.timeout.ms` of the request in flight; false if stale.
    pub(super) fn id_retry(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) -> bool {
        let Some(r) = self.id_request else { return false };
        let now = cx.now();
        match r.in_flight {
            // `NetworkClient` closes a connection whose request timed out; what was in flight on it
            // fails, this request with it.
            Some((_, broker, deadline)) if deadline == now => self.connection_failed(cx, env, broker, Disconnect::RequestTimeout),
            None if r.retry_at == now => self.drain(cx, env),
            _ => return false,
        }
        true
    }

    /// The connection to `broker` broke: an InitProducerId in flight on it has failed with `error`.
    pub(super) fn id_connection_failed(&mut self, cx: &mut Cx<'_>, broker: BrokerId, error: KafkaError) {
        if self.id_request.is_some_and(|r| r.in_flight.is_some_and(|(_, b, _)| b == broker)) {
            self.id_failed(cx, error);
        }
    }
}
