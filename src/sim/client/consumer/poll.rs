//! The consumer's poll loop: `poll()` handing buffered records to the application, processing
//! (between polls or on a worker thread), positions looked up from committed offsets or
//! `auto.offset.reset`, and the fetcher that keeps the buffer filled.

use super::{AppState, ClientState, CommitPolicy, MemberState, Request};
use crate::sim::config::{IsolationLevel, OffsetReset};
use crate::sim::client::effect::{CommitKind, ConsumerEffect};
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, LogRecord, RecordKind, Tp};
use super::{Consumer, Cx};
use crate::sim::client::ClientEnv;

impl Consumer {
    /// The application calls `poll()`: join if needed, auto-commit when due, find positions,
    /// fetch, and return up to `max.poll.records` buffered records.
    pub(crate) fn poll(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        let c = self.index;
        let now = cx.now();
        if !self.running() || self.app != AppState::Polling {
            return;
        }
        self.last_poll = now;
        // A scripted application's JoinGroup answer that came between its polls is read now.
        if let Some(msg) = self.deferred.take() {
            return self.receive(cx, env, &msg);
        }
        // `joinGroupIfNeeded`: the completed join is applied now, or dropped when the heartbeat
        // thread lost the generation meanwhile (max.poll.interval.ms, a coordinator error).
        if let Some(assignment) = self.deferred_assignment.take() {
            if self.generation >= 0 && self.member == MemberState::Stable {
                return self.sync_response(cx, env, &Ok(assignment));
            }
        }
        if self.coordinator.is_none() {
            return self.find_coordinator(cx);
        }
        match self.member {
            MemberState::PreparingJoin | MemberState::Joining | MemberState::Syncing => return,
            MemberState::Unjoined => return self.prepare_join(cx, env),
            MemberState::Stable if self.rejoin_needed => return self.prepare_join(cx, env),
            MemberState::Stable if self.subscription_changed() => {
                cx.emit(ConsumerEffect::SubscriptionChangedRejoin { consumer: c });
                return self.prepare_join(cx, env);
            }
            MemberState::Stable => {}
        }
        if self.config.enable_auto_commit && now >= self.next_auto_commit {
            let interval = self.config.auto_commit_interval_ms;
            self.next_auto_commit = now + interval;
            self.commit(cx, env, CommitKind::Auto);
        }
        self.lookup_offsets(cx, env);
        let Taken { records: returned, failed, resolved } = self.take_records(env);
        let skipped = self.app_behaviour.skip_bad_records;
        let stopped = !failed.is_empty() && !skipped;
        for (pidx, r, message) in failed {
            cx.emit(ConsumerEffect::RecordDeserializationFailed { consumer: c, tp: env.tp(pidx), offset: r.offset, message, skipped });
        }
        if stopped {
            self.saw(KafkaError::RecordDeserialization);
            self.state = ClientState::Failed;
            return;
        }
        self.send_validations(cx, env);
        self.send_fetches(cx, env);
        if returned.is_empty() {
            return;
        }
        let records = returned.iter().map(|(pidx, r)| (env.tp(*pidx), r.offset, r.record)).collect();
        let (last, r) = returned.last().expect("not empty");
        let position = self.owned.iter().find(|o| o.pidx == *last).and_then(|o| o.position).unwrap_or(r.offset + 1);
        cx.emit(ConsumerEffect::Polled { consumer: c, records, position });
        // Only records that were returned are resolved: a bad one stops the taking before it is.
        if !resolved.is_empty() {
            let values = resolved.into_iter().map(|(p, o, t)| (env.tp(p), o, t)).collect();
            cx.emit(ConsumerEffect::ValuesResolved { consumer: c, values });
        }
        // A scripted poll() returns with these records.
        self.poll_deadline = None;
        let behaviour = self.app_behaviour.clone();
        if behaviour.scripted {
            // The application holds these records (with any it has not processed yet).
            self.processing.extend(returned);
            if self.poll_process {
                self.app = AppState::Processing;
                self.schedule_processing(cx);
            } else {
                self.app_free(cx, env);
            }
            return;
        }
        if behaviour.worker {
            self.processing.extend(returned);
            self.worker_next(cx);
            return;
        }
        self.processing = returned.into();
        if behaviour.commit == CommitPolicy::BeforeProcessing {
            self.app = AppState::Committing { then_process: true };
            self.commit(cx, env, CommitKind::SyncBeforeProcessing);
        } else {
            self.app = AppState::Processing;
            self.schedule_processing(cx);
        }
    }

