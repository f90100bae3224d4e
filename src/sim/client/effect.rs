//! The client layer's effects: what a producer or a consumer did in a step, each next to the
//! sentence that narrates it.

use crate::sim::config::{Acks, OffsetReset};
use crate::sim::narrate::{ms, offsets, partitions, records, Names};
use crate::sim::types::{BrokerId, KafkaError, RecordId, Tp};
use serde::Serialize;
use std::fmt::Write;

/// A consequence of a step at a producer: records created, connections, acks and errors.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum ProducerEffect {
    /// A producer created records (the application called send()).
    RecordsCreated {
        /// Producer.
        producer: u32,
        /// Partition chosen.
        tp: Tp,
        /// Records.
        records: Vec<RecordId>,
        /// How the partition was chosen.
        how: Partitioning,
    },
    /// An idempotent producer bumped its epoch for a partition after OUT_OF_ORDER_SEQUENCE_NUMBER,
    /// numbering its unacknowledged batches there again from sequence 0.
    ProducerEpochBumped {
        /// Producer.
        producer: u32,
        /// Partition.
        tp: Tp,
        /// The new producer epoch.
        epoch: u16,
    },
    /// A producer's connection to a broker broke or could not be made: it is not used until
    /// `reconnect_at` (`reconnect.backoff.ms`, doubling up to `reconnect.backoff.max.ms`).
    ProducerDisconnected {
        /// Producer.
        producer: u32,
        /// Broker.
        broker: BrokerId,
        /// Why: the connection was refused, reset, or timed out.
        cause: &'static str,
        /// When it may connect again.
        reconnect_at: u64,
    },
    /// A producer's new connection to a broker is ready (its ApiVersions was answered).
    ProducerConnected {
        /// Producer.
        producer: u32,
        /// Broker.
        broker: BrokerId,
    },
    /// A produce request completed successfully at the producer.
    Acknowledged {
        /// Producer.
        producer: u32,
        /// Partition.
        tp: Tp,
        /// Records.
        records: Vec<RecordId>,
        /// Base offset (none for acks=0).
        offset: Option<u64>,
        /// `acks`.
        acks: Acks,
    },
    /// A producer got an error for a batch.
    ProduceError {
        /// Producer.
        producer: u32,
        /// Partition.
        tp: Tp,
        /// Records.
        records: Vec<RecordId>,
        /// Error.
        error: KafkaError,
        /// Attempts so far.
        attempt: u32,
        /// When it retries, or none if the records failed for good.
        retry_at: Option<u64>,
    },
    /// `send()` refused a record larger than `max.request.size` (`RecordTooLargeException`): it
    /// never reaches a batch.
    RecordTooLarge {
        /// Producer.
        producer: u32,
        /// The partition it was meant for.
        tp: Tp,
        /// The record.
        record: RecordId,
        /// Its serialized size as the check counts it (`estimateSizeInBytesUpperBound`).
        size: u32,
        /// `max.request.size`.
        max_request_size: u32,
    },
    /// A batch the leader refused with MESSAGE_TOO_LARGE was split into smaller batches to retry.
    BatchSplit {
        /// Producer.
        producer: u32,
        /// Partition.
        tp: Tp,
        /// The batch's records.
        records: Vec<RecordId>,
        /// Batches it became.
        batches: u32,
    },
    /// A producer refreshed its metadata.
    MetadataUpdated {
        /// Producer.
        producer: u32,
        /// Partitions whose leader it now sees differently.
        changed: Vec<(Tp, Option<BrokerId>)>,
    },
    /// `send()` blocks in `waitOnMetadata`: the client's metadata has no such topic, or (with an
    /// explicit partition) no such partition yet; it asks for metadata and waits.
    WaitingOnMetadata {
        /// Producer.
        producer: u32,
        /// The topic, and the partition the record names (0 when it names none).
        tp: Tp,
        /// Whether the record names its partition.
        explicit: bool,
    },
    /// A late response for a request the producer already gave up on.
    StaleResponse {
        /// Producer.
        producer: u32,
        /// Request id.
        req: u64,
    },
    /// A transactional producer's state changed (`TransactionManager.transitionTo`).
    TxnStateChanged {
        /// Producer.
        producer: u32,
        /// The application's call that changed it, if one did.
        call: Option<&'static str>,
        /// The state before.
        from: &'static str,
        /// The state now.
        to: &'static str,
    },
    /// The application's call on a transactional producer threw (`IllegalStateException`, or
    /// the error that left the producer in an error state).
    TxnCallRefused {
        /// Producer.
        producer: u32,
        /// The call (`send()`, `commitTransaction()`…).
        call: &'static str,
        /// The producer's transaction state.
        state: &'static str,
        /// The error it is in, if any.
        error: Option<KafkaError>,
    },
    /// The application called `sendOffsetsToTransaction`: the producer sends the offsets to
    /// the group's coordinator in a TxnOffsetCommit, and the call blocks until it answers.
    TxnOffsetsSending {
        /// Producer.
        producer: u32,
        /// Group index.
        group: u32,
        /// The consumer's generation it names (−1: none).
        generation: i32,
        /// (partition, offset).
        offsets: Vec<(Tp, u64)>,
    },
    /// The group coordinator wrote the offsets into the transaction: the call returns.
    TxnOffsetsAdded {
        /// Producer.
        producer: u32,
        /// Group index.
        group: u32,
    },
    /// An idempotent producer got its producer id (InitProducerId, epoch 0).
    ProducerIdAssigned {
        /// Producer.
        producer: u32,
        /// The producer id.
        pid: u32,
    },
    /// A transactional request got a retriable error: the producer tries again after
    /// `retry.backoff.ms` (looking the coordinator up again if it moved).
    TxnRequestRetried {
        /// Producer.
        producer: u32,
        /// The request.
        request: &'static str,
        /// The error.
        error: KafkaError,
    },
}

