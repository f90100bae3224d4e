//! The consumer client, after the Java `KafkaConsumer` with the classic group protocol: the
//! application's poll loop, the fetcher, the coordinator client (JoinGroup/SyncGroup/Heartbeat,
//! eager and cooperative rebalancing, static membership) and offset commits.
//!
//! The application thread and the heartbeat thread are both modelled: processing happens between
//! polls (or on a worker thread), rebalances are only joined from inside `poll()`, and the
//! heartbeat thread enforces `max.poll.interval.ms`.

use crate::sim::assignor::{self, Strategy};
use crate::sim::config::{ConsumerConfig, OffsetReset};
use crate::sim::map::VecMap;
use crate::sim::client::effect::{CommitKind, ConsumerEffect, Revocation};
use crate::sim::msg::{JoinMember, JoinResult, Msg};
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, LogRecord, NodeId, Tp};
use crate::sim::Sim;
use serde::Serialize;
use std::collections::VecDeque;

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
}

impl AppState {
    /// The state's name, as in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            AppState::Polling => "polling",
            AppState::Processing => "processing",
            AppState::Committing { .. } => "committing",
            AppState::Stalled => "stalled",
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
}

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
    metadata_in_flight: bool,
    /// The application thread.
    pub app: AppState,
    /// Records returned by poll and not yet processed (the batch, or the worker's queue).
    pub processing: VecDeque<(u32, LogRecord)>,
    worker_busy: bool,
    stalled_until: u64,
    last_poll: u64,
    next_auto_commit: u64,
    requests: VecMap<u64, Pending>,
    heartbeat_sent: Option<u64>,
    /// How often each error was seen.
    pub errors_seen: VecMap<KafkaError, u32>,
}

