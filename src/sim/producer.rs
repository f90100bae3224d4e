//! The producer client: partitioning, batching, in-flight requests, retries, idempotence and
//! metadata, after the Java client (`KafkaProducer`, `RecordAccumulator`, `Sender`).

use super::config::{Acks, ProducerConfig};
use super::controller::Controller;
use super::ledger::Outcome;
use super::map::VecMap;
use super::murmur2::partition_for_key;
use super::step::{Effect, Msg, Partitioning, Timer};
use super::types::{record_size, BrokerId, KafkaError, NodeId, RecordId, Tp};
use super::{ProducerSpec, Sim};
use rand::RngExt;
use serde::Serialize;
use std::collections::VecDeque;

/// A batch of records for one partition (Kafka's `ProducerBatch`).
#[derive(Clone, Debug, Serialize)]
pub struct Batch {
    /// Batch id.
    pub id: u64,
    /// Global partition index.
    pub pidx: u32,
    /// Records.
    pub records: Vec<RecordId>,
    /// Bytes.
    pub bytes: u32,
    /// When the batch was created (delivery.timeout.ms counts from here).
    pub created_at: u64,
    /// First sequence number, assigned on first send (idempotence only).
    pub base_seq: Option<i32>,
    /// Sends so far.
    pub attempts: u32,
    /// Not to be sent before this time (retry.backoff.ms).
    pub retry_at: u64,
    /// Sent at least once, so no more records join it.
    pub closed: bool,
}

/// A request awaiting its response.
#[derive(Clone, Debug, Serialize)]
pub struct InFlight {
    /// The batch.
    pub batch: u64,
    /// The broker it went to.
    pub broker: BrokerId,
    /// request.timeout.ms deadline.
    pub deadline: u64,
}

/// A producer client.
#[derive(Clone, Debug)]
pub struct Producer {
    /// Index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Settings.
    pub config: ProducerConfig,
    /// Producer id, 0 without idempotence (InitProducerId is simplified: ids are fixed).
    pub pid: u32,
    /// The leader of each partition as this client last heard.
    pub leaders: Vec<Option<BrokerId>>,
    metadata_in_flight: bool,
    /// Sticky partitioner state per topic: (partition, bytes produced to it).
    sticky: Vec<Option<(u32, u32)>>,
    /// All live batches by id.
    pub batches: ById<Batch>,
    /// Batches waiting to be sent, per partition (global index), in send order.
    queues: Vec<VecDeque<u64>>,
    /// The partitions whose queue holds a batch, in order: the Sender walks these rather than
    /// every partition of the cluster.
    waiting: Vec<u32>,
    next_seq: VecMap<u32, i32>,
    /// Requests in flight by request id.
    pub in_flight: ById<InFlight>,
    /// Requests in flight per broker id (index), kept beside `in_flight` for the Sender's check.
    in_flight_per_broker: Vec<u32>,
    next_batch: u64,
    deadline_at: Option<u64>,
    wake_at: Option<u64>,
    /// How often each error was seen.
    pub errors_seen: VecMap<KafkaError, u32>,
}

impl Producer {
    pub(crate) fn new(index: u32, spec: &ProducerSpec, topics: usize, controller: &Controller) -> Producer {
        Producer {
            index,
            name: spec.name.clone(),
            config: spec.config.clone(),
            pid: if spec.config.enable_idempotence { 1000 + index } else { 0 },
            leaders: controller.parts.iter().map(|p| p.leader).collect(),
            metadata_in_flight: false,
            sticky: vec![None; topics],
            batches: ById::default(),
            queues: vec![VecDeque::new(); controller.parts.len()],
            waiting: Vec::new(),
            next_seq: VecMap::new(),
            in_flight: ById::default(),
            in_flight_per_broker: vec![0; controller.sessions.len() + 1],
            next_batch: 0,
            deadline_at: None,
            wake_at: None,
            errors_seen: VecMap::new(),
        }
    }

    /// Keeps `waiting` in step with a partition's queue after the queue changed.
    fn queue_changed(&mut self, pidx: u32) {
        let queued = !self.queues[pidx as usize].is_empty();
        match (self.waiting.binary_search(&pidx), queued) {
            (Err(at), true) => self.waiting.insert(at, pidx),
            (Ok(at), false) => {
                self.waiting.remove(at);
            }
            _ => {}
        }
    }

    fn in_flight_to(&self, broker: BrokerId) -> u32 {
        self.in_flight_per_broker[broker as usize]
    }

