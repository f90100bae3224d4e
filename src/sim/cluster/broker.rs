//! Brokers: their state (replicas, leader and follower bookkeeping), their lifecycle (start,
//! crash, controlled shutdown, heartbeats to the controller), the dispatch of what they receive,
//! metadata changes from the controller, and retention. The produce path is in `produce.rs`,
//! replication in `replication.rs`.

use crate::sim::cluster::log::ReplicaLog;
use crate::sim::cluster::effect::ClusterEffect;
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, NodeId};
use crate::sim::Sim;
use super::replication::FetchReply;
use serde::Serialize;

/// A broker and the replicas it hosts.
#[derive(Clone, Debug, Serialize)]
pub struct Broker {
    /// `node.id`.
    pub id: BrokerId,
    /// False while crashed.
    pub up: bool,
    /// Bumped at every start; timers and messages of an older incarnation are void.
    pub incarnation: u32,
    /// Hosted replicas by global partition index (`None` where it hosts no replica). Boxed, so
    /// that the partitions a broker does not host cost a pointer each, not a replica's size: a
    /// snapshot of a large cluster copies every broker's list.
    pub replicas: Vec<Option<Box<Replica>>>,
    /// A controlled shutdown under way (PENDING_CONTROLLED_SHUTDOWN), in memory.
    pub controlled_shutdown: Option<PendingShutdown>,
    /// The clean-shutdown file on disk: the incarnation the broker stopped cleanly in. A clean
    /// stop writes it, and the next start reads and deletes it, so a crash after that finds none.
    pub clean_shutdown_file: Option<u32>,
    /// `previousBrokerEpoch`, read from the clean-shutdown file at start and sent to the
    /// controller, which tells a clean restart from an unclean one by it.
    pub previous_broker_epoch: Option<u32>,
}

/// A broker's controlled shutdown while it waits for the controller (`BrokerLifecycleManager`).
#[derive(Clone, Debug, Serialize)]
pub struct PendingShutdown {
    /// Bumped at every shutdown heartbeat sent and every answer, so that only the heartbeat timer
    /// set last fires.
    pub seq: u32,
    /// Whether an answer came already: the first one brings the next heartbeat forward to 50 ms,
    /// later ones leave the usual interval.
    pub answered: bool,
}

/// One replica of a partition on a broker.
#[derive(Clone, Debug, Serialize)]
pub struct Replica {
    /// The log (kept across crashes: a crash is a process stop, the disk survives).
    pub log: ReplicaLog,
    /// Leader this broker believes in.
    pub leader: Option<BrokerId>,
    /// Leader epoch this broker knows.
    pub leader_epoch: u32,
    /// Partition epoch this broker knows.
    pub partition_epoch: u32,
    /// ISR this broker knows (from the controller).
    pub isr: Vec<BrokerId>,
    /// What this replica is doing.
    pub role: Role,
}

/// A replica's role.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// No metadata yet (just started or restarted).
    Unknown,
    /// Leading.
    Leader(LeaderState),
    /// Following.
    Follower(FollowerState),
}

/// Leader-side state, all in memory (lost on a crash).
#[derive(Clone, Debug, Default, Serialize)]
pub struct LeaderState {
    /// What the leader knows of each follower.
    pub followers: Vec<FollowerInfo>,
    /// An ISR change sent to the controller and not yet confirmed.
    pub pending_isr: Option<Vec<BrokerId>>,
    /// acks=all responses waiting for the HW.
    pub waiters: Vec<Waiter>,
    /// Follower fetches held until data arrives or `replica.fetch.wait.max.ms` passes.
    pub parked: Vec<Parked>,
    /// Consumer fetches held until the high watermark moves or `fetch.max.wait.ms` passes.
    pub consumer_parked: Vec<ConsumerParked>,
    /// The HW last reported as held back by the min ISR rule (0: none), so that a hold is narrated
    /// once for each new record it holds, not on every fetch.
    pub held_hw: u64,
}

/// A consumer fetch held by the leader.
#[derive(Clone, Debug, Serialize)]
pub struct ConsumerParked {
    /// Fetch id.
    pub fetch: u64,
    /// Consumer.
    pub consumer: u32,
    /// Its position.
    pub offset: u64,
    /// `max.partition.fetch.bytes`.
    pub max_bytes: u64,
}

/// The leader's view of one follower (Kafka's `Replica` state).
#[derive(Clone, Debug, Serialize)]
pub struct FollowerInfo {
    /// Follower id.
    pub id: BrokerId,
    /// Its LEO as of its last fetch (unknown until it fetches from this leader).
    pub leo: Option<u64>,
    /// Last time it was caught up with the leader's LEO.
    pub last_caught_up: u64,
    /// Time of its previous fetch.
    pub last_fetch_time: u64,
    /// The leader's LEO at its previous fetch.
    pub last_fetch_leader_leo: u64,
}

/// A produce request (or an offset commit) waiting for replication.
#[derive(Clone, Debug, Serialize)]
pub struct Waiter {
    /// The producer, or the consumer whose offset commit this is.
    pub client: NodeId,
    /// For offset commits: the group.
    pub group: Option<u32>,
    /// Request id.
    pub req: u64,
    /// The HW must reach this offset.
    pub required: u64,
    /// Base offset to report.
    pub base_offset: u64,
}