/// How the producer chose a record's partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Partitioning {
    /// The record named its partition.
    Explicit,
    /// murmur2 of the key.
    Key,
    /// No key: the sticky partitioner's current partition.
    Sticky,
}

/// A consequence of a step at a consumer: its lifecycle, the group protocol as it sees it, polls,
/// processing and commits.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum ConsumerEffect {
    /// A new consumer was added to a group.
    ConsumerAdded {
        /// The new consumer.
        consumer: u32,
        /// The consumer whose settings it copies.
        like: u32,
    },
    /// A consumer process started (or restarted).
    ConsumerStarted {
        /// Consumer.
        consumer: u32,
    },
    /// A consumer process crashed: no commit, no LeaveGroup.
    ConsumerCrashed {
        /// Consumer.
        consumer: u32,
        /// Records it had fetched or was processing, now gone with it.
        unprocessed: u32,
    },
    /// A consumer closed gracefully.
    ConsumerClosed {
        /// Consumer.
        consumer: u32,
        /// Whether it sent LeaveGroup (static members do not).
        left_group: bool,
    },
    /// The application thread blocks (a slow call): no poll until `until`.
    ConsumerStalled {
        /// Consumer.
        consumer: u32,
        /// When it resumes.
        until: u64,
    },
    /// A consumer learned its group's coordinator.
    CoordinatorFound {
        /// Consumer.
        consumer: u32,
        /// Coordinator broker.
        coordinator: BrokerId,
        /// The `__consumer_offsets` partition it leads.
        offsets_partition: u32,
    },
    /// The group leader computed the assignment.
    AssignmentComputed {
        /// Group index.
        group: u32,
        /// Leader consumer.
        consumer: u32,
        /// Consumer index → partitions.
        assignment: Vec<(u32, Vec<Tp>)>,
        /// Partitions withheld this round because their owner must revoke them first (cooperative).
        withheld: Vec<Tp>,
    },
    /// The group leader's metadata shows new partitions of the group's topics: it rejoins.
    MetadataChanged {
        /// The leader.
        consumer: u32,
        /// (topic, partition count it assigned, partition count now).
        changed: Vec<(u32, u32, u32)>,
    },
    /// The group leader's assignor failed (the group cannot stabilise).
    AssignmentFailed {
        /// Group index.
        group: u32,
        /// Why.
        reason: String,
    },
    /// `onPartitionsRevoked` (or `onPartitionsLost`).
    PartitionsRevoked {
        /// Consumer.
        consumer: u32,
        /// Partitions.
        partitions: Vec<Tp>,
        /// Why they go.
        how: Revocation,
    },
    /// `onPartitionsAssigned`.
    PartitionsAssigned {
        /// Consumer.
        consumer: u32,
        /// Partitions newly assigned.
        partitions: Vec<Tp>,
        /// Generation.
        generation: i32,
    },
    /// `poll()` returned records to the application; the position moved past them.
    Polled {
        /// Consumer.
        consumer: u32,
        /// (partition, offset, record) in the order returned.
        records: Vec<(Tp, u64, RecordId)>,
        /// The position of the last record's partition now: past that record, and past the
        /// markers and aborted records the same fetch held after it.
        position: u64,
    },
    /// The application finished processing a record.
    RecordProcessed {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// Offset.
        offset: u64,
        /// Record.
        record: RecordId,
        /// How many times this group has processed it now.
        times: u32,
    },
    /// A consumer sent an offset commit.
    CommitSent {
        /// Consumer.
        consumer: u32,
        /// (partition, next offset).
        offsets: Vec<(Tp, u64)>,
        /// Why now.
        kind: CommitKind,
    },
    /// A commit failed at the consumer.
    CommitFailed {
        /// Consumer.
        consumer: u32,
        /// The error.
        error: KafkaError,
        /// What it tried to commit.
        offsets: Vec<(Tp, u64)>,
    },
    /// `commitSync()` met a retriable error: it finds the coordinator again and retries, until
    /// `default.api.timeout.ms` has passed since it was called.
    CommitRetrying {
        /// Consumer.
        consumer: u32,
        /// The error.
        error: KafkaError,
        /// When it tries again.
        retry_at: u64,
        /// When it gives up with a TimeoutException.
        deadline: u64,
    },
    /// The consumer set its position from the group's committed offset.
    PositionFromCommit {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// Offset.
        offset: u64,
    },
    /// The consumer applied `auto.offset.reset`.
    OffsetReset {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// New position.
        offset: u64,
        /// The policy.
        policy: OffsetReset,
        /// True when the old position was out of range, false when there was no committed offset.
        out_of_range: bool,
    },
    /// KIP-320: after a leader change the consumer validated its position with OffsetsForLeaderEpoch
    /// and found the new leader's log ends the epoch of its last record before the position: it
    /// moves back to that end offset, whatever `auto.offset.reset` says (none fails instead).
    LogTruncationDetected {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// The position it had.
        position: u64,
        /// The epoch of its last consumed record.
        epoch: u32,
        /// Where the new leader's log ends that epoch: the first offset known to diverge.
        end_offset: u64,
    },
    /// A consumer request failed; it will retry.
    ConsumerRequestFailed {
        /// Consumer.
        consumer: u32,
        /// Request kind.
        request: &'static str,
        /// Error.
        error: KafkaError,
    },
    /// The heartbeat thread found `max.poll.interval.ms` exceeded.
    PollTimeout {
        /// Consumer.
        consumer: u32,
        /// Time since the last poll.
        since_poll_ms: u64,
        /// `max.poll.interval.ms`.
        max_ms: u64,
        /// Whether it sent LeaveGroup (static members do not).
        left_group: bool,
    },
    /// The application called `subscribe(topics)`: the subscription changed at once, buffered
    /// records of topics no longer subscribed were dropped, and the next `poll()` rejoins.
    Subscribed {
        /// Consumer.
        consumer: u32,
        /// Names of the subscribed topics, sorted.
        topics: Vec<String>,
        /// Buffered records dropped (`clearBufferedDataForUnassignedTopics`).
        dropped: u32,
        /// Whether it differs from the subscription it joined with (so the next poll rejoins).
        changed: bool,
        /// Whether the process runs (otherwise the subscription is kept for its start).
        running: bool,
    },
    /// `poll()` sees the subscription differs from the one it joined with and rejoins
    /// (`ConsumerCoordinator.rejoinNeededOrPending`, "subscription changed").
    SubscriptionChangedRejoin {
        /// Consumer.
        consumer: u32,
    },
    /// A scripted application calls `poll()`, `commitSync()` or `commitAsync()`.
    AppCalled {
        /// Consumer.
        consumer: u32,
        /// The call.
        call: AppCall,
        /// A commit with no consumed position: nothing is sent.
        nothing_to_commit: bool,
    },
    /// A scripted application's call came while its thread was busy: it runs after what the
    /// thread is doing (the application is one thread).
    AppCallQueued {
        /// Consumer.
        consumer: u32,
        /// The call.
        call: AppCall,
        /// What the thread was doing (`AppState::name`).
        busy: &'static str,
    },
    /// A JoinGroup answer reached a scripted application that is not in `poll()`: it is read at its
    /// next poll (the Java client's heartbeat thread does not read the network while joining).
    JoinResponseWaitsForPoll {
        /// Consumer.
        consumer: u32,
    },
    /// A SyncGroup answer reached a scripted application that is not in `poll()`: the member is in
    /// the new generation (its heartbeat thread goes on), but the assignment and the listener wait
    /// for its next poll (`onJoinComplete`).
    AssignmentWaitsForPoll {
        /// Consumer.
        consumer: u32,
    },
    /// A scripted `poll()` reached its timeout without records.
    PollReturnedEmpty {
        /// Consumer.
        consumer: u32,
    },
    /// A scripted application's call found the consumer not running: nothing happens.
    AppCallIgnored {
        /// Consumer.
        consumer: u32,
        /// The call.
        call: AppCall,
    },
    /// `poll()` returned records whose values the consumer's reader schema read otherwise than
    /// they were written: schema resolution filled fields from defaults or dropped the writer's.
    ValuesResolved {
        /// Consumer.
        consumer: u32,
        /// Each such record's partition, offset and the value as read.
        values: Vec<(Tp, u64, String)>,
    },
    /// `poll()` met a record its value deserializer cannot read: `RecordDeserializationException`
    /// at that offset, which stops the poll loop (the position stays at the record, so a restarted
    /// consumer fails there again: a poison pill) unless the application seeks past it.
    RecordDeserializationFailed {
        /// Consumer.
        consumer: u32,
        /// Partition.
        tp: Tp,
        /// The record's offset.
        offset: u64,
        /// The deserializer's message.
        message: String,
        /// The application caught it and sought past the record.
        skipped: bool,
    },
    /// A consumer hit an error that stops its poll loop (e.g. NoOffsetForPartitionException).
    ConsumerFailed {
        /// Consumer.
        consumer: u32,
        /// The error.
        error: KafkaError,
        /// The partition it is about, if the error is about one (FENCED_INSTANCE_ID is about the member).
        tp: Option<Tp>,
    },
}