    fn add_in_flight(&mut self, req: u64, f: InFlight) {
        self.in_flight_per_broker[f.broker as usize] += 1;
        self.in_flight.push(req, f);
    }

    fn take_in_flight(&mut self, req: u64) -> Option<InFlight> {
        let f = self.in_flight.remove(req)?;
        self.in_flight_per_broker[f.broker as usize] -= 1;
        Some(f)
    }

    /// Deadlines grow with request id (send time + a fixed timeout) and batch id (creation time +
    /// a fixed timeout), so the first entries hold the earliest deadlines.
    fn next_deadline(&self) -> Option<u64> {
        let req = self.in_flight.values().next().map(|f| f.deadline);
        let delivery = self.batches.values().next().map(|b| b.created_at + self.config.delivery_timeout_ms);
        [req, delivery].into_iter().flatten().min()
    }
}

impl Sim {
    fn producer(&mut self, p: u32) -> &mut Producer {
        &mut self.producers[p as usize]
    }

    /// The application calls `send()`: choose the partition, add the record to a batch.
    pub(crate) fn producer_send(&mut self, p: u32, topic: u32, partition: Option<u32>, key: Option<String>, value: String) {
        let now = self.now;
        let partitions = self.topics[topic as usize].partitions;
        let size = record_size(key.as_deref(), &value);
        let (partition, how) = match (partition, &key) {
            (Some(part), _) => (part, Partitioning::Explicit),
            (None, Some(k)) => (partition_for_key(k, partitions), Partitioning::Key),
            (None, None) => (self.sticky_partition(p, topic, size), Partitioning::Sticky),
        };
        let tp = Tp { topic, partition };
        let pidx = self.pidx(tp);
        let id = self.ledger.create(p, tp, key, value, size, now);
        self.emit(Effect::RecordsCreated { producer: p, tp, records: vec![id], how });
        let batch_size = self.producers[p as usize].config.batch_size;
        let prod = self.producer(p);
        let open = prod.queues[pidx as usize]
            .back()
            .and_then(|&b| prod.batches.get(b))
            .filter(|b| !b.closed && b.bytes + size <= batch_size)
            .map(|b| b.id);
        match open {
            Some(bid) => {
                let batch = prod.batches.get_mut(bid).expect("open batch");
                batch.records.push(id);
                batch.bytes += size;
            }
            None => {
                prod.next_batch += 1;
                let bid = prod.next_batch;
                prod.batches.push(
                    bid,
                    Batch { id: bid, pidx, records: vec![id], bytes: size, created_at: now, base_seq: None, attempts: 0, retry_at: now, closed: false },
                );
                prod.queues[pidx as usize].push_back(bid);
                prod.queue_changed(pidx);
            }
        }
        self.producer_arm_deadline(p);
    }

    /// Kafka 3.3+'s built-in partitioner for records without a key (KIP-794): stick to one
    /// partition until `batch.size` bytes went to it, then pick another at random among the
    /// partitions with a known leader. (The adaptive weighting by queue size is not modelled.)
    fn sticky_partition(&mut self, p: u32, topic: u32, size: u32) -> u32 {
        let batch_size = self.producers[p as usize].config.batch_size;
        let current = self.producers[p as usize].sticky[topic as usize];
        let partition = match current {
            Some((part, bytes)) if bytes < batch_size => part,
            _ => {
                let t = &self.topics[topic as usize];
                let available: Vec<u32> = (0..t.partitions)
                    .filter(|&q| self.producers[p as usize].leaders[(t.base + q) as usize].is_some())
                    .collect();
                let choices: Vec<u32> = if available.is_empty() { (0..t.partitions).collect() } else { available };
                choices[self.random_index(choices.len())]
            }
        };
        let bytes = match current {
            Some((part, bytes)) if part == partition && bytes < batch_size => bytes + size,
            _ => size,
        };
        self.producer(p).sticky[topic as usize] = Some((partition, bytes));
        partition
    }

