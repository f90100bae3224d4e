//! The root's glue to the brokers: their lifecycle (start, crash, controlled shutdown, heartbeats
//! to the controller), the dispatch of what they receive, the metadata changes the controller
//! sends them, retention, and a follower's fetch at its leader. These need more than the cluster
//! layer: a stopping or crashing broker loses the groups it coordinated and resets the consumers'
//! connections, a broker passes group requests to the group coordinator, a change of leadership
//! of a `__consumer_offsets` partition loads or unloads groups, and between checking a follower's
//! fetch and answering it the leader moves its high watermark, which completes produce requests
//! and offset commits (`produce_glue`). What one broker does alone is a method of [`Broker`] in
//! the cluster layer, run through [`Sim::with_broker`].

use super::cluster::broker::{FollowerInfo, FollowerState, LeaderState, PendingShutdown, Replica, Role};
use super::cluster::effect::ClusterEffect;
use super::cluster::log::ReplicaLog;
use super::cluster::produce::ConsumerFetchAt;
use super::cluster::replication::{FetchReply, FollowerFetch};
use super::msg::Msg;
use super::txn_glue::ProduceRequest;
use super::timer::Timer;
use super::types::{BrokerId, KafkaError, NodeId};
use super::Sim;

impl Sim {
    pub(crate) fn start_broker(&mut self, b: BrokerId) {
        let now = self.io.now;
        let cfg = self.broker_config.clone();
        self.forget_coordinated_groups(b);
        self.forget_coordinated_txns(b);
        let broker = self.broker_mut(b);
        broker.up = true;
        broker.incarnation += 1;
        broker.previous_broker_epoch = broker.clean_shutdown_file.take();
        let incarnation = broker.incarnation;
        for r in broker.replicas.iter_mut().flatten() {
            r.role = Role::Unknown;
            r.leader = None;
            // What the log loader read back at start-up is on disk.
            r.log.flush();
        }
        // A restarted broker registers at once; at time 0 every broker is already registered.
        let first_heartbeat = if now == 0 { cfg.broker_heartbeat_interval_ms } else { now };
        self.schedule_timer(first_heartbeat, Timer::Heartbeat { broker: b, incarnation });
        self.schedule_timer(now + (cfg.replica_lag_time_max_ms / 2).max(1), Timer::IsrCheck { broker: b, incarnation });
        self.schedule_timer(
            now + cfg.log_retention_check_interval_ms.max(1),
            Timer::RetentionCheck { broker: b, incarnation },
        );
        // The transaction coordinator's timeout sweep, first run one interval after start-up.
        if !self.txn_ids.is_empty() {
            let interval = cfg.transaction_abort_timed_out_transaction_cleanup_interval_ms.max(1);
            self.schedule_timer(now + interval, Timer::TxnSweep { broker: b, incarnation });
        }
    }

    pub(crate) fn apply_initial_metadata(&mut self, b: BrokerId) {
        for pidx in 0..self.tps.len() as u32 {
            if self.broker(b).replicas[pidx as usize].is_none() {
                continue;
            }
            let state = self.controller.parts[pidx as usize].clone();
            self.apply_partition_change(b, pidx, state.leader, state.leader_epoch, &state.isr, state.partition_epoch);
        }
    }

    /// A timer of broker `b` only counts if the broker is up and in the incarnation that set it.
    pub(crate) fn timer_is_live(&self, b: BrokerId, incarnation: u32) -> bool {
        self.broker(b).timer_is_live(incarnation)
    }

    pub(crate) fn crash_broker(&mut self, b: BrokerId) {
        if !self.broker(b).up {
            return;
        }
        self.emit(ClusterEffect::BrokerCrashed { broker: b });
        self.stop_broker(b);
    }

    /// The machine loses power. Simplified to the worst case: the operating system had written
    /// none of the page cache back, so each log falls back to its recovery point (Kafka writes
    /// back nothing itself with the default `flush.messages`, but the kernel writes dirty pages
    /// back after about 30 s). The restart after it is unclean, as after a crash.
    pub(crate) fn power_loss(&mut self, b: BrokerId) {
        if !self.broker(b).up {
            return;
        }
        let tps = &self.tps;
        let mut lost = Vec::new();
        for (pidx, rep) in self.brokers[(b - 1) as usize].replicas.iter_mut().enumerate() {
            let Some(rep) = rep else { continue };
            let (from, to) = (rep.log.leo(), rep.log.recovery_point());
            if from > to {
                rep.log.truncate_to(to);
                lost.push((tps[pidx], from, to));
            }
        }
        self.emit(ClusterEffect::BrokerPowerLost { broker: b, lost });
        self.stop_broker(b);
    }

