//! The consumer client, after the Java `KafkaConsumer` with the classic group protocol: the
//! application's poll loop, the fetcher, the coordinator client (JoinGroup/SyncGroup/Heartbeat,
//! eager and cooperative rebalancing, static membership) and offset commits.
//!
//! The application thread and the heartbeat thread are both modelled: processing happens between
//! polls (or on a worker thread), rebalances are only joined from inside `poll()`, and the
//! heartbeat thread enforces `max.poll.interval.ms`.

use crate::sim::config::ConsumerConfig;
use crate::sim::map::VecMap;
pub use crate::sim::client::effect::AppCall;
use crate::sim::client::effect::{CommitKind, ConsumerEffect, Revocation};
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, LogRecord, NodeId, Tp};
use crate::sim::client::{exponential_backoff, ClientEnv, RECONNECT_BACKOFF_MS};
use crate::sim::ctx::Ctx;
use crate::sim::topic::Topic;
use serde::Serialize;
use std::collections::VecDeque;

/// The consumer's context.
pub(crate) type Cx<'c> = Ctx<'c, ConsumerEffect>;

mod membership;
mod poll;

/// When the application commits offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommitPolicy {
    /// Only `enable.auto.commit`.
    Auto,
    /// `commitSync()` right after `poll()`, before processing: at-most-once.
    BeforeProcessing,
    /// `commitSync()` after processing the whole batch: at-least-once.
    AfterProcessing,
    /// `commitAsync()` after processing the whole batch.
    AfterProcessingAsync,
}

impl CommitPolicy {
    /// The scenario-file name.
    pub fn name(self) -> &'static str {
        match self {
            CommitPolicy::Auto => "auto",
            CommitPolicy::BeforeProcessing => "before-processing",
            CommitPolicy::AfterProcessing => "after-processing",
            CommitPolicy::AfterProcessingAsync => "after-processing-async",
        }
    }

    /// Every policy, for validation.
    pub const ALL: [CommitPolicy; 4] =
        [CommitPolicy::Auto, CommitPolicy::BeforeProcessing, CommitPolicy::AfterProcessing, CommitPolicy::AfterProcessingAsync];
}

/// What the application does with the records `poll()` returns (not a Kafka setting).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AppBehaviour {
    /// Virtual ms of work per record.
    pub processing_ms: u64,
    /// When it commits.
    pub commit: CommitPolicy,
    /// True: records are handed to a worker thread and the loop polls again at once (so
    /// auto-commit can run ahead of processing). False: processed inside the poll loop.
    pub worker: bool,
    /// True: the application runs no loop of its own; the timeline's `poll`, `commit_sync` and
    /// `commit_async` actions say when it calls them (`application = "scripted"`).
    pub scripted: bool,
    /// True: the application catches `RecordDeserializationException` and seeks past the record
    /// (`on_deserialization_error = "skip"`); false: the exception stops its poll loop.
    pub skip_bad_records: bool,
}

/// A consumer as the scenario declares it.
#[derive(Clone, Debug)]
pub struct ConsumerSpec {
    /// Name (also the `client.id`).
    pub name: String,
    /// Kafka settings.
    pub config: ConsumerConfig,
    /// Subscribed topic indices.
    pub topics: Vec<u32>,
    /// Application behaviour.
    pub app: AppBehaviour,
    /// Whether it starts at time 0.
    pub autostart: bool,
}

/// The consumer process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientState {
    /// Not started yet.
    NotStarted,
    /// Running.
    Running,
    /// Crashed (hard stop).
    Crashed,
    /// Closed gracefully.
    Closed,
    /// Its poll loop threw (e.g. NoOffsetForPartitionException).
    Failed,
}

impl ClientState {
    /// The state's name, as in JSON output and expectations.
    pub fn name(self) -> &'static str {
        match self {
            ClientState::NotStarted => "not_started",
            ClientState::Running => "running",
            ClientState::Crashed => "crashed",
            ClientState::Closed => "closed",
            ClientState::Failed => "failed",
        }
    }
}

/// Where the member is in the group protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberState {
    /// Not in a generation.
    Unjoined,
    /// Committing before it joins (auto-commit's `onJoinPrepare`).
    PreparingJoin,
    /// JoinGroup sent.
    Joining,
    /// SyncGroup sent.
    Syncing,
    /// Has an assignment for the current generation.
    Stable,
}

impl MemberState {
    /// The state's name, as in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            MemberState::Unjoined => "unjoined",
            MemberState::PreparingJoin => "preparing_join",
            MemberState::Joining => "joining",
            MemberState::Syncing => "syncing",
            MemberState::Stable => "stable",
        }
    }
}

/// What the application thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    /// Inside `poll()`, waiting for records.
    Polling,
    /// Processing the records the last poll returned.
    Processing,
    /// Blocked in `commitSync()`; processing follows when it was a commit before processing.
    Committing {
        /// Whether processing follows the commit.
        then_process: bool,
    },
    /// Blocked (a stall) until the given time.
    Stalled,
    /// A scripted application between its calls: not in `poll()`, doing nothing the simulator
    /// sees (`max.poll.interval.ms` runs).
    Idle,
}