    /// Takes up to `max.poll.records` from the buffer, partition by partition (the Java fetcher
    /// drains one completed fetch before the next), and moves each position past what it returns.
    pub(super) fn take_records(&mut self, env: &mut ClientEnv<'_>) -> Taken {
        let mut left = self.config.max_poll_records as usize;
        let mut out = Vec::new();
        let mut failed = Vec::new();
        let mut resolved = Vec::new();
        for o in &mut self.owned {
            if left == 0 {
                break;
            }
            while left > 0 {
                let Some(r) = o.buffer.pop_front() else { break };
                if let Some(deserialize) = env.deserialize.as_mut() {
                    let rec = env.ledger.get(r.record);
                    let read = deserialize(self.index, &rec.value, rec.payload.as_deref());
                    if let Ok(Some(text)) = &read {
                        resolved.push((o.pidx, r.offset, text.clone()));
                    }
                    if let Err(message) = read {
                        if self.app_behaviour.skip_bad_records {
                            failed.push((o.pidx, r, message));
                            o.position = Some(r.offset + 1);
                            if o.buffer.is_empty() {
                                o.position = o.buffer_end.take().max(o.position);
                            }
                            continue;
                        }
                        // `CompletedFetch.fetchRecords`: the records before the bad one are
                        // returned, and the next poll() throws at it; the position stays there.
                        if out.is_empty() {
                            failed.push((o.pidx, r, message));
                        }
                        o.buffer.push_front(r);
                        left = 0;
                        break;
                    }
                }
                o.position = Some(r.offset + 1);
                if o.buffer.is_empty() {
                    o.position = o.buffer_end.take().max(o.position);
                }
                o.offset_epoch = Some(r.epoch);
                if o.leader_epoch.is_none() {
                    o.leader_epoch = Some(self.leader_epochs[o.pidx as usize]);
                }
                out.push((o.pidx, r));
                left -= 1;
            }
        }
        for (_, r) in &out {
            env.ledger.record_fetched(self.group, r.record);
        }
        Taken { records: out, failed, resolved }
    }

    pub(super) fn schedule_processing(&mut self, cx: &mut Cx<'_>) {
        let c = self.index;
        let at = (cx.now() + self.app_behaviour.processing_ms).max(self.stalled_until);
        let incarnation = self.incarnation;
        cx.set_timer(at, Timer::ConsumerProcessed { consumer: c, incarnation });
    }

    pub(super) fn worker_next(&mut self, cx: &mut Cx<'_>) {
        if !self.worker_busy && !self.processing.is_empty() {
            self.worker_busy = true;
            self.schedule_processing(cx);
        }
    }

    /// One record is processed. A stall pushes the completion back (not a step).
    pub(crate) fn processed(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, incarnation: u32) -> bool {
        let c = self.index;
        if !self.live(incarnation) {
            return false;
        }
        let now = cx.now();
        if now < self.stalled_until {
            let until = self.stalled_until;
            cx.set_timer(until, Timer::ConsumerProcessed { consumer: c, incarnation });
            return false;
        }
        let Some((pidx, r)) = self.processing.pop_front() else { return false };
        let group = self.group;
        let tp = env.tp(pidx);
        let times = env.ledger.record_processed(group, r.record, c, tp, r.offset, now);
        cx.emit(ConsumerEffect::RecordProcessed { consumer: c, tp, offset: r.offset, record: r.record, times });
        if !self.processing.is_empty() {
            self.schedule_processing(cx);
            return true;
        }
        if self.app_behaviour.worker {
            self.worker_busy = false;
            return true;
        }
        match self.app_behaviour.commit {
            CommitPolicy::AfterProcessing => {
                self.app = AppState::Committing { then_process: false };
                self.commit(cx, env, CommitKind::SyncAfterProcessing);
            }
            CommitPolicy::AfterProcessingAsync => {
                self.commit(cx, env, CommitKind::AsyncAfterProcessing);
                self.back_to_poll(cx, env);
            }
            CommitPolicy::Auto | CommitPolicy::BeforeProcessing => self.back_to_poll(cx, env),
        }
        true
    }

