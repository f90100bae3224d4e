//! The group coordinator (classic protocol), hosted by the broker that leads the group's
//! `__consumer_offsets` partition: membership, generations, rebalances, sessions, and committed
//! offsets stored as records in that partition (so a coordinator failover reloads them).

use crate::sim::group::assignor::Strategy;
use crate::sim::config::{BrokerConfig, ConsumerConfig};
use crate::sim::ctx::Ctx;
use crate::sim::ledger::{InternalRecord, Ledger, StoredMember};
use crate::sim::map::VecMap;
use crate::sim::group::effect::{GroupEffect, RebalanceReason, RemoveReason};
use crate::sim::msg::{JoinMember, JoinResult, Msg};
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, NodeId, Tp};
use crate::sim::topic::Topic;
use serde::Serialize;

/// A consumer group as the scenario declares it.
#[derive(Clone, Debug, Serialize)]
pub struct GroupInfo {
    /// `group.id`.
    pub name: String,
    /// `abs(groupId.hashCode()) % offsets.topic.num.partitions`.
    pub offsets_partition: u32,
    /// Global index of that partition in the simulation.
    pub pidx: u32,
}

/// The coordinator's group state machine (`GroupState` in Kafka).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum GroupPhase {
    /// No members.
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Waiting for the leader's assignment.
    CompletingRebalance,
    /// Every member has its assignment.
    Stable,
}

impl GroupPhase {
    /// Kafka's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            GroupPhase::Empty => "Empty",
            GroupPhase::PreparingRebalance => "PreparingRebalance",
            GroupPhase::CompletingRebalance => "CompletingRebalance",
            GroupPhase::Stable => "Stable",
        }
    }
}

/// One member as the coordinator knows it.
#[derive(Clone, Debug, Serialize)]
pub struct MemberMeta {
    /// Consumer index.
    pub consumer: u32,
    /// `group.instance.id`.
    pub instance_id: Option<String>,
    /// Subscribed topic indices.
    pub topics: Vec<u32>,
    /// Partitions it reported owning at its last join.
    pub owned: Vec<Tp>,
    /// Generation of those partitions.
    pub owned_generation: i32,
    /// `session.timeout.ms`.
    pub session_timeout_ms: u64,
    /// Rebalance timeout (the member's `max.poll.interval.ms`).
    pub rebalance_timeout_ms: u64,
    /// Last heartbeat (or join).
    pub last_heartbeat: u64,
    /// A JoinGroup waiting for the join phase to end.
    pub join_req: Option<u64>,
    /// A SyncGroup waiting for the leader's assignment.
    pub sync_req: Option<u64>,
    /// Current assignment.
    pub assignment: Vec<Tp>,
}

/// A group loaded on its coordinator.
#[derive(Clone, Debug, Serialize)]
pub struct GroupState {
    /// Phase.
    pub phase: GroupPhase,
    /// Generation.
    pub generation: i32,
    /// Leader member id.
    pub leader: Option<String>,
    /// The assignor the group picked for its current generation (Kafka's group `protocol`);
    /// none before the first generation.
    pub protocol: Option<Strategy>,
    /// Members by id.
    pub members: VecMap<String, MemberMeta>,
    /// Committed offsets by global partition index.
    pub offsets: VecMap<u32, u64>,
    /// Commits waiting for replication, by request id (in the order they were written).
    pub pending_commits: VecMap<u64, PendingCommit>,
    /// OffsetFetch requests held until the pending commits are replicated: (consumer, request
    /// id, partitions).
    pub held_fetches: Vec<(u32, u64, Vec<Tp>)>,
    /// Offsets written in transactions that have not ended, by producer id.
    #[serde(skip_serializing_if = "VecMap::is_empty")]
    pub pending_txn_offsets: VecMap<u32, Vec<PendingTxnOffset>>,
    /// The `__consumer_offsets` offset of the record each committed offset came from: a
    /// transaction's offset replaces a committed one only if it was written after it.
    #[serde(skip)]
    record_offsets: VecMap<u32, u64>,
    round: u32,
    initial_delay: bool,
    next_member: u32,
}

impl GroupState {
    /// `ClassicGroup.validateMember`: a static member is known by its `group.instance.id`, so a
    /// request that names the instance with another member id comes from a process that a newer
    /// one with the same id replaced, and is fenced.
    fn validate_member(&self, member_id: &str, instance_id: Option<&str>) -> Result<(), KafkaError> {
        match instance_id {
            Some(i) => match self.members.iter().find(|(_, m)| m.instance_id.as_deref() == Some(i)) {
                None => Err(KafkaError::UnknownMemberId),
                Some((id, _)) if id != member_id => Err(KafkaError::FencedInstanceId),
                Some(_) => Ok(()),
            },
            None if self.members.contains_key(member_id) => Ok(()),
            None => Err(KafkaError::UnknownMemberId),
        }
    }

    fn new() -> GroupState {
        GroupState {
            phase: GroupPhase::Empty,
            generation: 0,
            leader: None,
            protocol: None,
            members: VecMap::new(),
            offsets: VecMap::new(),
            pending_commits: VecMap::new(),
            held_fetches: Vec::new(),
            pending_txn_offsets: VecMap::new(),
            record_offsets: VecMap::new(),
            round: 0,
            initial_delay: false,
            next_member: 1,
        }
    }
}

/// (global partition index, offset) pairs.
type PartitionOffsets = Vec<(u32, u64)>;

/// An offset a transaction wrote, waiting for the transaction's marker.
#[derive(Clone, Debug, Serialize)]
pub struct PendingTxnOffset {
    /// Global index of the data partition.
    pub pidx: u32,
    /// The offset.
    pub offset: u64,
    /// Its record's offset in `__consumer_offsets`.
    pub record_offset: u64,
}

