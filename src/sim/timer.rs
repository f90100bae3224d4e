//! The timers that fire inside the simulation, for every layer: the event queue holds them, so they
//! are one small enum below the layers.

use super::types::BrokerId;
use serde::Serialize;

/// Timers that fire inside the simulation.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "timer", rename_all = "snake_case")]
pub enum Timer {
    /// A scenario timeline entry is due.
    Action {
        /// Index in the timeline.
        index: usize,
    },
    /// The next record of a rate-limited produce action.
    ProduceTick {
        /// Timeline entry.
        index: usize,
        /// Which record of the action (0-based).
        n: u32,
    },
    /// A broker sends its heartbeat (`broker.heartbeat.interval.ms`).
    Heartbeat {
        /// Broker.
        broker: BrokerId,
        /// Incarnation that set it.
        incarnation: u32,
    },
    /// A broker in controlled shutdown heartbeats again: 50 ms after the first answer, then every
    /// `broker.heartbeat.interval.ms`, or once that long after a heartbeat that got no answer.
    ShutdownHeartbeat {
        /// Broker.
        broker: BrokerId,
        /// Incarnation that set it.
        incarnation: u32,
        /// The broker's shutdown sequence number when it was set; a later heartbeat or answer
        /// voids it.
        seq: u32,
    },
    /// The controller's periodic `electUnclean` task: leaderless partitions of topics that allow
    /// unclean election elect any live replica.
    ElectUnclean,
    /// The controller checks a broker's session (`broker.session.timeout.ms`).
    SessionCheck {
        /// Broker.
        broker: BrokerId,
    },
    /// A parked follower fetch reaches `replica.fetch.wait.max.ms`.
    FetchWait {
        /// Leader.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Global partition index.
        pidx: u32,
        /// The parked fetch's id.
        fetch: u64,
    },
    /// A follower fetches again after `replica.fetch.backoff.ms`.
    FetchBackoff {
        /// Follower.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Global partition index.
        pidx: u32,
    },
    /// A follower checks its outstanding fetch against `replica.socket.timeout.ms`.
    FetchWatchdog {
        /// Follower.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Global partition index.
        pidx: u32,
    },
    /// A leader's periodic ISR check (every `replica.lag.time.max.ms` / 2).
    IsrCheck {
        /// Broker.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
    },
    /// A broker's periodic retention check.
    RetentionCheck {
        /// Broker.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
    },
    /// A producer checks request and delivery deadlines.
    ProducerDeadline {
        /// Producer.
        producer: u32,
    },
    /// A producer's backoff or linger has passed; it tries to send.
    ProducerWake {
        /// Producer.
        producer: u32,
    },
    /// A producer's metadata is due for a refresh: `metadata.max.age.ms` since the last one, or
    /// the backoff while a `send()` waits for a topic or partition it does not know yet.
    ProducerMetadataRefresh {
        /// Producer.
        producer: u32,
    },
    /// A producer's connection attempt to a broker hit `socket.connection.setup.timeout.ms`.
    ProducerConnectTimeout {
        /// Producer.
        producer: u32,
        /// Broker.
        broker: BrokerId,
        /// Which attempt set it (a later attempt voids it).
        attempt: u32,
    },
    /// A consumer's background tick: heartbeat, request deadlines, `max.poll.interval.ms`.
    ConsumerTick {
        /// Consumer.
        consumer: u32,
        /// Its incarnation (a restart voids older timers).
        incarnation: u32,
    },
    /// A consumer's application finished processing one record.
    ConsumerProcessed {
        /// Consumer.
        consumer: u32,
        /// Incarnation.
        incarnation: u32,
    },
    /// A consumer asks for its committed offsets again after UNSTABLE_OFFSET_COMMIT.
    ConsumerOffsetFetchRetry {
        /// Consumer.
        consumer: u32,
        /// Incarnation.
        incarnation: u32,
    },
    /// A consumer's `commitSync()` tries again after a retriable error.
    ConsumerCommitRetry {
        /// Consumer.
        consumer: u32,
        /// Incarnation.
        incarnation: u32,
    },
    /// A consumer's application calls `poll()` again (after a backoff or a stall).
    ConsumerPoll {
        /// Consumer.
        consumer: u32,
        /// Incarnation.
        incarnation: u32,
    },
    /// A scripted application's `poll(timeout)` reaches its timeout.
    ConsumerPollTimeout {
        /// Consumer.
        consumer: u32,
        /// Incarnation.
        incarnation: u32,
    },
    /// A consumer's reconnect backoff to a broker has passed (`reconnect.backoff.ms`).
    ConsumerReconnect {
        /// Consumer.
        consumer: u32,
        /// Incarnation.
        incarnation: u32,
        /// The broker it may connect to again.
        broker: BrokerId,
    },
    /// A parked consumer fetch reaches `fetch.max.wait.ms`.
    ConsumerFetchWait {
        /// Leader.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Global partition index.
        pidx: u32,
        /// The parked fetch's id.
        fetch: u64,
    },
    /// The coordinator's join phase ends (all members joined, initial delay or rebalance timeout).
    GroupJoinDeadline {
        /// Coordinator.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Group index.
        group: u32,
        /// Which rebalance round set it.
        round: u32,
    },
    /// An offset commit's `offsets.commit.timeout.ms` ends.
    CommitTimeout {
        /// Coordinator.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Group index.
        group: u32,
        /// The commit's request id.
        req: u64,
    },
    /// A held OffsetFetch's `offsets.commit.timeout.ms` ends.
    OffsetFetchTimeout {
        /// Coordinator.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Group index.
        group: u32,
        /// The fetch's request id.
        req: u64,
    },
    /// The coordinator checks a member's session.
    MemberSessionCheck {
        /// Coordinator.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// Group index.
        group: u32,
        /// Member id.
        member_id: String,
    },
    /// The transaction coordinator's sweep for transactions open longer than their timeout.
    TxnSweep {
        /// Coordinator.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
    },
    /// The transaction coordinator sends again the markers that found no leader or failed.
    TxnMarkerRetry {
        /// Coordinator.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// The `transactional.id` (index).
        txn: u32,
    },
    /// A WriteTxnMarkers request reached `request.timeout.ms` with no answer: its markers are
    /// sent again.
    TxnMarkerTimeout {
        /// Coordinator.
        broker: BrokerId,
        /// Incarnation.
        incarnation: u32,
        /// The `transactional.id` (index).
        txn: u32,
        /// The request.
        req: u64,
    },
    /// A producer retries its transactional request, or an idempotent producer its
    /// InitProducerId, after `retry.backoff.ms`; or the request's `request.timeout.ms` is up.
    ProducerTxnRetry {
        /// Producer.
        producer: u32,
    },
}