/// A call a scripted application makes (a `poll`, `process`, `commit_sync` or `commit_async`
/// timeline action).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum AppCall {
    /// `poll(Duration.ofMillis(timeout_ms))`; with `process`, the application then processes what
    /// it holds (the records it returned and any not processed yet).
    Poll {
        /// How long it waits for records.
        timeout_ms: u64,
        /// Whether the application processes the records right after.
        process: bool,
    },
    /// The application processes the records it holds (`processing_ms` each).
    Process,
    /// `commitSync()` of the consumed positions.
    CommitSync,
    /// `commitAsync()` of the consumed positions.
    CommitAsync,
}

impl AppCall {
    /// The call as the application writes it.
    pub fn name(self) -> String {
        match self {
            AppCall::Poll { timeout_ms, process: true } => format!("poll({timeout_ms} ms)"),
            AppCall::Poll { timeout_ms, process: false } => format!("poll({timeout_ms} ms) without processing"),
            AppCall::Process => "process (the records it holds)".to_string(),
            AppCall::CommitSync => "commitSync()".to_string(),
            AppCall::CommitAsync => "commitAsync()".to_string(),
        }
    }
}

/// How a consumer gives up partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// Eager protocol: everything, before rejoining.
    Eager,
    /// Cooperative protocol: only the partitions that move.
    Cooperative,
    /// `onPartitionsLost`: the member was thrown out of the group, another may own them already.
    Lost,
    /// `close()`: everything it owns, before it leaves the group (under either protocol).
    OnClose,
    /// Cooperative `onJoinPrepare` after `subscribe()`: the owned partitions of topics no longer
    /// subscribed.
    Unsubscribed,
}