    /// The process stops: its in-memory state is gone, its log stays on disk.
    pub(super) fn stop_broker(&mut self, b: BrokerId) {
        self.forget_coordinated_groups(b);
        self.forget_coordinated_txns(b);
        let broker = self.broker_mut(b);
        broker.up = false;
        broker.controlled_shutdown = None;
        for r in broker.replicas.iter_mut().flatten() {
            r.role = Role::Unknown;
            r.leader = None;
        }
        for c in 0..self.consumers.len() as u32 {
            self.with_consumer(c, |cons, cx, env| cons.broker_crashed(cx, env, b));
        }
    }

    pub(crate) fn broker_heartbeat(&mut self, b: BrokerId, incarnation: u32) -> bool {
        // In controlled shutdown the heartbeats follow the controller's answers instead.
        if !self.timer_is_live(b, incarnation) || self.broker(b).controlled_shutdown.is_some() {
            return false;
        }
        let previous_broker_epoch = self.broker(b).previous_broker_epoch;
        let msg = Msg::Heartbeat { broker: b, incarnation, want_shut_down: false, previous_broker_epoch };
        self.send(NodeId::Broker(b), NodeId::Controller, msg);
        let next = self.io.now + self.broker_config.broker_heartbeat_interval_ms;
        self.schedule_timer(next, Timer::Heartbeat { broker: b, incarnation });
        true
    }

    /// `BrokerLifecycleManager.beginControlledShutdown`: the broker enters
    /// PENDING_CONTROLLED_SHUTDOWN and heartbeats at once with `wantShutDown`, so that the
    /// controller can move its leaderships away before it stops.
    pub(crate) fn begin_controlled_shutdown(&mut self, b: BrokerId) {
        let broker = self.broker_mut(b);
        if !broker.up || broker.controlled_shutdown.is_some() {
            return;
        }
        broker.controlled_shutdown = Some(PendingShutdown { seq: 0, answered: false });
        self.emit(ClusterEffect::ControlledShutdownBegan { broker: b });
        self.send_shutdown_heartbeat(b);
    }

    /// Sends a heartbeat with `wantShutDown`. If no answer comes (a cut link), the next one goes
    /// after `broker.heartbeat.interval.ms`, as Kafka schedules it after a failed request.
    pub(super) fn send_shutdown_heartbeat(&mut self, b: BrokerId) {
        let interval = self.broker_config.broker_heartbeat_interval_ms;
        let broker = self.broker_mut(b);
        let Some(pending) = broker.controlled_shutdown.as_mut() else { return };
        pending.seq += 1;
        let (incarnation, seq, previous_broker_epoch) = (broker.incarnation, pending.seq, broker.previous_broker_epoch);
        self.send(NodeId::Broker(b), NodeId::Controller, Msg::Heartbeat { broker: b, incarnation, want_shut_down: true, previous_broker_epoch });
        self.schedule_timer(self.io.now + interval, Timer::ShutdownHeartbeat { broker: b, incarnation, seq });
    }

    pub(crate) fn broker_shutdown_heartbeat(&mut self, b: BrokerId, incarnation: u32, seq: u32) -> bool {
        let current = self.broker(b).controlled_shutdown.as_ref().map(|p| p.seq);
        if !self.timer_is_live(b, incarnation) || current != Some(seq) {
            return false;
        }
        self.send_shutdown_heartbeat(b);
        true
    }

