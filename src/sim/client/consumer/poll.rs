//! The consumer's poll loop: `poll()` handing buffered records to the application, processing
//! (between polls or on a worker thread), positions looked up from committed offsets or
//! `auto.offset.reset`, and the fetcher that keeps the buffer filled.

use super::{AppState, ClientState, CommitPolicy, MemberState, Request};
use crate::sim::config::OffsetReset;
use crate::sim::client::effect::{CommitKind, ConsumerEffect};
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, LogRecord, Tp};
use crate::sim::Sim;

impl Sim {
    /// The application calls `poll()`: join if needed, auto-commit when due, find positions,
    /// fetch, and return up to `max.poll.records` buffered records.
    pub(crate) fn consumer_poll(&mut self, c: u32) {
        let now = self.io.now;
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
    pub(super) fn consumer_take_records(&mut self, c: u32) -> Vec<(u32, LogRecord)> {
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

    pub(super) fn consumer_schedule_processing(&mut self, c: u32) {
        let cons = &self.consumers[c as usize];
        let at = (self.io.now + cons.app_behaviour.processing_ms).max(cons.stalled_until);
        let incarnation = cons.incarnation;
        self.schedule_timer(at, Timer::ConsumerProcessed { consumer: c, incarnation });
    }

    pub(super) fn consumer_worker_next(&mut self, c: u32) {
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
        let now = self.io.now;
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

    pub(super) fn consumer_back_to_poll(&mut self, c: u32) {
        self.cons(c).app = AppState::Polling;
        self.consumer_poll(c);
    }

    /// The stall is over: the application calls `poll()` again.
    pub(crate) fn consumer_poll_timer(&mut self, c: u32, incarnation: u32) -> bool {
        if !self.consumer_live(c, incarnation) || self.consumers[c as usize].app != AppState::Stalled {
            return false;
        }
        if self.io.now < self.consumers[c as usize].stalled_until {
            return false;
        }
        self.consumer_back_to_poll(c);
        true
    }

    pub(super) fn consumer_lookup_offsets(&mut self, c: u32) {
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

    pub(super) fn consumer_offset_fetch_response(&mut self, c: u32, partitions: &[u32], result: &Result<Vec<(Tp, Option<u64>)>, KafkaError>) {
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
    pub(super) fn consumer_reset(&mut self, c: u32, pidx: u32, out_of_range: bool) {
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
    pub(super) fn note_deleted_unread(&mut self, group: u32, pidx: u32, from: u64, to: u64) {
        let Some(leader) = self.controller.parts[pidx as usize].leader else { return };
        let Some(start) = self.replica(leader, pidx).map(|r| r.log.log_start()) else { return };
        let deleted = to.min(start).saturating_sub(from);
        if deleted > 0 {
            *self.ledger.group_mut(group).deleted_unread.entry(pidx).or_insert(0) += deleted;
        }
    }

    pub(super) fn consumer_send_fetches(&mut self, c: u32) {
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

    pub(super) fn consumer_fetch_response(&mut self, c: u32, id: u64, tp: Tp, records: &[LogRecord], error: Option<KafkaError>) {
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
}