    pub(super) fn back_to_poll(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        if self.app_behaviour.scripted {
            return self.app_free(cx, env);
        }
        self.app = AppState::Polling;
        self.poll(cx, env);
    }

    /// The stall is over: the application calls `poll()` again.
    pub(crate) fn poll_timer(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, incarnation: u32) -> bool {
        if !self.live(incarnation) || self.app != AppState::Stalled {
            return false;
        }
        if cx.now() < self.stalled_until {
            return false;
        }
        self.back_to_poll(cx, env);
        true
    }

    /// The backoff after UNSTABLE_OFFSET_COMMIT has passed: the committed offsets are asked again.
    pub(crate) fn offset_fetch_retry(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, incarnation: u32) -> bool {
        if !self.live(incarnation) || cx.now() != self.offset_fetch_retry_at {
            return false;
        }
        self.lookup_offsets(cx, env);
        true
    }

    pub(super) fn lookup_offsets(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        if cx.now() < self.offset_fetch_retry_at {
            return;
        }
        let missing: Vec<u32> = self.owned.iter().filter(|o| o.position.is_none() && !o.lookup).map(|o| o.pidx).collect();
        let Some(coord) = self.coordinator.filter(|_| !missing.is_empty()) else { return };
        let (group, timeout) = (self.group, self.config.request_timeout_ms);
        let partitions: Vec<Tp> = missing.iter().map(|&p| env.tps[p as usize]).collect();
        for &p in &missing {
            self.set_lookup(p, true);
        }
        let request = Request::OffsetFetch { partitions: missing };
        self.request(cx, coord, request, timeout, |req| Msg::OffsetFetch { req, group, partitions });
    }

    pub(super) fn offset_fetch_response(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, partitions: &[u32], result: &Result<Vec<(Tp, Option<u64>)>, KafkaError>) {
        let c = self.index;
        for &p in partitions {
            self.set_lookup(p, false);
        }
        let offsets = match result {
            Ok(o) => o,
            // `UnstableOffsetCommitException` is retriable: `fetchCommittedOffsets` asks again
            // after `retry.backoff.ms`, and the partitions have no position meanwhile.
            Err(KafkaError::UnstableOffsetCommit) => {
                let error = KafkaError::UnstableOffsetCommit;
                self.saw(error);
                cx.emit(ConsumerEffect::ConsumerRequestFailed { consumer: c, request: "OffsetFetch", error });
                let at = cx.now() + self.config.retry_backoff_ms;
                self.offset_fetch_retry_at = at;
                cx.set_timer(at, Timer::ConsumerOffsetFetchRetry { consumer: c, incarnation: self.incarnation });
                return;
            }
            Err(e) => return self.group_error(cx, env, "OffsetFetch", *e),
        };
        for &(tp, offset) in offsets {
            let pidx = env.pidx(tp);
            let Some(owned) = self.owned_mut(pidx) else { continue };
            match offset {
                Some(o) => {
                    owned.position = Some(o);
                    let group = self.group;
                    env.ledger.note_start(group, pidx, o);
                    cx.emit(ConsumerEffect::PositionFromCommit { consumer: c, tp, offset: o });
                }
                None => self.reset(cx, env, pidx, false),
            }
        }
        self.poll(cx, env);
    }