impl GroupState {
    /// Stores a committed offset from the record at `record_offset`, unless the offset stored
    /// came from a later record (`OffsetMetadataManager`: "we always keep the most recent
    /// committed offset when we have a mix of transactional and regular offset commits").
    fn store(&mut self, pidx: u32, offset: u64, record_offset: u64) -> bool {
        if self.record_offsets.get(&pidx).is_some_and(|&r| r > record_offset) {
            return false;
        }
        self.offsets.insert(pidx, offset);
        self.record_offsets.insert(pidx, record_offset);
        true
    }

    /// A transaction's marker: a commit stores its pending offsets, an abort drops them.
    /// Returns the offsets it touched, and which of them it stored.
    fn end_txn(&mut self, pid: u32, commit: bool) -> (PartitionOffsets, PartitionOffsets) {
        let pending = self.pending_txn_offsets.remove(&pid).unwrap_or_default();
        let touched = pending.iter().map(|p| (p.pidx, p.offset)).collect();
        let stored = if commit { pending.into_iter().filter(|p| self.store(p.pidx, p.offset, p.record_offset)).map(|p| (p.pidx, p.offset)).collect() } else { Vec::new() };
        (touched, stored)
    }

    /// `ClassicGroup.validateOffsetCommit` for a transactional commit: with generation −1 and no
    /// member id it is accepted (for an empty group and any other); otherwise the member must be
    /// known and the generation the group's. The rebalance state is not checked.
    fn validate_txn_offset_commit(&self, generation: i32, member_id: &str) -> Result<(), KafkaError> {
        if generation < 0 && (self.phase == GroupPhase::Empty || member_id.is_empty()) {
            return Ok(());
        }
        self.validate_member(member_id, None)?;
        if generation != self.generation {
            return Err(KafkaError::IllegalGeneration);
        }
        Ok(())
    }

    /// Producer ids whose open transactions hold an offset of one of these partitions.
    fn unstable(&self, partitions: &[u32]) -> Vec<u32> {
        self.pending_txn_offsets.iter().filter(|(_, offs)| offs.iter().any(|o| partitions.contains(&o.pidx))).map(|(&pid, _)| pid).collect()
    }
}

/// An offset commit whose records are in the log but not yet below the high watermark.
#[derive(Clone, Debug, Serialize)]
pub struct PendingCommit {
    /// The consumer that committed.
    pub consumer: u32,
    /// (partition, offset).
    pub offsets: Vec<(Tp, u64)>,
    /// Whether the consumer already had its answer (COORDINATOR_NOT_AVAILABLE at
    /// `offsets.commit.timeout.ms`): the records still count once replicated.
    pub answered: bool,
}

/// Kafka's `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`.
pub fn offsets_partition_for(group_id: &str, partitions: u32) -> u32 {
    crate::sim::topic::partition_for_id(group_id, partitions)
}

/// The groups one broker coordinates, in its memory: they are lost when it stops, and the next
/// coordinator rebuilds them from `__consumer_offsets`. The coordinator's handlers are its
/// methods.
#[derive(Clone, Debug, Default)]
pub struct Coordinator {
    /// The groups by index.
    pub(crate) groups: VecMap<u32, GroupState>,
}

/// What the coordinator asks of the root besides messages and timers. Its appends to
/// `__consumer_offsets` go through the cluster layer's produce path, which sends fetch responses
/// and may complete commits, so they take their place in the one ordered outbox like its sends.
#[derive(Debug)]
pub enum CoordinatorOut {
    /// Report a consequence of the step.
    Effect(GroupEffect),
    /// Append records to the group's `__consumer_offsets` partition with acks=all; a commit's
    /// records carry the committing consumer and request id, and its answer waits for the high
    /// watermark.
    Append {
        /// Group index.
        group: u32,
        /// The records.
        records: Vec<InternalRecord>,
        /// (consumer, request id) of an offset commit.
        commit: Option<(u32, u64)>,
    },
    /// Append a transactional producer's offsets to the group's `__consumer_offsets` partition
    /// as a batch of its transaction; the TxnOffsetCommit's answer waits for the high watermark.
    TxnAppend {
        /// Group index.
        group: u32,
        /// The producer, and its request id.
        producer: (u32, u64),
        /// (producer id, epoch).
        pid: (u32, u16),
        /// (partition, offset).
        offsets: Vec<(Tp, u64)>,
    },
}

/// What the coordinator reads of a consumer: its name (which prefixes the member ids it is
/// given), its settings and its subscription.
pub(crate) struct MemberSettings<'a> {
    pub(crate) name: &'a str,
    pub(crate) config: &'a ConsumerConfig,
    pub(crate) topics: &'a [u32],
}

/// What the coordinator's handlers read of the state the root owns: the broker they run on and
/// its incarnation (which its timers carry), the groups, partitions and topics declared at setup,
/// the brokers' settings, and the consumers' settings by index.
pub(crate) struct GroupLayout<'a> {
    pub(crate) broker: BrokerId,
    pub(crate) incarnation: u32,
    pub(crate) groups: &'a [GroupInfo],
    pub(crate) tps: &'a [Tp],
    pub(crate) topics: &'a [Topic],
    pub(crate) config: &'a BrokerConfig,
    pub(crate) consumer: &'a dyn Fn(u32) -> MemberSettings<'a>,
}

impl GroupLayout<'_> {
    fn pidx(&self, tp: Tp) -> u32 {
        self.topics[tp.topic as usize].base + tp.partition
    }
}

/// The coordinator's context: its outbox holds its appends among its messages and timers.
type GroupCtx<'c> = Ctx<'c, CoordinatorOut>;

/// Answers consumer `c` from the coordinator's broker.
fn reply(cx: &mut GroupCtx<'_>, layout: &GroupLayout, c: u32, msg: Msg) {
    cx.send(NodeId::Broker(layout.broker), NodeId::Consumer(c), msg);
}

fn emit(cx: &mut GroupCtx<'_>, effect: GroupEffect) {
    cx.emit(CoordinatorOut::Effect(effect));
}