    /// The Sender: send every ready batch whose leader is known and whose connection has room.
    pub(crate) fn producer_drain(&mut self, p: u32) {
        let now = self.now;
        let mut wake: Option<u64> = None;
        let mut need_metadata = false;
        let mut next = 0;
        while let Some(&pidx) = self.producers[p as usize].waiting.get(next) {
            loop {
                let prod = &self.producers[p as usize];
                let Some(&bid) = prod.queues[pidx as usize].front() else { break };
                let batch = prod.batches.get(bid).expect("a queued batch is live");
                let cfg = &prod.config;
                let ready_at = if batch.attempts > 0 {
                    batch.retry_at
                } else if batch.bytes >= cfg.batch_size {
                    batch.created_at
                } else {
                    batch.created_at + cfg.linger_ms
                };
                if ready_at > now {
                    wake = Some(wake.map_or(ready_at, |w: u64| w.min(ready_at)));
                    break;
                }
                let Some(leader) = prod.leaders[pidx as usize] else {
                    need_metadata = true;
                    break;
                };
                if prod.in_flight_to(leader) >= cfg.max_in_flight {
                    break;
                }
                self.producer_send_batch(p, pidx, bid, leader);
            }
            // Sending the last batch of a queue takes its partition off the list, which brings
            // the next partition to this place.
            if self.producers[p as usize].waiting.get(next) == Some(&pidx) {
                next += 1;
            }
        }
        if need_metadata {
            self.producer_request_metadata(p);
        }
        if let Some(at) = wake {
            self.producer_arm_wake(p, at);
        }
    }

    fn producer_send_batch(&mut self, p: u32, pidx: u32, bid: u64, leader: BrokerId) {
        let now = self.now;
        let tp = self.tp(pidx);
        let req = self.next_request_id();
        let prod = self.producer(p);
        prod.queues[pidx as usize].pop_front();
        prod.queue_changed(pidx);
        let idempotent = prod.config.enable_idempotence;
        let acks = prod.config.acks;
        let deadline = now + prod.config.request_timeout_ms;
        let pid = prod.pid;
        let batch = prod.batches.get_mut(bid).expect("batch");
        batch.closed = true;
        batch.attempts += 1;
        if idempotent && batch.base_seq.is_none() {
            let seq = prod.next_seq.entry(pidx).or_insert(0);
            batch.base_seq = Some(*seq);
            *seq += batch.records.len() as i32;
        }
        let records = batch.records.clone();
        let base_seq = batch.base_seq.unwrap_or(-1);
        for &r in &records {
            self.ledger.record_attempt(r);
        }
        let msg = Msg::Produce { req, tp, acks, pid, base_seq, records: records.clone() };
        self.send(NodeId::Producer(p), NodeId::Broker(leader), msg);
        if acks == Acks::None {
            // acks=0: the client completes the send as soon as the request is written.
            self.producer(p).batches.remove(bid);
            for &r in &records {
                self.ledger.records[r as usize].outcome = Outcome::Acknowledged { at: now, offset: None };
            }
            self.emit(Effect::Acknowledged { producer: p, tp, records, offset: None, acks });
        } else {
            self.producer(p).add_in_flight(req, InFlight { batch: bid, broker: leader, deadline });
            self.producer_arm_deadline(p);
        }
    }

    fn producer_request_metadata(&mut self, p: u32) {
        if !self.producers[p as usize].metadata_in_flight {
            self.producer(p).metadata_in_flight = true;
            self.send(NodeId::Producer(p), NodeId::Controller, Msg::MetadataRequest);
        }
    }

    pub(crate) fn producer_receive(&mut self, p: u32, msg: &Msg) {
        match msg {
            Msg::ProduceResponse { req, tp, result } => self.producer_response(p, *req, *tp, *result),
            Msg::MetadataResponse { leaders } => {
                let prod = self.producer(p);
                prod.metadata_in_flight = false;
                let changed_idx: Vec<(u32, Option<BrokerId>)> = leaders
                    .iter()
                    .enumerate()
                    .filter(|(i, l)| prod.leaders[*i] != **l)
                    .map(|(i, l)| (i as u32, *l))
                    .collect();
                prod.leaders = leaders.clone();
                let changed = changed_idx.iter().map(|&(i, l)| (self.tp(i), l)).collect();
                self.emit(Effect::MetadataUpdated { producer: p, changed });
                let backoff = self.producers[p as usize].config.retry_backoff_ms;
                let offline_wanted = self.producers[p as usize].waiting.iter().any(|&pidx| leaders[pidx as usize].is_none());
                if offline_wanted {
                    self.producer_arm_wake(p, self.now + backoff);
                }
                self.producer_drain(p);
            }
            _ => {}
        }
    }

