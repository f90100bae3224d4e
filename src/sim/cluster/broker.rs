//! Brokers: the leader's produce and fetch handling, the follower's fetch loop, the ISR and the
//! high watermark, truncation by leader epoch, and retention.

use crate::sim::config::Acks;
use crate::sim::log::{ReplicaLog, SeqCheck};
use crate::sim::map::VecMap;
use crate::sim::cluster::effect::ClusterEffect;
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, LogRecord, NodeId};
use crate::sim::coordinator::GroupState;
use crate::sim::Sim;
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
    /// Consumer groups this broker coordinates (in memory; rebuilt from the log on failover).
    pub groups: VecMap<u32, GroupState>,
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
            groups: VecMap::new(),
            controlled_shutdown: None,
            clean_shutdown_file: None,
            previous_broker_epoch: None,
        }
    }

    /// Whether this broker currently acts as leader of partition `pidx`.
    pub fn is_leader(&self, pidx: u32) -> bool {
        matches!(self.replicas[pidx as usize].as_ref().map(|r| &r.role), Some(Role::Leader(_)))
    }
}

impl Sim {
    pub(crate) fn start_broker(&mut self, b: BrokerId) {
        let now = self.now;
        let cfg = self.broker_config.clone();
        let broker = self.broker_mut(b);
        broker.up = true;
        broker.incarnation += 1;
        broker.groups.clear();
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

    /// A broker timer only counts if the broker is up and in the incarnation that set it.
    pub(crate) fn timer_is_live(&self, b: BrokerId, incarnation: u32) -> bool {
        let broker = self.broker(b);
        broker.up && broker.incarnation == incarnation
    }

    pub(crate) fn crash_broker(&mut self, b: BrokerId) {
        if !self.broker(b).up {
            return;
        }
        self.emit(ClusterEffect::BrokerCrashed { broker: b });
        self.stop_broker(b);
    }

    /// The process stops: its in-memory state is gone, its log stays on disk.
    fn stop_broker(&mut self, b: BrokerId) {
        let broker = self.broker_mut(b);
        broker.up = false;
        broker.groups.clear();
        broker.controlled_shutdown = None;
        for r in broker.replicas.iter_mut().flatten() {
            r.role = Role::Unknown;
            r.leader = None;
        }
        self.consumers_broker_crashed(b);
    }

    pub(crate) fn broker_heartbeat(&mut self, b: BrokerId, incarnation: u32) -> bool {
        // In controlled shutdown the heartbeats follow the controller's answers instead.
        if !self.timer_is_live(b, incarnation) || self.broker(b).controlled_shutdown.is_some() {
            return false;
        }
        let previous_broker_epoch = self.broker(b).previous_broker_epoch;
        let msg = Msg::Heartbeat { broker: b, incarnation, want_shut_down: false, previous_broker_epoch };
        self.send(NodeId::Broker(b), NodeId::Controller, msg);
        let next = self.now + self.broker_config.broker_heartbeat_interval_ms;
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
    fn send_shutdown_heartbeat(&mut self, b: BrokerId) {
        let interval = self.broker_config.broker_heartbeat_interval_ms;
        let broker = self.broker_mut(b);
        let Some(pending) = broker.controlled_shutdown.as_mut() else { return };
        pending.seq += 1;
        let (incarnation, seq, previous_broker_epoch) = (broker.incarnation, pending.seq, broker.previous_broker_epoch);
        self.send(NodeId::Broker(b), NodeId::Controller, Msg::Heartbeat { broker: b, incarnation, want_shut_down: true, previous_broker_epoch });
        self.schedule_timer(self.now + interval, Timer::ShutdownHeartbeat { broker: b, incarnation, seq });
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
    fn broker_heartbeat_response(&mut self, b: BrokerId, should_shut_down: bool) {
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
        self.schedule_timer(self.now + delay, Timer::ShutdownHeartbeat { broker: b, incarnation, seq });
    }

    pub(crate) fn broker_receive(&mut self, b: BrokerId, from: NodeId, msg: &Msg) {
        match msg {
            Msg::ConsumerFetch { id, tp, offset } => {
                let NodeId::Consumer(c) = from else { return };
                let pidx = self.pidx(*tp);
                self.leader_consumer_fetch(b, pidx, c, *id, *offset);
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
                self.follower_fetch_response(b, pidx, resp);
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

    fn replica_mut(&mut self, b: BrokerId, pidx: u32) -> Option<&mut Replica> {
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
        let now = self.now;
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
                self.follower_send_fetch(b, pidx);
            }
        }
    }

    /// A leader that lost leadership answers its waiting producers and parked fetches with
    /// NOT_LEADER_OR_FOLLOWER, as Kafka completes its delayed operations on a leader change.
    fn abandon_leadership(&mut self, b: BrokerId, pidx: u32, old: LeaderState) {
        let tp = self.tp(pidx);
        for w in old.waiters {
            self.complete_waiter(b, tp, &w, Err(KafkaError::NotLeaderOrFollower));
        }
        for p in old.parked {
            self.send_fetch_error(b, pidx, p.fetch, p.replica, KafkaError::NotLeaderOrFollower);
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

    /// Answers a waiting produce request, or completes a waiting offset commit.
    fn complete_waiter(&mut self, b: BrokerId, tp: crate::sim::Tp, w: &Waiter, result: Result<u64, KafkaError>) {
        match (w.client, w.group) {
            (NodeId::Consumer(c), Some(g)) => self.coordinator_commit_done(b, g, c, w.req, result),
            (client, _) => self.send(NodeId::Broker(b), client, Msg::ProduceResponse { req: w.req, tp, result }),
        }
    }

    fn send_fetch_error(&mut self, b: BrokerId, pidx: u32, id: u64, replica: BrokerId, error: KafkaError) {
        self.send_fetch_response(b, pidx, id, replica, Vec::new(), None, Some(error));
    }

    fn send_fetch_data(&mut self, b: BrokerId, pidx: u32, id: u64, replica: BrokerId, records: Vec<LogRecord>) {
        self.send_fetch_response(b, pidx, id, replica, records, None, None);
    }

    /// Answers a follower's fetch with this replica's epoch, HW and log start.
    #[allow(clippy::too_many_arguments)]
    fn send_fetch_response(
        &mut self,
        b: BrokerId,
        pidx: u32,
        id: u64,
        replica: BrokerId,
        records: Vec<LogRecord>,
        diverging: Option<(u32, u64)>,
        error: Option<KafkaError>,
    ) {
        let tp = self.tp(pidx);
        let rep = self.replica(b, pidx).expect("replica exists");
        let msg = Msg::FetchResponse {
            id,
            tp,
            leader_epoch: rep.leader_epoch,
            records,
            high_watermark: rep.log.high_watermark(),
            log_start_offset: rep.log.log_start(),
            diverging,
            error,
        };
        self.send(NodeId::Broker(b), NodeId::Broker(replica), msg);
    }

    #[allow(clippy::too_many_arguments)]
    fn leader_produce(
        &mut self,
        b: BrokerId,
        pidx: u32,
        producer: u32,
        req: u64,
        acks: Acks,
        (pid, producer_epoch): (u32, u16),
        base_seq: i32,
        records: &[u32],
    ) {
        let tp = self.tp(pidx);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let reply = |sim: &mut Sim, result: Result<u64, KafkaError>| {
            if acks != Acks::None {
                sim.send(NodeId::Broker(b), NodeId::Producer(producer), Msg::ProduceResponse { req, tp, result });
            }
        };
        let Some(rep) = self.replica(b, pidx).filter(|r| matches!(r.role, Role::Leader(_))) else {
            self.emit(ClusterEffect::ProduceRejected {
                tp,
                broker: b,
                error: KafkaError::NotLeaderOrFollower,
                isr_size: 0,
                min_isr,
                expected_seq: None,
            });
            return reply(self, Err(KafkaError::NotLeaderOrFollower));
        };
        let isr_size = rep.isr.len() as u32;
        if acks == Acks::All && isr_size < min_isr {
            self.emit(ClusterEffect::ProduceRejected {
                tp,
                broker: b,
                error: KafkaError::NotEnoughReplicas,
                isr_size,
                min_isr,
                expected_seq: None,
            });
            return reply(self, Err(KafkaError::NotEnoughReplicas));
        }
        if pid != 0 {
            let last_seq = base_seq + records.len() as i32 - 1;
            match rep.log.check_sequence(pid, producer_epoch, base_seq, last_seq) {
                SeqCheck::Append => {}
                SeqCheck::Duplicate(meta) => {
                    self.emit(ClusterEffect::DuplicateIgnored { tp, broker: b, pid, first_seq: base_seq, offset: meta.first_offset });
                    return self.leader_await(b, pidx, producer, req, acks, meta.first_offset, meta.last_offset + 1);
                }
                SeqCheck::OutOfOrder { expected } => {
                    self.emit(ClusterEffect::ProduceRejected {
                        tp,
                        broker: b,
                        error: KafkaError::OutOfOrderSequenceNumber,
                        isr_size,
                        min_isr,
                        expected_seq: Some(expected),
                    });
                    return reply(self, Err(KafkaError::OutOfOrderSequenceNumber));
                }
                SeqCheck::StaleEpoch => {
                    self.emit(ClusterEffect::ProduceRejected {
                        tp,
                        broker: b,
                        error: KafkaError::InvalidProducerEpoch,
                        isr_size,
                        min_isr,
                        expected_seq: None,
                    });
                    return reply(self, Err(KafkaError::InvalidProducerEpoch));
                }
            }
        }
        let base = self.leader_append(b, pidx, records, (pid, producer_epoch), base_seq);
        self.leader_await(b, pidx, producer, req, acks, base, base + records.len() as u64);
    }

    /// Appends a batch to the leader's log in its current epoch, records it in the ledger and
    /// answers parked follower fetches. Returns the batch's base offset. Used by produce requests
    /// and by the group coordinator's own records (`pid` 0: no sequence numbers).
    pub(crate) fn leader_append(&mut self, b: BrokerId, pidx: u32, records: &[u32], (pid, producer_epoch): (u32, u16), base_seq: i32) -> u64 {
        let now = self.now;
        let tp = self.tp(pidx);
        let rep = self.replica(b, pidx).expect("leader replica");
        let (epoch, base) = (rep.leader_epoch, rep.log.leo());
        let batch: Vec<LogRecord> = records
            .iter()
            .enumerate()
            .map(|(i, &record)| LogRecord {
                offset: base + i as u64,
                epoch,
                record,
                pid,
                seq: if pid != 0 { base_seq + i as i32 } else { -1 },
                batch_start: i == 0,
                producer_epoch,
                append_time: now,
                size: self.ledger.records[record as usize].size,
            })
            .collect();
        for r in &batch {
            self.ledger.record_append(r.record, b, r.offset, epoch, now);
        }
        self.replica_mut(b, pidx).expect("leader replica").log.append(&batch);
        self.emit(ClusterEffect::LeaderAppended { tp, broker: b, first_offset: base, records: records.to_vec(), epoch });
        self.leader_answer_parked(b, pidx);
        base
    }

    /// Answers a produce request according to `acks`: at once for acks=1, after replication for all.
    #[allow(clippy::too_many_arguments)]
    fn leader_await(&mut self, b: BrokerId, pidx: u32, producer: u32, req: u64, acks: Acks, base: u64, required: u64) {
        let tp = self.tp(pidx);
        match acks {
            Acks::None => self.leader_maybe_advance_hw(b, pidx),
            Acks::Leader => {
                let msg = Msg::ProduceResponse { req, tp, result: Ok(base) };
                self.send(NodeId::Broker(b), NodeId::Producer(producer), msg);
                self.leader_maybe_advance_hw(b, pidx);
            }
            Acks::All => {
                if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
                    ls.waiters.push(Waiter { client: NodeId::Producer(producer), group: None, req, required, base_offset: base });
                }
                self.emit(ClusterEffect::AwaitingReplication { tp, broker: b, required_offset: required });
                self.leader_maybe_advance_hw(b, pidx);
                self.leader_complete_waiters(b, pidx);
            }
        }
    }

    /// Kafka's `maybeIncrementLeaderHW`: the HW is the smallest LEO in the maximal ISR (the committed
    /// ISR plus any pending additions, KIP-497). Followers whose LEO the leader has not heard yet hold it.
    ///
    /// Since Kafka 3.7 (KAFKA-15583) the HW does not move at all while the committed ISR is smaller
    /// than the effective `min.insync.replicas` (the setting, at most the partition's replica count),
    /// whatever the producer's `acks`: a record written then is in the leader's log but not below the
    /// HW, so consumers do not see it until the ISR grows back. That keeps every record below the HW
    /// on at least min ISR replicas, which is what makes those replicas safe to elect (KIP-966).
    fn leader_maybe_advance_hw(&mut self, b: BrokerId, pidx: u32) {
        let tp = self.tp(pidx);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let effective_min_isr = min_isr.min(self.controller.parts[pidx as usize].replicas.len() as u32);
        let Some(rep) = self.replica(b, pidx) else { return };
        let Role::Leader(ls) = &rep.role else { return };
        let leo = rep.log.leo();
        let mut hw = leo;
        let maximal = rep.isr.iter().chain(ls.pending_isr.iter().flatten());
        for &member in maximal {
            if member == b {
                continue;
            }
            match ls.followers.iter().find(|f| f.id == member).and_then(|f| f.leo) {
                Some(f_leo) => hw = hw.min(f_leo),
                None => return,
            }
        }
        let old = rep.log.high_watermark();
        let isr_size = rep.isr.len() as u32;
        if hw > old && isr_size < effective_min_isr {
            if ls.held_hw != hw {
                if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
                    ls.held_hw = hw;
                }
                self.emit(ClusterEffect::HighWatermarkHeld { tp, broker: b, hw: old, would_be: hw, isr_size, min_isr: effective_min_isr });
            }
        } else if hw > old {
            self.replica_mut(b, pidx).expect("leader").log.set_high_watermark(hw);
            self.emit(ClusterEffect::HighWatermark { tp, broker: b, from: old, to: hw, leader: true });
            self.leader_complete_waiters(b, pidx);
            self.leader_answer_consumers(b, pidx);
            self.ledger_sample_lag(pidx);
        }
    }

    /// Completes acks=all requests whose records are now below the HW (Kafka's
    /// `checkEnoughReplicasReachOffset`): success if the ISR still has `min.insync.replicas`
    /// members, NOT_ENOUGH_REPLICAS_AFTER_APPEND otherwise.
    fn leader_complete_waiters(&mut self, b: BrokerId, pidx: u32) {
        let tp = self.tp(pidx);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let Some(rep) = self.replica_mut(b, pidx) else { return };
        let hw = rep.log.high_watermark();
        let isr_size = rep.isr.len() as u32;
        let Role::Leader(ls) = &mut rep.role else { return };
        let (done, waiting): (Vec<Waiter>, Vec<Waiter>) = ls.waiters.drain(..).partition(|w| w.required <= hw);
        ls.waiters = waiting;
        for w in done {
            let result = if isr_size >= min_isr {
                Ok(w.base_offset)
            } else {
                self.emit(ClusterEffect::ProduceRejected {
                    tp,
                    broker: b,
                    error: KafkaError::NotEnoughReplicasAfterAppend,
                    isr_size,
                    min_isr,
                    expected_seq: None,
                });
                Err(KafkaError::NotEnoughReplicasAfterAppend)
            };
            self.complete_waiter(b, tp, &w, result);
        }
    }

    /// An offset commit waits, like an acks=all produce, until the HW passes its records.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn leader_wait_for_commit(&mut self, b: BrokerId, pidx: u32, g: u32, c: u32, req: u64, base: u64, end: u64) {
        if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
            ls.waiters.push(Waiter { client: NodeId::Consumer(c), group: Some(g), req, required: end, base_offset: base });
        }
        self.leader_maybe_advance_hw(b, pidx);
        self.leader_complete_waiters(b, pidx);
    }

    fn leader_consumer_fetch(&mut self, b: BrokerId, pidx: u32, c: u32, id: u64, offset: u64) {
        let now = self.now;
        let tp = self.tp(pidx);
        let (max_bytes, wait) = {
            let cfg = &self.consumers[c as usize].config;
            (cfg.max_partition_fetch_bytes, cfg.fetch_max_wait_ms)
        };
        let reply = |sim: &mut Sim, records: Vec<LogRecord>, hw: u64, error: Option<KafkaError>| {
            sim.send(NodeId::Broker(b), NodeId::Consumer(c), Msg::ConsumerFetchResponse { id, tp, records, high_watermark: hw, error });
        };
        let Some(rep) = self.replica(b, pidx).filter(|r| matches!(r.role, Role::Leader(_))) else {
            return reply(self, Vec::new(), 0, Some(KafkaError::NotLeaderOrFollower));
        };
        let log = &rep.log;
        let hw = log.high_watermark();
        if offset < log.log_start() || offset > log.leo() {
            return reply(self, Vec::new(), hw, Some(KafkaError::OffsetOutOfRange));
        }
        let records = consumer_read(log, offset, max_bytes);
        if !records.is_empty() {
            return reply(self, records, hw, None);
        }
        if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
            ls.consumer_parked.push(ConsumerParked { fetch: id, consumer: c, offset, max_bytes });
        }
        let incarnation = self.broker(b).incarnation;
        self.schedule_timer(now + wait, Timer::ConsumerFetchWait { broker: b, incarnation, pidx, fetch: id });
    }

    /// The HW moved: parked consumer fetches that can now see records are answered.
    fn leader_answer_consumers(&mut self, b: BrokerId, pidx: u32) {
        let tp = self.tp(pidx);
        let Some(rep) = self.replica_mut(b, pidx) else { return };
        let hw = rep.log.high_watermark();
        let Role::Leader(ls) = &mut rep.role else { return };
        if ls.consumer_parked.is_empty() {
            return;
        }
        let (ready, waiting): (Vec<ConsumerParked>, Vec<ConsumerParked>) =
            ls.consumer_parked.drain(..).partition(|p| p.offset < hw);
        ls.consumer_parked = waiting;
        for p in ready {
            let records = consumer_read(&self.replica(b, pidx).expect("leader").log, p.offset, p.max_bytes);
            let msg = Msg::ConsumerFetchResponse { id: p.fetch, tp, records, high_watermark: hw, error: None };
            self.send(NodeId::Broker(b), NodeId::Consumer(p.consumer), msg);
        }
    }

    pub(crate) fn leader_consumer_fetch_expired(&mut self, b: BrokerId, incarnation: u32, pidx: u32, fetch: u64) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let tp = self.tp(pidx);
        let Some(rep) = self.replica_mut(b, pidx) else { return false };
        let hw = rep.log.high_watermark();
        let Role::Leader(ls) = &mut rep.role else { return false };
        let Some(pos) = ls.consumer_parked.iter().position(|p| p.fetch == fetch) else { return false };
        let p = ls.consumer_parked.remove(pos);
        let msg = Msg::ConsumerFetchResponse { id: p.fetch, tp, records: Vec::new(), high_watermark: hw, error: None };
        self.send(NodeId::Broker(b), NodeId::Consumer(p.consumer), msg);
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn leader_fetch(
        &mut self,
        b: BrokerId,
        pidx: u32,
        id: u64,
        replica: BrokerId,
        fetch_offset: u64,
        last_fetched_epoch: Option<u32>,
        their_epoch: u32,
    ) {
        let now = self.now;
        let tp = self.tp(pidx);
        let max_bytes = self.broker_config.replica_fetch_max_bytes;
        let wait = self.broker_config.replica_fetch_wait_max_ms;
        let Some(rep) = self.replica(b, pidx) else { return };
        let Role::Leader(_) = &rep.role else {
            return self.send_fetch_error(b, pidx, id, replica, KafkaError::NotLeaderOrFollower);
        };
        if their_epoch < rep.leader_epoch {
            return self.send_fetch_error(b, pidx, id, replica, KafkaError::FencedLeaderEpoch);
        }
        if their_epoch > rep.leader_epoch {
            return self.send_fetch_error(b, pidx, id, replica, KafkaError::UnknownLeaderEpoch);
        }
        let log = &rep.log;
        if let Some(epoch) = last_fetched_epoch {
            match log.end_offset_for_epoch(epoch) {
                Some((le, end)) if le == epoch && end >= fetch_offset => {}
                Some(diverging) => {
                    return self.send_fetch_response(b, pidx, id, replica, Vec::new(), Some(diverging), None);
                }
                None => return self.send_fetch_error(b, pidx, id, replica, KafkaError::OffsetOutOfRange),
            }
        }
        if fetch_offset < log.log_start() || fetch_offset > log.leo() {
            return self.send_fetch_error(b, pidx, id, replica, KafkaError::OffsetOutOfRange);
        }
        let leader_leo = log.leo();
        let hw = log.high_watermark();
        let epoch_start = log.epochs().last().map_or(0, |e| e.1);
        let records = log.read(fetch_offset, max_bytes);
        // `Partition.isReplicaIsrEligible`: a broker in controlled shutdown may not rejoin the ISR.
        // Simplification: the leader reads the controller's registration, not a metadata cache.
        let shutting_down = self.controller.sessions[(replica - 1) as usize].in_controlled_shutdown;
        let rep = self.replica_mut(b, pidx).expect("leader");
        let isr = rep.isr.clone();
        let Role::Leader(ls) = &mut rep.role else { return };
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
            self.emit(ClusterEffect::IsrExpandRequested { tp, leader: b, added: replica, follower_leo: fetch_offset });
            self.send_alter_partition(b, pidx, new_isr);
        }
        self.leader_maybe_advance_hw(b, pidx);
        if records.is_empty() {
            if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
                ls.parked.push(Parked { fetch: id, replica, fetch_offset });
            }
            let incarnation = self.broker(b).incarnation;
            self.schedule_timer(now + wait, Timer::FetchWait { broker: b, incarnation, pidx, fetch: id });
        } else {
            self.send_fetch_data(b, pidx, id, replica, records);
        }
    }

    fn send_alter_partition(&mut self, b: BrokerId, pidx: u32, new_isr: Vec<BrokerId>) {
        let tp = self.tp(pidx);
        let rep = self.replica(b, pidx).expect("leader");
        let msg = Msg::AlterPartition {
            tp,
            leader: b,
            leader_epoch: rep.leader_epoch,
            partition_epoch: rep.partition_epoch,
            new_isr,
        };
        self.send(NodeId::Broker(b), NodeId::Controller, msg);
    }

    /// New data arrived: every parked fetch is answered now.
    fn leader_answer_parked(&mut self, b: BrokerId, pidx: u32) {
        let max_bytes = self.broker_config.replica_fetch_max_bytes;
        let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) else { return };
        let parked = std::mem::take(&mut ls.parked);
        for p in parked {
            let records = self.replica(b, pidx).expect("leader").log.read(p.fetch_offset, max_bytes);
            self.send_fetch_data(b, pidx, p.fetch, p.replica, records);
        }
    }

    pub(crate) fn leader_fetch_wait_expired(&mut self, b: BrokerId, incarnation: u32, pidx: u32, fetch: u64) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) else { return false };
        let Some(pos) = ls.parked.iter().position(|p| p.fetch == fetch) else { return false };
        let p = ls.parked.remove(pos);
        self.send_fetch_data(b, pidx, p.fetch, p.replica, Vec::new());
        true
    }

    pub(crate) fn follower_send_fetch(&mut self, b: BrokerId, pidx: u32) {
        let now = self.now;
        let tp = self.tp(pidx);
        let timeout = self.broker_config.replica_socket_timeout_ms;
        let id = self.next_request_id();
        let incarnation = self.broker(b).incarnation;
        let Some(rep) = self.replica_mut(b, pidx) else { return };
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
        self.send(NodeId::Broker(b), NodeId::Broker(leader), msg);
        if needs_watchdog {
            self.schedule_timer(now + timeout, Timer::FetchWatchdog { broker: b, incarnation, pidx });
        }
    }

    fn follower_fetch_response(&mut self, b: BrokerId, pidx: u32, resp: FetchReply<'_>) {
        let tp = self.tp(pidx);
        let now = self.now;
        let backoff = self.broker_config.replica_fetch_backoff_ms;
        let Some(rep) = self.replica_mut(b, pidx) else { return };
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
                self.emit(ClusterEffect::Truncated { tp, broker: b, from, to: resp.log_start, removed, leader_epoch_end: (0, resp.log_start) });
                return self.follower_send_fetch(b, pidx);
            }
            let incarnation = self.broker(b).incarnation;
            self.emit(ClusterEffect::FetchFailed { tp, broker: b, error, retry_at: now + backoff });
            self.schedule_timer(now + backoff, Timer::FetchBackoff { broker: b, incarnation, pidx });
            return;
        }
        if resp.leader_epoch != rep.leader_epoch {
            return self.follower_send_fetch(b, pidx);
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
            self.emit(ClusterEffect::Truncated { tp, broker: b, from, to: target, removed, leader_epoch_end: (epoch, end) });
            return self.follower_send_fetch(b, pidx);
        }
        let leo = rep.log.leo();
        let fresh: Vec<LogRecord> = resp.records.iter().filter(|r| r.offset >= leo).copied().collect();
        if fresh.first().is_some_and(|r| r.offset == leo) {
            rep.log.append(&fresh);
            let count = fresh.len() as u32;
            let new_leo = rep.log.leo();
            self.emit(ClusterEffect::FollowerAppended { tp, broker: b, first_offset: leo, count, leo: new_leo });
        }
        let rep = self.replica_mut(b, pidx).expect("follower");
        if resp.log_start > rep.log.log_start() {
            let removed = rep.log.advance_log_start(resp.log_start);
            if !removed.is_empty() {
                self.emit(ClusterEffect::RetentionDeleted { tp, broker: b, records: removed, log_start: resp.log_start });
            }
        }
        let rep = self.replica_mut(b, pidx).expect("follower");
        let old_hw = rep.log.high_watermark();
        let new_hw = resp.high_watermark.min(rep.log.leo());
        if new_hw > old_hw {
            rep.log.set_high_watermark(new_hw);
            self.emit(ClusterEffect::HighWatermark { tp, broker: b, from: old_hw, to: new_hw, leader: false });
        }
        self.follower_send_fetch(b, pidx);
    }

    pub(crate) fn follower_connection_failed(&mut self, b: BrokerId, pidx: u32, id: u64) {
        let now = self.now;
        let tp = self.tp(pidx);
        let backoff = self.broker_config.replica_fetch_backoff_ms;
        let incarnation = self.broker(b).incarnation;
        let Some(Role::Follower(fs)) = self.replica_mut(b, pidx).map(|r| &mut r.role) else { return };
        if fs.outstanding.map(|o| o.0) != Some(id) {
            return;
        }
        fs.outstanding = None;
        self.emit(ClusterEffect::FetchFailed { tp, broker: b, error: KafkaError::NetworkException, retry_at: now + backoff });
        self.schedule_timer(now + backoff, Timer::FetchBackoff { broker: b, incarnation, pidx });
    }

    pub(crate) fn follower_backoff_done(&mut self, b: BrokerId, incarnation: u32, pidx: u32) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        match self.replica(b, pidx).map(|r| &r.role) {
            Some(Role::Follower(fs)) if fs.outstanding.is_none() => {
                self.follower_send_fetch(b, pidx);
                true
            }
            _ => false,
        }
    }

    /// Checks the outstanding fetch against `replica.socket.timeout.ms`. Re-arming is housekeeping,
    /// not a step; only a real timeout is.
    pub(crate) fn follower_watchdog(&mut self, b: BrokerId, incarnation: u32, pidx: u32) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let now = self.now;
        let tp = self.tp(pidx);
        let timeout = self.broker_config.replica_socket_timeout_ms;
        let backoff = self.broker_config.replica_fetch_backoff_ms;
        let Some(rep) = self.replica_mut(b, pidx) else { return false };
        let Role::Follower(fs) = &mut rep.role else { return false };
        match fs.outstanding {
            Some((_, sent)) if sent + timeout <= now => {
                fs.outstanding = None;
                fs.watchdog = false;
                self.emit(ClusterEffect::FetchFailed { tp, broker: b, error: KafkaError::RequestTimedOut, retry_at: now + backoff });
                self.schedule_timer(now + backoff, Timer::FetchBackoff { broker: b, incarnation, pidx });
                true
            }
            Some((_, sent)) => {
                self.schedule_timer(sent + timeout, Timer::FetchWatchdog { broker: b, incarnation, pidx });
                false
            }
            None => {
                fs.watchdog = false;
                false
            }
        }
    }

    /// Kafka's isr-expiration task: followers not caught up within `replica.lag.time.max.ms`
    /// are proposed for removal. Only a check that requests a change is a step.
    pub(crate) fn leader_isr_check(&mut self, b: BrokerId, incarnation: u32) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let now = self.now;
        let max_lag = self.broker_config.replica_lag_time_max_ms;
        self.schedule_timer(now + (max_lag / 2).max(1), Timer::IsrCheck { broker: b, incarnation });
        let mut changed = false;
        for pidx in 0..self.tps.len() as u32 {
            let Some(rep) = self.replica(b, pidx) else { continue };
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
            let tp = self.tp(pidx);
            if let Some(Role::Leader(ls)) = self.replica_mut(b, pidx).map(|r| &mut r.role) {
                ls.pending_isr = Some(new_isr.clone());
            }
            self.emit(ClusterEffect::IsrShrinkRequested { tp, leader: b, removed: out, lag_ms, max_lag_ms: max_lag });
            self.send_alter_partition(b, pidx, new_isr);
            changed = true;
        }
        changed
    }

    /// Deletes records older than `retention.ms` or beyond `retention.bytes`, below the HW.
    pub(crate) fn broker_retention(&mut self, b: BrokerId, incarnation: u32) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let now = self.now;
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

/// What a consumer may read: from `offset` up to the high watermark (read_uncommitted), at most
/// `max_bytes` (but always at least one record, as Kafka does).
fn consumer_read(log: &crate::sim::log::ReplicaLog, offset: u64, max_bytes: u64) -> Vec<LogRecord> {
    let hw = log.high_watermark();
    if offset >= hw {
        return Vec::new();
    }
    log.read(offset, max_bytes).into_iter().take_while(|r| r.offset < hw).collect()
}

/// A fetch response as the follower reads it.
struct FetchReply<'a> {
    id: u64,
    leader_epoch: u32,
    records: &'a [LogRecord],
    high_watermark: u64,
    log_start: u64,
    diverging: Option<(u32, u64)>,
    error: Option<KafkaError>,
}