impl AppState {
    /// The state's name, as in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            AppState::Polling => "polling",
            AppState::Processing => "processing",
            AppState::Committing { .. } => "committing",
            AppState::Stalled => "stalled",
            AppState::Idle => "idle",
        }
    }
}

#[derive(Clone, Debug)]
enum Request {
    Join,
    Sync,
    Commit { offsets: Vec<(Tp, u64)>, kind: CommitKind },
    OffsetFetch { partitions: Vec<u32> },
    /// `from` is the position that was out of range (none when there was no committed offset).
    ListOffsets { pidx: u32, out_of_range: bool, from: Option<u64> },
    /// KIP-320's OffsetsForLeaderEpoch for the position `position`.
    Validate { pidx: u32, position: u64 },
}

/// A `commitSync()` that has not returned yet.
#[derive(Clone, Copy, Debug)]
struct SyncCommit {
    kind: CommitKind,
    deadline: u64,
    failed_attempts: u32,
}

/// `default.api.timeout.ms`, how long `commitSync()` retries (the Java client's default; not settable
/// in the simulator).
const DEFAULT_API_TIMEOUT_MS: u64 = 60_000;

/// `retry.backoff.max.ms`, the cap of the backoff between attempts (the Java client's default; not
/// settable in the simulator).
const RETRY_BACKOFF_MAX_MS: u64 = 1_000;

#[derive(Clone, Debug)]
struct Pending {
    request: Request,
    broker: BrokerId,
    deadline: u64,
}

/// A consumer client.
#[derive(Clone, Debug)]
pub struct Consumer {
    /// Index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Settings.
    pub config: ConsumerConfig,
    /// Application behaviour.
    pub app_behaviour: AppBehaviour,
    /// Subscribed topic indices.
    pub topics: Vec<u32>,
    /// Group index.
    pub group: u32,
    /// Process state.
    pub state: ClientState,
    /// Bumped at every start: older timers and responses are void.
    pub incarnation: u32,
    /// The coordinator it talks to.
    pub coordinator: Option<BrokerId>,
    find_in_flight: bool,
    /// Member id ("" before the first JoinGroup response).
    pub member_id: String,
    /// Generation (-1 when not in one).
    pub generation: i32,
    /// Group protocol state.
    pub member: MemberState,
    rejoin_needed: bool,
    /// Owned partitions, sorted by global index. One entry holds all the consumer knows of a
    /// partition (Java's `SubscriptionState` per partition), so `poll()` walks one short list
    /// instead of looking each partition up in four maps.
    owned: Vec<Owned>,
    leaders: Vec<Option<BrokerId>>,
    /// The leader epoch of every partition, as the last metadata said.
    leader_epochs: Vec<u32>,
    /// Each topic's partition count as this client last heard.
    partitions: Vec<u32>,
    /// When its metadata was last refreshed; the next refresh is `metadata.max.age.ms` later.
    metadata_at: u64,
    /// As group leader: the partition count of each topic the group subscribes to when it
    /// computed the assignment (`ConsumerCoordinator.assignmentSnapshot`). A refresh that
    /// shows another count makes it rejoin, so that the new partitions are handed out.
    assignment_snapshot: Option<Vec<(u32, u32)>>,
    metadata_in_flight: bool,
    /// The application thread.
    pub app: AppState,
    /// Records returned by poll and not yet processed (the batch, or the worker's queue).
    pub processing: VecDeque<(u32, LogRecord)>,
    worker_busy: bool,
    stalled_until: u64,
    /// An OffsetFetch answered UNSTABLE_OFFSET_COMMIT is asked again from this time on.
    offset_fetch_retry_at: u64,
    last_poll: u64,
    next_auto_commit: u64,
    /// A `commitSync()` under way: its kind, when it gives up (`default.api.timeout.ms` after the
    /// call) and the attempts that failed so far.
    sync_commit: Option<SyncCommit>,
    requests: VecMap<u64, Pending>,
    /// Brokers whose connection closed: when the consumer may connect again, and how many times
    /// in a row the connection failed. Any message from a broker clears its entry.
    reconnects: VecMap<BrokerId, (u64, u32)>,
    heartbeat_sent: Option<u64>,
    /// How often each error was seen.
    pub errors_seen: VecMap<KafkaError, u32>,
    /// The topics of the last JoinGroup (Java's `joinedSubscription`): a `subscribe()` that
    /// changes the subscription makes the next `poll()` rejoin.
    joined_topics: Option<Vec<u32>>,
    /// A scripted application's calls that came while its thread was busy, in order.
    calls: VecDeque<AppCall>,
    /// When the scripted `poll()` under way returns empty-handed.
    poll_deadline: Option<u64>,
    /// Whether the application processes what that `poll()` returns right after it.
    poll_process: bool,
    /// `onJoinPrepare` ran for the join under way (Java's `needsJoinPrepare` is false): a join that
    /// fails and is retried (REBALANCE_IN_PROGRESS at SyncGroup, say) does not commit or call the
    /// listener again; a completed join makes the next one prepare again.
    join_prepared: bool,
    /// A JoinGroup answer that came while a scripted application was not in `poll()`: the Java
    /// client reads it only inside its next `poll()` (the heartbeat thread is off while joining).
    deferred: Option<Msg>,
    /// The assignment of a SyncGroup answer that came while a scripted application was not in
    /// `poll()`: its next poll applies it (`onJoinComplete`), unless the generation was lost meanwhile.
    deferred_assignment: Option<Vec<Tp>>,
}