/// Why a consumer committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitKind {
    /// `enable.auto.commit`: inside `poll()`, every `auto.commit.interval.ms`.
    Auto,
    /// Auto-commit before joining a rebalance.
    BeforeRebalance,
    /// Auto-commit on `close()`.
    OnClose,
    /// `commitSync()` before processing (at-most-once).
    SyncBeforeProcessing,
    /// `commitSync()` after processing (at-least-once).
    SyncAfterProcessing,
    /// `commitAsync()` after processing.
    AsyncAfterProcessing,
    /// `commitSync()` called by a scripted application.
    SyncCall,
    /// `commitAsync()` called by a scripted application.
    AsyncCall,
}

impl ProducerEffect {
    /// The effect as a sentence that says why.
    pub fn describe(&self, names: &dyn Names) -> String {
        let tpn = |tp: &Tp| names.tp_name(*tp);
        match self {
            ProducerEffect::RecordsCreated { producer, tp, records: recs, how } => {
                let why = match how {
                    Partitioning::Explicit => "partition given explicitly".to_string(),
                    Partitioning::Key => format!(
                        "murmur2(key) % {} partitions",
                        names.topic_partitions(tp.topic)
                    ),
                    Partitioning::Sticky => "no key: sticky partitioner".to_string(),
                };
                format!("{} sends {} to {} ({why})", names.producer_name(*producer), records(names, recs), tpn(tp))
            }
            ProducerEffect::ProducerEpochBumped { producer: p, tp, epoch } => format!(
                "{} bumps its producer epoch for {} to {epoch} and numbers its unacknowledged batches there from sequence 0 again (OUT_OF_ORDER_SEQUENCE_NUMBER is not fatal for an idempotent producer)",
                names.producer_name(*p),
                tpn(tp)
            ),
            ProducerEffect::ProducerDisconnected { producer: p, broker, cause, reconnect_at } => format!(
                "{} is disconnected from broker-{broker} ({cause}): it sends nothing there and tries to connect again at {} (reconnect.backoff.ms, doubling up to reconnect.backoff.max.ms); requests in flight there fail, queued batches wait, and it refreshes metadata",
                names.producer_name(*p),
                ms(*reconnect_at)
            ),
            ProducerEffect::ProducerConnected { producer: p, broker } => {
                format!("{}'s connection to broker-{broker} is ready: queued batches can go", names.producer_name(*p))
            }
            ProducerEffect::Acknowledged { producer, tp, records: recs, offset, acks } => match offset {
                Some(o) => format!(
                    "{} gets the ack for {} at offset {o} of {} (acks={})",
                    names.producer_name(*producer),
                    records(names, recs),
                    tpn(tp),
                    acks.name()
                ),
                None => format!(
                    "{} counts {} as sent without any answer (acks=0: the callback gets offset -1 and no error)",
                    names.producer_name(*producer),
                    records(names, recs)
                ),
            },
            ProducerEffect::ProduceError { producer, tp, records: recs, error, attempt, retry_at } => {
                let name = &names.producer_name(*producer);
                match retry_at {
                    Some(at) => format!(
                        "{name} gets {error} for {} on {} (attempt {attempt}); retries at {} (retry.backoff.ms, doubling up to retry.backoff.max.ms)",
                        records(names, recs),
                        tpn(tp),
                        ms(*at)
                    ),
                    None => format!("{name} gives up on {} for {}: {error} after {attempt} attempt(s)", records(names, recs), tpn(tp)),
                }
            }
            ProducerEffect::RecordTooLarge { producer, tp, record, size, max_request_size } => format!(
                "{}'s send() of {} for {} fails at once with RECORD_TOO_LARGE: the record is {size} bytes when serialized, larger than max.request.size ({max_request_size}); no request is sent",
                names.producer_name(*producer),
                records(names, std::slice::from_ref(record)),
                tpn(tp)
            ),
            ProducerEffect::BatchSplit { producer, tp, records: recs, batches } => format!(
                "{} splits its batch of {} for {} into {batches} batches of at most batch.size and sends them again (MESSAGE_TOO_LARGE on a batch of several records is not an error for the application)",
                names.producer_name(*producer),
                records(names, recs),
                tpn(tp)
            ),
            ProducerEffect::MetadataUpdated { producer, changed } => {
                let name = &names.producer_name(*producer);
                if changed.is_empty() {
                    format!("{name} refreshes metadata: no leader changed")
                } else {
                    let list: Vec<String> = changed
                        .iter()
                        .map(|(tp, l)| format!("{} → {}", tpn(tp), l.map_or("none".to_string(), |l| format!("broker-{l}"))))
                        .collect();
                    format!("{name} refreshes metadata: {}", list.join(", "))
                }
            }
            ProducerEffect::WaitingOnMetadata { producer, tp, explicit } => {
                let name = names.producer_name(*producer);
                let topic = names.topic_name(tp.topic);
                if *explicit {
                    format!("{name}'s send() to {} blocks: its metadata has no such partition yet, so it asks for metadata and waits (later sends wait behind it)", tpn(tp))
                } else {
                    format!("{name}'s send() to topic {topic} blocks: its metadata does not know the topic yet, so it asks for metadata and waits (later sends wait behind it)")
                }
            }
            ProducerEffect::StaleResponse { producer, req } => format!(
                "{} ignores the response to request {req}: it already gave up on it",
                names.producer_name(*producer)
            ),
            ProducerEffect::TxnStateChanged { producer, call, from, to } => match call {
                Some(call) => format!("{} calls {call}: {from} → {to}", names.producer_name(*producer)),
                None => format!("{}'s transaction state: {from} → {to}", names.producer_name(*producer)),
            },
            ProducerEffect::TxnCallRefused { producer, call, state, error } => match error {
                Some(e) => format!("{}'s {call} throws: the producer is in {state} after {}", names.producer_name(*producer), e.name()),
                None => format!("{}'s {call} throws IllegalStateException: not allowed in state {state}", names.producer_name(*producer)),
            },
            ProducerEffect::TxnOffsetsSending { producer, group, offsets, .. } if offsets.is_empty() => format!(
                "{} calls sendOffsetsToTransaction for group {} with no offsets (its consumer owns no partition): the call does nothing",
                names.producer_name(*producer),
                names.group_name(*group)
            ),
            ProducerEffect::TxnOffsetsSending { producer, group, generation, offsets } => {
                let list: Vec<String> = offsets.iter().map(|(tp, o)| format!("{} → {o}", tpn(tp))).collect();
                let metadata = if *generation < 0 { "with no generation (accepted without a membership check)".to_string() } else { format!("generation {generation}") };
                format!(
                    "{} calls sendOffsetsToTransaction({}) for group {}, {metadata}: TxnOffsetCommit goes to the group's coordinator, and the call blocks until it answers",
                    names.producer_name(*producer),
                    list.join(", "),
                    names.group_name(*group)
                )
            }
            ProducerEffect::TxnOffsetsAdded { producer, group } => format!(
                "{}'s sendOffsetsToTransaction returns: group {}'s coordinator wrote the offsets into the transaction, where they stay pending until its marker",
                names.producer_name(*producer),
                names.group_name(*group)
            ),
            ProducerEffect::ProducerIdAssigned { producer, pid } => format!(
                "{} has producer id {pid}, epoch 0: its batches carry it with their sequence numbers, so a leader can recognise a retry",
                names.producer_name(*producer)
            ),
            ProducerEffect::TxnRequestRetried { producer, request, error } => format!(
                "{}'s {request} got {}: it retries after retry.backoff.ms",
                names.producer_name(*producer),
                error.name()
            ),
        }
    }
}

