//! Replication between a leader and its followers: the followers' fetch loop with its backoff and
//! watchdog, the leader's answers (parked until data arrives or `replica.fetch.wait.max.ms`),
//! truncation by leader epoch, and the leader's ISR checks that ask the controller to shrink or
//! expand the ISR.
//!
//! Both sides are methods of [`Broker`] that reach the rest of the simulation through a [`Ctx`]
//! and the cluster's [`Layout`]. The root joins a follower's fetch at the leader
//! (`sim::broker_glue`): between checking the fetch and answering it, the leader moves its high
//! watermark, which completes produce requests and consumer fetches.

use crate::sim::cluster::effect::ClusterEffect;
use crate::sim::ctx::Ctx;
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, LogRecord, NodeId};
use super::broker::{Broker, Parked, Replica, Role};
use super::Layout;

/// A follower's fetch request as the leader reads it.
pub(crate) struct FollowerFetch {
    pub(crate) id: u64,
    pub(crate) replica: BrokerId,
    pub(crate) fetch_offset: u64,
    pub(crate) last_fetched_epoch: Option<u32>,
    pub(crate) their_epoch: u32,
}

/// The leaders' side of replication. Each handler reads the clock and sends, sets timers and
/// reports effects through `cx`; `layout` gives the partitions and the settings.
impl Broker {
    pub(crate) fn send_fetch_error(&self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, id: u64, replica: BrokerId, error: KafkaError) {
        self.send_fetch_response(cx, layout, pidx, id, replica, Vec::new(), None, Some(error));
    }

    fn send_fetch_data(&self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, id: u64, replica: BrokerId, records: Vec<LogRecord>) {
        self.send_fetch_response(cx, layout, pidx, id, replica, records, None, None);
    }

    /// Answers a follower's fetch with this replica's epoch, HW and log start.
    #[allow(clippy::too_many_arguments)]
    fn send_fetch_response(
        &self,
        cx: &mut Ctx<'_, ClusterEffect>,
        layout: &Layout,
        pidx: u32,
        id: u64,
        replica: BrokerId,
        records: Vec<LogRecord>,
        diverging: Option<(u32, u64)>,
        error: Option<KafkaError>,
    ) {
        let rep = self.replicas[pidx as usize].as_deref().expect("replica exists");
        let msg = Msg::FetchResponse {
            id,
            tp: layout.tps[pidx as usize],
            leader_epoch: rep.leader_epoch,
            records,
            high_watermark: rep.log.high_watermark(),
            log_start_offset: rep.log.log_start(),
            diverging,
            error,
        };
        cx.send(NodeId::Broker(self.id), NodeId::Broker(replica), msg);
    }

    /// The first half of a follower's fetch: validates it, records the follower's progress and
    /// asks the controller to add a caught-up follower to the ISR. The records to answer with, or
    /// none when the fetch was answered already (with an error or a diverging epoch).
    pub(crate) fn leader_fetch_check(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, fetch: &FollowerFetch, shutting_down: bool) -> Option<Vec<LogRecord>> {
        let now = cx.now();
        let tp = layout.tps[pidx as usize];
        let max_bytes = layout.config.replica_fetch_max_bytes;
        let &FollowerFetch { id, replica, fetch_offset, last_fetched_epoch, their_epoch } = fetch;
        let b = self.id;
        let rep = self.replicas[pidx as usize].as_deref()?;
        let rejection = if !matches!(rep.role, Role::Leader(_)) {
            Some(KafkaError::NotLeaderOrFollower)
        } else if their_epoch < rep.leader_epoch {
            Some(KafkaError::FencedLeaderEpoch)
        } else if their_epoch > rep.leader_epoch {
            Some(KafkaError::UnknownLeaderEpoch)
        } else {
            None
        };
        if let Some(error) = rejection {
            self.send_fetch_error(cx, layout, pidx, id, replica, error);
            return None;
        }
        let log = &rep.log;
        if let Some(epoch) = last_fetched_epoch {
            match log.end_offset_for_epoch(epoch) {
                Some((le, end)) if le == epoch && end >= fetch_offset => {}
                Some(diverging) => {
                    self.send_fetch_response(cx, layout, pidx, id, replica, Vec::new(), Some(diverging), None);
                    return None;
                }
                None => {
                    self.send_fetch_error(cx, layout, pidx, id, replica, KafkaError::OffsetOutOfRange);
                    return None;
                }
            }
        }
        if fetch_offset < log.log_start() || fetch_offset > log.leo() {
            self.send_fetch_error(cx, layout, pidx, id, replica, KafkaError::OffsetOutOfRange);
            return None;
        }
        let leader_leo = log.leo();
        let hw = log.high_watermark();
        let epoch_start = log.epochs().last().map_or(0, |e| e.1);
        let records = log.read(fetch_offset, max_bytes);
        let rep = self.replicas[pidx as usize].as_deref_mut().expect("leader");
        let isr = rep.isr.clone();
        let Role::Leader(ls) = &mut rep.role else { return None };
        if let Some(f) = ls.followers.iter_mut().find(|f| f.id == replica) {
            // Kafka's `Replica.updateFetchState`.
            if fetch_offset >= leader_leo {
                f.last_caught_up = f.last_caught_up.max(now);
            } else if fetch_offset >= f.last_fetch_leader_leo {
                f.last_caught_up = f.last_caught_up.max(f.last_fetch_time);
            }
            f.last_fetch_leader_leo = leader_leo;
            f.last_fetch_time = now;
            f.leo = Some(fetch_offset);
        }
        // ISR expansion: a caught-up follower (LEO ≥ HW and ≥ the start of the current epoch).
        if ls.pending_isr.is_none() && !isr.contains(&replica) && !shutting_down && fetch_offset >= hw && fetch_offset >= epoch_start {
            let mut new_isr = isr.clone();
            new_isr.push(replica);
            ls.pending_isr = Some(new_isr.clone());
            cx.emit(ClusterEffect::IsrExpandRequested { tp, leader: b, added: replica, follower_leo: fetch_offset });
            self.send_alter_partition(cx, layout, pidx, new_isr);
        }
        Some(records)
    }