impl Consumer {
    pub(crate) fn new(index: u32, spec: &ConsumerSpec, group: u32, partitions: usize) -> Consumer {
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
            metadata_in_flight: false,
            app: AppState::Polling,
            processing: VecDeque::new(),
            worker_busy: false,
            stalled_until: 0,
            last_poll: 0,
            next_auto_commit: 0,
            requests: VecMap::new(),
            heartbeat_sent: None,
            errors_seen: VecMap::new(),
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

impl Sim {
    fn cons(&mut self, c: u32) -> &mut Consumer {
        &mut self.consumers[c as usize]
    }

    fn consumer_live(&self, c: u32, incarnation: u32) -> bool {
        let cons = &self.consumers[c as usize];
        cons.running() && cons.incarnation == incarnation
    }

    fn consumer_send(&mut self, c: u32, to: BrokerId, msg: Msg) {
        self.send(NodeId::Consumer(c), NodeId::Broker(to), msg);
    }

    fn consumer_request(&mut self, c: u32, to: BrokerId, request: Request, timeout: u64, make: impl FnOnce(u64) -> Msg) {
        let req = self.next_request_id();
        let deadline = self.now + timeout;
        self.cons(c).requests.insert(req, Pending { request, broker: to, deadline });
        let msg = make(req);
        self.consumer_send(c, to, msg);
    }

    /// Starts (or restarts) a consumer process with empty memory.
    pub(crate) fn consumer_start(&mut self, c: u32) {
        if self.consumers[c as usize].running() {
            return;
        }
        let now = self.now;
        let partitions = self.tps.len();
        let cons = self.cons(c);
        let incarnation = cons.incarnation + 1;
        let spec_like = ConsumerSpec {
            name: cons.name.clone(),
            config: cons.config.clone(),
            topics: cons.topics.clone(),
            app: cons.app_behaviour.clone(),
            autostart: true,
        };
        let (index, group, errors) = (cons.index, cons.group, cons.errors_seen.clone());
        *cons = Consumer::new(index, &spec_like, group, partitions);
        cons.incarnation = incarnation;
        cons.errors_seen = errors;
        cons.state = ClientState::Running;
        cons.last_poll = now;
        cons.next_auto_commit = now + cons.config.auto_commit_interval_ms;
        let tick = cons.config.heartbeat_interval_ms;
        self.emit(ConsumerEffect::ConsumerStarted { consumer: c });
        self.schedule_timer(now + tick, Timer::ConsumerTick { consumer: c, incarnation });
        self.consumer_request_metadata(c);
        self.consumer_poll(c);
    }

    /// Adds a consumer with `like`'s group, subscription and settings, and starts it. It joins as a
    /// dynamic member: two members with one `group.instance.id` would fence each other.
    pub(crate) fn consumer_add(&mut self, like: u32, name: String) {
        let model = &self.consumers[like as usize];
        let mut config = model.config.clone();
        config.group_instance_id = None;
        let spec = ConsumerSpec { name, config, topics: model.topics.clone(), app: model.app_behaviour.clone(), autostart: true };
        let index = self.consumers.len() as u32;
        let consumer = Consumer::new(index, &spec, model.group, self.tps.len());
        self.consumers.push(consumer);
        self.emit(ConsumerEffect::ConsumerAdded { consumer: index, like });
        self.consumer_start(index);
    }

    pub(crate) fn consumer_crash(&mut self, c: u32) {
        if !self.consumers[c as usize].running() {
            return;
        }
        let cons = self.cons(c);
        let unprocessed = cons.processing.len() as u32 + cons.buffered();
        cons.state = ClientState::Crashed;
        self.emit(ConsumerEffect::ConsumerCrashed { consumer: c, unprocessed });
    }

    /// `close()`: auto-commit (if enabled), then LeaveGroup for a dynamic member. Like Java's
    /// close, it does not wait for records still being processed.
    pub(crate) fn consumer_close(&mut self, c: u32) {
        if !self.consumers[c as usize].running() {
            return;
        }
        let cons = &self.consumers[c as usize];
        let in_group = cons.member == MemberState::Stable;
        if cons.config.enable_auto_commit && in_group {
            self.consumer_commit(c, CommitKind::OnClose);
        }
        let cons = &self.consumers[c as usize];
        let left = cons.config.group_instance_id.is_none() && !cons.member_id.is_empty();
        if let (true, Some(coord)) = (left, cons.coordinator) {
            let msg = Msg::LeaveGroup { group: cons.group, member_id: cons.member_id.clone() };
            self.consumer_send(c, coord, msg);
        }
        self.cons(c).state = ClientState::Closed;
        self.emit(ConsumerEffect::ConsumerClosed { consumer: c, left_group: left });
    }

    pub(crate) fn consumer_stall(&mut self, c: u32, ms: u64) {
        if !self.consumers[c as usize].running() {
            return;
        }
        let until = self.now + ms;
        let incarnation = self.consumers[c as usize].incarnation;
        let cons = self.cons(c);
        cons.stalled_until = cons.stalled_until.max(until);
        self.emit(ConsumerEffect::ConsumerStalled { consumer: c, until });
        if self.consumers[c as usize].app == AppState::Polling {
            self.cons(c).app = AppState::Stalled;
            self.schedule_timer(until, Timer::ConsumerPoll { consumer: c, incarnation });
        }
    }

    fn consumer_request_metadata(&mut self, c: u32) {
        if !self.consumers[c as usize].metadata_in_flight {
            self.cons(c).metadata_in_flight = true;
            self.send(NodeId::Consumer(c), NodeId::Controller, Msg::MetadataRequest);
        }
    }

    fn consumer_find_coordinator(&mut self, c: u32) {
        let cons = &self.consumers[c as usize];
        if !cons.find_in_flight {
            let group = cons.group;
            self.cons(c).find_in_flight = true;
            self.send(NodeId::Consumer(c), NodeId::Controller, Msg::FindCoordinator { group });
        }
    }

    fn consumer_lost_coordinator(&mut self, c: u32) {
        let cons = self.cons(c);
        cons.coordinator = None;
        cons.heartbeat_sent = None;
        if matches!(cons.member, MemberState::Joining | MemberState::Syncing) {
            cons.member = MemberState::Unjoined;
            cons.rejoin_needed = true;
        }
        self.consumer_find_coordinator(c);
    }

    /// The application calls `poll()`: join if needed, auto-commit when due, find positions,
    /// fetch, and return up to `max.poll.records` buffered records.
    pub(crate) fn consumer_poll(&mut self, c: u32) {
        let now = self.now;
        let cons = &self.consumers[c as usize];
        if !cons.running() || cons.app != AppState::Polling {
            return;
        }
        self.cons(c).last_poll = now;
        let cons = &self.consumers[c as usize];
        if cons.coordinator.is_none() {
            return self.consumer_find_coordinator(c);
        }
        match cons.member {
            MemberState::PreparingJoin | MemberState::Joining | MemberState::Syncing => return,
            MemberState::Unjoined => return self.consumer_prepare_join(c),
            MemberState::Stable if cons.rejoin_needed => return self.consumer_prepare_join(c),
            MemberState::Stable => {}
        }
        if cons.config.enable_auto_commit && now >= cons.next_auto_commit {
            let interval = cons.config.auto_commit_interval_ms;
            self.cons(c).next_auto_commit = now + interval;
            self.consumer_commit(c, CommitKind::Auto);
        }
        self.consumer_lookup_offsets(c);
        let returned = self.consumer_take_records(c);
        self.consumer_send_fetches(c);
        if returned.is_empty() {
            return;
        }
        let records = returned.iter().map(|(pidx, r)| (self.tp(*pidx), r.offset, r.record)).collect();
        self.emit(ConsumerEffect::Polled { consumer: c, records });
        let behaviour = self.consumers[c as usize].app_behaviour.clone();
        if behaviour.worker {
            self.cons(c).processing.extend(returned);
            self.consumer_worker_next(c);
            return;
        }
        self.cons(c).processing = returned.into();
        if behaviour.commit == CommitPolicy::BeforeProcessing {
            self.cons(c).app = AppState::Committing { then_process: true };
            self.consumer_commit(c, CommitKind::SyncBeforeProcessing);
        } else {
            self.cons(c).app = AppState::Processing;
            self.consumer_schedule_processing(c);
        }
    }

    /// Takes up to `max.poll.records` from the buffer, partition by partition (the Java fetcher
    /// drains one completed fetch before the next), and moves each position past what it returns.
    fn consumer_take_records(&mut self, c: u32) -> Vec<(u32, LogRecord)> {
        let cons = self.cons(c);
        let mut left = cons.config.max_poll_records as usize;
        let mut out = Vec::new();
        for o in &mut cons.owned {
            if left == 0 {
                break;
            }
            while left > 0 {
                let Some(r) = o.buffer.pop_front() else { break };
                o.position = Some(r.offset + 1);
                out.push((o.pidx, r));
                left -= 1;
            }
        }
        for (_, r) in &out {
            self.ledger.record_fetched(self.consumers[c as usize].group, r.record);
        }
        out
    }

    fn consumer_schedule_processing(&mut self, c: u32) {
        let cons = &self.consumers[c as usize];
        let at = (self.now + cons.app_behaviour.processing_ms).max(cons.stalled_until);
        let incarnation = cons.incarnation;
        self.schedule_timer(at, Timer::ConsumerProcessed { consumer: c, incarnation });
    }

    fn consumer_worker_next(&mut self, c: u32) {
        let cons = &self.consumers[c as usize];
        if !cons.worker_busy && !cons.processing.is_empty() {
            self.cons(c).worker_busy = true;
            self.consumer_schedule_processing(c);
        }
    }

    /// One record is processed. A stall pushes the completion back (not a step).
    pub(crate) fn consumer_processed(&mut self, c: u32, incarnation: u32) -> bool {
        if !self.consumer_live(c, incarnation) {
            return false;
        }
        let now = self.now;
        let cons = &self.consumers[c as usize];
        if now < cons.stalled_until {
            let until = cons.stalled_until;
            self.schedule_timer(until, Timer::ConsumerProcessed { consumer: c, incarnation });
            return false;
        }
        let Some((pidx, r)) = self.cons(c).processing.pop_front() else { return false };
        let group = self.consumers[c as usize].group;
        let tp = self.tp(pidx);
        let times = self.ledger.record_processed(group, r.record, c, tp, r.offset, now);
        self.emit(ConsumerEffect::RecordProcessed { consumer: c, tp, offset: r.offset, record: r.record, times });
        let cons = &self.consumers[c as usize];
        if !cons.processing.is_empty() {
            self.consumer_schedule_processing(c);
            return true;
        }
        if cons.app_behaviour.worker {
            self.cons(c).worker_busy = false;
            return true;
        }
        match cons.app_behaviour.commit {
            CommitPolicy::AfterProcessing => {
                self.cons(c).app = AppState::Committing { then_process: false };
                self.consumer_commit(c, CommitKind::SyncAfterProcessing);
            }
            CommitPolicy::AfterProcessingAsync => {
                self.consumer_commit(c, CommitKind::AsyncAfterProcessing);
                self.consumer_back_to_poll(c);
            }
            CommitPolicy::Auto | CommitPolicy::BeforeProcessing => self.consumer_back_to_poll(c),
        }
        true
    }

    fn consumer_back_to_poll(&mut self, c: u32) {
        self.cons(c).app = AppState::Polling;
        self.consumer_poll(c);
    }

    /// The stall is over: the application calls `poll()` again.
    pub(crate) fn consumer_poll_timer(&mut self, c: u32, incarnation: u32) -> bool {
        if !self.consumer_live(c, incarnation) || self.consumers[c as usize].app != AppState::Stalled {
            return false;
        }
        if self.now < self.consumers[c as usize].stalled_until {
            return false;
        }
        self.consumer_back_to_poll(c);
        true
    }

    /// Sends an OffsetCommit of the current positions (what `poll()` has returned so far).
    fn consumer_commit(&mut self, c: u32, kind: CommitKind) {
        let cons = &self.consumers[c as usize];
        let offsets: Vec<(Tp, u64)> = cons.positions().map(|(p, o)| (self.tps[p as usize], o)).collect();
        let blocking = matches!(cons.app, AppState::Committing { .. }) && kind != CommitKind::Auto;
        let preparing = cons.member == MemberState::PreparingJoin;
        let Some(coord) = cons.coordinator.filter(|_| !offsets.is_empty()) else {
            if blocking {
                self.consumer_commit_done(c);
            }
            if preparing {
                self.consumer_send_join(c);
            }
            return;
        };
        if cons.generation < 0 {
            // Java's ConsumerCoordinator refuses to send a commit without a generation: the
            // member was thrown out, so it throws CommitFailedException instead.
            self.cons(c).saw(KafkaError::CommitFailed);
            self.emit(ConsumerEffect::CommitFailed { consumer: c, error: KafkaError::CommitFailed, offsets });
            if blocking {
                self.consumer_commit_done(c);
            }
            if preparing {
                self.consumer_send_join(c);
            }
            return;
        }
        let (group, generation, member_id, timeout) =
            (cons.group, cons.generation, cons.member_id.clone(), cons.config.request_timeout_ms);
        self.emit(ConsumerEffect::CommitSent { consumer: c, offsets: offsets.clone(), kind });
        let request = Request::Commit { offsets: offsets.clone(), kind };
        self.consumer_request(c, coord, request, timeout, |req| Msg::OffsetCommit { req, group, generation, member_id, offsets });
    }

    /// A blocking commit returned (or failed): the application goes on.
    fn consumer_commit_done(&mut self, c: u32) {
        match self.consumers[c as usize].app {
            AppState::Committing { then_process: true } => {
                self.cons(c).app = AppState::Processing;
                self.consumer_schedule_processing(c);
            }
            AppState::Committing { then_process: false } => self.consumer_back_to_poll(c),
            _ => {}
        }
    }

    /// `onJoinPrepare`: with auto-commit, commit and wait before (re)joining.
    fn consumer_prepare_join(&mut self, c: u32) {
        let cons = &self.consumers[c as usize];
        let commit_first = cons.config.enable_auto_commit && cons.member == MemberState::Stable && !cons.owned.is_empty();
        if commit_first {
            self.cons(c).member = MemberState::PreparingJoin;
            self.consumer_commit(c, CommitKind::BeforeRebalance);
        } else {
            self.consumer_send_join(c);
        }
    }

    fn consumer_send_join(&mut self, c: u32) {
        let cons = &self.consumers[c as usize];
        let Some(coord) = cons.coordinator else {
            self.cons(c).member = MemberState::Unjoined;
            return self.consumer_find_coordinator(c);
        };
        let cooperative = cons.config.strategy.cooperative();
        // Eager: everything is revoked before joining. A member that lost its generation (removed
        // by the coordinator) has lost its partitions under either protocol.
        let lose_all = !cooperative || cons.generation < 0;
        // The eager StickyAssignor still reports what it owned (in its subscription userData),
        // which is what makes it sticky; range and round-robin report nothing after revoking.
        let previous: Vec<Tp> = if cons.config.strategy == Strategy::Sticky {
            cons.assigned().map(|p| self.tps[p as usize]).collect()
        } else {
            Vec::new()
        };
        // As `ConsumerCoordinator.onJoinPrepare`: the lost path calls onPartitionsLost only for a
        // non-empty set, while the eager path calls onPartitionsRevoked even when the member owns
        // nothing (a member that was in a generation and got no partitions still hears of it).
        let lost = cons.generation < 0;
        if lose_all && (!lost || !cons.owned.is_empty()) {
            let partitions = cons.assigned().map(|p| self.tps[p as usize]).collect();
            let how = if lost { Revocation::Lost } else { Revocation::Eager };
            self.emit(ConsumerEffect::PartitionsRevoked { consumer: c, partitions, how });
            self.cons(c).owned.clear();
        }
        let cons = &self.consumers[c as usize];
        let mut owned: Vec<Tp> = cons.assigned().map(|p| self.tps[p as usize]).collect();
        if !cooperative {
            owned = previous;
        }
        let (group, member_id, instance_id, topics, generation) =
            (cons.group, cons.member_id.clone(), cons.config.group_instance_id.clone(), cons.topics.clone(), cons.generation);
        let timeout = cons.config.max_poll_interval_ms + 5_000;
        let cons = self.cons(c);
        cons.member = MemberState::Joining;
        cons.rejoin_needed = false;
        cons.heartbeat_sent = None;
        self.consumer_request(c, coord, Request::Join, timeout, |req| Msg::JoinGroup {
            req,
            group,
            member_id,
            instance_id,
            topics,
            owned,
            generation,
        });
    }

    fn consumer_join_response(&mut self, c: u32, result: &Result<JoinResult, KafkaError>) {
        let r = match result {
            Ok(r) => r,
            Err(e) => return self.consumer_group_error(c, "JoinGroup", *e),
        };
        let cons = self.cons(c);
        cons.member_id = r.member_id.clone();
        cons.generation = r.generation;
        cons.member = MemberState::Syncing;
        let (group, coord, timeout) = (cons.group, cons.coordinator, cons.config.request_timeout_ms);
        let Some(coord) = coord else { return };
        let mut assignments = Vec::new();
        if r.leader == r.member_id && !r.members.is_empty() {
            match self.consumer_compute_assignment(c, r.strategy, &r.members) {
                Ok(a) => assignments = a,
                Err(reason) => {
                    self.emit(ConsumerEffect::AssignmentFailed { group, reason });
                    return;
                }
            }
        }
        let (generation, member_id) = (r.generation, r.member_id.clone());
        self.consumer_request(c, coord, Request::Sync, timeout, |req| Msg::SyncGroup { req, group, generation, member_id, assignments });
    }

    /// The group leader runs the assignor on every member's subscription.
    fn consumer_compute_assignment(
        &mut self,
        c: u32,
        strategy: Strategy,
        members: &[JoinMember],
    ) -> Result<Vec<(String, Vec<Tp>)>, String> {
        let topic_name = |t: u32| self.topics[t as usize].name.clone();
        let list: Vec<assignor::Member> = members
            .iter()
            .map(|m| assignor::Member {
                id: m.member_id.clone(),
                subscriptions: m.topics.iter().map(|&t| topic_name(t)).collect(),
                owned_partitions: m.owned.iter().map(|tp| (topic_name(tp.topic), tp.partition)).collect(),
                generation: (m.generation >= 0).then_some(m.generation),
                group_instance_id: m.instance_id.clone(),
            })
            .collect();
        let partitions: VecMap<String, u32> =
            self.topics.iter().filter(|t| !t.internal).map(|t| (t.name.clone(), t.partitions)).collect();
        let result = assignor::assign(strategy, &partitions, &list).map_err(|e| e.to_string())?;
        let to_tp = |(name, p): &(String, u32)| {
            let t = self.topics.iter().position(|x| &x.name == name).expect("assigned topics exist");
            Tp { topic: t as u32, partition: *p }
        };
        let assignments: Vec<(String, Vec<Tp>)> =
            result.iter().map(|(id, tps)| (id.clone(), tps.iter().map(to_tp).collect())).collect();
        let mut withheld = Vec::new();
        for m in members {
            for tp in &m.owned {
                let now_owner = assignments.iter().find(|(_, tps)| tps.contains(tp)).map(|(id, _)| id.as_str());
                if now_owner.is_none_or(|id| id != m.member_id) && strategy.cooperative() {
                    withheld.push(*tp);
                }
            }
        }
        let group = self.consumers[c as usize].group;
        let by_consumer: Vec<(u32, Vec<Tp>)> = assignments
            .iter()
            .filter_map(|(id, tps)| members.iter().find(|m| &m.member_id == id).map(|m| (m.consumer, tps.clone())))
            .collect();
        self.emit(ConsumerEffect::AssignmentComputed { group, consumer: c, assignment: by_consumer, withheld });
        Ok(assignments)
    }

    fn consumer_sync_response(&mut self, c: u32, result: &Result<Vec<Tp>, KafkaError>) {
        let assignment = match result {
            Ok(a) => a,
            Err(e) => return self.consumer_group_error(c, "SyncGroup", *e),
        };
        let mut new: Vec<u32> = assignment.iter().map(|&tp| self.pidx(tp)).collect();
        new.sort_unstable();
        new.dedup();
        let cons = &self.consumers[c as usize];
        let revoked: Vec<u32> = cons.assigned().filter(|p| new.binary_search(p).is_err()).collect();
        let added: Vec<u32> = new.iter().copied().filter(|&p| !cons.owns(p)).collect();
        let generation = cons.generation;
        if !revoked.is_empty() {
            let partitions = revoked.iter().map(|&p| self.tps[p as usize]).collect();
            self.emit(ConsumerEffect::PartitionsRevoked { consumer: c, partitions, how: Revocation::Cooperative });
        }
        let partitions: Vec<Tp> = added.iter().map(|&p| self.tps[p as usize]).collect();
        self.emit(ConsumerEffect::PartitionsAssigned { consumer: c, partitions, generation });
        let cons = self.cons(c);
        cons.owned.retain(|o| new.binary_search(&o.pidx).is_ok());
        for &pidx in &added {
            let at = cons.owned.partition_point(|o| o.pidx < pidx);
            cons.owned.insert(at, Owned::new(pidx));
        }
        cons.member = MemberState::Stable;
        // KIP-429: a member that gave partitions up rejoins at once so they can be handed out.
        cons.rejoin_needed = !revoked.is_empty();
        self.cons(c).heartbeat_sent = None;
        self.consumer_poll(c);
    }

    /// Errors from the group protocol, handled as `AbstractCoordinator` does.
    fn consumer_group_error(&mut self, c: u32, request: &'static str, error: KafkaError) {
        self.cons(c).saw(error);
        self.emit(ConsumerEffect::ConsumerRequestFailed { consumer: c, request, error });
        let cons = self.cons(c);
        match error {
            KafkaError::NotCoordinator | KafkaError::CoordinatorNotAvailable | KafkaError::NetworkException | KafkaError::RequestTimedOut => {
                self.consumer_lost_coordinator(c);
            }
            KafkaError::UnknownMemberId | KafkaError::FencedInstanceId => {
                cons.member_id.clear();
                cons.generation = -1;
                cons.member = MemberState::Unjoined;
                cons.rejoin_needed = true;
            }
            KafkaError::IllegalGeneration => {
                cons.generation = -1;
                cons.member = MemberState::Unjoined;
                cons.rejoin_needed = true;
            }
            _ => {
                // REBALANCE_IN_PROGRESS and the rest: join again.
                if cons.member != MemberState::Stable {
                    cons.member = MemberState::Unjoined;
                }
                cons.rejoin_needed = true;
            }
        }
        self.consumer_poll(c);
    }

    fn consumer_lookup_offsets(&mut self, c: u32) {
        let cons = &self.consumers[c as usize];
        let missing: Vec<u32> = cons.owned.iter().filter(|o| o.position.is_none() && !o.lookup).map(|o| o.pidx).collect();
        let Some(coord) = cons.coordinator.filter(|_| !missing.is_empty()) else { return };
        let (group, timeout) = (cons.group, cons.config.request_timeout_ms);
        let partitions: Vec<Tp> = missing.iter().map(|&p| self.tps[p as usize]).collect();
        let cons = self.cons(c);
        for &p in &missing {
            cons.set_lookup(p, true);
        }
        let request = Request::OffsetFetch { partitions: missing };
        self.consumer_request(c, coord, request, timeout, |req| Msg::OffsetFetch { req, group, partitions });
    }

    fn consumer_offset_fetch_response(&mut self, c: u32, partitions: &[u32], result: &Result<Vec<(Tp, Option<u64>)>, KafkaError>) {
        for &p in partitions {
            self.cons(c).set_lookup(p, false);
        }
        let offsets = match result {
            Ok(o) => o,
            Err(e) => return self.consumer_group_error(c, "OffsetFetch", *e),
        };
        for &(tp, offset) in offsets {
            let pidx = self.pidx(tp);
            let Some(owned) = self.cons(c).owned_mut(pidx) else { continue };
            match offset {
                Some(o) => {
                    owned.position = Some(o);
                    let group = self.consumers[c as usize].group;
                    self.ledger.note_start(group, pidx, o);
                    self.emit(ConsumerEffect::PositionFromCommit { consumer: c, tp, offset: o });
                }
                None => self.consumer_reset(c, pidx, false),
            }
        }
        self.consumer_poll(c);
    }

    /// `auto.offset.reset`: ask the leader for the earliest or latest offset, or fail.
    fn consumer_reset(&mut self, c: u32, pidx: u32, out_of_range: bool) {
        let cons = &self.consumers[c as usize];
        let tp = self.tps[pidx as usize];
        let policy = cons.config.auto_offset_reset;
        if policy == OffsetReset::None {
            // Java's `SubscriptionState` throws `OffsetOutOfRangeException` when a fetch position
            // fell out of the log, and `NoOffsetForPartitionException` only when there was no
            // committed offset to start from.
            let error = if out_of_range { KafkaError::OffsetOutOfRange } else { KafkaError::NoOffsetForPartition };
            self.cons(c).saw(error);
            self.cons(c).state = ClientState::Failed;
            self.emit(ConsumerEffect::ConsumerFailed { consumer: c, error, tp });
            return;
        }
        let Some(leader) = cons.leaders[pidx as usize] else {
            return self.consumer_request_metadata(c);
        };
        let timeout = cons.config.request_timeout_ms;
        let from = self.cons(c).owned_mut(pidx).and_then(|o| {
            o.lookup = true;
            o.position.take()
        });
        let from = from.filter(|_| out_of_range);
        let earliest = policy == OffsetReset::Earliest;
        self.consumer_request(c, leader, Request::ListOffsets { pidx, out_of_range, from }, timeout, |req| Msg::ListOffsets { req, tp, earliest });
    }

    /// The ledger's account of a reset past records that retention deleted before the group read
    /// them: they are gone from every log, so the group view could not count them as lost. The
    /// ledger reads the leader's true log start here; the client never learns it.
    fn note_deleted_unread(&mut self, group: u32, pidx: u32, from: u64, to: u64) {
        let Some(leader) = self.controller.parts[pidx as usize].leader else { return };
        let Some(start) = self.replica(leader, pidx).map(|r| r.log.log_start()) else { return };
        let deleted = to.min(start).saturating_sub(from);
        if deleted > 0 {
            *self.ledger.group_mut(group).deleted_unread.entry(pidx).or_insert(0) += deleted;
        }
    }

    fn consumer_send_fetches(&mut self, c: u32) {
        let cons = &self.consumers[c as usize];
        // Kafka 4.0+ (KAFKA-17182): no fetch goes to a broker that leads a partition whose records
        // are still buffered, even for its other partitions, until the application has taken them.
        let buffered_leaders: Vec<BrokerId> =
            cons.owned.iter().filter(|o| !o.buffer.is_empty()).filter_map(|o| cons.leaders[o.pidx as usize]).collect();
        let wanted: Vec<(u32, u64, BrokerId)> = cons
            .owned
            .iter()
            .filter(|o| o.fetch.is_none() && o.buffer.is_empty())
            .filter_map(|o| Some((o.pidx, o.position?, cons.leaders[o.pidx as usize]?)))
            .filter(|(_, _, leader)| !buffered_leaders.contains(leader))
            .collect();
        let unknown_leader = cons.positions().any(|(p, _)| cons.leaders[p as usize].is_none());
        for (pidx, offset, leader) in wanted {
            let id = self.next_request_id();
            if let Some(o) = self.cons(c).owned_mut(pidx) {
                o.fetch = Some((id, leader));
            }
            let tp = self.tps[pidx as usize];
            self.consumer_send(c, leader, Msg::ConsumerFetch { id, tp, offset });
        }
        if unknown_leader {
            self.consumer_request_metadata(c);
        }
    }

    fn consumer_fetch_response(&mut self, c: u32, id: u64, tp: Tp, records: &[LogRecord], error: Option<KafkaError>) {
        let pidx = self.pidx(tp);
        let cons = self.cons(c);
        if !cons.end_fetch(pidx, id) {
            return;
        }
        if let Some(error) = error {
            cons.saw(error);
            self.emit(ConsumerEffect::ConsumerRequestFailed { consumer: c, request: "Fetch", error });
            if error == KafkaError::OffsetOutOfRange {
                self.consumer_reset(c, pidx, true);
            } else {
                self.consumer_request_metadata(c);
            }
            return;
        }
        let Some(owned) = cons.owned_mut(pidx) else { return };
        let Some(position) = owned.position else { return };
        owned.buffer = records.iter().filter(|r| r.offset >= position).copied().collect();
    }

    pub(crate) fn consumer_receive(&mut self, c: u32, msg: &Msg) {
        if !self.consumers[c as usize].running() {
            return;
        }
        let request = |sim: &mut Sim, req: u64| sim.cons(c).requests.remove(&req).map(|p| p.request);
        match msg {
            Msg::MetadataResponse { leaders } => {
                let cons = self.cons(c);
                cons.metadata_in_flight = false;
                cons.leaders = leaders.clone();
            }
            Msg::FindCoordinatorResponse { coordinator, .. } => {
                let cons = self.cons(c);
                cons.find_in_flight = false;
                match *coordinator {
                    Some(b) => {
                        cons.coordinator = Some(b);
                        let offsets_partition = self.groups[self.consumers[c as usize].group as usize].offsets_partition;
                        self.emit(ConsumerEffect::CoordinatorFound { consumer: c, coordinator: b, offsets_partition });
                    }
                    None => {
                        let (incarnation, backoff) = (cons.incarnation, cons.config.retry_backoff_ms);
                        if cons.app == AppState::Polling {
                            cons.app = AppState::Stalled;
                            self.schedule_timer(self.now + backoff, Timer::ConsumerPoll { consumer: c, incarnation });
                        }
                    }
                }
            }
            Msg::JoinGroupResponse { req, result, .. } => {
                if matches!(request(self, *req), Some(Request::Join)) {
                    self.consumer_join_response(c, result);
                }
            }
            Msg::SyncGroupResponse { req, result, .. } => {
                if matches!(request(self, *req), Some(Request::Sync)) {
                    self.consumer_sync_response(c, result);
                }
            }
            Msg::GroupHeartbeatResponse { error, .. } => {
                self.cons(c).heartbeat_sent = None;
                if let Some(e) = *error {
                    if self.consumers[c as usize].member == MemberState::Stable {
                        self.consumer_group_error(c, "Heartbeat", e);
                    }
                }
            }
            Msg::OffsetCommitResponse { req, error, .. } => {
                if let Some(Request::Commit { offsets, kind }) = request(self, *req) {
                    self.consumer_commit_response(c, offsets, kind, *error);
                }
            }
            Msg::OffsetFetchResponse { req, result, .. } => {
                if let Some(Request::OffsetFetch { partitions }) = request(self, *req) {
                    self.consumer_offset_fetch_response(c, &partitions, result);
                }
            }
            Msg::ListOffsetsResponse { req, tp, result } => {
                if let Some(Request::ListOffsets { pidx, out_of_range, from }) = request(self, *req) {
                    self.cons(c).set_lookup(pidx, false);
                    match result {
                        Ok(offset) if self.consumers[c as usize].owns(pidx) => {
                            let cons = self.cons(c);
                            cons.set_position(pidx, *offset);
                            let (policy, group) = (cons.config.auto_offset_reset, cons.group);
                            self.ledger.note_start(group, pidx, *offset);
                            if let Some(from) = from {
                                self.note_deleted_unread(group, pidx, from, *offset);
                            }
                            self.emit(ConsumerEffect::OffsetReset { consumer: c, tp: *tp, offset: *offset, policy, out_of_range });
                        }
                        Ok(_) => {}
                        Err(e) => {
                            self.cons(c).saw(*e);
                            self.emit(ConsumerEffect::ConsumerRequestFailed { consumer: c, request: "ListOffsets", error: *e });
                            self.consumer_request_metadata(c);
                        }
                    }
                }
            }
            Msg::ConsumerFetchResponse { id, tp, records, error, .. } => {
                self.consumer_fetch_response(c, *id, *tp, records, *error);
            }
            _ => {}
        }
        self.consumer_poll(c);
    }

    fn consumer_commit_response(&mut self, c: u32, offsets: Vec<(Tp, u64)>, kind: CommitKind, error: Option<KafkaError>) {
        if let Some(error) = error {
            self.cons(c).saw(error);
            self.emit(ConsumerEffect::CommitFailed { consumer: c, error, offsets });
            match error {
                KafkaError::NotCoordinator | KafkaError::CoordinatorNotAvailable | KafkaError::RequestTimedOut | KafkaError::NetworkException => {
                    self.consumer_lost_coordinator(c)
                }
                KafkaError::UnknownMemberId | KafkaError::IllegalGeneration | KafkaError::FencedInstanceId => {
                    let cons = self.cons(c);
                    if error != KafkaError::IllegalGeneration {
                        cons.member_id.clear();
                    }
                    cons.generation = -1;
                    cons.rejoin_needed = true;
                }
                _ => self.cons(c).rejoin_needed = true,
            }
        }
        if kind == CommitKind::BeforeRebalance && self.consumers[c as usize].member == MemberState::PreparingJoin {
            self.consumer_send_join(c);
        }
        if matches!(kind, CommitKind::SyncBeforeProcessing | CommitKind::SyncAfterProcessing) {
            self.consumer_commit_done(c);
        }
    }

    /// A request could not reach a crashed broker: the connection was reset.
    pub(crate) fn consumer_connection_failed(&mut self, c: u32, broker: BrokerId, msg: &Msg) {
        if !self.consumers[c as usize].running() {
            return;
        }
        match msg {
            Msg::ConsumerFetch { id, tp, .. } => {
                let pidx = self.pidx(*tp);
                self.cons(c).end_fetch(pidx, *id);
                self.consumer_request_metadata(c);
            }
            Msg::GroupHeartbeat { .. } => {
                self.cons(c).heartbeat_sent = None;
                self.consumer_lost_coordinator(c);
            }
            _ => {
                let failed: Vec<u64> =
                    self.consumers[c as usize].requests.iter().filter(|(_, p)| p.broker == broker).map(|(&r, _)| r).collect();
                for req in failed {
                    self.consumer_request_failed(c, req, KafkaError::NetworkException);
                }
            }
        }
        self.consumer_poll(c);
    }

    /// A broker crashed: its OS resets every connection, so each running consumer fails the
    /// requests it had in flight there at once (Java's NetworkClient on a disconnect).
    pub(crate) fn consumers_broker_crashed(&mut self, b: BrokerId) {
        for c in 0..self.consumers.len() as u32 {
            let cons = &self.consumers[c as usize];
            if !cons.running() {
                continue;
            }
            let to_broker = |o: &Owned| o.fetch.is_some_and(|f| f.1 == b);
            let fetches = cons.owned.iter().any(to_broker);
            let requests: Vec<u64> = cons.requests.iter().filter(|(_, r)| r.broker == b).map(|(&r, _)| r).collect();
            let heartbeat = cons.coordinator == Some(b) && cons.heartbeat_sent.is_some();
            if !fetches && requests.is_empty() && !heartbeat {
                continue;
            }
            for o in self.cons(c).owned.iter_mut().filter(|o| to_broker(o)) {
                o.fetch = None;
            }
            self.consumer_request_metadata(c);
            for req in requests {
                self.consumer_request_failed(c, req, KafkaError::NetworkException);
            }
            if heartbeat {
                self.consumer_lost_coordinator(c);
            }
            self.consumer_poll(c);
        }
    }

    fn consumer_request_failed(&mut self, c: u32, req: u64, error: KafkaError) {
        let Some(p) = self.cons(c).requests.remove(&req) else { return };
        match p.request {
            Request::Join => self.consumer_group_error(c, "JoinGroup", error),
            Request::Sync => self.consumer_group_error(c, "SyncGroup", error),
            Request::Commit { offsets, kind } => self.consumer_commit_response(c, offsets, kind, Some(error)),
            Request::OffsetFetch { partitions } => {
                for pidx in partitions {
                    self.cons(c).set_lookup(pidx, false);
                }
                self.consumer_group_error(c, "OffsetFetch", error);
            }
            Request::ListOffsets { pidx, .. } => {
                self.cons(c).set_lookup(pidx, false);
                self.consumer_request_metadata(c);
            }
        }
    }

    /// The heartbeat thread: `max.poll.interval.ms`, request timeouts, and the heartbeat itself.
    /// Only a tick that finds a problem is a step of its own; a plain heartbeat is routine.
    pub(crate) fn consumer_tick(&mut self, c: u32, incarnation: u32) -> bool {
        if !self.consumer_live(c, incarnation) {
            return false;
        }
        let now = self.now;
        let cons = &self.consumers[c as usize];
        let mut next = now + cons.config.heartbeat_interval_ms;
        // Like Java's heartbeat thread, wake up exactly when max.poll.interval.ms would expire.
        if cons.app != AppState::Polling && cons.member == MemberState::Stable {
            let deadline = cons.last_poll + cons.config.max_poll_interval_ms + 1;
            if deadline > now {
                next = next.min(deadline);
            }
        }
        self.schedule_timer(next, Timer::ConsumerTick { consumer: c, incarnation });
        let cons = &self.consumers[c as usize];
        let in_poll = cons.app == AppState::Polling;
        let since_poll = if in_poll { 0 } else { now - cons.last_poll };
        if cons.member == MemberState::Stable && since_poll > cons.config.max_poll_interval_ms {
            let (max_ms, is_static) = (cons.config.max_poll_interval_ms, cons.config.group_instance_id.is_some());
            // Java's `maybeLeaveGroup("consumer poll timeout has expired")`; static members stay
            // until their session times out.
            if let (false, Some(coord)) = (is_static, cons.coordinator) {
                let msg = Msg::LeaveGroup { group: cons.group, member_id: cons.member_id.clone() };
                self.consumer_send(c, coord, msg);
            }
            self.emit(ConsumerEffect::PollTimeout { consumer: c, since_poll_ms: since_poll, max_ms, left_group: !is_static });
            let cons = self.cons(c);
            if !is_static {
                cons.member_id.clear();
            }
            cons.generation = -1;
            cons.member = MemberState::Unjoined;
            cons.rejoin_needed = true;
            return true;
        }
        let expired: Vec<u64> = cons.requests.iter().filter(|(_, p)| p.deadline <= now).map(|(&r, _)| r).collect();
        for req in &expired {
            self.consumer_request_failed(c, *req, KafkaError::RequestTimedOut);
        }
        let cons = &self.consumers[c as usize];
        let timeout = cons.config.request_timeout_ms;
        if let Some(sent) = cons.heartbeat_sent {
            if sent + timeout <= now {
                self.consumer_lost_coordinator(c);
            }
        }
        let cons = &self.consumers[c as usize];
        if cons.member == MemberState::Stable && cons.heartbeat_sent.is_none() {
            if let Some(coord) = cons.coordinator {
                let msg = Msg::GroupHeartbeat { group: cons.group, generation: cons.generation, member_id: cons.member_id.clone() };
                self.cons(c).heartbeat_sent = Some(now);
                self.consumer_send(c, coord, msg);
            }
        }
        self.consumer_poll(c);
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
}

impl Owned {
    fn new(pidx: u32) -> Owned {
        Owned { pidx, position: None, lookup: false, fetch: None, buffer: VecDeque::new() }
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
        use crate::sim::coordinator::GroupPhase;
        for s in [GroupPhase::Empty, GroupPhase::PreparingRebalance, GroupPhase::CompletingRebalance, GroupPhase::Stable] {
            assert_eq!(json(serde_json::to_value(s).expect("serializes")).as_deref(), Some(s.name()));
        }
        for s in [AppState::Polling, AppState::Processing, AppState::Committing { then_process: true }, AppState::Stalled] {
            assert_eq!(json(serde_json::to_value(s).expect("serializes")).as_deref(), Some(s.name()));
        }
    }
}