impl Consumer {
    /// A consumer whose metadata shows `topics` as they are now.
    pub(crate) fn new(index: u32, spec: &ConsumerSpec, group: u32, topics: &[Topic]) -> Consumer {
        // Every global partition index belongs to a topic's range.
        let partitions = topics.iter().map(|t| t.capacity as usize).sum();
        Consumer {
            index,
            name: spec.name.clone(),
            config: spec.config.clone(),
            app_behaviour: spec.app.clone(),
            topics: spec.topics.clone(),
            group,
            state: ClientState::NotStarted,
            incarnation: 0,
            coordinator: None,
            find_in_flight: false,
            member_id: String::new(),
            generation: -1,
            member: MemberState::Unjoined,
            rejoin_needed: true,
            owned: Vec::new(),
            leaders: vec![None; partitions],
            leader_epochs: vec![0; partitions],
            partitions: topics.iter().map(|t| t.partitions).collect(),
            metadata_at: 0,
            assignment_snapshot: None,
            metadata_in_flight: false,
            app: if spec.app.scripted { AppState::Idle } else { AppState::Polling },
            processing: VecDeque::new(),
            worker_busy: false,
            stalled_until: 0,
            offset_fetch_retry_at: 0,
            last_poll: 0,
            next_auto_commit: 0,
            sync_commit: None,
            requests: VecMap::new(),
            reconnects: VecMap::new(),
            heartbeat_sent: None,
            errors_seen: VecMap::new(),
            joined_topics: None,
            calls: VecDeque::new(),
            poll_deadline: None,
            poll_process: true,
            join_prepared: false,
            deferred: None,
            deferred_assignment: None,
        }
    }

    /// Whether the process is alive (a closed consumer's last messages still travel).
    pub fn running(&self) -> bool {
        self.state == ClientState::Running
    }

    /// Records fetched but not yet returned by `poll()`.
    pub fn buffered(&self) -> u32 {
        self.owned.iter().map(|o| o.buffer.len() as u32).sum()
    }

    /// The application thread is between calls, with none waiting (a scripted application).
    pub fn app_idle(&self) -> bool {
        self.app == AppState::Idle && self.calls.is_empty()
    }

    /// The application seeks every owned partition back to its committed offset, as an
    /// application does after a failed batch (`committed()`, then `seek()`): what was fetched or
    /// returned and not yet processed is dropped, and the next `poll()` asks the coordinator for
    /// the committed offsets. Returns how many records were dropped.
    pub(crate) fn seek_to_committed(&mut self) -> u32 {
        let dropped = self.processing.len() as u32 + self.buffered();
        self.processing.clear();
        for o in &mut self.owned {
            o.buffer.clear();
            o.buffer_end = None;
            o.position = None;
            o.lookup = false;
            o.offset_epoch = None;
            o.awaiting_validation = false;
        }
        dropped
    }

    /// The owned partitions (global indices), in order.
    pub fn assigned(&self) -> impl Iterator<Item = u32> + '_ {
        self.owned.iter().map(|o| o.pidx)
    }

    /// The position of each owned partition that has one: the next offset `poll()` returns.
    pub fn positions(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.owned.iter().filter_map(|o| o.position.map(|p| (o.pidx, p)))
    }

    fn owns(&self, pidx: u32) -> bool {
        self.owned.binary_search_by_key(&pidx, |o| o.pidx).is_ok()
    }

    fn owned_mut(&mut self, pidx: u32) -> Option<&mut Owned> {
        let i = self.owned.binary_search_by_key(&pidx, |o| o.pidx).ok()?;
        Some(&mut self.owned[i])
    }

    fn saw(&mut self, error: KafkaError) {
        *self.errors_seen.entry(error).or_insert(0) += 1;
    }
}

impl Consumer {
    fn live(&self, incarnation: u32) -> bool {
        self.running() && self.incarnation == incarnation
    }

    fn send_to(&mut self, cx: &mut Cx<'_>, to: BrokerId, msg: Msg) {
        let c = self.index;
        cx.send(NodeId::Consumer(c), NodeId::Broker(to), msg);
    }

    fn request(&mut self, cx: &mut Cx<'_>, to: BrokerId, request: Request, timeout: u64, make: impl FnOnce(u64) -> Msg) {
        let req = cx.next_request_id();
        let deadline = cx.now() + timeout;
        self.requests.insert(req, Pending { request, broker: to, deadline });
        let msg = make(req);
        self.send_to(cx, to, msg);
    }