fn append(cx: &mut GroupCtx<'_>, group: u32, records: Vec<InternalRecord>, commit: Option<(u32, u64)>) {
    cx.emit(CoordinatorOut::Append { group, records, commit });
}

impl Coordinator {
    fn group_mut(&mut self, g: u32) -> Option<&mut GroupState> {
        self.groups.get_mut(&g)
    }

    /// The broker became leader of a `__consumer_offsets` partition: it loads every group mapped
    /// there from its log (the last GroupMetadata record, every offset commit, and the offsets of
    /// transactions, which its markers commit or drop). `log` is the records of its replica, as
    /// (offset, ledger id).
    pub(crate) fn load(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, ledger: &Ledger, pidx: u32, log: &[(u64, u32)]) {
        let now = cx.now();
        let groups = (0..layout.groups.len() as u32).filter(|&g| layout.groups[g as usize].pidx == pidx);
        for g in groups {
            let mut state = GroupState::new();
            for &(at, id) in log {
                match ledger.get(id).internal.as_deref() {
                    Some(InternalRecord::OffsetCommit { group, tp, offset }) if *group == g => {
                        state.store(layout.pidx(*tp), *offset, at);
                    }
                    Some(InternalRecord::TxnOffsetCommit { group, tp, offset, pid }) if *group == g => {
                        let pending = PendingTxnOffset { pidx: layout.pidx(*tp), offset: *offset, record_offset: at };
                        state.pending_txn_offsets.entry(*pid).or_default().push(pending);
                    }
                    Some(InternalRecord::TxnMarker { commit, pid, .. }) => {
                        state.end_txn(*pid, *commit);
                    }
                    Some(InternalRecord::GroupMetadata { group, generation, leader, protocol, members, next_member }) if *group == g => {
                        state.generation = *generation;
                        state.leader = leader.clone();
                        state.protocol = *protocol;
                        state.next_member = *next_member;
                        state.members = members
                            .iter()
                            .map(|m| {
                                let consumer = m.consumer;
                                let settings = (layout.consumer)(consumer);
                                let cfg = settings.config;
                                (
                                    m.member_id.clone(),
                                    MemberMeta {
                                        consumer,
                                        instance_id: cfg.group_instance_id.clone(),
                                        topics: settings.topics.to_vec(),
                                        owned: m.assignment.clone(),
                                        owned_generation: *generation,
                                        session_timeout_ms: cfg.session_timeout_ms,
                                        rebalance_timeout_ms: cfg.max_poll_interval_ms,
                                        last_heartbeat: now,
                                        join_req: None,
                                        sync_req: None,
                                        assignment: m.assignment.clone(),
                                    },
                                )
                            })
                            .collect();
                    }
                    _ => {}
                }
            }
            state.phase = if state.members.is_empty() { GroupPhase::Empty } else { GroupPhase::Stable };
            let members: Vec<(String, u64)> = state.members.iter().map(|(id, m)| (id.clone(), m.session_timeout_ms)).collect();
            let offsets = state.offsets.iter().map(|(&p, &o)| (layout.tps[p as usize], o)).collect();
            let generation = state.generation;
            self.groups.insert(g, state);
            let loaded = generation > 0 || !log.is_empty();
            if loaded {
                emit(cx, GroupEffect::GroupLoaded { group: g, coordinator: layout.broker, generation, offsets });
            }
            let (broker, incarnation) = (layout.broker, layout.incarnation);
            for (member_id, timeout) in members {
                cx.set_timer(now + timeout, Timer::MemberSessionCheck { broker, incarnation, group: g, member_id });
            }
        }
    }

    /// The broker stopped leading the partition: its groups move away; waiting requests learn
    /// NOT_COORDINATOR.
    pub(crate) fn unload(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, pidx: u32) {
        let groups = (0..layout.groups.len() as u32).filter(|&g| layout.groups[g as usize].pidx == pidx);
        for g in groups {
            let Some(state) = self.groups.remove(&g) else { continue };
            for m in state.members.values() {
                if let Some(req) = m.join_req {
                    let msg = Msg::JoinGroupResponse { req, group: g, result: Err(KafkaError::NotCoordinator) };
                    reply(cx, layout, m.consumer, msg);
                }
                if let Some(req) = m.sync_req {
                    let msg = Msg::SyncGroupResponse { req, group: g, result: Err(KafkaError::NotCoordinator) };
                    reply(cx, layout, m.consumer, msg);
                }
            }
        }
    }

