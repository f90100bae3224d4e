//! The producer client: partitioning, batching, in-flight requests, retries, idempotence and
//! metadata, after the Java client (`KafkaProducer`, `RecordAccumulator`, `Sender`).

use crate::sim::config::{Acks, ProducerConfig};
use crate::sim::cluster::controller::Controller;
use crate::sim::ledger::Outcome;
use crate::sim::map::VecMap;
use crate::sim::murmur2::partition_for_key;
use crate::sim::serdes::Payload;
use crate::sim::client::effect::{Partitioning, ProducerEffect};
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::size::{size_upper_bound, BatchSize};
use crate::sim::types::{BrokerId, KafkaError, NodeId, RecordId, Tp};
use crate::sim::client::{exponential_backoff, ClientEnv, RECONNECT_BACKOFF_MS};
use crate::sim::ctx::Ctx;
use crate::sim::topic::Topic;
use rand::RngExt;
use serde::Serialize;
use std::collections::VecDeque;

mod producer_id;
mod send_offsets;
mod transactions;

pub use producer_id::IdRequest;
pub use transactions::{TransactionManager, TxnCall, TxnClientState, TxnOffsets};

/// The producer's context.
type Cx<'c> = Ctx<'c, ProducerEffect>;

/// A producer client.
#[derive(Clone, Debug)]
pub struct ProducerSpec {
    /// Name used in scenarios and traces.
    pub name: String,
    /// Settings in force.
    pub config: ProducerConfig,
}


/// A batch of records for one partition (Kafka's `ProducerBatch`).
#[derive(Clone, Debug, Serialize)]
pub struct Batch {
    /// Batch id.
    pub id: u64,
    /// Global partition index.
    pub pidx: u32,
    /// Records.
    pub records: Vec<RecordId>,
    /// Its size in bytes as Kafka's v2 format counts it, against its write limit (`batch.size`, or
    /// a larger first record's upper bound).
    pub size: BatchSize,
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

/// One `send()` call's arguments, kept while it waits for metadata.
#[derive(Clone, Debug)]
struct BlockedSend {
    topic: u32,
    partition: Option<u32>,
    key: Option<String>,
    value: String,
    value_bytes: Option<u32>,
    payload: Option<Box<Payload>>,
}

/// The built-in partitioner's current partition for records without a key, and the bytes
/// appended to it (`BuiltInPartitioner.StickyPartitionInfo`).
#[derive(Clone, Copy, Debug)]
struct Sticky {
    partition: u32,
    /// Bytes appended while it was the sticky partition, as the accumulator counts them (a new
    /// batch counts its header too).
    produced: u64,
    /// Enough was produced and the switch was allowed (`updatePartitionInfo`): the next record
    /// goes to a new partition.
    switch_due: bool,
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

/// `socket.connection.setup.timeout.ms` and its `.max.ms` (the Java client's defaults, not settable).
const CONNECTION_SETUP_TIMEOUT_MS: (u64, u64) = (10_000, 30_000);

/// A producer's connection to one broker (`NetworkClient`'s `ClusterConnectionStates`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Conn {
    /// Connected and ready. Connections exist when a run starts: the producer has been running.
    Ready,
    /// A connection is being set up (its ApiVersions is on the way).
    Connecting {
        /// Which attempt this is.
        attempt: u32,
    },
    /// Disconnected: not used until `reconnect_at`.
    Disconnected {
        /// When it may connect again.
        reconnect_at: u64,
    },
}

/// Why a producer's connection to a broker went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Disconnect {
    /// The broker's process was gone: its OS refused or reset the connection.
    Refused,
    /// A request past `request.timeout.ms` closed it (`NetworkClient.handleTimedOutRequests`).
    RequestTimeout,
    /// A new connection got no answer within `socket.connection.setup.timeout.ms`.
    SetupTimeout,
}