    /// Starts (or restarts) a consumer process with empty memory.
    pub(crate) fn start(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        let c = self.index;
        if self.running() {
            return;
        }
        let now = cx.now();
        let incarnation = self.incarnation + 1;
        let spec_like = ConsumerSpec {
            name: self.name.clone(),
            config: self.config.clone(),
            topics: self.topics.clone(),
            app: self.app_behaviour.clone(),
            autostart: true,
        };
        let (index, group, errors) = (self.index, self.group, self.errors_seen.clone());
        *self = Consumer::new(index, &spec_like, group, env.topics);
        self.metadata_at = now;
        self.incarnation = incarnation;
        self.errors_seen = errors;
        self.state = ClientState::Running;
        self.last_poll = now;
        self.next_auto_commit = now + self.config.auto_commit_interval_ms;
        let tick = self.config.heartbeat_interval_ms;
        cx.emit(ConsumerEffect::ConsumerStarted { consumer: c });
        cx.set_timer(now + tick, Timer::ConsumerTick { consumer: c, incarnation });
        self.request_metadata(cx);
        self.poll(cx, env);
    }

    pub(crate) fn crash(&mut self, cx: &mut Cx<'_>) {
        let c = self.index;
        if !self.running() {
            return;
        }
        let unprocessed = self.processing.len() as u32 + self.buffered();
        self.state = ClientState::Crashed;
        cx.emit(ConsumerEffect::ConsumerCrashed { consumer: c, unprocessed });
    }

    /// `close()`: auto-commit (if enabled), then the rebalance listener for what it owns, then
    /// LeaveGroup for a dynamic member. Like Java's close, it does not wait for records still being
    /// processed.
    pub(crate) fn close(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        let c = self.index;
        if !self.running() {
            return;
        }
        let in_group = self.member == MemberState::Stable;
        if self.config.enable_auto_commit && in_group {
            self.commit(cx, env, CommitKind::OnClose);
        }
        // `ConsumerCoordinator.onLeavePrepare`, before LeaveGroup and for static members too: the
        // partitions are revoked, or lost when the member has no generation or is mid-rebalance,
        // and the listener hears nothing when it owns none.
        if !self.owned.is_empty() {
            let partitions = self.assigned().map(|p| env.tps[p as usize]).collect();
            let lost = self.generation < 0 || self.member_id.is_empty() || self.member != MemberState::Stable;
            let how = if lost { Revocation::Lost } else { Revocation::OnClose };
            cx.emit(ConsumerEffect::PartitionsRevoked { consumer: c, partitions, how });
            self.owned.clear();
        }
        let left = self.config.group_instance_id.is_none() && !self.member_id.is_empty();
        if let (true, Some(coord)) = (left, self.coordinator) {
            let msg = Msg::LeaveGroup { group: self.group, member_id: self.member_id.clone() };
            self.send_to(cx, coord, msg);
        }
        self.state = ClientState::Closed;
        cx.emit(ConsumerEffect::ConsumerClosed { consumer: c, left_group: left });
    }

    pub(crate) fn stall(&mut self, cx: &mut Cx<'_>, ms: u64) {
        let c = self.index;
        if !self.running() {
            return;
        }
        let until = cx.now() + ms;
        let incarnation = self.incarnation;
        self.stalled_until = self.stalled_until.max(until);
        cx.emit(ConsumerEffect::ConsumerStalled { consumer: c, until });
        if matches!(self.app, AppState::Polling | AppState::Idle) {
            // A scripted poll() under way returns: the application thread is blocked elsewhere.
            self.poll_deadline = None;
            self.app = AppState::Stalled;
            cx.set_timer(until, Timer::ConsumerPoll { consumer: c, incarnation });
        }
    }

    /// `KafkaConsumer.subscribe(topics)` (`ClassicKafkaConsumer.subscribeInternal`): the
    /// subscription changes at once, the buffered records of topics no longer subscribed are
    /// dropped (`clearBufferedDataForUnassignedTopics`), and the next `poll()` rejoins because the
    /// subscription differs from the one it joined with (`rejoinNeededOrPending`). A consumer that
    /// is not running keeps the subscription for its start.
    pub(crate) fn subscribe(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, topics: Vec<u32>) {
        let c = self.index;
        let names: Vec<String> = topics.iter().map(|&t| env.topics[t as usize].name.clone()).collect();
        let running = self.running();
        let mut dropped = 0;
        if running {
            for o in &mut self.owned {
                if !topics.contains(&env.tps[o.pidx as usize].topic) {
                    dropped += o.buffer.len() as u32;
                    o.buffer.clear();
                }
            }
        }
        self.topics = topics;
        let changed = running && self.subscription_changed();
        cx.emit(ConsumerEffect::Subscribed { consumer: c, topics: names, dropped, changed, running });
        if running {
            self.poll(cx, env);
        }
    }

    /// Whether the subscription differs from the one of the last JoinGroup (Java compares sets).
    fn subscription_changed(&self) -> bool {
        let sorted = |t: &[u32]| {
            let mut v = t.to_vec();
            v.sort_unstable();
            v.dedup();
            v
        };
        self.joined_topics.as_deref().is_some_and(|j| sorted(j) != sorted(&self.topics))
    }