    /// The connection to a broker broke: like Java's `NetworkClient`, every request in flight on it
    /// fails with NETWORK_EXCEPTION, and metadata is refreshed.
    pub(crate) fn producer_connection_failed(&mut self, p: u32, broker: BrokerId) {
        let failed: Vec<(u64, u64)> =
            self.producers[p as usize].in_flight.iter().filter(|(_, f)| f.broker == broker).map(|(r, f)| (r, f.batch)).collect();
        for (req, bid) in failed {
            self.producer(p).take_in_flight(req);
            self.producer_batch_failed(p, bid, KafkaError::NetworkException);
        }
        self.producer_request_metadata(p);
        self.producer_drain(p);
    }

    fn producer_response(&mut self, p: u32, req: u64, tp: super::Tp, result: Result<u64, KafkaError>) {
        let now = self.now;
        let Some(inflight) = self.producer(p).take_in_flight(req) else {
            self.emit(Effect::StaleResponse { producer: p, req });
            return;
        };
        let acks = self.producers[p as usize].config.acks;
        match result {
            Ok(base) => {
                let Some(batch) = self.producer(p).batches.remove(inflight.batch) else { return };
                for (i, &r) in batch.records.iter().enumerate() {
                    self.ledger.records[r as usize].outcome = Outcome::Acknowledged { at: now, offset: Some(base + i as u64) };
                }
                self.emit(Effect::Acknowledged { producer: p, tp, records: batch.records, offset: Some(base), acks });
            }
            Err(error) => self.producer_batch_failed(p, inflight.batch, error),
        }
        self.producer_drain(p);
    }

    /// A batch's attempt failed: retry after `retry.backoff.ms` if `retries` and
    /// `delivery.timeout.ms` allow, otherwise fail its records.
    fn producer_batch_failed(&mut self, p: u32, bid: u64, error: KafkaError) {
        let now = self.now;
        let prod = &mut self.producers[p as usize];
        *prod.errors_seen.entry(error).or_insert(0) += 1;
        let cfg = prod.config.clone();
        let Some(batch) = prod.batches.get(bid) else { return };
        let tp = self.tps[batch.pidx as usize];
        // KIP-580: backoff doubles per attempt up to retry.backoff.max.ms, with ±20% jitter.
        let exp = cfg.retry_backoff_ms.saturating_mul(1u64 << batch.attempts.saturating_sub(1).min(20));
        let base = exp.min(cfg.retry_backoff_max_ms) as f64;
        let jitter: f64 = self.rng.random_range(0.8..=1.2);
        let retry_at = now + (base * jitter).round().max(1.0) as u64;
        // Java's `Sender.canRetry` asks only whether the delivery deadline has passed *now*, not
        // whether the next attempt would come before it: a batch that keeps getting a retriable
        // error goes back to the queue and is expired by the accumulator at creation +
        // `delivery.timeout.ms`, so the application sees a timeout, not the last error.
        let can_retry = error.retriable() && batch.attempts <= cfg.retries && now < batch.created_at + cfg.delivery_timeout_ms;
        let records = batch.records.clone();
        let attempt = batch.attempts;
        if can_retry {
            let prod = &mut self.producers[p as usize];
            let batch = prod.batches.get_mut(bid).expect("batch");
            batch.retry_at = retry_at;
            let pidx = batch.pidx;
            let seq = batch.base_seq;
            let queue = &mut prod.queues[pidx as usize];
            // Java's RecordAccumulator.reenqueue: an idempotent producer puts the batch back in
            // sequence order; without idempotence it goes to the front, behind nothing already sent,
            // which is how a retry can overtake later batches and reorder the log.
            let pos = match seq {
                Some(s) => queue
                    .iter()
                    .position(|&b| prod.batches.get(b).and_then(|x| x.base_seq).is_none_or(|other| other > s))
                    .unwrap_or(queue.len()),
                None => 0,
            };
            queue.insert(pos, bid);
            prod.queue_changed(pidx);
            self.emit(Effect::ProduceError { producer: p, tp, records, error, attempt, retry_at: Some(retry_at) });
            if matches!(
                error,
                KafkaError::NotLeaderOrFollower | KafkaError::RequestTimedOut | KafkaError::LeaderNotAvailable | KafkaError::NetworkException
            ) {
                self.producer_request_metadata(p);
            }
            self.producer_arm_wake(p, retry_at);
        } else {
            self.producer_fail_batch(p, bid, error, attempt);
        }
    }