    /// A group request from consumer `c`. The ledger counts the rebalances it starts.
    pub(crate) fn receive(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, ledger: &mut Ledger, c: u32, msg: &Msg) {
        match msg {
            Msg::JoinGroup { req, group, member_id, instance_id, topics, owned, generation } => {
                self.join(cx, layout, ledger, c, *req, *group, member_id, instance_id.as_deref(), topics, owned, *generation)
            }
            Msg::SyncGroup { req, group, generation, member_id, assignments } => {
                self.sync(cx, layout, c, *req, *group, *generation, member_id, assignments)
            }
            Msg::GroupHeartbeat { group, generation, member_id } => {
                let error = self.heartbeat(cx, layout, c, *group, *generation, member_id);
                reply(cx, layout, c, Msg::GroupHeartbeatResponse { group: *group, error });
            }
            Msg::LeaveGroup { group, member_id } if self.groups.get(group).is_some_and(|s| s.members.contains_key(member_id)) => {
                self.remove(cx, layout, ledger, *group, member_id, RemoveReason::LeftGroup);
            }
            Msg::OffsetCommit { req, group, generation, member_id, offsets } => {
                self.commit(cx, layout, c, *req, *group, *generation, member_id, offsets)
            }
            Msg::OffsetFetch { req, group, partitions } => self.offset_fetch(cx, layout, c, *req, *group, partitions),
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn join(
        &mut self,
        cx: &mut GroupCtx<'_>,
        layout: &GroupLayout,
        ledger: &mut Ledger,
        c: u32,
        req: u64,
        g: u32,
        member_id: &str,
        instance_id: Option<&str>,
        topics: &[u32],
        owned: &[Tp],
        owned_generation: i32,
    ) {
        let now = cx.now();
        let settings = (layout.consumer)(c);
        let cfg = settings.config;
        let answer = |cx: &mut GroupCtx<'_>, result| reply(cx, layout, c, Msg::JoinGroupResponse { req, group: g, result });
        let Some(state) = self.groups.get_mut(&g) else {
            return answer(cx, Err(KafkaError::NotCoordinator));
        };
        let bc = layout.config;
        if cfg.session_timeout_ms < bc.group_min_session_timeout_ms || cfg.session_timeout_ms > bc.group_max_session_timeout_ms {
            return answer(cx, Err(KafkaError::InvalidSessionTimeout));
        }
        let existing_static =
            instance_id.and_then(|i| state.members.iter().find(|(_, m)| m.instance_id.as_deref() == Some(i)).map(|(id, _)| id.clone()));
        let id = if member_id.is_empty() {
            let id = format!("{}-{}", settings.name, state.next_member);
            state.next_member += 1;
            id
        } else {
            member_id.to_string()
        };
        if !member_id.is_empty() {
            if let Err(error) = state.validate_member(member_id, instance_id) {
                return answer(cx, Err(error));
            }
        }
        let meta = MemberMeta {
            consumer: c,
            instance_id: instance_id.map(str::to_string),
            topics: topics.to_vec(),
            owned: owned.to_vec(),
            owned_generation,
            session_timeout_ms: cfg.session_timeout_ms,
            rebalance_timeout_ms: cfg.max_poll_interval_ms,
            last_heartbeat: now,
            join_req: Some(req),
            sync_req: None,
            assignment: Vec::new(),
        };
        // KIP-345: a static member that restarts takes over its old identity. In a stable group
        // it gets the current generation and assignment back, with no rebalance.
        if let (Some(old), true) = (existing_static, member_id.is_empty()) {
            let mut old_meta = state.members.remove(&old).expect("found above");
            if state.leader.as_deref() == Some(old.as_str()) {
                state.leader = Some(id.clone());
            }
            // `ClassicGroup.replaceStaticMember` fences the replaced process at once if it is
            // waiting in a join or a sync.
            if let Some(r) = old_meta.join_req.take() {
                reply(cx, layout, old_meta.consumer, Msg::JoinGroupResponse { req: r, group: g, result: Err(KafkaError::FencedInstanceId) });
            }
            if let Some(r) = old_meta.sync_req.take() {
                reply(cx, layout, old_meta.consumer, Msg::SyncGroupResponse { req: r, group: g, result: Err(KafkaError::FencedInstanceId) });
            }
            old_meta.consumer = c;
            old_meta.last_heartbeat = now;
            let phase = state.phase;
            emit(cx, GroupEffect::StaticMemberReplaced { group: g, consumer: c, old_member: old.clone(), new_member: id.clone() });
            if phase == GroupPhase::Stable {
                let (generation, leader) = (state.generation, state.leader.clone().unwrap_or_default());
                state.members.insert(id.clone(), MemberMeta { join_req: None, ..old_meta });
                let result = JoinResult { generation, member_id: id.clone(), leader, strategy: state.protocol.unwrap_or(cfg.strategies[0]), members: Vec::new() };
                answer(cx, Ok(result));
                return self.arm_session(cx, layout, g, &id);
            }
            state.members.insert(id.clone(), MemberMeta { join_req: Some(req), ..old_meta });
            return self.maybe_complete_join(cx, layout, g);
        }
        let known = state.members.get(&id).map(|m| m.topics == meta.topics && m.owned == meta.owned);
        let is_leader = state.leader.as_deref() == Some(id.as_str());
        let phase = state.phase;
        if phase == GroupPhase::Stable && known == Some(true) && !is_leader {
            // Same metadata from a follower in a stable group: Kafka answers with the current state.
            let (generation, leader) = (state.generation, state.leader.clone().unwrap_or_default());
            let result = JoinResult { generation, member_id: id, leader, strategy: state.protocol.unwrap_or(cfg.strategies[0]), members: Vec::new() };
            return answer(cx, Ok(result));
        }
        let assignment = state.members.get(&id).map(|m| m.assignment.clone()).unwrap_or_default();
        state.members.insert(id.clone(), MemberMeta { assignment, ..meta });
        match phase {
            GroupPhase::PreparingRebalance => self.maybe_complete_join(cx, layout, g),
            _ => {
                let reason = if known.is_some() {
                    RebalanceReason::MemberRejoined { consumer: c }
                } else {
                    RebalanceReason::MemberJoined { consumer: c }
                };
                self.prepare_rebalance(cx, layout, ledger, g, reason);
            }
        }
    }

    fn prepare_rebalance(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, ledger: &mut Ledger, g: u32, reason: RebalanceReason) {
        let now = cx.now();
        let initial_delay = layout.config.group_initial_rebalance_delay_ms;
        let state = self.group_mut(g).expect("loaded");
        // A group with nobody in it yet waits group.initial.rebalance.delay.ms for more members.
        let from_empty = state.phase == GroupPhase::Empty;
        let rebalance_timeout = state.members.values().map(|m| m.rebalance_timeout_ms).max().unwrap_or(0);
        let wait = if from_empty { initial_delay.min(rebalance_timeout) } else { rebalance_timeout };
        state.phase = GroupPhase::PreparingRebalance;
        state.initial_delay = from_empty;
        state.round += 1;
        let round = state.round;
        let syncing: Vec<(u32, u64)> =
            state.members.values_mut().filter_map(|m| m.sync_req.take().map(|r| (m.consumer, r))).collect();
        for (consumer, req) in syncing {
            let msg = Msg::SyncGroupResponse { req, group: g, result: Err(KafkaError::RebalanceInProgress) };
            reply(cx, layout, consumer, msg);
        }
        emit(cx, GroupEffect::RebalanceStarted { group: g, coordinator: layout.broker, reason, deadline: now + wait });
        ledger.group_mut(g).rebalances += 1;
        let (broker, incarnation) = (layout.broker, layout.incarnation);
        cx.set_timer(now + wait, Timer::GroupJoinDeadline { broker, incarnation, group: g, round });
        if !from_empty {
            self.maybe_complete_join(cx, layout, g);
        }
    }

    fn maybe_complete_join(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, g: u32) {
        let Some(state) = self.group_mut(g) else { return };
        if state.phase == GroupPhase::PreparingRebalance
            && !state.initial_delay
            && state.members.values().all(|m| m.join_req.is_some())
        {
            self.complete_join(cx, layout, g);
        }
    }

    /// The join phase's deadline for round `round`; false if the round is over already.
    pub(crate) fn join_deadline(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, g: u32, round: u32) -> bool {
        let Some(state) = self.group_mut(g) else { return false };
        if state.round != round || state.phase != GroupPhase::PreparingRebalance {
            return false;
        }
        state.initial_delay = false;
        self.complete_join(cx, layout, g);
        true
    }

    /// The join phase ends: members that did not rejoin are dropped, the generation moves on, and
    /// every member gets its JoinGroup response (the leader with everyone's subscription).
    fn complete_join(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, g: u32) {
        let now = cx.now();
        let state = self.group_mut(g).expect("loaded");
        let missing: Vec<String> = state.members.iter().filter(|(_, m)| m.join_req.is_none()).map(|(id, _)| id.clone()).collect();
        for id in missing {
            let consumer = state.members.remove(&id).expect("listed").consumer;
            emit(cx, GroupEffect::MemberRemoved { group: g, member_id: id, consumer, reason: RemoveReason::RebalanceTimeout });
        }
        state.generation += 1;
        if state.members.is_empty() {
            state.phase = GroupPhase::Empty;
            state.leader = None;
            state.protocol = None;
            return;
        }
        let lists: Vec<&[Strategy]> = state.members.values().map(|m| (layout.consumer)(m.consumer).config.strategies.as_slice()).collect();
        // The scenario reader refuses a group whose members share no assignor, so there is a pick;
        // the leader's first choice stands in for Java's exception otherwise.
        let strategy = super::protocol::select_protocol(&lists).unwrap_or(lists[0][0]);
        state.protocol = Some(strategy);
        state.phase = GroupPhase::CompletingRebalance;
        if !state.leader.as_ref().is_some_and(|l| state.members.contains_key(l)) {
            state.leader = state.members.keys().next().cloned();
        }
        let leader = state.leader.clone().expect("members exist");
        let generation = state.generation;
        let everyone: Vec<JoinMember> = state
            .members
            .iter()
            .map(|(id, m)| JoinMember {
                member_id: id.clone(),
                consumer: m.consumer,
                instance_id: m.instance_id.clone(),
                topics: m.topics.clone(),
                owned: m.owned.clone(),
                generation: m.owned_generation,
            })
            .collect();
        let replies: Vec<(String, u32, u64)> = state
            .members
            .iter_mut()
            .map(|(id, m)| {
                m.last_heartbeat = now;
                (id.clone(), m.consumer, m.join_req.take().expect("all joined"))
            })
            .collect();
        let members = replies.iter().map(|(id, c, _)| (*c, id.clone())).collect();
        emit(cx, GroupEffect::GenerationStarted { group: g, generation, leader: leader.clone(), members, strategy });
        for (id, consumer, req) in replies {
            let members = if id == leader { everyone.clone() } else { Vec::new() };
            let result = JoinResult { generation, member_id: id.clone(), leader: leader.clone(), strategy, members };
            reply(cx, layout, consumer, Msg::JoinGroupResponse { req, group: g, result: Ok(result) });
            self.arm_session(cx, layout, g, &id);
        }
    }

    fn arm_session(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, g: u32, member_id: &str) {
        let Some(m) = self.group_mut(g).and_then(|s| s.members.get(member_id)) else { return };
        let at = m.last_heartbeat + m.session_timeout_ms;
        let (broker, incarnation) = (layout.broker, layout.incarnation);
        cx.set_timer(at, Timer::MemberSessionCheck { broker, incarnation, group: g, member_id: member_id.to_string() });
    }

    #[allow(clippy::too_many_arguments)]
    fn sync(
        &mut self,
        cx: &mut GroupCtx<'_>,
        layout: &GroupLayout,
        c: u32,
        req: u64,
        g: u32,
        generation: i32,
        member_id: &str,
        assignments: &[(String, Vec<Tp>)],
    ) {
        let answer = |cx: &mut GroupCtx<'_>, result| reply(cx, layout, c, Msg::SyncGroupResponse { req, group: g, result });
        let instance_id = (layout.consumer)(c).config.group_instance_id.as_deref();
        let Some(state) = self.group_mut(g) else { return answer(cx, Err(KafkaError::NotCoordinator)) };
        if let Err(error) = state.validate_member(member_id, instance_id) {
            return answer(cx, Err(error));
        }
        let Some(member) = state.members.get_mut(member_id) else { return answer(cx, Err(KafkaError::UnknownMemberId)) };
        if generation != state.generation {
            return answer(cx, Err(KafkaError::IllegalGeneration));
        }
        match state.phase {
            GroupPhase::Empty | GroupPhase::PreparingRebalance => answer(cx, Err(KafkaError::RebalanceInProgress)),
            GroupPhase::Stable => {
                let a = member.assignment.clone();
                answer(cx, Ok(a))
            }
            GroupPhase::CompletingRebalance => {
                member.sync_req = Some(req);
                if state.leader.as_deref() != Some(member_id) {
                    return;
                }
                for m in state.members.values_mut() {
                    m.assignment.clear();
                }
                for (id, tps) in assignments {
                    if let Some(m) = state.members.get_mut(id) {
                        m.assignment = tps.clone();
                    }
                }
                state.phase = GroupPhase::Stable;
                let waiting: Vec<(u32, u64, Vec<Tp>)> =
                    state.members.values_mut().filter_map(|m| m.sync_req.take().map(|r| (m.consumer, r, m.assignment.clone()))).collect();
                let stored: Vec<StoredMember> = state
                    .members
                    .iter()
                    .map(|(id, m)| StoredMember { member_id: id.clone(), consumer: m.consumer, assignment: m.assignment.clone() })
                    .collect();
                let (leader, generation, next_member, protocol) = (state.leader.clone(), state.generation, state.next_member, state.protocol);
                emit(cx, GroupEffect::GroupStable { group: g, generation });
                let record = InternalRecord::GroupMetadata { group: g, generation, leader, protocol, members: stored, next_member };
                append(cx, g, vec![record], None);
                for (consumer, r, a) in waiting {
                    reply(cx, layout, consumer, Msg::SyncGroupResponse { req: r, group: g, result: Ok(a) });
                }
            }
        }
    }

    fn heartbeat(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, c: u32, g: u32, generation: i32, member_id: &str) -> Option<KafkaError> {
        let now = cx.now();
        let instance_id = (layout.consumer)(c).config.group_instance_id.as_deref();
        let Some(state) = self.group_mut(g) else { return Some(KafkaError::NotCoordinator) };
        if let Err(error) = state.validate_member(member_id, instance_id) {
            return Some(error);
        }
        let phase = state.phase;
        let current = state.generation;
        let Some(member) = state.members.get_mut(member_id) else { return Some(KafkaError::UnknownMemberId) };
        if generation != current {
            return Some(KafkaError::IllegalGeneration);
        }
        member.last_heartbeat = now;
        self.arm_session(cx, layout, g, member_id);
        match phase {
            GroupPhase::Stable => None,
            _ => Some(KafkaError::RebalanceInProgress),
        }
    }

    /// A member's session check: removed if it was silent for `session.timeout.ms` (members
    /// waiting in a join or sync are alive by definition, as in Kafka).
    pub(crate) fn session_check(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, ledger: &mut Ledger, g: u32, member_id: &str) -> bool {
        let now = cx.now();
        let Some(m) = self.group_mut(g).and_then(|s| s.members.get(member_id)) else { return false };
        if m.join_req.is_some() || m.sync_req.is_some() || now < m.last_heartbeat + m.session_timeout_ms {
            return false;
        }
        self.remove(cx, layout, ledger, g, member_id, RemoveReason::SessionTimeout);
        true
    }

    fn remove(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, ledger: &mut Ledger, g: u32, member_id: &str, reason: RemoveReason) {
        let state = self.group_mut(g).expect("loaded");
        let Some(m) = state.members.remove(member_id) else { return };
        let phase = state.phase;
        let empty = state.members.is_empty();
        if let Some(req) = m.join_req {
            let msg = Msg::JoinGroupResponse { req, group: g, result: Err(KafkaError::UnknownMemberId) };
            reply(cx, layout, m.consumer, msg);
        }
        emit(cx, GroupEffect::MemberRemoved { group: g, member_id: member_id.to_string(), consumer: m.consumer, reason });
        match phase {
            GroupPhase::PreparingRebalance => self.maybe_complete_join(cx, layout, g),
            _ if empty => {
                state.phase = GroupPhase::Empty;
                state.generation += 1;
                state.leader = None;
                state.protocol = None;
                let (generation, next_member) = (state.generation, state.next_member);
                let record = InternalRecord::GroupMetadata { group: g, generation, leader: None, protocol: None, members: Vec::new(), next_member };
                append(cx, g, vec![record], None);
            }
            _ => self.prepare_rebalance(cx, layout, ledger, g, RebalanceReason::MemberRemoved { consumer: m.consumer }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        cx: &mut GroupCtx<'_>,
        layout: &GroupLayout,
        c: u32,
        req: u64,
        g: u32,
        generation: i32,
        member_id: &str,
        offsets: &[(Tp, u64)],
    ) {
        let answer = |cx: &mut GroupCtx<'_>, error| reply(cx, layout, c, Msg::OffsetCommitResponse { req, group: g, error });
        let instance_id = (layout.consumer)(c).config.group_instance_id.as_deref();
        let Some(state) = self.group_mut(g) else { return answer(cx, Some(KafkaError::NotCoordinator)) };
        if let Err(error) = state.validate_member(member_id, instance_id) {
            return answer(cx, Some(error));
        }
        if generation != state.generation {
            return answer(cx, Some(KafkaError::IllegalGeneration));
        }
        if state.phase == GroupPhase::CompletingRebalance {
            return answer(cx, Some(KafkaError::RebalanceInProgress));
        }
        state.pending_commits.insert(req, PendingCommit { consumer: c, offsets: offsets.to_vec(), answered: false });
        let records = offsets.iter().map(|&(tp, offset)| InternalRecord::OffsetCommit { group: g, tp, offset }).collect();
        append(cx, g, records, Some((c, req)));
    }

    /// After a commit's records are appended. Kafka 4.x's coordinator runtime gives a write
    /// `offsets.commit.timeout.ms` to be replicated; a commit already done (the append may
    /// complete it at once) needs no timer, and one done when the timer fires finds nothing to do.
    pub(crate) fn arm_commit_timeout(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, g: u32, req: u64) {
        if self.group_mut(g).is_some_and(|s| s.pending_commits.contains_key(&req)) {
            let at = cx.now().saturating_add(layout.config.offsets_commit_timeout_ms);
            let (broker, incarnation) = (layout.broker, layout.incarnation);
            cx.set_timer(at, Timer::CommitTimeout { broker, incarnation, group: g, req });
        }
    }

    /// The commit's `offsets.commit.timeout.ms` ended before its records were replicated: the
    /// consumer is answered COORDINATOR_NOT_AVAILABLE (Kafka's runtime fails the write with a
    /// TimeoutException, REQUEST_TIMED_OUT, which the group coordinator maps so), while the
    /// records stay in the log and count when the high watermark passes them.
    pub(crate) fn commit_timeout(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, g: u32, req: u64) -> bool {
        let Some(pending) = self.group_mut(g).and_then(|s| s.pending_commits.get_mut(&req)) else { return false };
        if pending.answered {
            return false;
        }
        pending.answered = true;
        let consumer = pending.consumer;
        let timeout_ms = layout.config.offsets_commit_timeout_ms;
        emit(cx, GroupEffect::CommitTimedOut { group: g, coordinator: layout.broker, consumer, timeout_ms });
        reply(cx, layout, consumer, Msg::OffsetCommitResponse { req, group: g, error: Some(KafkaError::CoordinatorNotAvailable) });
        true
    }

    /// OffsetFetch: the consumer asks with `require_stable`, so Kafka 4.x's coordinator runs it
    /// as a write that waits until everything written before it is replicated, and answers with
    /// every offset written. Simplification: it waits for the group's own pending commits, not
    /// for every write to its `__consumer_offsets` partition.
    fn offset_fetch(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, c: u32, req: u64, g: u32, partitions: &[Tp]) {
        let Some(state) = self.group_mut(g) else {
            return reply(cx, layout, c, Msg::OffsetFetchResponse { req, group: g, result: Err(KafkaError::NotCoordinator) });
        };
        if state.pending_commits.is_empty() {
            return self.answer_fetch(cx, layout, g, c, req, partitions);
        }
        state.held_fetches.push((c, req, partitions.to_vec()));
        let pending = state.pending_commits.values().count() as u32;
        emit(cx, GroupEffect::OffsetFetchHeld { group: g, coordinator: layout.broker, consumer: c, pending });
        let at = cx.now().saturating_add(layout.config.offsets_commit_timeout_ms);
        let (broker, incarnation) = (layout.broker, layout.incarnation);
        cx.set_timer(at, Timer::OffsetFetchTimeout { broker, incarnation, group: g, req });
    }

    /// Answers an OffsetFetch with the committed offsets, or with UNSTABLE_OFFSET_COMMIT when an
    /// open transaction has written an offset for one of its partitions. Simplification: Kafka
    /// gives that error per partition, and the consumer fails the whole fetch for it; the
    /// simulation fails the whole fetch at once.
    fn answer_fetch(&self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, g: u32, c: u32, req: u64, partitions: &[Tp]) {
        let Some(state) = self.groups.get(&g) else { return };
        let pidxs: Vec<u32> = partitions.iter().map(|&tp| layout.pidx(tp)).collect();
        let pids = state.unstable(&pidxs);
        let result = if pids.is_empty() {
            Ok(partitions.iter().map(|&tp| (tp, state.offsets.get(&layout.pidx(tp)).copied())).collect())
        } else {
            emit(cx, GroupEffect::OffsetFetchUnstable { group: g, coordinator: layout.broker, consumer: c, pids });
            Err(KafkaError::UnstableOffsetCommit)
        };
        reply(cx, layout, c, Msg::OffsetFetchResponse { req, group: g, result });
    }

    /// TxnOffsetCommit from producer `p`, verified (the group's `__consumer_offsets` partition is
    /// in its transaction): the group checks the consumer's metadata as
    /// `ClassicGroup.validateOffsetCommit` does for a transactional commit, and the offsets are
    /// written in the transaction. Generation −1 with no member id is always accepted; the
    /// rebalance state is not checked.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn txn_offset_commit(
        &mut self,
        cx: &mut GroupCtx<'_>,
        layout: &GroupLayout,
        (p, req): (u32, u64),
        g: u32,
        pid: (u32, u16),
        (generation, member_id): (i32, &str),
        offsets: &[(Tp, u64)],
    ) {
        let answer = |cx: &mut GroupCtx<'_>, error| cx.send(NodeId::Broker(layout.broker), NodeId::Producer(p), Msg::TxnOffsetCommitResponse { req, group: g, error: Some(error) });
        let Some(state) = self.group_mut(g) else { return answer(cx, KafkaError::NotCoordinator) };
        if let Err(error) = state.validate_txn_offset_commit(generation, member_id) {
            return answer(cx, error);
        }
        cx.emit(CoordinatorOut::TxnAppend { group: g, producer: (p, req), pid, offsets: offsets.to_vec() });
    }

    /// A transaction's offsets were appended at `base` on: they are pending until its marker.
    pub(crate) fn txn_offsets_written(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, g: u32, pid: u32, base: u64, offsets: &[(Tp, u64)]) {
        let Some(state) = self.group_mut(g) else { return };
        for (i, &(tp, offset)) in offsets.iter().enumerate() {
            state.pending_txn_offsets.entry(pid).or_default().push(PendingTxnOffset { pidx: layout.pidx(tp), offset, record_offset: base + i as u64 });
        }
        emit(cx, GroupEffect::TxnOffsetsPending { group: g, coordinator: layout.broker, pid, offsets: offsets.to_vec() });
    }

    /// A transaction's marker was written to `__consumer_offsets` partition `pidx` and
    /// replicated: each group there commits or drops that transaction's offsets. Returns the
    /// offsets stored, as (group, global partition index, offset), for the ledger.
    pub(crate) fn txn_marker(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, pidx: u32, pid: u32, commit: bool) -> Vec<(u32, u32, u64)> {
        let mut stored = Vec::new();
        for g in (0..layout.groups.len() as u32).filter(|&g| layout.groups[g as usize].pidx == pidx) {
            let Some(state) = self.group_mut(g) else { continue };
            if !state.pending_txn_offsets.contains_key(&pid) {
                continue;
            }
            let (touched, kept) = state.end_txn(pid, commit);
            stored.extend(kept.into_iter().map(|(p, o)| (g, p, o)));
            let offsets = touched.into_iter().map(|(p, o)| (layout.tps[p as usize], o)).collect();
            emit(cx, GroupEffect::TxnOffsetsCompleted { group: g, coordinator: layout.broker, pid, commit, offsets });
        }
        stored
    }

    /// A held OffsetFetch reached `offsets.commit.timeout.ms`.
    pub(crate) fn fetch_timeout(&mut self, cx: &mut GroupCtx<'_>, layout: &GroupLayout, g: u32, req: u64) -> bool {
        let Some(state) = self.group_mut(g) else { return false };
        let Some(i) = state.held_fetches.iter().position(|(_, r, _)| *r == req) else { return false };
        let (consumer, _, _) = state.held_fetches.remove(i);
        emit(cx, GroupEffect::OffsetFetchTimedOut { group: g, coordinator: layout.broker, consumer });
        reply(cx, layout, consumer, Msg::OffsetFetchResponse { req, group: g, result: Err(KafkaError::CoordinatorNotAvailable) });
        true
    }

    /// The commit's records are replicated (or failed): apply them and answer the member. Returns
    /// the offsets it stored, by global partition index, for the root to count in the ledger.
    pub(crate) fn commit_done(
        &mut self,
        cx: &mut GroupCtx<'_>,
        layout: &GroupLayout,
        g: u32,
        c: u32,
        req: u64,
        result: Result<u64, KafkaError>,
    ) -> Vec<(u32, u64)> {
        let pending = self.group_mut(g).and_then(|s| s.pending_commits.remove(&req));
        let answered = pending.as_ref().is_some_and(|p| p.answered);
        let mut stored = Vec::new();
        let error = match result {
            Ok(base) => {
                if let Some(PendingCommit { consumer, offsets, .. }) = pending {
                    for (i, &(tp, offset)) in offsets.iter().enumerate() {
                        let pidx = layout.pidx(tp);
                        if self.group_mut(g).is_some_and(|s| s.store(pidx, offset, base + i as u64)) {
                            stored.push((pidx, offset));
                        }
                    }
                    emit(cx, GroupEffect::OffsetsCommitted { group: g, coordinator: layout.broker, consumer, offsets });
                }
                None
            }
            Err(KafkaError::NotLeaderOrFollower) => Some(KafkaError::NotCoordinator),
            Err(_) => Some(KafkaError::CoordinatorNotAvailable),
        };
        if !answered {
            reply(cx, layout, c, Msg::OffsetCommitResponse { req, group: g, error });
        }
        // Held fetches are answered once nothing written before them is pending.
        if let Some(state) = self.group_mut(g) {
            if state.pending_commits.is_empty() {
                for (consumer, fetch, partitions) in std::mem::take(&mut state.held_fetches) {
                    self.answer_fetch(cx, layout, g, consumer, fetch, &partitions);
                }
            }
        }
        stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(consumer: u32) -> MemberMeta {
        MemberMeta {
            consumer,
            instance_id: None,
            topics: Vec::new(),
            owned: Vec::new(),
            owned_generation: 3,
            session_timeout_ms: 45_000,
            rebalance_timeout_ms: 300_000,
            last_heartbeat: 0,
            join_req: None,
            sync_req: None,
            assignment: Vec::new(),
        }
    }

    #[test]
    fn a_transactional_offset_commit_is_fenced_by_member_and_generation() {
        let mut g = GroupState::new();
        assert_eq!(g.validate_txn_offset_commit(-1, ""), Ok(()), "an empty group takes offsets without metadata");
        assert_eq!(g.validate_txn_offset_commit(-1, "c-1"), Ok(()), "an empty group takes generation -1 with a member id too");
        g.phase = GroupPhase::Stable;
        g.generation = 3;
        g.members.insert("c-1".to_string(), member(0));
        assert_eq!(g.validate_txn_offset_commit(-1, ""), Ok(()), "no generation and no member id: accepted with members too");
        assert_eq!(g.validate_txn_offset_commit(3, "c-1"), Ok(()));
        assert_eq!(g.validate_txn_offset_commit(2, "c-1"), Err(KafkaError::IllegalGeneration), "a zombie with the old generation");
        assert_eq!(g.validate_txn_offset_commit(-1, "c-1"), Err(KafkaError::IllegalGeneration), "a member without its generation");
        assert_eq!(g.validate_txn_offset_commit(3, "c-9"), Err(KafkaError::UnknownMemberId), "a member the group removed");
        g.phase = GroupPhase::PreparingRebalance;
        assert_eq!(g.validate_txn_offset_commit(3, "c-1"), Ok(()), "the rebalance state is not checked for transactional commits");
    }

    #[test]
    fn a_transactions_offsets_commit_only_over_earlier_records() {
        let mut g = GroupState::new();
        assert!(g.store(5, 10, 4), "a plain commit at record 4");
        g.pending_txn_offsets.insert(7, vec![PendingTxnOffset { pidx: 5, offset: 3, record_offset: 2 }, PendingTxnOffset { pidx: 6, offset: 8, record_offset: 3 }]);
        assert_eq!(g.unstable(&[5]), vec![7]);
        assert_eq!(g.unstable(&[9]), Vec::<u32>::new());
        let (touched, stored) = g.end_txn(7, true);
        assert_eq!(touched, vec![(5, 3), (6, 8)]);
        assert_eq!(stored, vec![(6, 8)], "partition 5's plain commit was written after the transaction's record, so it stays");
        assert_eq!((g.offsets.get(&5).copied(), g.offsets.get(&6).copied()), (Some(10), Some(8)));
        g.pending_txn_offsets.insert(8, vec![PendingTxnOffset { pidx: 6, offset: 20, record_offset: 9 }]);
        assert_eq!(g.end_txn(8, false), (vec![(6, 20)], Vec::new()), "an abort stores nothing");
        assert_eq!(g.offsets.get(&6).copied(), Some(8));
        assert!(g.pending_txn_offsets.is_empty());
    }
}