    /// A scripted application's call: made at once when its thread is free, else after what the
    /// thread is doing (it is one thread).
    pub(crate) fn app_call(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, call: AppCall) {
        let c = self.index;
        if !self.running() {
            cx.emit(ConsumerEffect::AppCallIgnored { consumer: c, call });
            return;
        }
        if self.app == AppState::Idle && self.calls.is_empty() {
            self.run_call(cx, env, call);
        } else {
            self.calls.push_back(call);
            cx.emit(ConsumerEffect::AppCallQueued { consumer: c, call, busy: self.app.name() });
        }
    }

    fn run_call(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, call: AppCall) {
        let (c, now, incarnation) = (self.index, cx.now(), self.incarnation);
        let nothing_to_commit = match call {
            AppCall::Poll { .. } => false,
            AppCall::Process => self.processing.is_empty(),
            AppCall::CommitSync | AppCall::CommitAsync => self.positions().next().is_none(),
        };
        cx.emit(ConsumerEffect::AppCalled { consumer: c, call, nothing_to_commit });
        match call {
            AppCall::Poll { timeout_ms, process } => {
                self.poll_process = process;
                self.poll_deadline = Some(now + timeout_ms);
                cx.set_timer(now + timeout_ms, Timer::ConsumerPollTimeout { consumer: c, incarnation });
                self.app = AppState::Polling;
                self.poll(cx, env);
            }
            AppCall::Process if self.processing.is_empty() => self.app_free(cx, env),
            AppCall::Process => {
                self.app = AppState::Processing;
                self.schedule_processing(cx);
            }
            AppCall::CommitSync => {
                self.app = AppState::Committing { then_process: false };
                self.commit(cx, env, CommitKind::SyncCall);
            }
            AppCall::CommitAsync => {
                self.commit(cx, env, CommitKind::AsyncCall);
                self.app_free(cx, env);
            }
        }
    }

    /// A scripted application's thread is free: a `poll()` under way goes on (after a backoff or
    /// a stall) until its timeout, otherwise the next call that waited runs.
    pub(super) fn app_free(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        if self.poll_deadline.is_some_and(|d| cx.now() < d) {
            self.app = AppState::Polling;
            return self.poll(cx, env);
        }
        self.poll_deadline = None;
        self.app = AppState::Idle;
        if let Some(call) = self.calls.pop_front() {
            self.run_call(cx, env, call);
        }
    }

    /// A scripted `poll()` reached its timeout with nothing to return.
    pub(crate) fn poll_timeout(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, incarnation: u32) -> bool {
        if !self.live(incarnation) || self.app != AppState::Polling || self.poll_deadline.is_none_or(|d| cx.now() < d) {
            return false;
        }
        let c = self.index;
        cx.emit(ConsumerEffect::PollReturnedEmpty { consumer: c });
        self.poll_deadline = None;
        self.app_free(cx, env);
        true
    }