    /// `auto.offset.reset`: ask the leader for the earliest or latest offset, or fail.
    pub(super) fn reset(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, pidx: u32, out_of_range: bool) {
        let c = self.index;
        let tp = env.tps[pidx as usize];
        let policy = self.config.auto_offset_reset;
        if policy == OffsetReset::None {
            // Java's `SubscriptionState` throws `OffsetOutOfRangeException` when a fetch position
            // fell out of the log, and `NoOffsetForPartitionException` only when there was no
            // committed offset to start from.
            let error = if out_of_range { KafkaError::OffsetOutOfRange } else { KafkaError::NoOffsetForPartition };
            self.saw(error);
            self.state = ClientState::Failed;
            cx.emit(ConsumerEffect::ConsumerFailed { consumer: c, error, tp: Some(tp) });
            return;
        }
        let Some(leader) = self.leaders[pidx as usize] else {
            return self.request_metadata(cx);
        };
        // The reset is asked again by the next fetch or offset lookup once the backoff has passed.
        if !self.connectable(cx.now(), leader) {
            return;
        }
        let timeout = self.config.request_timeout_ms;
        let from = self.owned_mut(pidx).and_then(|o| {
            o.lookup = true;
            o.position.take()
        });
        let from = from.filter(|_| out_of_range);
        let earliest = policy == OffsetReset::Earliest;
        let read_committed = self.config.isolation_level == IsolationLevel::ReadCommitted;
        self.request(cx, leader, Request::ListOffsets { pidx, out_of_range, from }, timeout, |req| Msg::ListOffsets { req, tp, earliest, read_committed });
    }

    /// KIP-320 (`OffsetFetcher.validatePositionsIfNeeded`): for each partition awaiting validation,
    /// OffsetsForLeaderEpoch to its leader for the epoch of the last record read.
    pub(super) fn send_validations(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        let now = cx.now();
        let wanted: Vec<(u32, u64, u32, BrokerId)> = self
            .owned
            .iter()
            .filter(|o| o.awaiting_validation && !o.validation_in_flight)
            .filter_map(|o| Some((o.pidx, o.position?, o.offset_epoch?, self.leaders[o.pidx as usize]?)))
            .filter(|w| self.connectable(now, w.3))
            .collect();
        let timeout = self.config.request_timeout_ms;
        for (pidx, position, leader_epoch, leader) in wanted {
            if let Some(o) = self.owned_mut(pidx) {
                o.validation_in_flight = true;
            }
            let tp = env.tps[pidx as usize];
            let current_leader_epoch = self.leader_epochs[pidx as usize];
            let request = Request::Validate { pidx, position };
            self.request(cx, leader, request, timeout, |req| Msg::ConsumerOffsetsForLeaderEpoch { req, tp, current_leader_epoch, leader_epoch });
        }
    }

    /// `SubscriptionState.maybeCompleteValidation`: an end offset below the position is a
    /// truncation. With a reset policy the position moves to that end offset (`seekValidated`);
    /// with none the consumer fails with `LogTruncationException`. An epoch the leader does not
    /// know resets by `auto.offset.reset`.
    pub(super) fn validation_response(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, pidx: u32, position: u64, result: &Result<Option<(u32, u64)>, KafkaError>) {
        let c = self.index;
        let current = self.leader_epochs[pidx as usize];
        let policy = self.config.auto_offset_reset;
        let Some(o) = self.owned_mut(pidx) else { return };
        o.validation_in_flight = false;
        if !o.awaiting_validation || o.position != Some(position) {
            return;
        }
        let epoch = o.offset_epoch.unwrap_or(0);
        match *result {
            Err(e) => {
                self.saw(e);
                cx.emit(ConsumerEffect::ConsumerRequestFailed { consumer: c, request: "OffsetsForLeaderEpoch", error: e });
                self.request_metadata(cx);
            }
            Ok(Some((end_epoch, end))) if end < position => {
                let tp = env.tps[pidx as usize];
                if policy == OffsetReset::None {
                    self.saw(KafkaError::LogTruncation);
                    self.state = ClientState::Failed;
                    cx.emit(ConsumerEffect::ConsumerFailed { consumer: c, error: KafkaError::LogTruncation, tp: Some(tp) });
                    return;
                }
                o.position = Some(end);
                o.offset_epoch = Some(end_epoch);
                o.leader_epoch = Some(current);
                o.awaiting_validation = false;
                cx.emit(ConsumerEffect::LogTruncationDetected { consumer: c, tp, position, epoch, end_offset: end });
            }
            Ok(Some(_)) => {
                o.leader_epoch = Some(current);
                o.awaiting_validation = false;
            }
            Ok(None) => {
                o.awaiting_validation = false;
                self.reset(cx, env, pidx, true);
            }
        }
    }