impl Disconnect {
    /// How the trace names it.
    fn cause(self) -> &'static str {
        match self {
            Disconnect::Refused => "connection refused",
            Disconnect::RequestTimeout => "request timeout",
            Disconnect::SetupTimeout => "connection setup timed out",
        }
    }

    /// What the requests in flight on the connection fail with.
    fn error(self) -> KafkaError {
        match self {
            Disconnect::RequestTimeout => KafkaError::RequestTimedOut,
            Disconnect::Refused | Disconnect::SetupTimeout => KafkaError::NetworkException,
        }
    }
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
    /// Producer id from InitProducerId; 0 without idempotence, and until the id arrives.
    pub pid: u32,
    /// The InitProducerId of an idempotent producer (no `transactional.id`) still waiting for
    /// its producer id.
    id_request: Option<IdRequest>,
    /// The leader of each partition as this client last heard.
    pub leaders: Vec<Option<BrokerId>>,
    /// Each topic's partition count as this client last heard (0: not known to exist). The
    /// partitioner divides by it, so new partitions get records only after a metadata refresh.
    pub partitions: Vec<u32>,
    /// `send()` calls waiting for metadata (`KafkaProducer.waitOnMetadata`): the first names a
    /// topic or partition the client does not know yet, and the application thread is blocked
    /// in it, so the later ones wait behind it.
    blocked: VecDeque<BlockedSend>,
    /// When the next `metadata.max.age.ms` refresh is due (a timer for another time is stale).
    refresh_at: Option<u64>,
    metadata_in_flight: bool,
    /// Sticky partitioner state per topic (`BuiltInPartitioner.StickyPartitionInfo`).
    sticky: Vec<Option<Sticky>>,
    /// Whether a batch was ever split (MESSAGE_TOO_LARGE): split batches keep their original
    /// creation time, so batch ids no longer follow delivery deadlines.
    split_any: bool,
    /// All live batches by id.
    pub batches: ById<Batch>,
    /// Batches waiting to be sent, per partition (global index), in send order.
    queues: Vec<VecDeque<u64>>,
    /// The partitions whose queue holds a batch, in order: the Sender walks these rather than
    /// every partition of the cluster.
    waiting: Vec<u32>,
    next_seq: VecMap<u32, i32>,
    /// The producer epoch per partition (global index); absent = 0. Kafka 4.1's idempotent
    /// producer bumps it locally for one partition to restart that partition's sequences at 0.
    epochs: VecMap<u32, u16>,
    /// The highest sequence acknowledged per partition under its current epoch (absent: none).
    last_acked: VecMap<u32, i32>,
    /// Partitions whose epoch is to be bumped once their requests in flight have completed
    /// (`TransactionManager.requestIdempotentEpochBumpForPartition`).
    bump_pending: Vec<u32>,
    /// Requests in flight by request id.
    pub in_flight: ById<InFlight>,
    /// Requests in flight per broker id (index), kept beside `in_flight` for the Sender's check.
    in_flight_per_broker: Vec<u32>,
    /// The connection to each broker, by broker id (index 0 unused).
    pub conns: Vec<Conn>,
    /// Connection attempts that failed in a row, per broker id: they lengthen the backoff.
    failed_connects: Vec<u32>,
    next_batch: u64,
    deadline_at: Option<u64>,
    wake_at: Option<u64>,
    /// How often each error was seen.
    pub errors_seen: VecMap<KafkaError, u32>,
    /// The transaction manager of a producer with a `transactional.id`.
    pub txn: Option<TransactionManager>,
}

impl Producer {
    /// A producer; `txn` is its `transactional.id` (index), whose producer id comes from
    /// InitProducerId.
    pub(crate) fn new(index: u32, spec: &ProducerSpec, txn: Option<u32>, topics: &[Topic], controller: &Controller) -> Producer {
        Producer {
            index,
            name: spec.name.clone(),
            config: spec.config.clone(),
            pid: 0,
            id_request: (spec.config.enable_idempotence && txn.is_none()).then(IdRequest::default),
            leaders: controller.parts.iter().map(|p| p.leader).collect(),
            partitions: topics.iter().map(|t| t.partitions).collect(),
            blocked: VecDeque::new(),
            refresh_at: None,
            metadata_in_flight: false,
            sticky: vec![None; topics.len()],
            split_any: false,
            batches: ById::default(),
            queues: vec![VecDeque::new(); controller.parts.len()],
            waiting: Vec::new(),
            next_seq: VecMap::new(),
            epochs: VecMap::new(),
            last_acked: VecMap::new(),
            bump_pending: Vec::new(),
            in_flight: ById::default(),
            in_flight_per_broker: vec![0; controller.sessions.len() + 1],
            conns: vec![Conn::Ready; controller.sessions.len() + 1],
            failed_connects: vec![0; controller.sessions.len() + 1],
            next_batch: 0,
            deadline_at: None,
            wake_at: None,
            errors_seen: VecMap::new(),
            txn: txn.map(TransactionManager::new),
        }
    }

    /// Every record the application gave it is acknowledged or failed (what `flush()` waits for).
    pub fn flushed(&self) -> bool {
        self.batches.values().next().is_none() && self.blocked.is_empty() && self.txn.as_ref().is_none_or(|t| t.waiting.is_empty())
    }

    /// The application thread is not blocked in a call, and no call or send waits behind one.
    pub fn app_free(&self) -> bool {
        self.blocked.is_empty() && self.txn.as_ref().is_none_or(|t| !t.blocked())
    }

    /// A new instance of the application's producer with the same `transactional.id` (a restart):
    /// it has none of the old one's batches, requests or sequences (answers to the old requests
    /// find nothing waiting for them), and must call `initTransactions()` again. Simplification:
    /// it keeps the old instance's connections and metadata.
    pub(crate) fn restart_transactions(&mut self) {
        let Some(t) = &mut self.txn else { return };
        *t = TransactionManager::new(t.txn);
        self.blocked.clear();
        self.batches = ById::default();
        self.in_flight = ById::default();
        self.in_flight_per_broker.iter_mut().for_each(|n| *n = 0);
        self.queues.iter_mut().for_each(VecDeque::clear);
        self.waiting.clear();
        self.next_seq.clear();
        self.last_acked.clear();
        self.bump_pending.clear();
        self.deadline_at = None;
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
        // Split batches keep their original creation time; after a split (rare) every batch is looked at.
        let created = if self.split_any { self.batches.values().map(|b| b.created_at).min() } else { self.batches.values().next().map(|b| b.created_at) };
        let delivery = created.map(|c| c + self.config.delivery_timeout_ms);
        [req, delivery].into_iter().flatten().min()
    }
}