    pub(crate) fn receive(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, msg: &Msg) {
        let c = self.index;
        if !self.running() {
            return;
        }
        let request = |cons: &mut Consumer, req: u64| cons.requests.remove(&req).map(|p| p.request);
        if let Msg::JoinGroupResponse { req, .. } = msg {
            if self.app_behaviour.scripted && self.app != AppState::Polling && self.requests.contains_key(req) {
                self.deferred = Some(msg.clone());
                cx.emit(ConsumerEffect::JoinResponseWaitsForPoll { consumer: c });
                return;
            }
        }
        match msg {
            Msg::MetadataResponse { leaders, epochs, partitions } => {
                self.metadata_in_flight = false;
                self.metadata_at = cx.now();
                self.leaders = leaders.clone();
                self.leader_epochs = epochs.clone();
                self.partitions.clone_from(partitions);
                self.maybe_await_validation();
                self.check_assignment_snapshot(cx);
            }
            Msg::ConsumerOffsetsForLeaderEpochResponse { req, result, .. } => {
                if let Some(Request::Validate { pidx, position }) = request(self, *req) {
                    self.validation_response(cx, env, pidx, position, result);
                }
            }
            Msg::FindCoordinatorResponse { coordinator, .. } => {
                self.find_in_flight = false;
                match *coordinator {
                    Some(b) => {
                        self.coordinator = Some(b);
                        let offsets_partition = env.groups[self.group as usize].offsets_partition;
                        cx.emit(ConsumerEffect::CoordinatorFound { consumer: c, coordinator: b, offsets_partition });
                    }
                    None => {
                        let (incarnation, backoff) = (self.incarnation, self.config.retry_backoff_ms);
                        if self.app == AppState::Polling {
                            self.app = AppState::Stalled;
                            cx.set_timer(cx.now() + backoff, Timer::ConsumerPoll { consumer: c, incarnation });
                        }
                    }
                }
            }
            Msg::JoinGroupResponse { req, result, .. } => {
                if matches!(request(self, *req), Some(Request::Join)) {
                    self.join_response(cx, env, result);
                }
            }
            Msg::SyncGroupResponse { req, result, .. } => {
                if matches!(request(self, *req), Some(Request::Sync)) {
                    match result {
                        // The Java client's heartbeat thread reads the answer and the member is in the
                        // generation (it heartbeats), but `onJoinComplete` (the assignment and the
                        // listener) waits for the application's next poll().
                        Ok(assignment) if self.app_behaviour.scripted && self.app != AppState::Polling => {
                            self.member = MemberState::Stable;
                            self.heartbeat_sent = None;
                            self.deferred_assignment = Some(assignment.clone());
                            cx.emit(ConsumerEffect::AssignmentWaitsForPoll { consumer: c });
                        }
                        _ => self.sync_response(cx, env, result),
                    }
                }
            }
            Msg::GroupHeartbeatResponse { error, .. } => {
                self.heartbeat_sent = None;
                if let Some(e) = *error {
                    if self.member == MemberState::Stable {
                        self.group_error(cx, env, "Heartbeat", e);
                    }
                }
            }
            Msg::OffsetCommitResponse { req, error, .. } => {
                if let Some(Request::Commit { offsets, kind }) = request(self, *req) {
                    self.commit_response(cx, env, offsets, kind, *error);
                }
            }
            Msg::OffsetFetchResponse { req, result, .. } => {
                if let Some(Request::OffsetFetch { partitions }) = request(self, *req) {
                    self.offset_fetch_response(cx, env, &partitions, result);
                }
            }
            Msg::ListOffsetsResponse { req, tp, result } => {
                if let Some(Request::ListOffsets { pidx, out_of_range, from }) = request(self, *req) {
                    self.set_lookup(pidx, false);
                    match result {
                        Ok(offset) if self.owns(pidx) => {
                            self.set_position(pidx, *offset);
                            let (policy, group) = (self.config.auto_offset_reset, self.group);
                            env.ledger.note_start(group, pidx, *offset);
                            if let Some(from) = from {
                                env.note_deleted_unread(group, pidx, from, *offset);
                            }
                            cx.emit(ConsumerEffect::OffsetReset { consumer: c, tp: *tp, offset: *offset, policy, out_of_range });
                        }
                        Ok(_) => {}
                        Err(e) => {
                            self.saw(*e);
                            cx.emit(ConsumerEffect::ConsumerRequestFailed { consumer: c, request: "ListOffsets", error: *e });
                            self.request_metadata(cx);
                        }
                    }
                }
            }
            Msg::ConsumerFetchResponse { id, tp, records, error, aborted, .. } => {
                self.fetch_response(cx, env, *id, *tp, records, aborted, *error);
            }
            _ => {}
        }
        self.poll(cx, env);
    }

    /// A request could not reach a crashed broker: its OS refused the connection. Java's
    /// NetworkClient fails a connection's requests once, when it closes, so only the refusal of a
    /// request still in flight counts. A later refusal of one that the same reset already failed
    /// says nothing new: taking it as another reset would fail and resend every request again,
    /// once per stale refusal, doubling the requests at each round trip.
    pub(crate) fn connection_failed(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, broker: BrokerId, msg: &Msg) {
        if !self.running() {
            return;
        }
        let current = match msg {
            Msg::ConsumerFetch { id, .. } => self.owned.iter().any(|o| o.fetch == Some((*id, broker))),
            Msg::GroupHeartbeat { .. } => self.heartbeat_in_flight_to(broker),
            Msg::JoinGroup { req, .. }
            | Msg::SyncGroup { req, .. }
            | Msg::OffsetCommit { req, .. }
            | Msg::OffsetFetch { req, .. }
            | Msg::ListOffsets { req, .. }
            | Msg::ConsumerOffsetsForLeaderEpoch { req, .. } => self.requests.contains_key(req),
            _ => true,
        };
        if current {
            self.connection_closed(cx, env, broker);
        }
    }

    /// A broker crashed: its OS resets every connection, so each running consumer fails the
    /// requests it had in flight there at once (Java's NetworkClient on a disconnect).
    pub(crate) fn broker_crashed(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, b: BrokerId) {
        if !self.running() {
            return;
        }
        let fetches = self.owned.iter().any(|o| o.fetch.is_some_and(|f| f.1 == b));
        let requests = self.requests.values().any(|r| r.broker == b);
        let heartbeat = self.heartbeat_in_flight_to(b);
        if fetches || requests || heartbeat {
            self.connection_closed(cx, env, b);
        }
    }

    /// The connection to a broker closed: every request in flight on it fails, metadata is
    /// refreshed, and the broker gets nothing until the reconnect backoff has passed
    /// (`reconnect.backoff.ms`, doubling up to `reconnect.backoff.max.ms` while it keeps failing).
    fn connection_closed(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, b: BrokerId) {
        let failures = self.reconnects.get(&b).map_or(0, |r| r.1);
        let reconnect_at = cx.now() + exponential_backoff(cx.rng(), RECONNECT_BACKOFF_MS, failures);
        self.reconnects.insert(b, (reconnect_at, failures + 1));
        let (consumer, incarnation) = (self.index, self.incarnation);
        cx.set_timer(reconnect_at, Timer::ConsumerReconnect { consumer, incarnation, broker: b });
        for o in self.owned.iter_mut().filter(|o| o.fetch.is_some_and(|f| f.1 == b)) {
            o.fetch = None;
        }
        self.request_metadata(cx);
        let requests: Vec<u64> = self.requests.iter().filter(|(_, r)| r.broker == b).map(|(&r, _)| r).collect();
        for req in requests {
            self.request_failed(cx, env, req, KafkaError::NetworkException);
        }
        if self.heartbeat_in_flight_to(b) {
            self.lost_coordinator(cx);
        }
        self.poll(cx, env);
    }