    fn producer_fail_batch(&mut self, p: u32, bid: u64, error: KafkaError, attempt: u32) {
        let now = self.now;
        let prod = self.producer(p);
        let Some(batch) = prod.batches.remove(bid) else { return };
        prod.queues[batch.pidx as usize].retain(|&b| b != bid);
        prod.queue_changed(batch.pidx);
        let reqs: Vec<u64> = prod.in_flight.iter().filter(|(_, f)| f.batch == bid).map(|(r, _)| r).collect();
        for req in reqs {
            prod.take_in_flight(req);
        }
        let tp = self.tps[batch.pidx as usize];
        for &r in &batch.records {
            self.ledger.records[r as usize].outcome = Outcome::Failed { at: now, error };
        }
        self.emit(Effect::ProduceError { producer: p, tp, records: batch.records, error, attempt, retry_at: None });
    }

    /// Keeps one timer at the earliest request or delivery deadline.
    fn producer_arm_deadline(&mut self, p: u32) {
        let prod = &self.producers[p as usize];
        let Some(next) = prod.next_deadline() else { return };
        if prod.deadline_at.is_none_or(|at| at > next) {
            self.producer(p).deadline_at = Some(next);
            self.schedule_timer(next, Timer::ProducerDeadline { producer: p });
        }
    }

    fn producer_arm_wake(&mut self, p: u32, at: u64) {
        let prod = self.producer(p);
        if prod.wake_at.is_none_or(|w| w > at) {
            prod.wake_at = Some(at);
            self.schedule_timer(at, Timer::ProducerWake { producer: p });
        }
    }

    pub(crate) fn producer_wake(&mut self, p: u32) -> bool {
        if self.producers[p as usize].wake_at != Some(self.now) {
            return false;
        }
        self.producer(p).wake_at = None;
        self.producer_drain(p);
        true
    }

    /// Expires requests past `request.timeout.ms` and batches past `delivery.timeout.ms`.
    pub(crate) fn producer_deadline(&mut self, p: u32) -> bool {
        let now = self.now;
        if self.producers[p as usize].deadline_at != Some(now) {
            return false;
        }
        self.producer(p).deadline_at = None;
        let prod = &self.producers[p as usize];
        let timed_out: Vec<(u64, u64)> =
            prod.in_flight.iter().filter(|(_, f)| f.deadline <= now).map(|(r, f)| (r, f.batch)).collect();
        let expired: Vec<(u64, u32)> = prod
            .batches
            .values()
            .filter(|b| b.created_at + prod.config.delivery_timeout_ms <= now)
            .map(|b| (b.id, b.attempts))
            .collect();
        let acted = !timed_out.is_empty() || !expired.is_empty();
        for (req, bid) in timed_out {
            self.producer(p).take_in_flight(req);
            self.producer_batch_failed(p, bid, KafkaError::RequestTimedOut);
        }
        for (bid, attempts) in expired {
            *self.producer(p).errors_seen.entry(KafkaError::DeliveryTimeout).or_insert(0) += 1;
            self.producer_fail_batch(p, bid, KafkaError::DeliveryTimeout, attempts);
        }
        self.producer_arm_deadline(p);
        if acted {
            self.producer_drain(p);
        }
        acted
    }
}

/// Entries keyed by an id that only grows (batch ids, request ids), kept in id order. New entries
/// go to the back and most leave near the front, so this is a deque searched by bisection: unlike
/// a [`VecMap`], whose vector shifts every later entry when one leaves, taking the oldest entry out
/// is cheap. This is the producer's hottest state.
#[derive(Clone, Debug)]
pub struct ById<T> {
    entries: VecDeque<(u64, T)>,
}

impl<T> Default for ById<T> {
    fn default() -> Self {
        ById { entries: VecDeque::new() }
    }
}

impl<T> ById<T> {
    /// Adds an entry whose id is above every id held.
    fn push(&mut self, id: u64, value: T) {
        debug_assert!(self.entries.back().is_none_or(|&(last, _)| last < id), "ids only grow");
        self.entries.push_back((id, value));
    }

    fn index(&self, id: u64) -> Option<usize> {
        self.entries.binary_search_by_key(&id, |&(k, _)| k).ok()
    }

    /// The entry with this id.
    pub fn get(&self, id: u64) -> Option<&T> {
        self.index(id).map(|i| &self.entries[i].1)
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        let i = self.index(id)?;
        Some(&mut self.entries[i].1)
    }

    fn remove(&mut self, id: u64) -> Option<T> {
        let i = self.index(id)?;
        self.entries.remove(i).map(|(_, v)| v)
    }

    /// Ids and entries, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    /// Entries in id order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(_, v)| v)
    }
}