    /// The second half of a follower's fetch: the records go out now, or, when there are none,
    /// the fetch waits for data or `replica.fetch.wait.max.ms`.
    pub(crate) fn leader_fetch_answer(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, fetch: &FollowerFetch, records: Vec<LogRecord>) {
        if !records.is_empty() {
            return self.send_fetch_data(cx, layout, pidx, fetch.id, fetch.replica, records);
        }
        if let Some(Role::Leader(ls)) = self.replicas[pidx as usize].as_deref_mut().map(|r| &mut r.role) {
            ls.parked.push(Parked { fetch: fetch.id, replica: fetch.replica, fetch_offset: fetch.fetch_offset });
        }
        let at = cx.now() + layout.config.replica_fetch_wait_max_ms;
        cx.set_timer(at, Timer::FetchWait { broker: self.id, incarnation: self.incarnation, pidx, fetch: fetch.id });
    }

    fn send_alter_partition(&self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, new_isr: Vec<BrokerId>) {
        let rep = self.replicas[pidx as usize].as_deref().expect("leader");
        let msg = Msg::AlterPartition {
            tp: layout.tps[pidx as usize],
            leader: self.id,
            leader_epoch: rep.leader_epoch,
            partition_epoch: rep.partition_epoch,
            new_isr,
        };
        cx.send(NodeId::Broker(self.id), NodeId::Controller, msg);
    }

    /// New data arrived: every parked fetch is answered now.
    pub(super) fn leader_answer_parked(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32) {
        let max_bytes = layout.config.replica_fetch_max_bytes;
        let Some(Role::Leader(ls)) = self.replica_mut(pidx).map(|r| &mut r.role) else { return };
        let parked = std::mem::take(&mut ls.parked);
        for p in parked {
            let records = self.replicas[pidx as usize].as_deref().expect("leader").log.read(p.fetch_offset, max_bytes);
            self.send_fetch_data(cx, layout, pidx, p.fetch, p.replica, records);
        }
    }

    pub(crate) fn leader_fetch_wait_expired(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, incarnation: u32, pidx: u32, fetch: u64) -> bool {
        if !self.timer_is_live(incarnation) {
            return false;
        }
        let Some(Role::Leader(ls)) = self.replica_mut(pidx).map(|r| &mut r.role) else { return false };
        let Some(pos) = ls.parked.iter().position(|p| p.fetch == fetch) else { return false };
        let p = ls.parked.remove(pos);
        self.send_fetch_data(cx, layout, pidx, p.fetch, p.replica, Vec::new());
        true
    }