    /// Whether a heartbeat is waiting for its answer from broker `b`, the group's coordinator.
    fn heartbeat_in_flight_to(&self, b: BrokerId) -> bool {
        self.coordinator == Some(b) && self.heartbeat_sent.is_some()
    }

    /// A message came from a broker: the connection to it works again.
    pub(crate) fn heard_from(&mut self, b: BrokerId) {
        self.reconnects.remove(&b);
    }

    /// Whether the consumer may send to a broker now: not while the reconnect backoff of a
    /// connection that closed is running.
    pub(super) fn connectable(&self, now: u64, b: BrokerId) -> bool {
        self.reconnects.get(&b).is_none_or(|r| r.0 <= now)
    }

    /// The reconnect backoff to a broker has passed: what waited for it is sent.
    pub(crate) fn reconnect_due(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, incarnation: u32, b: BrokerId) -> bool {
        if !self.live(incarnation) || self.reconnects.get(&b).is_none_or(|r| r.0 != cx.now()) {
            return false;
        }
        self.poll(cx, env);
        true
    }

    fn request_failed(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, req: u64, error: KafkaError) {
        let Some(p) = self.requests.remove(&req) else { return };
        match p.request {
            Request::Join => self.group_error(cx, env, "JoinGroup", error),
            Request::Sync => self.group_error(cx, env, "SyncGroup", error),
            Request::Commit { offsets, kind } => self.commit_response(cx, env, offsets, kind, Some(error)),
            Request::OffsetFetch { partitions } => {
                for pidx in partitions {
                    self.set_lookup(pidx, false);
                }
                self.group_error(cx, env, "OffsetFetch", error);
            }
            Request::ListOffsets { pidx, .. } => {
                self.set_lookup(pidx, false);
                self.request_metadata(cx);
            }
            Request::Validate { pidx, .. } => {
                if let Some(o) = self.owned_mut(pidx) {
                    o.validation_in_flight = false;
                }
                self.request_metadata(cx);
            }
        }
    }

    /// The heartbeat thread: `max.poll.interval.ms`, request timeouts, and the heartbeat itself.
    /// Only a tick that finds a problem is a step of its own; a plain heartbeat is routine.
    pub(crate) fn tick(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, incarnation: u32) -> bool {
        let c = self.index;
        if !self.live(incarnation) {
            return false;
        }
        let now = cx.now();
        let mut next = now + self.config.heartbeat_interval_ms;
        // `metadata.max.age.ms`: the network client refreshes metadata when it is due.
        let refresh = self.metadata_at + self.config.metadata_max_age_ms;
        if refresh <= now {
            self.request_metadata(cx);
        } else {
            next = next.min(refresh);
        }
        // Like Java's heartbeat thread, wake up exactly when max.poll.interval.ms would expire.
        if self.app != AppState::Polling && self.member == MemberState::Stable {
            let deadline = self.last_poll + self.config.max_poll_interval_ms + 1;
            if deadline > now {
                next = next.min(deadline);
            }
        }
        cx.set_timer(next, Timer::ConsumerTick { consumer: c, incarnation });
        let in_poll = self.app == AppState::Polling;
        let since_poll = if in_poll { 0 } else { now - self.last_poll };
        if self.member == MemberState::Stable && since_poll > self.config.max_poll_interval_ms {
            let (max_ms, is_static) = (self.config.max_poll_interval_ms, self.config.group_instance_id.is_some());
            // Java's `maybeLeaveGroup("consumer poll timeout has expired")`; static members stay
            // until their session times out.
            if let (false, Some(coord)) = (is_static, self.coordinator) {
                let msg = Msg::LeaveGroup { group: self.group, member_id: self.member_id.clone() };
                self.send_to(cx, coord, msg);
            }
            cx.emit(ConsumerEffect::PollTimeout { consumer: c, since_poll_ms: since_poll, max_ms, left_group: !is_static });
            if !is_static {
                self.member_id.clear();
            }
            self.generation = -1;
            self.member = MemberState::Unjoined;
            self.rejoin_needed = true;
            return true;
        }
        let expired: Vec<u64> = self.requests.iter().filter(|(_, p)| p.deadline <= now).map(|(&r, _)| r).collect();
        for req in &expired {
            self.request_failed(cx, env, *req, KafkaError::RequestTimedOut);
        }
        let timeout = self.config.request_timeout_ms;
        if let Some(sent) = self.heartbeat_sent {
            if sent + timeout <= now {
                self.lost_coordinator(cx);
            }
        }
        if self.member == MemberState::Stable && self.heartbeat_sent.is_none() {
            if let Some(coord) = self.coordinator {
                let msg = Msg::GroupHeartbeat { group: self.group, generation: self.generation, member_id: self.member_id.clone() };
                self.heartbeat_sent = Some(now);
                self.send_to(cx, coord, msg);
            }
        }
        self.poll(cx, env);
        true
    }
}