impl Producer {
    /// The application calls `send()`. `KafkaProducer.waitOnMetadata` first: a record for a
    /// topic or partition the client does not know yet waits for a metadata refresh, and so does
    /// every later call, since the application thread is blocked in this one. `value_bytes` is
    /// the value's length when the scenario pads it or a serializer wrote `payload`.
    ///
    /// Simplification: the wait has no `max.block.ms` limit; the scenario reader refuses sends
    /// before the topic or partition is created, so one refresh ends it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send(
        &mut self,
        cx: &mut Cx<'_>,
        env: &mut ClientEnv<'_>,
        topic: u32,
        partition: Option<u32>,
        key: Option<String>,
        value: String,
        value_bytes: Option<u32>,
        payload: Option<Box<Payload>>,
    ) {
        let send = BlockedSend { topic, partition, key, value, value_bytes, payload };
        match &mut self.txn {
            Some(t) if t.blocked() => t.waiting.push_back(transactions::Waiting::Send(send)),
            _ => self.send_now(cx, env, send),
        }
    }

    /// `send()` once the application thread is free to make it.
    fn send_now(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, send: BlockedSend) {
        let (topic, partition) = (send.topic, send.partition);
        if !self.txn_allows_send(cx) {
            return;
        }
        if !self.blocked.is_empty() || !self.knows(&send) {
            if self.blocked.is_empty() {
                let tp = Tp { topic, partition: partition.unwrap_or(0) };
                cx.emit(ProducerEffect::WaitingOnMetadata { producer: self.index, tp, explicit: partition.is_some() });
            }
            self.blocked.push_back(send);
            self.request_metadata(cx);
            return;
        }
        self.append(cx, env, send);
    }

    /// Whether the client's metadata holds the send's topic, and its partition if it names one.
    fn knows(&self, send: &BlockedSend) -> bool {
        let count = self.partitions[send.topic as usize];
        count > 0 && send.partition.is_none_or(|p| p < count)
    }

    /// Check the record's size, choose the partition, add the record to a batch
    /// (`KafkaProducer.doSend`, `RecordAccumulator.append`).
    fn append(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, send: BlockedSend) {
        let BlockedSend { topic, partition, key, value, value_bytes, payload } = send;
        let p = self.index;
        let now = cx.now();
        let partitions = self.partitions[topic as usize];
        let key_len = key.as_ref().map(|k| k.len() as u32);
        let value_bytes = value_bytes.unwrap_or(value.len() as u32);
        // The simulator's values are never null.
        let value_len = Some(value_bytes);
        // `ensureValidRecordSize` compares the record's upper bound with `max.request.size` before the
        // accumulator sees it, so a keyless record that fails has no partition yet: the ledger files
        // it under the current sticky partition (or 0) without drawing one.
        let bound = size_upper_bound(key_len, value_len);
        let too_large = bound > self.config.max_request_size;
        let (partition, how) = match (partition, &key) {
            (Some(part), _) => (part, Partitioning::Explicit),
            (None, Some(k)) => (partition_for_key(k, partitions), Partitioning::Key),
            (None, None) if too_large => (self.sticky[topic as usize].map_or(0, |s| s.partition), Partitioning::Sticky),
            (None, None) => (self.sticky_partition(cx, env, topic), Partitioning::Sticky),
        };
        let tp = Tp { topic, partition };
        let pidx = env.pidx(tp);
        if too_large {
            let size = crate::sim::size::record_size(0, 0, key_len, value_len);
            let id = env.ledger.create(p, tp, key, value, value_bytes, size, now);
            env.ledger.records[id as usize].payload = payload;
            cx.emit(ProducerEffect::RecordsCreated { producer: p, tp, records: vec![id], how });
            *self.errors_seen.entry(KafkaError::RecordTooLarge).or_insert(0) += 1;
            env.ledger.records[id as usize].outcome = Outcome::Failed { at: now, error: KafkaError::RecordTooLarge };
            cx.emit(ProducerEffect::RecordTooLarge { producer: p, tp, record: id, size: bound, max_request_size: self.config.max_request_size });
            // `KafkaProducer.doSend`: an ApiException from send() leaves a transaction abortable
            // (`maybeTransitionToErrorState`), so its offsets cannot commit past the lost record.
            self.txn_batch_failed(cx, env, KafkaError::RecordTooLarge);
            return;
        }
        let batch_size = self.config.batch_size;
        let open = self.queues[pidx as usize]
            .back()
            .and_then(|&b| self.batches.get(b))
            .filter(|b| !b.closed && b.size.has_room_for(now, key_len, value_len))
            .map(|b| b.id);
        let (size, appended) = match open {
            Some(bid) => {
                let size = self.batches.get(bid).expect("open batch").size.next_record_size(now, key_len, value_len);
                (size, size)
            }
            None => {
                let (batch, size) = BatchSize::new(batch_size, now, key_len, value_len);
                (size, batch.bytes)
            }
        };
        let id = env.ledger.create(p, tp, key, value, value_bytes, size, now);
        env.ledger.records[id as usize].payload = payload;
        cx.emit(ProducerEffect::RecordsCreated { producer: p, tp, records: vec![id], how });
        match open {
            Some(bid) => {
                let batch = self.batches.get_mut(bid).expect("open batch");
                batch.records.push(id);
                batch.size.append(now, key_len, value_len);
            }
            None => {
                self.next_batch += 1;
                let bid = self.next_batch;
                let (bsize, _) = BatchSize::new(batch_size, now, key_len, value_len);
                self.batches.push(
                    bid,
                    Batch { id: bid, pidx, records: vec![id], size: bsize, created_at: now, base_seq: None, attempts: 0, retry_at: now, closed: false },
                );
                self.queues[pidx as usize].push_back(bid);
                self.queue_changed(pidx);
            }
        }
        if how == Partitioning::Sticky {
            self.sticky_appended(topic, pidx, appended as u64);
        }
        self.arm_deadline(cx);
    }

    /// `allBatchesFull`: only a partition's last batch can take records, so the partitioner may
    /// switch away once that one is full (or sent, or there is none).
    fn all_batches_full(&self, pidx: u32) -> bool {
        self.queues[pidx as usize].back().and_then(|&b| self.batches.get(b)).is_none_or(|b| b.closed || b.size.is_full())
    }

    /// `BuiltInPartitioner.updatePartitionInfo` after an append to the sticky partition: once
    /// `batch.size` bytes went to it the next record goes elsewhere, but only when its batch is full
    /// (so that a switch does not leave a small batch behind), or in any case at twice `batch.size`.
    fn sticky_appended(&mut self, topic: u32, pidx: u32, appended: u64) {
        let batch_size = u64::from(self.config.batch_size);
        let enable = self.all_batches_full(pidx);
        if let Some(s) = self.sticky[topic as usize].as_mut() {
            s.produced += appended;
            if (s.produced >= batch_size && enable) || s.produced >= 2 * batch_size {
                s.switch_due = true;
            }
        }
    }

    /// Kafka 3.3+'s built-in partitioner for records without a key (KIP-794): stick to one
    /// partition until `batch.size` bytes went to it (see [`Self::sticky_appended`]), then pick
    /// another at random among the partitions with a known leader. A switch held back because the
    /// partition's batch was not full happens at a later record once it is
    /// (`RecordAccumulator.partitionChanged`). (The adaptive weighting by queue size is not modelled.)
    fn sticky_partition(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, topic: u32) -> u32 {
        let batch_size = u64::from(self.config.batch_size);
        let t = &env.topics[topic as usize];
        let keep = self.sticky[topic as usize]
            .filter(|s| !(s.switch_due || (s.produced >= batch_size && self.all_batches_full(t.base + s.partition))))
            .map(|s| s.partition);
        if let Some(part) = keep {
            return part;
        }
        let count = self.partitions[topic as usize];
        let available: Vec<u32> = (0..count).filter(|&q| self.leaders[(t.base + q) as usize].is_some()).collect();
        let choices: Vec<u32> = if available.is_empty() { (0..count).collect() } else { available };
        let partition = choices[cx.rng().random_range(0..choices.len())];
        self.sticky[topic as usize] = Some(Sticky { partition, produced: 0, switch_due: false });
        partition
    }

    /// The Sender: send every ready batch whose leader is known and whose connection has room.
    pub(crate) fn drain(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        if !self.txn_sender(cx) || !self.id_sender(cx) {
            return;
        }
        let now = cx.now();
        let completing = self.txn.as_ref().is_some_and(TransactionManager::completing);
        let mut wake: Option<u64> = None;
        let mut need_metadata = false;
        let mut next = 0;
        while let Some(&pidx) = self.waiting.get(next) {
            while let Some(&bid) = self.queues[pidx as usize].front() {
                let batch = self.batches.get(bid).expect("a queued batch is live");
                let cfg = &self.config;
                // `RecordAccumulator.ready`: a first attempt is sendable at once when its batch is
                // full, closed (a split batch) or not the last of its partition's queue, else after
                // `linger.ms`.
                let ready_at = if batch.attempts > 0 {
                    batch.retry_at
                } else if completing || batch.closed || batch.size.is_full() || self.queues[pidx as usize].len() > 1 {
                    batch.created_at
                } else {
                    batch.created_at + cfg.linger_ms
                };
                if ready_at > now {
                    wake = Some(wake.map_or(ready_at, |w: u64| w.min(ready_at)));
                    break;
                }
                let Some(leader) = self.leaders[pidx as usize] else {
                    need_metadata = true;
                    break;
                };
                // As `Sender.sendProducerData`: a node whose connection is not ready is left out of
                // this round and its batches stay queued; the client opens a connection when the
                // reconnect backoff allows.
                match self.conns[leader as usize] {
                    Conn::Ready => {}
                    Conn::Connecting { .. } => break,
                    Conn::Disconnected { reconnect_at } if reconnect_at > now => {
                        wake = Some(wake.map_or(reconnect_at, |w: u64| w.min(reconnect_at)));
                        break;
                    }
                    Conn::Disconnected { .. } => {
                        self.connect(cx, leader);
                        break;
                    }
                }
                if self.in_flight_to(leader) >= cfg.max_in_flight {
                    break;
                }
                if self.bump_pending.contains(&pidx) {
                    // As `shouldStopDrainBatchesForPartition`: no batch of the new epoch goes out
                    // while a batch of the old one is still in flight.
                    if self.in_flight.values().any(|f| self.batches.get(f.batch).is_some_and(|b| b.pidx == pidx)) {
                        break;
                    }
                    self.bump_epoch(cx, env, pidx);
                }
                self.send_batch(cx, env, pidx, bid, leader);
            }
            // Sending the last batch of a queue takes its partition off the list, which brings
            // the next partition to this place.
            if self.waiting.get(next) == Some(&pidx) {
                next += 1;
            }
        }
        if need_metadata {
            self.request_metadata(cx);
        }
        if let Some(at) = wake {
            self.arm_wake(cx, at);
        }
    }

    fn send_batch(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, pidx: u32, bid: u64, leader: BrokerId) {
        let p = self.index;
        let now = cx.now();
        let tp = env.tp(pidx);
        let req = cx.next_request_id();
        self.queues[pidx as usize].pop_front();
        self.queue_changed(pidx);
        let idempotent = self.config.enable_idempotence;
        let acks = self.config.acks;
        let deadline = now + self.config.request_timeout_ms;
        let pid = self.pid;
        let producer_epoch = match &self.txn {
            Some(t) => t.epoch,
            None => self.epochs.get(&pidx).copied().unwrap_or(0),
        };
        let transactional_id = self.txn.as_ref().map(|t| t.txn);
        let batch = self.batches.get_mut(bid).expect("batch");
        batch.closed = true;
        batch.attempts += 1;
        if idempotent && batch.base_seq.is_none() {
            let seq = self.next_seq.entry(pidx).or_insert(0);
            batch.base_seq = Some(*seq);
            *seq += batch.records.len() as i32;
        }
        let records = batch.records.clone();
        let base_seq = batch.base_seq.unwrap_or(-1);
        for &r in &records {
            env.ledger.record_attempt(r);
        }
        let msg = Msg::Produce { req, tp, acks, pid, producer_epoch, base_seq, records: records.clone(), transactional_id };
        cx.send(NodeId::Producer(p), NodeId::Broker(leader), msg);
        if acks == Acks::None {
            // acks=0: the client completes the send as soon as the request is written.
            self.batches.remove(bid);
            for &r in &records {
                env.ledger.records[r as usize].outcome = Outcome::Acknowledged { at: now, offset: None };
            }
            cx.emit(ProducerEffect::Acknowledged { producer: p, tp, records, offset: None, acks });
        } else {
            self.add_in_flight(req, InFlight { batch: bid, broker: leader, deadline });
            self.arm_deadline(cx);
        }
    }

    /// Arms the metadata refresh for `at`; an earlier refresh timer goes stale.
    pub(crate) fn schedule_refresh(&mut self, cx: &mut Cx<'_>, at: u64) {
        self.refresh_at = Some(at);
        cx.set_timer(at, Timer::ProducerMetadataRefresh { producer: self.index });
    }

    /// The refresh timer: false if it was stale.
    pub(crate) fn refresh_due(&mut self, cx: &mut Cx<'_>) -> bool {
        if self.refresh_at != Some(cx.now()) {
            return false;
        }
        self.refresh_at = None;
        self.request_metadata(cx);
        true
    }

    fn request_metadata(&mut self, cx: &mut Cx<'_>) {
        let p = self.index;
        if !self.metadata_in_flight {
            self.metadata_in_flight = true;
            cx.send(NodeId::Producer(p), NodeId::Controller, Msg::MetadataRequest);
        }
    }

    pub(crate) fn receive(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, msg: &Msg) {
        let p = self.index;
        match msg {
            Msg::ProduceResponse { req, tp, result } => self.response(cx, env, *req, *tp, *result),
            &Msg::InitProducerIdResponse { req, result } if self.txn.is_none() => self.id_received(cx, env, req, result),
            Msg::FindTxnCoordinatorResponse { .. }
            | Msg::FindCoordinatorResponse { .. }
            | Msg::InitProducerIdResponse { .. }
            | Msg::EndTxnResponse { .. }
            | Msg::TxnOffsetCommitResponse { .. } => self.txn_receive(cx, env, msg),
            Msg::ApiVersionsResponse { broker } => {
                if matches!(self.conns[*broker as usize], Conn::Connecting { .. }) {
                    self.conns[*broker as usize] = Conn::Ready;
                    self.failed_connects[*broker as usize] = 0;
                    cx.emit(ProducerEffect::ProducerConnected { producer: p, broker: *broker });
                    self.drain(cx, env);
                }
            }
            Msg::MetadataResponse { leaders, partitions, .. } => {
                self.metadata_in_flight = false;
                self.partitions.clone_from(partitions);
                let changed_idx: Vec<(u32, Option<BrokerId>)> = leaders
                    .iter()
                    .enumerate()
                    .filter(|(i, l)| self.leaders[*i] != **l)
                    .map(|(i, l)| (i as u32, *l))
                    .collect();
                self.leaders = leaders.clone();
                let changed = changed_idx.iter().map(|&(i, l)| (env.tp(i), l)).collect();
                cx.emit(ProducerEffect::MetadataUpdated { producer: p, changed });
                let backoff = self.config.retry_backoff_ms;
                let offline_wanted = self.waiting.iter().any(|&pidx| leaders[pidx as usize].is_none());
                if offline_wanted {
                    self.arm_wake(cx, cx.now() + backoff);
                }
                while self.blocked.front().is_some_and(|b| self.knows(b)) {
                    let send = self.blocked.pop_front().expect("checked");
                    self.append(cx, env, send);
                }
                self.resume_calls(cx, env);
                // Still blocked: ask again after the backoff; otherwise the next refresh is due
                // metadata.max.age.ms from now.
                let next = if self.blocked.is_empty() { self.config.metadata_max_age_ms } else { backoff };
                self.schedule_refresh(cx, cx.now() + next);
                self.drain(cx, env);
            }
            _ => {}
        }
    }

    /// Opens a connection to a broker: the first request on it is ApiVersions, and it is ready once
    /// answered (or fails when refused, or at `socket.connection.setup.timeout.ms`).
    fn connect(&mut self, cx: &mut Cx<'_>, broker: BrokerId) {
        let p = self.index;
        let attempt = self.failed_connects[broker as usize];
        let timeout = exponential_backoff(cx.rng(), CONNECTION_SETUP_TIMEOUT_MS, attempt);
        self.conns[broker as usize] = Conn::Connecting { attempt };
        cx.send(NodeId::Producer(p), NodeId::Broker(broker), Msg::ApiVersions);
        cx.set_timer(cx.now() + timeout, Timer::ProducerConnectTimeout { producer: p, broker, attempt });
    }

    /// The connection to a broker broke or could not be made: like Java's `NetworkClient`, every
    /// request in flight on it fails (with NETWORK_EXCEPTION, or REQUEST_TIMED_OUT when a request
    /// timeout closed it), the node waits out the reconnect backoff, and metadata is refreshed.
    fn connection_failed(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, broker: BrokerId, why: Disconnect) {
        let p = self.index;
        let (cause, error) = (why.cause(), why.error());
        let failures = self.failed_connects[broker as usize];
        let backoff = exponential_backoff(cx.rng(), RECONNECT_BACKOFF_MS, failures);
        let reconnect_at = cx.now() + backoff;
        self.failed_connects[broker as usize] = failures + 1;
        self.conns[broker as usize] = Conn::Disconnected { reconnect_at };
        cx.emit(ProducerEffect::ProducerDisconnected { producer: p, broker, cause, reconnect_at });
        let failed: Vec<(u64, u64)> =
            self.in_flight.iter().filter(|(_, f)| f.broker == broker).map(|(r, f)| (r, f.batch)).collect();
        for (req, bid) in failed {
            self.take_in_flight(req);
            self.batch_failed(cx, env, bid, error);
        }
        self.txn_connection_failed(cx, broker);
        self.id_connection_failed(cx, broker, error);
        // The drain below arms the wake-up at `reconnect_at` if a batch is waiting for this broker.
        self.request_metadata(cx);
        self.drain(cx, env);
    }

    /// A request to a crashed broker was refused: the connection it went on is gone. Only the
    /// first refusal counts; later ones meet a connection that is already down or being remade.
    pub(crate) fn refused(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, broker: BrokerId, msg: &Msg) {
        let conn = self.conns[broker as usize];
        let current = match msg {
            Msg::Produce { .. } | Msg::InitProducerId { .. } | Msg::EndTxn { .. } | Msg::TxnOffsetCommit { .. } => conn == Conn::Ready,
            Msg::ApiVersions => matches!(conn, Conn::Connecting { .. }),
            _ => false,
        };
        if current {
            self.connection_failed(cx, env, broker, Disconnect::Refused);
        }
    }

    /// A connection attempt that got no answer within `socket.connection.setup.timeout.ms` (a cut
    /// link) is given up.
    pub(crate) fn connect_timeout(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, broker: BrokerId, attempt: u32) -> bool {
        if self.conns[broker as usize] != (Conn::Connecting { attempt }) {
            return false;
        }
        self.connection_failed(cx, env, broker, Disconnect::SetupTimeout);
        true
    }

    fn response(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, req: u64, tp: Tp, result: Result<u64, KafkaError>) {
        let p = self.index;
        let now = cx.now();
        let Some(inflight) = self.take_in_flight(req) else {
            cx.emit(ProducerEffect::StaleResponse { producer: p, req });
            return;
        };
        let acks = self.config.acks;
        match result {
            Ok(base) => {
                let Some(batch) = self.batches.remove(inflight.batch) else { return };
                if let Some(first) = batch.base_seq {
                    let last = first + batch.records.len() as i32 - 1;
                    let acked = self.last_acked.entry(batch.pidx).or_insert(last);
                    *acked = (*acked).max(last);
                }
                for (i, &r) in batch.records.iter().enumerate() {
                    env.ledger.records[r as usize].outcome = Outcome::Acknowledged { at: now, offset: Some(base + i as u64) };
                }
                cx.emit(ProducerEffect::Acknowledged { producer: p, tp, records: batch.records, offset: Some(base), acks });
            }
            Err(KafkaError::MessageTooLarge) if self.batches.get(inflight.batch).is_some_and(|b| b.records.len() > 1) => {
                *self.errors_seen.entry(KafkaError::MessageTooLarge).or_insert(0) += 1;
                self.split_and_reenqueue(cx, env, inflight.batch);
            }
            Err(error) => self.batch_failed(cx, env, inflight.batch, error),
        }
        self.drain(cx, env);
    }

    /// `Sender.completeBatch` on MESSAGE_TOO_LARGE for a batch of several records
    /// (`RecordAccumulator.splitAndReenqueue`, `ProducerBatch.split`): the records are cut into
    /// batches of at most `batch.size` (each holds at least one record), which keep the batch's
    /// creation time and, numbered on from its first sequence, its sequence numbers, count as not
    /// tried yet, and go back to the front of the queue (in sequence order when idempotent).
    fn split_and_reenqueue(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, bid: u64) {
        let p = self.index;
        let now = cx.now();
        let Some(big) = self.batches.remove(bid) else { return };
        let pidx = big.pidx;
        let batch_size = self.config.batch_size;
        let mut parts: Vec<(Vec<RecordId>, BatchSize)> = Vec::new();
        for &r in &big.records {
            let rec = &env.ledger.records[r as usize];
            let (ts, key, value) = (rec.created_at, rec.key.as_ref().map(|k| k.len() as u32), Some(rec.value_bytes));
            match parts.last_mut() {
                Some((records, size)) if size.has_room_for(ts, key, value) => {
                    size.append(ts, key, value);
                    records.push(r);
                }
                _ => parts.push((vec![r], BatchSize::new(batch_size, ts, key, value).0)),
            }
        }
        let mut seq = big.base_seq;
        let mut ids = Vec::new();
        for (records, size) in parts {
            self.next_batch += 1;
            let id = self.next_batch;
            let count = records.len() as i32;
            self.batches.push(id, Batch { id, pidx, records, size, created_at: big.created_at, base_seq: seq, attempts: 0, retry_at: now, closed: true });
            seq = seq.map(|s| s + count);
            ids.push(id);
        }
        self.split_any = true;
        let queue = &mut self.queues[pidx as usize];
        match big.base_seq {
            Some(first) => {
                let pos = queue
                    .iter()
                    .position(|&b| self.batches.get(b).and_then(|x| x.base_seq).is_none_or(|other| other > first))
                    .unwrap_or(queue.len());
                for (i, &id) in ids.iter().enumerate() {
                    queue.insert(pos + i, id);
                }
            }
            None => {
                for &id in ids.iter().rev() {
                    queue.push_front(id);
                }
            }
        }
        self.queue_changed(pidx);
        let tp = env.tps[pidx as usize];
        cx.emit(ProducerEffect::BatchSplit { producer: p, tp, records: big.records, batches: ids.len() as u32 });
        self.arm_deadline(cx);
    }

    /// A batch's attempt failed: retry after `retry.backoff.ms` if `retries` and
    /// `delivery.timeout.ms` allow, otherwise fail its records.
    fn batch_failed(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, bid: u64, error: KafkaError) {
        let p = self.index;
        let now = cx.now();
        *self.errors_seen.entry(error).or_insert(0) += 1;
        let cfg = self.config.clone();
        let Some(batch) = self.batches.get(bid) else { return };
        let tp = env.tps[batch.pidx as usize];
        // KIP-580: backoff doubles per attempt up to retry.backoff.max.ms, with ±20% jitter.
        let exp = cfg.retry_backoff_ms.saturating_mul(1u64 << batch.attempts.saturating_sub(1).min(20));
        let base = exp.min(cfg.retry_backoff_max_ms) as f64;
        let jitter: f64 = cx.rng().random_range(0.8..=1.2);
        let retry_at = now + (base * jitter).round().max(1.0) as u64;
        // Java's `Sender.canRetry` asks only whether the delivery deadline has passed *now*, not
        // whether the next attempt would come before it: a batch that keeps getting a retriable
        // error goes back to the queue and is expired by the accumulator at creation +
        // `delivery.timeout.ms`, so the application sees a timeout, not the last error.
        // A transactional producer does not retry OUT_OF_ORDER_SEQUENCE_NUMBER of its next
        // expected batch (`TransactionManager.canRetry`): the transaction becomes abortable.
        let txn_gap = self.txn.is_some() && error == KafkaError::OutOfOrderSequenceNumber && batch.base_seq == Some(self.last_acked.get(&batch.pidx).map_or(0, |s| s + 1));
        let can_retry = error.retriable() && !txn_gap && batch.attempts <= cfg.retries && now < batch.created_at + cfg.delivery_timeout_ms;
        let records = batch.records.clone();
        let attempt = batch.attempts;
        if can_retry {
            let batch = self.batches.get_mut(bid).expect("batch");
            batch.retry_at = retry_at;
            let pidx = batch.pidx;
            let seq = batch.base_seq;
            let queue = &mut self.queues[pidx as usize];
            // Java's RecordAccumulator.reenqueue: an idempotent producer puts the batch back in
            // sequence order; without idempotence it goes to the front, behind nothing already sent,
            // which is how a retry can overtake later batches and reorder the log.
            let pos = match seq {
                Some(s) => queue
                    .iter()
                    .position(|&b| self.batches.get(b).and_then(|x| x.base_seq).is_none_or(|other| other > s))
                    .unwrap_or(queue.len()),
                None => 0,
            };
            queue.insert(pos, bid);
            self.queue_changed(pidx);
            // `TransactionManager.canRetry`: only the batch right after the last acknowledged one
            // shows that the leader lost records, so only it asks for an epoch bump; a later batch's
            // gap is an earlier batch's failure, and it is simply retried.
            let next_after_acked = self.last_acked.get(&pidx).map_or(0, |s| s + 1);
            if error == KafkaError::OutOfOrderSequenceNumber && seq == Some(next_after_acked) && !self.bump_pending.contains(&pidx) {
                self.bump_pending.push(pidx);
            }
            cx.emit(ProducerEffect::ProduceError { producer: p, tp, records, error, attempt, retry_at: Some(retry_at) });
            if matches!(
                error,
                KafkaError::NotLeaderOrFollower | KafkaError::RequestTimedOut | KafkaError::LeaderNotAvailable | KafkaError::NetworkException
            ) {
                self.request_metadata(cx);
            }
            self.arm_wake(cx, retry_at);
        } else {
            self.fail_batch(cx, env, bid, error, attempt);
        }
    }

    /// Kafka 4.1's answer to OUT_OF_ORDER_SEQUENCE_NUMBER for an idempotent producer (not fatal):
    /// bump the producer epoch of that partition locally, with no InitProducerId, and number the
    /// partition's unacknowledged batches again from sequence 0 in their order
    /// (`bumpIdempotentProducerEpoch`, `startSequencesAtBeginning`). The leader takes a new epoch
    /// that starts at 0, so the producer goes on; records lost before stay lost.
    fn bump_epoch(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, pidx: u32) {
        let p = self.index;
        let tp = env.tps[pidx as usize];
        self.bump_pending.retain(|&q| q != pidx);
        let epoch = self.epochs.get(&pidx).copied().unwrap_or(0) + 1;
        self.epochs.insert(pidx, epoch);
        let mut seq = 0i32;
        for &bid in &self.queues[pidx as usize] {
            if let Some(batch) = self.batches.get_mut(bid) {
                batch.base_seq = Some(seq);
                seq += batch.records.len() as i32;
            }
        }
        self.next_seq.insert(pidx, seq);
        self.last_acked.remove(&pidx);
        cx.emit(ProducerEffect::ProducerEpochBumped { producer: p, tp, epoch });
    }

    fn fail_batch(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, bid: u64, error: KafkaError, attempt: u32) {
        let p = self.index;
        let now = cx.now();
        let Some(batch) = self.batches.remove(bid) else { return };
        self.queues[batch.pidx as usize].retain(|&b| b != bid);
        self.queue_changed(batch.pidx);
        let reqs: Vec<u64> = self.in_flight.iter().filter(|(_, f)| f.batch == bid).map(|(r, _)| r).collect();
        for req in reqs {
            self.take_in_flight(req);
        }
        let tp = env.tps[batch.pidx as usize];
        for &r in &batch.records {
            env.ledger.records[r as usize].outcome = Outcome::Failed { at: now, error };
        }
        cx.emit(ProducerEffect::ProduceError { producer: p, tp, records: batch.records, error, attempt, retry_at: None });
        self.txn_batch_failed(cx, env, error);
    }

    /// Keeps one timer at the earliest request or delivery deadline.
    fn arm_deadline(&mut self, cx: &mut Cx<'_>) {
        let p = self.index;
        let Some(next) = self.next_deadline() else { return };
        if self.deadline_at.is_none_or(|at| at > next) {
            self.deadline_at = Some(next);
            cx.set_timer(next, Timer::ProducerDeadline { producer: p });
        }
    }

    fn arm_wake(&mut self, cx: &mut Cx<'_>, at: u64) {
        let p = self.index;
        if self.wake_at.is_none_or(|w| w > at) {
            self.wake_at = Some(at);
            cx.set_timer(at, Timer::ProducerWake { producer: p });
        }
    }

    pub(crate) fn wake(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) -> bool {
        if self.wake_at != Some(cx.now()) {
            return false;
        }
        self.wake_at = None;
        self.drain(cx, env);
        true
    }

    /// Expires requests past `request.timeout.ms` and batches past `delivery.timeout.ms`.
    pub(crate) fn deadline(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) -> bool {
        let now = cx.now();
        if self.deadline_at != Some(now) {
            return false;
        }
        self.deadline_at = None;
        let timed_out: Vec<(u64, u64)> =
            self.in_flight.iter().filter(|(_, f)| f.deadline <= now).map(|(r, f)| (r, f.batch)).collect();
        let expired: Vec<(u64, u32)> = self
            .batches
            .values()
            .filter(|b| b.created_at + self.config.delivery_timeout_ms <= now)
            .map(|b| (b.id, b.attempts))
            .collect();
        let acted = !timed_out.is_empty() || !expired.is_empty();
        // `NetworkClient.handleTimedOutRequests`: a request past `request.timeout.ms` closes its
        // whole connection, failing every request in flight on it.
        let mut closed: Vec<BrokerId> = Vec::new();
        for (req, _) in timed_out {
            if let Some(broker) = self.in_flight.get(req).map(|f| f.broker) {
                if !closed.contains(&broker) {
                    closed.push(broker);
                    self.connection_failed(cx, env, broker, Disconnect::RequestTimeout);
                }
            }
        }
        for (bid, attempts) in expired {
            *self.errors_seen.entry(KafkaError::DeliveryTimeout).or_insert(0) += 1;
            self.fail_batch(cx, env, bid, KafkaError::DeliveryTimeout, attempts);
        }
        self.arm_deadline(cx);
        if acted {
            self.drain(cx, env);
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