    /// The controller's answer to a shutdown heartbeat: stop cleanly, or heartbeat again (50 ms
    /// after the first answer, then at the usual interval) until it may.
    pub(super) fn broker_heartbeat_response(&mut self, b: BrokerId, should_shut_down: bool) {
        let interval = self.broker_config.broker_heartbeat_interval_ms;
        let broker = self.broker_mut(b);
        let incarnation = broker.incarnation;
        let Some(pending) = broker.controlled_shutdown.as_mut() else { return };
        if should_shut_down {
            // The clean-shutdown file records the incarnation, for the next registration; the
            // logs are flushed before it is written.
            broker.clean_shutdown_file = Some(incarnation);
            for r in broker.replicas.iter_mut().flatten() {
                r.log.flush();
            }
            self.emit(ClusterEffect::BrokerShutDown { broker: b });
            self.stop_broker(b);
            return;
        }
        pending.seq += 1;
        let delay = if pending.answered { interval } else { 50 };
        pending.answered = true;
        let seq = pending.seq;
        self.schedule_timer(self.io.now + delay, Timer::ShutdownHeartbeat { broker: b, incarnation, seq });
    }

    pub(crate) fn broker_receive(&mut self, b: BrokerId, from: NodeId, msg: &Msg) {
        match msg {
            Msg::ConsumerFetch { id, tp, offset, read_committed } => {
                let NodeId::Consumer(c) = from else { return };
                let pidx = self.pidx(*tp);
                let cfg = &self.consumers[c as usize].config;
                let limits = (cfg.max_partition_fetch_bytes, cfg.fetch_max_wait_ms);
                let fetch = ConsumerFetchAt { consumer: c, id: *id, offset: *offset, read_committed: *read_committed };
                self.with_broker(b, |broker, cx, layout| broker.leader_consumer_fetch(cx, layout, pidx, fetch, limits));
            }
            Msg::HeartbeatResponse { should_shut_down } => self.broker_heartbeat_response(b, *should_shut_down),
            Msg::ApiVersions => self.send(NodeId::Broker(b), from, Msg::ApiVersionsResponse { broker: b }),
            Msg::ListOffsets { req, tp, earliest, read_committed } => {
                let pidx = self.pidx(*tp);
                let result = match self.replica(b, pidx) {
                    Some(r) if matches!(r.role, Role::Leader(_)) => {
                        Ok(match (*earliest, *read_committed) {
                            (true, _) => r.log.log_start(),
                            (false, true) => r.log.last_stable_offset(),
                            (false, false) => r.log.high_watermark(),
                        })
                    }
                    _ => Err(KafkaError::NotLeaderOrFollower),
                };
                self.send(NodeId::Broker(b), from, Msg::ListOffsetsResponse { req: *req, tp: *tp, result });
            }
            // KIP-320: a consumer validating its position after a leader change. The same answer as a
            // follower's divergence check gives (`end_offset_for_epoch`).
            Msg::ConsumerOffsetsForLeaderEpoch { req, tp, current_leader_epoch, leader_epoch } => {
                let pidx = self.pidx(*tp);
                let result = match self.replica(b, pidx) {
                    Some(r) if matches!(r.role, Role::Leader(_)) => {
                        if *current_leader_epoch < r.leader_epoch {
                            Err(KafkaError::FencedLeaderEpoch)
                        } else if *current_leader_epoch > r.leader_epoch {
                            Err(KafkaError::UnknownLeaderEpoch)
                        } else {
                            Ok(r.log.end_offset_for_epoch(*leader_epoch))
                        }
                    }
                    _ => Err(KafkaError::NotLeaderOrFollower),
                };
                self.send(NodeId::Broker(b), from, Msg::ConsumerOffsetsForLeaderEpochResponse { req: *req, tp: *tp, result });
            }
            Msg::JoinGroup { .. }
            | Msg::SyncGroup { .. }
            | Msg::GroupHeartbeat { .. }
            | Msg::LeaveGroup { .. }
            | Msg::OffsetCommit { .. }
            | Msg::OffsetFetch { .. } => {
                if let NodeId::Consumer(c) = from {
                    self.coordinator_receive(b, c, msg);
                }
            }
            Msg::TxnOffsetCommit { .. } => {
                if let NodeId::Producer(p) = from {
                    self.txn_offset_commit_receive(b, p, msg);
                }
            }
            Msg::Produce { req, tp, acks, pid, producer_epoch, base_seq, records, transactional_id } => {
                let NodeId::Producer(producer) = from else { return };
                let pidx = self.pidx(*tp);
                let produce = ProduceRequest {
                    producer,
                    req: *req,
                    acks: *acks,
                    pid: *pid,
                    epoch: *producer_epoch,
                    base_seq: *base_seq,
                    records: records.clone(),
                    txn: *transactional_id,
                };
                self.leader_produce(b, pidx, &produce, false);
            }
            Msg::InitProducerId { .. }
            | Msg::EndTxn { .. }
            | Msg::AddPartitionsToTxn { .. }
            | Msg::AddPartitionsToTxnResponse { .. }
            | Msg::WriteTxnMarkers { .. }
            | Msg::WriteTxnMarkersResponse { .. } => self.txn_receive(b, from, msg),
            Msg::Fetch { id, tp, replica, fetch_offset, last_fetched_epoch, leader_epoch } => {
                let pidx = self.pidx(*tp);
                self.leader_fetch(b, pidx, *id, *replica, *fetch_offset, *last_fetched_epoch, *leader_epoch);
            }
            Msg::FetchResponse { id, tp, leader_epoch, records, high_watermark, log_start_offset, diverging, error } => {
                let pidx = self.pidx(*tp);
                let resp = FetchReply {
                    id: *id,
                    leader_epoch: *leader_epoch,
                    records,
                    high_watermark: *high_watermark,
                    log_start: *log_start_offset,
                    diverging: *diverging,
                    error: *error,
                };
                self.with_broker(b, |broker, cx, layout| broker.follower_fetch_response(cx, layout, pidx, resp));
            }
            Msg::PartitionChange { tp, leader, leader_epoch, isr, partition_epoch } => {
                let pidx = self.pidx(*tp);
                self.apply_partition_change(b, pidx, *leader, *leader_epoch, isr, *partition_epoch);
            }
            _ => {}
        }
    }