/// A follower fetch held by the leader.
#[derive(Clone, Debug, Serialize)]
pub struct Parked {
    /// Fetch id.
    pub fetch: u64,
    /// Follower.
    pub replica: BrokerId,
    /// Its fetch offset.
    pub fetch_offset: u64,
}

/// Follower-side state.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FollowerState {
    /// The fetch in flight: (id, sent at).
    pub outstanding: Option<(u64, u64)>,
    /// Whether a watchdog timer is pending.
    pub watchdog: bool,
}

impl Broker {
    /// A broker holding its replicas of `assignment`; each starts as a clone of the partition's
    /// entry in `logs`.
    pub(crate) fn new(id: BrokerId, assignment: &[Vec<BrokerId>], logs: &[ReplicaLog]) -> Broker {
        let replicas = assignment
            .iter()
            .zip(logs)
            .map(|(replicas, log)| {
                replicas.contains(&id).then(|| {
                    Box::new(Replica { log: log.clone(), leader: None, leader_epoch: 0, partition_epoch: 0, isr: Vec::new(), role: Role::Unknown })
                })
            })
            .collect();
        Broker {
            id,
            up: false,
            incarnation: 0,
            replicas,
            controlled_shutdown: None,
            clean_shutdown_file: None,
            previous_broker_epoch: None,
        }
    }

    /// A broker timer only counts if the broker is up and in the incarnation that set it.
    pub(crate) fn timer_is_live(&self, incarnation: u32) -> bool {
        self.up && self.incarnation == incarnation
    }

    /// Whether this broker currently acts as leader of partition `pidx`.
    pub fn is_leader(&self, pidx: u32) -> bool {
        matches!(self.replicas[pidx as usize].as_ref().map(|r| &r.role), Some(Role::Leader(_)))
    }
}

impl Sim {
    pub(crate) fn start_broker(&mut self, b: BrokerId) {
        let now = self.io.now;
        let cfg = self.broker_config.clone();
        self.forget_coordinated_groups(b);
        let broker = self.broker_mut(b);
        broker.up = true;
        broker.incarnation += 1;
        broker.previous_broker_epoch = broker.clean_shutdown_file.take();
        let incarnation = broker.incarnation;
        for r in broker.replicas.iter_mut().flatten() {
            r.role = Role::Unknown;
            r.leader = None;
        }
        // A restarted broker registers at once; at time 0 every broker is already registered.
        let first_heartbeat = if now == 0 { cfg.broker_heartbeat_interval_ms } else { now };
        self.schedule_timer(first_heartbeat, Timer::Heartbeat { broker: b, incarnation });
        self.schedule_timer(now + (cfg.replica_lag_time_max_ms / 2).max(1), Timer::IsrCheck { broker: b, incarnation });
        self.schedule_timer(
            now + cfg.log_retention_check_interval_ms.max(1),
            Timer::RetentionCheck { broker: b, incarnation },
        );
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

    /// The process stops: its in-memory state is gone, its log stays on disk.
    pub(super) fn stop_broker(&mut self, b: BrokerId) {
        self.forget_coordinated_groups(b);
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
            // The clean-shutdown file records the incarnation, for the next registration.
            broker.clean_shutdown_file = Some(incarnation);
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
            Msg::ConsumerFetch { id, tp, offset } => {
                let NodeId::Consumer(c) = from else { return };
                let pidx = self.pidx(*tp);
                let cfg = &self.consumers[c as usize].config;
                let limits = (cfg.max_partition_fetch_bytes, cfg.fetch_max_wait_ms);
                self.with_broker(b, |broker, cx, layout| broker.leader_consumer_fetch(cx, layout, pidx, c, *id, *offset, limits));
            }
            Msg::HeartbeatResponse { should_shut_down } => self.broker_heartbeat_response(b, *should_shut_down),
            Msg::ApiVersions => self.send(NodeId::Broker(b), from, Msg::ApiVersionsResponse { broker: b }),
            Msg::ListOffsets { req, tp, earliest } => {
                let pidx = self.pidx(*tp);
                let result = match self.replica(b, pidx) {
                    Some(r) if matches!(r.role, Role::Leader(_)) => {
                        Ok(if *earliest { r.log.log_start() } else { r.log.high_watermark() })
                    }
                    _ => Err(KafkaError::NotLeaderOrFollower),
                };
                self.send(NodeId::Broker(b), from, Msg::ListOffsetsResponse { req: *req, tp: *tp, result });
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
            Msg::Produce { req, tp, acks, pid, producer_epoch, base_seq, records } => {
                let NodeId::Producer(producer) = from else { return };
                let pidx = self.pidx(*tp);
                self.leader_produce(b, pidx, producer, *req, *acks, (*pid, *producer_epoch), *base_seq, records);
            }
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
        } else {
            if let Role::Leader(old) = old_role {
                self.abandon_leadership(b, pidx, old);
                self.coordinator_unload(b, pidx);
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
                self.emit(ClusterEffect::RetentionDeleted { tp, broker: b, records, log_start: cut });
                deleted = true;
            }
        }
        deleted
    }
}