/// What a consumer holds for one partition it owns.
#[derive(Clone, Debug)]
struct Owned {
    pidx: u32,
    /// The next offset `poll()` returns; unknown until OffsetFetch or ListOffsets answers.
    position: Option<u64>,
    /// Waiting for OffsetFetch or ListOffsets.
    lookup: bool,
    /// The fetch in flight: (fetch id, leader).
    fetch: Option<(u64, BrokerId)>,
    /// Fetched records not yet returned by `poll()`.
    buffer: VecDeque<LogRecord>,
    /// The offset after the last fetched entry, markers and aborted records included: the
    /// position once the buffer is taken.
    buffer_end: Option<u64>,
    /// The leader epoch of the last record returned (Java's `FetchPosition.offsetEpoch`); none for a
    /// position from a commit or a reset (simplified: the simulator's commits carry no epoch).
    offset_epoch: Option<u32>,
    /// The leader epoch the position was last fetched or validated under (`currentLeader.epoch`).
    leader_epoch: Option<u32>,
    /// KIP-320's `AWAIT_VALIDATION`: the leader changed since the last record, so the position is
    /// checked with OffsetsForLeaderEpoch before the partition is fetched again.
    awaiting_validation: bool,
    /// That OffsetsForLeaderEpoch is in flight.
    validation_in_flight: bool,
}

impl Owned {
    fn new(pidx: u32) -> Owned {
        Owned {
            pidx,
            position: None,
            lookup: false,
            fetch: None,
            buffer: VecDeque::new(),
            buffer_end: None,
            offset_epoch: None,
            leader_epoch: None,
            awaiting_validation: false,
            validation_in_flight: false,
        }
    }
}

impl Consumer {
    /// Ends the fetch `id` of a partition if it is the one in flight there; false for a fetch that
    /// a newer one or a lost partition made stale.
    fn end_fetch(&mut self, pidx: u32, id: u64) -> bool {
        match self.owned_mut(pidx) {
            Some(o) if o.fetch.is_some_and(|f| f.0 == id) => {
                o.fetch = None;
                true
            }
            _ => false,
        }
    }

    /// Marks a partition as waiting (or no longer waiting) for its offset; a partition given up
    /// meanwhile has nothing to mark.
    fn set_lookup(&mut self, pidx: u32, waiting: bool) {
        if let Some(o) = self.owned_mut(pidx) {
            o.lookup = waiting;
        }
    }

    fn set_position(&mut self, pidx: u32, offset: u64) {
        if let Some(o) = self.owned_mut(pidx) {
            o.position = Some(offset);
            o.offset_epoch = None;
            o.awaiting_validation = false;
        }
    }

    /// `SubscriptionState.maybeValidatePositionForCurrentLeader`: a partition whose leader epoch
    /// moved on since its last record awaits validation, unless the position has no epoch.
    fn maybe_await_validation(&mut self) {
        for o in &mut self.owned {
            let (Some(_), Some(epoch)) = (self.leaders[o.pidx as usize], Some(self.leader_epochs[o.pidx as usize])) else { continue };
            if o.offset_epoch.is_some() && o.position.is_some() && o.leader_epoch.is_some_and(|e| e != epoch) {
                o.awaiting_validation = true;
            }
            if o.offset_epoch.is_none() {
                o.leader_epoch = Some(epoch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page and expectations use `name()`; JSON output uses serde. They must agree.
    #[test]
    fn state_names_match_their_json_names() {
        let json = |v: serde_json::Value| v.as_str().map(str::to_string).or_else(|| v.as_object().and_then(|m| m.keys().next().cloned()));
        for s in [ClientState::NotStarted, ClientState::Running, ClientState::Crashed, ClientState::Closed, ClientState::Failed] {
            assert_eq!(json(serde_json::to_value(s).expect("serializes")).as_deref(), Some(s.name()));
        }
        for s in [MemberState::Unjoined, MemberState::PreparingJoin, MemberState::Joining, MemberState::Syncing, MemberState::Stable] {
            assert_eq!(json(serde_json::to_value(s).expect("serializes")).as_deref(), Some(s.name()));
        }
        use crate::sim::group::coordinator::GroupPhase;
        for s in [GroupPhase::Empty, GroupPhase::PreparingRebalance, GroupPhase::CompletingRebalance, GroupPhase::Stable] {
            assert_eq!(json(serde_json::to_value(s).expect("serializes")).as_deref(), Some(s.name()));
        }
        for s in [AppState::Polling, AppState::Processing, AppState::Committing { then_process: true }, AppState::Stalled, AppState::Idle] {
            assert_eq!(json(serde_json::to_value(s).expect("serializes")).as_deref(), Some(s.name()));
        }
    }
}