    pub(super) fn send_fetches(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        let now = cx.now();
        // Kafka 4.0+ (KAFKA-17182): no fetch goes to a broker that leads a partition whose records
        // are still buffered, even for its other partitions, until the application has taken them.
        let buffered_leaders: Vec<BrokerId> =
            self.owned.iter().filter(|o| !o.buffer.is_empty()).filter_map(|o| self.leaders[o.pidx as usize]).collect();
        let wanted: Vec<(u32, u64, BrokerId)> = self
            .owned
            .iter()
            .filter(|o| o.fetch.is_none() && o.buffer.is_empty() && !o.awaiting_validation)
            .filter_map(|o| Some((o.pidx, o.position?, self.leaders[o.pidx as usize]?)))
            .filter(|(_, _, leader)| !buffered_leaders.contains(leader) && self.connectable(now, *leader))
            .collect();
        let unknown_leader = self.positions().any(|(p, _)| self.leaders[p as usize].is_none());
        for (pidx, offset, leader) in wanted {
            let id = cx.next_request_id();
            if let Some(o) = self.owned_mut(pidx) {
                o.fetch = Some((id, leader));
            }
            let tp = env.tps[pidx as usize];
            let read_committed = self.config.isolation_level == IsolationLevel::ReadCommitted;
            self.send_to(cx, leader, Msg::ConsumerFetch { id, tp, offset, read_committed });
        }
        if unknown_leader {
            self.request_metadata(cx);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn fetch_response(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, id: u64, tp: Tp, records: &[LogRecord], aborted: &[(u32, u64)], error: Option<KafkaError>) {
        let c = self.index;
        let pidx = env.pidx(tp);
        if !self.end_fetch(pidx, id) {
            return;
        }
        if let Some(error) = error {
            self.saw(error);
            cx.emit(ConsumerEffect::ConsumerRequestFailed { consumer: c, request: "Fetch", error });
            if error == KafkaError::OffsetOutOfRange {
                self.reset(cx, env, pidx, true);
            } else {
                self.request_metadata(cx);
            }
            return;
        }
        let read_committed = self.config.isolation_level == IsolationLevel::ReadCommitted;
        let Some(owned) = self.owned_mut(pidx) else { return };
        let Some(position) = owned.position else { return };
        let fetched: Vec<LogRecord> = records.iter().filter(|r| r.offset >= position).copied().collect();
        let end = fetched.last().map(|r| r.offset + 1);
        owned.buffer = visible(&fetched, aborted, read_committed).into();
        // Markers and aborted records are never returned, but the position moves past them:
        // at once when nothing is left to return, else when the last record is taken.
        owned.buffer_end = end;
        if owned.buffer.is_empty() {
            if let Some(end) = end {
                owned.position = Some(end);
            }
        }
    }
}

/// What `poll()` may return of fetched records (`CompletedFetch`): never a transaction marker,
/// and under read_committed no record of a transaction the fetch response lists as aborted
/// (from its first offset until that producer's ABORT marker).
fn visible(records: &[LogRecord], aborted: &[(u32, u64)], read_committed: bool) -> Vec<LogRecord> {
    let mut out = Vec::with_capacity(records.len());
    let mut pending: Vec<(u32, u64)> = aborted.to_vec();
    pending.sort_by_key(|&(_, first)| first);
    let mut aborting: Vec<u32> = Vec::new();
    for r in records {
        if read_committed {
            while let Some(&(pid, first)) = pending.first() {
                if first > r.offset {
                    break;
                }
                aborting.push(pid);
                pending.remove(0);
            }
        }
        match r.kind {
            RecordKind::Abort => aborting.retain(|&p| p != r.pid),
            RecordKind::Commit => {}
            RecordKind::Transactional if aborting.contains(&r.pid) => {}
            RecordKind::Transactional | RecordKind::Plain => out.push(*r),
        }
    }
    out
}

/// What one `poll()` takes from the fetch buffers: the records it returns, the records its
/// deserializer failed on, and the values it read otherwise than they were written.
pub(super) struct Taken {
    records: Vec<(u32, LogRecord)>,
    failed: Vec<(u32, LogRecord, String)>,
    resolved: Vec<(u32, u64, String)>,
}