    /// Kafka's isr-expiration task: followers not caught up within `replica.lag.time.max.ms`
    /// are proposed for removal. Only a check that requests a change is a step.
    pub(crate) fn leader_isr_check(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, incarnation: u32) -> bool {
        if !self.timer_is_live(incarnation) {
            return false;
        }
        let now = cx.now();
        let b = self.id;
        let max_lag = layout.config.replica_lag_time_max_ms;
        cx.set_timer(now + (max_lag / 2).max(1), Timer::IsrCheck { broker: b, incarnation });
        let mut changed = false;
        for pidx in 0..self.replicas.len() as u32 {
            let Some(rep) = self.replicas[pidx as usize].as_deref() else { continue };
            let Role::Leader(ls) = &rep.role else { continue };
            if ls.pending_isr.is_some() {
                continue;
            }
            let leo = rep.log.leo();
            let mut lag_ms = 0;
            let out: Vec<BrokerId> = rep
                .isr
                .iter()
                .copied()
                .filter(|&m| m != b)
                .filter(|&m| match ls.followers.iter().find(|f| f.id == m) {
                    Some(f) => {
                        let caught_up = f.leo == Some(leo) || now - f.last_caught_up <= max_lag;
                        if !caught_up {
                            lag_ms = lag_ms.max(now - f.last_caught_up);
                        }
                        !caught_up
                    }
                    None => false,
                })
                .collect();
            if out.is_empty() {
                continue;
            }
            let new_isr: Vec<BrokerId> = rep.isr.iter().copied().filter(|m| !out.contains(m)).collect();
            let tp = layout.tps[pidx as usize];
            if let Some(Role::Leader(ls)) = self.replica_mut(pidx).map(|r| &mut r.role) {
                ls.pending_isr = Some(new_isr.clone());
            }
            cx.emit(ClusterEffect::IsrShrinkRequested { tp, leader: b, removed: out, lag_ms, max_lag_ms: max_lag });
            self.send_alter_partition(cx, layout, pidx, new_isr);
            changed = true;
        }
        changed
    }
}

/// The followers' side of replication. Each handler reads the clock, takes request ids and sends,
/// sets timers and reports effects through `cx`; `layout` gives the partitions and the settings.
impl Broker {
    fn replica_mut(&mut self, pidx: u32) -> Option<&mut Replica> {
        self.replicas[pidx as usize].as_deref_mut()
    }

    pub(crate) fn follower_send_fetch(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32) {
        let now = cx.now();
        let tp = layout.tps[pidx as usize];
        let timeout = layout.config.replica_socket_timeout_ms;
        // Taken before knowing whether a fetch goes out, as the ids of the trace always were.
        let id = cx.next_request_id();
        let (b, incarnation) = (self.id, self.incarnation);
        let Some(rep) = self.replica_mut(pidx) else { return };
        let Some(leader) = rep.leader else { return };
        let Role::Follower(fs) = &mut rep.role else { return };
        fs.outstanding = Some((id, now));
        let needs_watchdog = !fs.watchdog;
        fs.watchdog = true;
        let msg = Msg::Fetch {
            id,
            tp,
            replica: b,
            fetch_offset: rep.log.leo(),
            last_fetched_epoch: if rep.log.leo() > rep.log.log_start() { rep.log.latest_epoch() } else { None },
            leader_epoch: rep.leader_epoch,
        };
        cx.send(NodeId::Broker(b), NodeId::Broker(leader), msg);
        if needs_watchdog {
            cx.set_timer(now + timeout, Timer::FetchWatchdog { broker: b, incarnation, pidx });
        }
    }