    pub(crate) fn replica(&self, b: BrokerId, pidx: u32) -> Option<&Replica> {
        self.broker(b).replicas[pidx as usize].as_deref()
    }

    /// The log of partition `pidx`'s current leader (none while it has no leader).
    pub(crate) fn leader_log(&self, pidx: u32) -> Option<&ReplicaLog> {
        let leader = self.controller.parts[pidx as usize].leader?;
        self.replica(leader, pidx).map(|r| &r.log)
    }

    pub(super) fn replica_mut(&mut self, b: BrokerId, pidx: u32) -> Option<&mut Replica> {
        self.broker_mut(b).replicas[pidx as usize].as_deref_mut()
    }

    /// Applies the controller's view of a partition on broker `b`: become leader, follower, or
    /// just learn a new ISR.
    pub(crate) fn apply_partition_change(
        &mut self,
        b: BrokerId,
        pidx: u32,
        leader: Option<BrokerId>,
        leader_epoch: u32,
        isr: &[BrokerId],
        partition_epoch: u32,
    ) {
        let now = self.io.now;
        let tp = self.tp(pidx);
        let Some(rep) = self.replica_mut(b, pidx) else { return };
        let unknown = matches!(rep.role, Role::Unknown);
        if leader_epoch < rep.leader_epoch || (leader_epoch == rep.leader_epoch && partition_epoch < rep.partition_epoch) {
            return;
        }
        let new_epoch = leader_epoch > rep.leader_epoch || unknown;
        rep.isr = isr.to_vec();
        rep.partition_epoch = partition_epoch;
        if !new_epoch {
            if let Role::Leader(ls) = &mut rep.role {
                ls.pending_isr = None;
            }
            self.leader_maybe_advance_hw(b, pidx);
            return;
        }
        rep.leader_epoch = leader_epoch;
        rep.leader = leader;
        let old_role = std::mem::replace(&mut rep.role, Role::Unknown);
        if leader == Some(b) {
            rep.log.start_epoch(leader_epoch);
            let leo = rep.log.leo();
            // The ISR is always a subset of the assigned replicas, so these are every possible follower.
            let followers = self.controller.parts[pidx as usize]
                .replicas
                .iter()
                .filter(|&&f| f != b)
                .map(|&id| FollowerInfo { id, leo: None, last_caught_up: now, last_fetch_time: now, last_fetch_leader_leo: 0 })
                .collect();
            let rep = self.replica_mut(b, pidx).expect("replica exists");
            rep.role = Role::Leader(LeaderState { followers, ..LeaderState::default() });
            self.emit(ClusterEffect::BecameLeader { tp, broker: b, epoch: leader_epoch, leo });
            self.leader_maybe_advance_hw(b, pidx);
            self.coordinator_load(b, pidx);
            self.txn_coordinator_load(b, pidx);
        } else {
            if let Role::Leader(old) = old_role {
                self.abandon_leadership(b, pidx, old);
                self.coordinator_unload(b, pidx);
                self.txn_coordinator_unload(b, pidx);
            }
            let rep = self.replica_mut(b, pidx).expect("replica exists");
            rep.role = Role::Follower(FollowerState::default());
            self.emit(ClusterEffect::BecameFollower { tp, broker: b, leader, epoch: leader_epoch });
            if leader.is_some() {
                self.with_broker(b, |broker, cx, layout| broker.follower_send_fetch(cx, layout, pidx));
            }
        }
    }