impl ConsumerEffect {
    /// The effect as a sentence that says why.
    pub fn describe(&self, names: &dyn Names) -> String {
        match self {
            ConsumerEffect::ConsumerAdded { consumer: c, like } => {
                format!("a new consumer {} is added to group {}, with the settings of {}", names.consumer_name(*c), names.group_name(names.consumer_group(*c)), names.consumer_name(*like))
            }
            ConsumerEffect::ConsumerStarted { consumer: c } => format!("{} starts", names.consumer_name(*c)),
            ConsumerEffect::ConsumerCrashed { consumer: c, unprocessed } => format!(
                "{} CRASHES: no commit, no LeaveGroup; {unprocessed} fetched record(s) it had not processed are gone with it",
                names.consumer_name(*c)
            ),
            ConsumerEffect::ConsumerClosed { consumer: c, left_group } => {
                let how = if *left_group { "sends LeaveGroup so the group rebalances at once" } else { "is static: no LeaveGroup" };
                format!("{} closes and {how}", names.consumer_name(*c))
            }
            ConsumerEffect::ConsumerStalled { consumer: c, until } => {
                format!("{}'s application thread blocks until {} (no poll() meanwhile)", names.consumer_name(*c), ms(*until))
            }
            ConsumerEffect::CoordinatorFound { consumer: c, coordinator, offsets_partition } => format!(
                "{} finds its coordinator: broker-{coordinator}, leader of __consumer_offsets-{offsets_partition}",
                names.consumer_name(*c)
            ),
            ConsumerEffect::AssignmentComputed { consumer: c, assignment, withheld, .. } => {
                let parts: Vec<String> =
                    assignment.iter().map(|(m, tps)| format!("{} → {}", names.consumer_name(*m), partitions(names, tps))).collect();
                let mut s = format!("leader {} assigns: {}", names.consumer_name(*c), parts.join("; "));
                if !withheld.is_empty() {
                    let _ = write!(s, " (withheld until revoked: {})", partitions(names, withheld));
                }
                s
            }
            ConsumerEffect::MetadataChanged { consumer: c, changed } => {
                let list: Vec<String> = changed
                    .iter()
                    .map(|&(t, was, now)| format!("{} has {now} partitions, not {was}", names.topic_name(t)))
                    .collect();
                format!(
                    "{}, the group leader, refreshes its metadata: {}. The assignment it made is out of date, so it rejoins and the group rebalances",
                    names.consumer_name(*c),
                    list.join("; ")
                )
            }
            ConsumerEffect::AssignmentFailed { group: g, reason } => format!("group {}: the assignor failed: {reason}", names.group_name(*g)),
            ConsumerEffect::PartitionsRevoked { consumer: c, partitions: p, how } => match how {
                Revocation::Eager if p.is_empty() => {
                    format!("{} onPartitionsRevoked [] (eager: called before every rejoin, even when it owns nothing)", names.consumer_name(*c))
                }
                Revocation::Eager => format!("{} onPartitionsRevoked {} (eager: everything)", names.consumer_name(*c), partitions(names, p)),
                Revocation::Cooperative => format!(
                    "{} onPartitionsRevoked {} (cooperative: only the partitions that move)",
                    names.consumer_name(*c),
                    partitions(names, p)
                ),
                Revocation::Lost => format!(
                    "{} onPartitionsLost {}: it is no longer in the group, another member may own them already",
                    names.consumer_name(*c),
                    partitions(names, p)
                ),
                Revocation::OnClose => format!("{} onPartitionsRevoked {} (close: it gives them up before leaving)", names.consumer_name(*c), partitions(names, p)),
                Revocation::Unsubscribed => format!(
                    "{} onPartitionsRevoked {} (cooperative onJoinPrepare: only the partitions of topics it no longer subscribes to; it keeps the rest)",
                    names.consumer_name(*c),
                    partitions(names, p)
                ),
            },
            ConsumerEffect::PartitionsAssigned { consumer: c, partitions: p, generation } => {
                format!("{} onPartitionsAssigned {} (generation {generation})", names.consumer_name(*c), partitions(names, p))
            }
            ConsumerEffect::Polled { consumer: c, records: recs, position } => {
                let ids: Vec<RecordId> = recs.iter().map(|r| r.2).collect();
                let (first, last) = (recs.first().expect("not empty"), recs.last().expect("not empty"));
                format!(
                    "{} poll() returns {} record(s) [{}]; position of {} now {}",
                    names.consumer_name(*c),
                    recs.len(),
                    records(names, &ids),
                    names.tp_name(last.0),
                    position
                ) + if first.0 != last.0 { " (and others)" } else { "" }
            }
            ConsumerEffect::RecordProcessed { consumer: c, tp, offset, record, times } => {
                let again = if *times > 1 { format!(" — DUPLICATE: processed {times} times by this group") } else { String::new() };
                format!("{} processed {}@{offset} ({}){again}", names.consumer_name(*c), names.tp_name(*tp), names.record_label(*record))
            }
            ConsumerEffect::CommitSent { consumer: c, offsets: o, kind } => {
                let why = match kind {
                    CommitKind::Auto => "auto-commit inside poll(): auto.commit.interval.ms passed",
                    CommitKind::BeforeRebalance => "auto-commit before rejoining the group",
                    CommitKind::OnClose => "auto-commit on close()",
                    CommitKind::SyncBeforeProcessing => "commitSync() BEFORE processing",
                    CommitKind::SyncAfterProcessing => "commitSync() after processing",
                    CommitKind::AsyncAfterProcessing => "commitAsync() after processing",
                    CommitKind::SyncCall => "the application's commitSync(): it blocks until the answer",
                    CommitKind::AsyncCall => "the application's commitAsync(): it goes on at once",
                };
                format!("{} commits {} ({why})", names.consumer_name(*c), offsets(names, o))
            }
            ConsumerEffect::CommitRetrying { consumer: c, error, retry_at, deadline } => format!(
                "{}'s commitSync() got {error}: a retriable error, so it looks for the coordinator and tries again at {retry_at} ms (it gives up at {deadline} ms, default.api.timeout.ms after the call)",
                names.consumer_name(*c)
            ),
            ConsumerEffect::CommitFailed { consumer: c, error, offsets: o } => {
                format!("{}'s commit of {} FAILED: {error}", names.consumer_name(*c), offsets(names, o))
            }
            ConsumerEffect::PositionFromCommit { consumer: c, tp, offset } => {
                format!("{} resumes {} at the committed offset {offset}", names.consumer_name(*c), names.tp_name(*tp))
            }
            ConsumerEffect::OffsetReset { consumer: c, tp, offset, policy, out_of_range } => {
                let why = if *out_of_range { "its position is out of range" } else { "no committed offset" };
                format!("{} starts {} at {offset}: {why}, auto.offset.reset={}", names.consumer_name(*c), names.tp_name(*tp), policy.name())
            }
            ConsumerEffect::LogTruncationDetected { consumer: c, tp, position, epoch, end_offset } => format!(
                "{} validates its position {position} in {} against the new leader (KIP-320): the leader's log ends epoch {epoch}, that of the last record it read, at {end_offset}, so records it read were truncated; it moves back to {end_offset}, the first offset known to diverge (not auto.offset.reset)",
                names.consumer_name(*c),
                names.tp_name(*tp)
            ),
            ConsumerEffect::ConsumerRequestFailed { consumer: c, request, error } => {
                format!("{}'s {request} failed: {error}", names.consumer_name(*c))
            }
            ConsumerEffect::PollTimeout { consumer: c, since_poll_ms, max_ms, left_group } => {
                let then = if *left_group { "it leaves the group" } else { "static member: it waits for session.timeout.ms" };
                format!(
                    "{} has not called poll() for {} > max.poll.interval.ms ({}): {then}",
                    names.consumer_name(*c),
                    ms(*since_poll_ms),
                    ms(*max_ms)
                )
            }
            ConsumerEffect::Subscribed { consumer: c, topics, dropped, changed, running } => {
                let name = names.consumer_name(*c);
                let list = topics.join(", ");
                if !running {
                    return format!("{name} calls subscribe([{list}]): it is not running, so it subscribes to these when it starts");
                }
                let mut s = format!("{name} calls subscribe([{list}]): the subscription changes at once");
                if *dropped > 0 {
                    let _ = write!(s, ", {dropped} buffered record(s) of topics no longer subscribed are dropped");
                }
                if *changed {
                    s.push_str("; at its next poll() it rejoins the group, since the subscription differs from the one it joined with");
                } else {
                    s.push_str("; it is the subscription it joined with, so nothing else happens");
                }
                s
            }
            ConsumerEffect::SubscriptionChangedRejoin { consumer: c } => format!(
                "{}'s poll() sees its subscription differs from the one it joined with: it rejoins the group (\"subscription changed\")",
                names.consumer_name(*c)
            ),
            ConsumerEffect::AppCalled { consumer: c, call, nothing_to_commit } => {
                let name = names.consumer_name(*c);
                match call {
                    AppCall::Poll { timeout_ms, process } => {
                        let then = if *process { "; the application processes them next" } else { "; the application does not process them yet" };
                        format!("{name}'s application calls poll() (timeout {}): it returns the records buffered, or waits for some{then}", ms(*timeout_ms))
                    }
                    AppCall::Process if *nothing_to_commit => format!("{name}'s application has no record to process"),
                    AppCall::Process => format!("{name}'s application processes the records it holds"),
                    _ if *nothing_to_commit => format!("{name}'s application calls {}: it has consumed nothing yet, so there is nothing to commit", call.name()),
                    _ => format!("{name}'s application calls {}: it commits the positions poll() has returned so far", call.name()),
                }
            }
            ConsumerEffect::AppCallQueued { consumer: c, call, busy } => format!(
                "{}'s application calls {} while its thread is {busy}: the application is one thread, so the call runs after that",
                names.consumer_name(*c),
                call.name()
            ),
            ConsumerEffect::JoinResponseWaitsForPoll { consumer: c } => format!(
                "{}'s application is not in poll(): the JoinGroup answer waits until its next poll() reads it (the heartbeat thread does not read the network while it joins)",
                names.consumer_name(*c)
            ),
            ConsumerEffect::AssignmentWaitsForPoll { consumer: c } => format!(
                "{}'s heartbeat thread reads the SyncGroup answer: it is in the new generation, but its application is not in poll(), so the assignment and onPartitionsAssigned wait for its next poll()",
                names.consumer_name(*c)
            ),
            ConsumerEffect::PollReturnedEmpty { consumer: c } => format!("{}'s poll() times out and returns no records", names.consumer_name(*c)),
            ConsumerEffect::AppCallIgnored { consumer: c, call } => {
                format!("{} is not running: its application cannot call {}", names.consumer_name(*c), call.name())
            }
            ConsumerEffect::ValuesResolved { consumer: c, values } => {
                let shown: Vec<String> = values.iter().take(3).map(|(tp, o, v)| format!("{}@{o} as {v}", names.tp_name(*tp))).collect();
                let more = if values.len() > 3 { format!(", … {} more", values.len() - 3) } else { String::new() };
                format!("{} reads with its own schema, which resolution fits to the writer's: {}{more}", names.consumer_name(*c), shown.join(", "))
            }
            ConsumerEffect::RecordDeserializationFailed { consumer: c, tp, offset, message, skipped: false } => format!(
                "{}'s poll() throws RecordDeserializationException at {} offset {offset} ({message}): the consumer stops, and its position stays at that record, so a restarted consumer fails on it again (a poison pill)",
                names.consumer_name(*c),
                names.tp_name(*tp)
            ),
            ConsumerEffect::RecordDeserializationFailed { consumer: c, tp, offset, message, skipped: true } => format!(
                "{}'s application catches RecordDeserializationException at {} offset {offset} ({message}) and seeks past the record: it is skipped, never processed",
                names.consumer_name(*c),
                names.tp_name(*tp)
            ),
            ConsumerEffect::ConsumerFailed { consumer: c, error, tp } => {
                let thrown = match error {
                    KafkaError::NoOffsetForPartition => "NoOffsetForPartitionException (no committed offset and auto.offset.reset=none)".to_string(),
                    KafkaError::OffsetOutOfRange => "OffsetOutOfRangeException (its position is outside the log and auto.offset.reset=none)".to_string(),
                    KafkaError::FencedInstanceId => {
                        "FencedInstanceIdException (another consumer with its group.instance.id joined and took over its membership)".to_string()
                    }
                    other => other.to_string(),
                };
                match tp {
                    Some(tp) => format!("{}'s poll() throws {thrown} for {}: the consumer stops", names.consumer_name(*c), names.tp_name(*tp)),
                    None => format!("{}'s poll() throws {thrown}: the consumer stops", names.consumer_name(*c)),
                }
            }
        }
    }
}