    pub(crate) fn follower_fetch_response(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, resp: FetchReply<'_>) {
        let tp = layout.tps[pidx as usize];
        let now = cx.now();
        let backoff = layout.config.replica_fetch_backoff_ms;
        let (b, incarnation) = (self.id, self.incarnation);
        let Some(rep) = self.replica_mut(pidx) else { return };
        let Role::Follower(fs) = &mut rep.role else { return };
        if fs.outstanding.map(|o| o.0) != Some(resp.id) {
            return;
        }
        fs.outstanding = None;
        if let Some(error) = resp.error {
            if error == KafkaError::OffsetOutOfRange && rep.log.leo() < resp.log_start {
                // Kafka's truncateFullyAndStartAt: the leader no longer has what we need.
                let from = rep.log.leo();
                let mut removed = rep.log.truncate_to(rep.log.log_start());
                removed.extend(rep.log.advance_log_start(resp.log_start));
                cx.emit(ClusterEffect::Truncated { tp, broker: b, from, to: resp.log_start, removed, leader_epoch_end: (0, resp.log_start) });
                return self.follower_send_fetch(cx, layout, pidx);
            }
            cx.emit(ClusterEffect::FetchFailed { tp, broker: b, error, retry_at: now + backoff });
            cx.set_timer(now + backoff, Timer::FetchBackoff { broker: b, incarnation, pidx });
            return;
        }
        if resp.leader_epoch != rep.leader_epoch {
            return self.follower_send_fetch(cx, layout, pidx);
        }
        if let Some((epoch, end)) = resp.diverging {
            // KIP-101/KIP-279: truncate to the end of the last epoch both logs agree on.
            let own_end = match rep.log.end_offset_for_epoch(epoch) {
                Some((_, own)) => own,
                None => rep.log.log_start(),
            };
            let target = end.min(own_end).min(rep.log.leo());
            let from = rep.log.leo();
            let removed = rep.log.truncate_to(target);
            cx.emit(ClusterEffect::Truncated { tp, broker: b, from, to: target, removed, leader_epoch_end: (epoch, end) });
            return self.follower_send_fetch(cx, layout, pidx);
        }
        let leo = rep.log.leo();
        let fresh: Vec<LogRecord> = resp.records.iter().filter(|r| r.offset >= leo).copied().collect();
        if fresh.first().is_some_and(|r| r.offset == leo) {
            rep.log.append(&fresh);
            rep.log.flush_if_due(layout.topics[tp.topic as usize].config.flush_messages);
            let count = fresh.len() as u32;
            let new_leo = rep.log.leo();
            cx.emit(ClusterEffect::FollowerAppended { tp, broker: b, first_offset: leo, count, leo: new_leo });
        }
        if resp.log_start > rep.log.log_start() {
            let removed = rep.log.advance_log_start(resp.log_start);
            if !removed.is_empty() {
                cx.emit(ClusterEffect::RetentionDeleted { tp, broker: b, records: removed, log_start: resp.log_start });
            }
        }
        let old_hw = rep.log.high_watermark();
        let new_hw = resp.high_watermark.min(rep.log.leo());
        if new_hw > old_hw {
            rep.log.set_high_watermark(new_hw);
            cx.emit(ClusterEffect::HighWatermark { tp, broker: b, from: old_hw, to: new_hw, leader: false });
        }
        self.follower_send_fetch(cx, layout, pidx);
    }

    pub(crate) fn follower_connection_failed(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, id: u64) {
        let now = cx.now();
        let tp = layout.tps[pidx as usize];
        let backoff = layout.config.replica_fetch_backoff_ms;
        let (b, incarnation) = (self.id, self.incarnation);
        let Some(Role::Follower(fs)) = self.replica_mut(pidx).map(|r| &mut r.role) else { return };
        if fs.outstanding.map(|o| o.0) != Some(id) {
            return;
        }
        fs.outstanding = None;
        cx.emit(ClusterEffect::FetchFailed { tp, broker: b, error: KafkaError::NetworkException, retry_at: now + backoff });
        cx.set_timer(now + backoff, Timer::FetchBackoff { broker: b, incarnation, pidx });
    }

    pub(crate) fn follower_backoff_done(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, incarnation: u32, pidx: u32) -> bool {
        if !self.timer_is_live(incarnation) {
            return false;
        }
        match self.replicas[pidx as usize].as_deref().map(|r| &r.role) {
            Some(Role::Follower(fs)) if fs.outstanding.is_none() => {
                self.follower_send_fetch(cx, layout, pidx);
                true
            }
            _ => false,
        }
    }

    /// Checks the outstanding fetch against `replica.socket.timeout.ms`. Re-arming is housekeeping,
    /// not a step; only a real timeout is.
    pub(crate) fn follower_watchdog(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, incarnation: u32, pidx: u32) -> bool {
        if !self.timer_is_live(incarnation) {
            return false;
        }
        let now = cx.now();
        let tp = layout.tps[pidx as usize];
        let timeout = layout.config.replica_socket_timeout_ms;
        let backoff = layout.config.replica_fetch_backoff_ms;
        let b = self.id;
        let Some(rep) = self.replica_mut(pidx) else { return false };
        let Role::Follower(fs) = &mut rep.role else { return false };
        match fs.outstanding {
            Some((_, sent)) if sent + timeout <= now => {
                fs.outstanding = None;
                fs.watchdog = false;
                cx.emit(ClusterEffect::FetchFailed { tp, broker: b, error: KafkaError::RequestTimedOut, retry_at: now + backoff });
                cx.set_timer(now + backoff, Timer::FetchBackoff { broker: b, incarnation, pidx });
                true
            }
            Some((_, sent)) => {
                cx.set_timer(sent + timeout, Timer::FetchWatchdog { broker: b, incarnation, pidx });
                false
            }
            None => {
                fs.watchdog = false;
                false
            }
        }
    }
}

/// A fetch response as the follower reads it.
pub(crate) struct FetchReply<'a> {
    pub(crate) id: u64,
    pub(crate) leader_epoch: u32,
    pub(crate) records: &'a [LogRecord],
    pub(crate) high_watermark: u64,
    pub(crate) log_start: u64,
    pub(crate) diverging: Option<(u32, u64)>,
    pub(crate) error: Option<KafkaError>,
}