    /// A leader that lost leadership answers its waiting producers and parked fetches with
    /// NOT_LEADER_OR_FOLLOWER, as Kafka completes its delayed operations on a leader change.
    pub(super) fn abandon_leadership(&mut self, b: BrokerId, pidx: u32, old: LeaderState) {
        let tp = self.tp(pidx);
        for w in old.waiters {
            self.complete_waiter(b, tp, &w, Err(KafkaError::NotLeaderOrFollower));
        }
        for p in old.parked {
            self.with_broker(b, |broker, cx, layout| broker.send_fetch_error(cx, layout, pidx, p.fetch, p.replica, KafkaError::NotLeaderOrFollower));
        }
        for p in old.consumer_parked {
            let msg = Msg::ConsumerFetchResponse {
                id: p.fetch,
                tp,
                records: Vec::new(),
                high_watermark: 0,
                error: Some(KafkaError::NotLeaderOrFollower),
                last_stable_offset: None,
                aborted: Vec::new(),
            };
            self.send(NodeId::Broker(b), NodeId::Consumer(p.consumer), msg);
        }
    }

    /// Deletes records older than `retention.ms` or beyond `retention.bytes`, below the HW.
    pub(crate) fn broker_retention(&mut self, b: BrokerId, incarnation: u32) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let now = self.io.now;
        let interval = self.broker_config.log_retention_check_interval_ms.max(1);
        self.schedule_timer(now + interval, Timer::RetentionCheck { broker: b, incarnation });
        let mut deleted = false;
        for pidx in 0..self.tps.len() as u32 {
            let tp = self.tp(pidx);
            let cfg = self.topics[tp.topic as usize].config.clone();
            let Some(rep) = self.replica_mut(b, pidx) else { continue };
            let cut = rep.log.retention_cutoff(now, cfg.retention_ms, cfg.retention_bytes);
            if cut > rep.log.log_start() {
                let records = rep.log.advance_log_start(cut);
                for &r in &records {
                    self.ledger.record_deleted_by_retention(r, now);
                }
                self.emit(ClusterEffect::RetentionDeleted { tp, broker: b, records, log_start: cut });
                deleted = true;
            }
        }
        deleted
    }

    /// A follower's fetch at leader `b`. Checking it and answering it are the broker's; moving the
    /// high watermark between the two completes produce requests and consumer fetches, which
    /// reach beyond the broker.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn leader_fetch(
        &mut self,
        b: BrokerId,
        pidx: u32,
        id: u64,
        replica: BrokerId,
        fetch_offset: u64,
        last_fetched_epoch: Option<u32>,
        their_epoch: u32,
    ) {
        // `Partition.isReplicaIsrEligible`: a broker in controlled shutdown may not rejoin the ISR.
        // Simplification: the leader reads the controller's registration, not a metadata cache.
        let shutting_down = self.controller.sessions[(replica - 1) as usize].in_controlled_shutdown;
        let fetch = FollowerFetch { id, replica, fetch_offset, last_fetched_epoch, their_epoch };
        let Some(records) = self.with_broker(b, |broker, cx, layout| broker.leader_fetch_check(cx, layout, pidx, &fetch, shutting_down)) else {
            return;
        };
        self.leader_maybe_advance_hw(b, pidx);
        self.with_broker(b, |broker, cx, layout| broker.leader_fetch_answer(cx, layout, pidx, &fetch, records));
    }
}
