//! The group coordinator (classic protocol), hosted by the broker that leads the group's
//! `__consumer_offsets` partition: membership, generations, rebalances, sessions, and committed
//! offsets stored as records in that partition (so a coordinator failover reloads them).

use crate::sim::group::assignor::Strategy;
use crate::sim::ledger::{InternalRecord, StoredMember};
use crate::sim::map::VecMap;
use crate::sim::group::effect::{GroupEffect, RebalanceReason, RemoveReason};
use crate::sim::msg::{JoinMember, JoinResult, Msg};
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, NodeId, Tp};
use crate::sim::Sim;
use serde::Serialize;

/// A consumer group as the scenario declares it.
#[derive(Clone, Debug, Serialize)]
pub struct GroupInfo {
    /// `group.id`.
    pub name: String,
    /// The assignor its members use.
    pub strategy: Strategy,
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
    /// Members by id.
    pub members: VecMap<String, MemberMeta>,
    /// Committed offsets by global partition index.
    pub offsets: VecMap<u32, u64>,
    /// Commits waiting for replication, by request id (in the order they were written).
    pub pending_commits: VecMap<u64, PendingCommit>,
    /// OffsetFetch requests held until the pending commits are replicated: (consumer, request
    /// id, partitions).
    pub held_fetches: Vec<(u32, u64, Vec<Tp>)>,
    round: u32,
    initial_delay: bool,
    next_member: u32,
}

impl GroupState {
    fn new() -> GroupState {
        GroupState {
            phase: GroupPhase::Empty,
            generation: 0,
            leader: None,
            members: VecMap::new(),
            offsets: VecMap::new(),
            pending_commits: VecMap::new(),
            held_fetches: Vec::new(),
            round: 0,
            initial_delay: false,
            next_member: 1,
        }
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
    let h = group_id.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32));
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() };
    abs % partitions.max(1)
}

impl Sim {
    /// The groups broker `b` coordinates, in its memory.
    pub fn coordinated_groups(&self, b: BrokerId) -> &VecMap<u32, GroupState> {
        &self.group_states[(b - 1) as usize]
    }

    fn coordinated_groups_mut(&mut self, b: BrokerId) -> &mut VecMap<u32, GroupState> {
        &mut self.group_states[(b - 1) as usize]
    }

    /// A broker that stops or starts again has lost the groups it coordinated: they live in
    /// memory, and the next coordinator loads them from `__consumer_offsets`.
    pub(crate) fn forget_coordinated_groups(&mut self, b: BrokerId) {
        self.coordinated_groups_mut(b).clear();
    }

    fn group_mut(&mut self, b: BrokerId, g: u32) -> Option<&mut GroupState> {
        self.coordinated_groups_mut(b).get_mut(&g)
    }

    fn group_reply(&mut self, b: BrokerId, c: u32, msg: Msg) {
        self.send(NodeId::Broker(b), NodeId::Consumer(c), msg);
    }

    /// A broker became leader of a `__consumer_offsets` partition: it loads every group mapped
    /// there from its log (the last GroupMetadata record and every offset commit).
    pub(crate) fn coordinator_load(&mut self, b: BrokerId, pidx: u32) {
        let groups: Vec<u32> = (0..self.groups.len() as u32).filter(|&g| self.groups[g as usize].pidx == pidx).collect();
        if groups.is_empty() {
            return;
        }
        let now = self.now;
        let log: Vec<u32> = match self.broker(b).replicas[pidx as usize].as_ref() {
            Some(r) => r.log.records().map(|r| r.record).collect(),
            None => return,
        };
        for g in groups {
            let mut state = GroupState::new();
            for &id in &log {
                match self.ledger.get(id).internal.as_deref() {
                    Some(InternalRecord::OffsetCommit { group, tp, offset }) if *group == g => {
                        state.offsets.insert(self.pidx(*tp), *offset);
                    }
                    Some(InternalRecord::GroupMetadata { group, generation, leader, members, next_member }) if *group == g => {
                        state.generation = *generation;
                        state.leader = leader.clone();
                        state.next_member = *next_member;
                        state.members = members
                            .iter()
                            .map(|m| {
                                let consumer = m.consumer;
                                let cfg = &self.consumers[consumer as usize].config;
                                (
                                    m.member_id.clone(),
                                    MemberMeta {
                                        consumer,
                                        instance_id: cfg.group_instance_id.clone(),
                                        topics: self.consumers[consumer as usize].topics.clone(),
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
            let offsets = state.offsets.iter().map(|(&p, &o)| (self.tps[p as usize], o)).collect();
            let generation = state.generation;
            self.coordinated_groups_mut(b).insert(g, state);
            let loaded = generation > 0 || !log.is_empty();
            if loaded {
                self.emit(GroupEffect::GroupLoaded { group: g, coordinator: b, generation, offsets });
            }
            let incarnation = self.broker(b).incarnation;
            for (member_id, timeout) in members {
                self.schedule_timer(now + timeout, Timer::MemberSessionCheck { broker: b, incarnation, group: g, member_id });
            }
        }
    }

    /// The broker stopped leading the partition: its groups move away; waiting requests learn
    /// NOT_COORDINATOR.
    pub(crate) fn coordinator_unload(&mut self, b: BrokerId, pidx: u32) {
        let groups: Vec<u32> = (0..self.groups.len() as u32).filter(|&g| self.groups[g as usize].pidx == pidx).collect();
        for g in groups {
            let Some(state) = self.coordinated_groups_mut(b).remove(&g) else { continue };
            for m in state.members.values() {
                if let Some(req) = m.join_req {
                    let msg = Msg::JoinGroupResponse { req, group: g, result: Err(KafkaError::NotCoordinator) };
                    self.group_reply(b, m.consumer, msg);
                }
                if let Some(req) = m.sync_req {
                    let msg = Msg::SyncGroupResponse { req, group: g, result: Err(KafkaError::NotCoordinator) };
                    self.group_reply(b, m.consumer, msg);
                }
            }
        }
    }

    pub(crate) fn coordinator_receive(&mut self, b: BrokerId, c: u32, msg: &Msg) {
        match msg {
            Msg::JoinGroup { req, group, member_id, instance_id, topics, owned, generation } => {
                self.coordinator_join(b, c, *req, *group, member_id, instance_id.as_deref(), topics, owned, *generation)
            }
            Msg::SyncGroup { req, group, generation, member_id, assignments } => {
                self.coordinator_sync(b, c, *req, *group, *generation, member_id, assignments)
            }
            Msg::GroupHeartbeat { group, generation, member_id } => {
                let error = self.coordinator_heartbeat(b, *group, *generation, member_id);
                self.group_reply(b, c, Msg::GroupHeartbeatResponse { group: *group, error });
            }
            Msg::LeaveGroup { group, member_id }
                if self.coordinated_groups(b).get(group).is_some_and(|s| s.members.contains_key(member_id)) =>
            {
                self.coordinator_remove(b, *group, member_id, RemoveReason::LeftGroup);
            }
            Msg::OffsetCommit { req, group, generation, member_id, offsets } => {
                self.coordinator_commit(b, c, *req, *group, *generation, member_id, offsets)
            }
            Msg::OffsetFetch { req, group, partitions } => self.coordinator_offset_fetch(b, c, *req, *group, partitions),
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn coordinator_join(
        &mut self,
        b: BrokerId,
        c: u32,
        req: u64,
        g: u32,
        member_id: &str,
        instance_id: Option<&str>,
        topics: &[u32],
        owned: &[Tp],
        owned_generation: i32,
    ) {
        let now = self.now;
        let cfg = self.consumers[c as usize].config.clone();
        let reply = |sim: &mut Sim, result| sim.group_reply(b, c, Msg::JoinGroupResponse { req, group: g, result });
        if self.group_mut(b, g).is_none() {
            return reply(self, Err(KafkaError::NotCoordinator));
        }
        let bc = &self.broker_config;
        if cfg.session_timeout_ms < bc.group_min_session_timeout_ms || cfg.session_timeout_ms > bc.group_max_session_timeout_ms {
            return reply(self, Err(KafkaError::InvalidSessionTimeout));
        }
        let name = self.consumers[c as usize].name.clone();
        let state = self.group_mut(b, g).expect("checked above");
        let existing_static =
            instance_id.and_then(|i| state.members.iter().find(|(_, m)| m.instance_id.as_deref() == Some(i)).map(|(id, _)| id.clone()));
        let id = if member_id.is_empty() {
            let state = self.group_mut(b, g).expect("loaded");
            let id = format!("{name}-{}", state.next_member);
            state.next_member += 1;
            id
        } else {
            member_id.to_string()
        };
        let state = self.group_mut(b, g).expect("loaded");
        if !member_id.is_empty() && !state.members.contains_key(member_id) {
            let error = if instance_id.is_some() { KafkaError::FencedInstanceId } else { KafkaError::UnknownMemberId };
            return reply(self, Err(error));
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
            let state = self.group_mut(b, g).expect("loaded");
            let mut old_meta = state.members.remove(&old).expect("found above");
            if state.leader.as_deref() == Some(old.as_str()) {
                state.leader = Some(id.clone());
            }
            old_meta.consumer = c;
            old_meta.last_heartbeat = now;
            let phase = state.phase;
            self.emit(GroupEffect::StaticMemberReplaced { group: g, consumer: c, old_member: old.clone(), new_member: id.clone() });
            if phase == GroupPhase::Stable {
                let state = self.group_mut(b, g).expect("loaded");
                let (generation, leader) = (state.generation, state.leader.clone().unwrap_or_default());
                state.members.insert(id.clone(), MemberMeta { join_req: None, ..old_meta });
                let result = JoinResult { generation, member_id: id.clone(), leader, strategy: cfg.strategy, members: Vec::new() };
                reply(self, Ok(result));
                return self.coordinator_arm_session(b, g, &id);
            }
            let state = self.group_mut(b, g).expect("loaded");
            state.members.insert(id.clone(), MemberMeta { join_req: Some(req), ..old_meta });
            return self.coordinator_maybe_complete_join(b, g);
        }
        let state = self.group_mut(b, g).expect("loaded");
        let known = state.members.get(&id).map(|m| m.topics == meta.topics && m.owned == meta.owned);
        let is_leader = state.leader.as_deref() == Some(id.as_str());
        let phase = state.phase;
        if phase == GroupPhase::Stable && known == Some(true) && !is_leader {
            // Same metadata from a follower in a stable group: Kafka answers with the current state.
            let (generation, leader) = (state.generation, state.leader.clone().unwrap_or_default());
            let result = JoinResult { generation, member_id: id, leader, strategy: cfg.strategy, members: Vec::new() };
            return reply(self, Ok(result));
        }
        let assignment = state.members.get(&id).map(|m| m.assignment.clone()).unwrap_or_default();
        state.members.insert(id.clone(), MemberMeta { assignment, ..meta });
        match phase {
            GroupPhase::PreparingRebalance => self.coordinator_maybe_complete_join(b, g),
            _ => {
                let reason = if known.is_some() {
                    RebalanceReason::MemberRejoined { consumer: c }
                } else {
                    RebalanceReason::MemberJoined { consumer: c }
                };
                self.coordinator_prepare_rebalance(b, g, reason);
            }
        }
    }

    fn coordinator_prepare_rebalance(&mut self, b: BrokerId, g: u32, reason: RebalanceReason) {
        let now = self.now;
        let initial_delay = self.broker_config.group_initial_rebalance_delay_ms;
        let incarnation = self.broker(b).incarnation;
        let state = self.group_mut(b, g).expect("loaded");
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
            self.group_reply(b, consumer, msg);
        }
        self.emit(GroupEffect::RebalanceStarted { group: g, coordinator: b, reason, deadline: now + wait });
        self.ledger.group_mut(g).rebalances += 1;
        self.schedule_timer(now + wait, Timer::GroupJoinDeadline { broker: b, incarnation, group: g, round });
        if !from_empty {
            self.coordinator_maybe_complete_join(b, g);
        }
    }

    fn coordinator_maybe_complete_join(&mut self, b: BrokerId, g: u32) {
        let Some(state) = self.group_mut(b, g) else { return };
        if state.phase == GroupPhase::PreparingRebalance
            && !state.initial_delay
            && state.members.values().all(|m| m.join_req.is_some())
        {
            self.coordinator_complete_join(b, g);
        }
    }

    pub(crate) fn coordinator_join_deadline(&mut self, b: BrokerId, incarnation: u32, g: u32, round: u32) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let Some(state) = self.group_mut(b, g) else { return false };
        if state.round != round || state.phase != GroupPhase::PreparingRebalance {
            return false;
        }
        state.initial_delay = false;
        self.coordinator_complete_join(b, g);
        true
    }

    /// The join phase ends: members that did not rejoin are dropped, the generation moves on, and
    /// every member gets its JoinGroup response (the leader with everyone's subscription).
    fn coordinator_complete_join(&mut self, b: BrokerId, g: u32) {
        let now = self.now;
        let state = self.group_mut(b, g).expect("loaded");
        let missing: Vec<String> = state.members.iter().filter(|(_, m)| m.join_req.is_none()).map(|(id, _)| id.clone()).collect();
        for id in missing {
            let state = self.group_mut(b, g).expect("loaded");
            let consumer = state.members.remove(&id).expect("listed").consumer;
            self.emit(GroupEffect::MemberRemoved { group: g, member_id: id, consumer, reason: RemoveReason::RebalanceTimeout });
        }
        let strategy = self.groups[g as usize].strategy;
        let state = self.group_mut(b, g).expect("loaded");
        state.generation += 1;
        if state.members.is_empty() {
            state.phase = GroupPhase::Empty;
            state.leader = None;
            return;
        }
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
        self.emit(GroupEffect::GenerationStarted { group: g, generation, leader: leader.clone(), members, strategy });
        for (id, consumer, req) in replies {
            let members = if id == leader { everyone.clone() } else { Vec::new() };
            let result = JoinResult { generation, member_id: id.clone(), leader: leader.clone(), strategy, members };
            self.group_reply(b, consumer, Msg::JoinGroupResponse { req, group: g, result: Ok(result) });
            self.coordinator_arm_session(b, g, &id);
        }
    }

    fn coordinator_arm_session(&mut self, b: BrokerId, g: u32, member_id: &str) {
        let incarnation = self.broker(b).incarnation;
        let Some(m) = self.group_mut(b, g).and_then(|s| s.members.get(member_id)) else { return };
        let at = m.last_heartbeat + m.session_timeout_ms;
        self.schedule_timer(at, Timer::MemberSessionCheck { broker: b, incarnation, group: g, member_id: member_id.to_string() });
    }

    #[allow(clippy::too_many_arguments)]
    fn coordinator_sync(
        &mut self,
        b: BrokerId,
        c: u32,
        req: u64,
        g: u32,
        generation: i32,
        member_id: &str,
        assignments: &[(String, Vec<Tp>)],
    ) {
        let reply = |sim: &mut Sim, result| sim.group_reply(b, c, Msg::SyncGroupResponse { req, group: g, result });
        let Some(state) = self.group_mut(b, g) else { return reply(self, Err(KafkaError::NotCoordinator)) };
        let Some(member) = state.members.get_mut(member_id) else { return reply(self, Err(KafkaError::UnknownMemberId)) };
        if generation != state.generation {
            return reply(self, Err(KafkaError::IllegalGeneration));
        }
        match state.phase {
            GroupPhase::Empty | GroupPhase::PreparingRebalance => reply(self, Err(KafkaError::RebalanceInProgress)),
            GroupPhase::Stable => {
                let a = member.assignment.clone();
                reply(self, Ok(a))
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
                let (leader, generation, next_member) = (state.leader.clone(), state.generation, state.next_member);
                self.emit(GroupEffect::GroupStable { group: g, generation });
                let record = InternalRecord::GroupMetadata { group: g, generation, leader, members: stored, next_member };
                self.coordinator_append(b, g, vec![record], None);
                for (consumer, r, a) in waiting {
                    self.group_reply(b, consumer, Msg::SyncGroupResponse { req: r, group: g, result: Ok(a) });
                }
            }
        }
    }

    fn coordinator_heartbeat(&mut self, b: BrokerId, g: u32, generation: i32, member_id: &str) -> Option<KafkaError> {
        let now = self.now;
        let Some(state) = self.group_mut(b, g) else { return Some(KafkaError::NotCoordinator) };
        let phase = state.phase;
        let current = state.generation;
        let Some(member) = state.members.get_mut(member_id) else { return Some(KafkaError::UnknownMemberId) };
        if generation != current {
            return Some(KafkaError::IllegalGeneration);
        }
        member.last_heartbeat = now;
        self.coordinator_arm_session(b, g, member_id);
        match phase {
            GroupPhase::Stable => None,
            _ => Some(KafkaError::RebalanceInProgress),
        }
    }

    /// A member's session check: removed if it was silent for `session.timeout.ms` (members
    /// waiting in a join or sync are alive by definition, as in Kafka).
    pub(crate) fn coordinator_session_check(&mut self, b: BrokerId, incarnation: u32, g: u32, member_id: &str) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let now = self.now;
        let Some(m) = self.group_mut(b, g).and_then(|s| s.members.get(member_id)) else { return false };
        if m.join_req.is_some() || m.sync_req.is_some() || now < m.last_heartbeat + m.session_timeout_ms {
            return false;
        }
        self.coordinator_remove(b, g, member_id, RemoveReason::SessionTimeout);
        true
    }

    fn coordinator_remove(&mut self, b: BrokerId, g: u32, member_id: &str, reason: RemoveReason) {
        let state = self.group_mut(b, g).expect("loaded");
        let Some(m) = state.members.remove(member_id) else { return };
        let phase = state.phase;
        let empty = state.members.is_empty();
        if let Some(req) = m.join_req {
            let msg = Msg::JoinGroupResponse { req, group: g, result: Err(KafkaError::UnknownMemberId) };
            self.group_reply(b, m.consumer, msg);
        }
        self.emit(GroupEffect::MemberRemoved { group: g, member_id: member_id.to_string(), consumer: m.consumer, reason });
        match phase {
            GroupPhase::PreparingRebalance => self.coordinator_maybe_complete_join(b, g),
            _ if empty => {
                let state = self.group_mut(b, g).expect("loaded");
                state.phase = GroupPhase::Empty;
                state.generation += 1;
                state.leader = None;
                let (generation, next_member) = (state.generation, state.next_member);
                let record = InternalRecord::GroupMetadata { group: g, generation, leader: None, members: Vec::new(), next_member };
                self.coordinator_append(b, g, vec![record], None);
            }
            _ => self.coordinator_prepare_rebalance(b, g, RebalanceReason::MemberRemoved { consumer: m.consumer }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn coordinator_commit(&mut self, b: BrokerId, c: u32, req: u64, g: u32, generation: i32, member_id: &str, offsets: &[(Tp, u64)]) {
        let reply = |sim: &mut Sim, error| sim.group_reply(b, c, Msg::OffsetCommitResponse { req, group: g, error });
        let Some(state) = self.group_mut(b, g) else { return reply(self, Some(KafkaError::NotCoordinator)) };
        if !state.members.contains_key(member_id) {
            return reply(self, Some(KafkaError::UnknownMemberId));
        }
        if generation != state.generation {
            return reply(self, Some(KafkaError::IllegalGeneration));
        }
        if state.phase == GroupPhase::CompletingRebalance {
            return reply(self, Some(KafkaError::RebalanceInProgress));
        }
        state.pending_commits.insert(req, PendingCommit { consumer: c, offsets: offsets.to_vec(), answered: false });
        let records = offsets.iter().map(|&(tp, offset)| InternalRecord::OffsetCommit { group: g, tp, offset }).collect();
        self.coordinator_append(b, g, records, Some((c, req)));
        // Kafka 4.x's coordinator runtime gives a write `offsets.commit.timeout.ms` to be
        // replicated; a commit already done when the timer fires finds nothing to do.
        if self.group_mut(b, g).is_some_and(|s| s.pending_commits.contains_key(&req)) {
            let (at, incarnation) = (self.now.saturating_add(self.broker_config.offsets_commit_timeout_ms), self.broker(b).incarnation);
            self.schedule_timer(at, Timer::CommitTimeout { broker: b, incarnation, group: g, req });
        }
    }

    /// The commit's `offsets.commit.timeout.ms` ended before its records were replicated: the
    /// consumer is answered COORDINATOR_NOT_AVAILABLE (Kafka's runtime fails the write with a
    /// TimeoutException, REQUEST_TIMED_OUT, which the group coordinator maps so), while the
    /// records stay in the log and count when the high watermark passes them.
    pub(crate) fn coordinator_commit_timeout(&mut self, b: BrokerId, incarnation: u32, g: u32, req: u64) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let Some(pending) = self.group_mut(b, g).and_then(|s| s.pending_commits.get_mut(&req)) else { return false };
        if pending.answered {
            return false;
        }
        pending.answered = true;
        let consumer = pending.consumer;
        let timeout_ms = self.broker_config.offsets_commit_timeout_ms;
        self.emit(GroupEffect::CommitTimedOut { group: g, coordinator: b, consumer, timeout_ms });
        self.group_reply(b, consumer, Msg::OffsetCommitResponse { req, group: g, error: Some(KafkaError::CoordinatorNotAvailable) });
        true
    }

    /// OffsetFetch: the consumer asks with `require_stable`, so Kafka 4.x's coordinator runs it
    /// as a write that waits until everything written before it is replicated, and answers with
    /// every offset written. Simplification: it waits for the group's own pending commits, not
    /// for every write to its `__consumer_offsets` partition.
    fn coordinator_offset_fetch(&mut self, b: BrokerId, c: u32, req: u64, g: u32, partitions: &[Tp]) {
        let Some(state) = self.group_mut(b, g) else {
            return self.group_reply(b, c, Msg::OffsetFetchResponse { req, group: g, result: Err(KafkaError::NotCoordinator) });
        };
        if state.pending_commits.is_empty() {
            return self.coordinator_answer_fetch(b, g, c, req, partitions);
        }
        state.held_fetches.push((c, req, partitions.to_vec()));
        let pending = state.pending_commits.values().count() as u32;
        self.emit(GroupEffect::OffsetFetchHeld { group: g, coordinator: b, consumer: c, pending });
        let (at, incarnation) = (self.now.saturating_add(self.broker_config.offsets_commit_timeout_ms), self.broker(b).incarnation);
        self.schedule_timer(at, Timer::OffsetFetchTimeout { broker: b, incarnation, group: g, req });
    }

    fn coordinator_answer_fetch(&mut self, b: BrokerId, g: u32, c: u32, req: u64, partitions: &[Tp]) {
        let Some(state) = self.coordinated_groups(b).get(&g) else { return };
        let result = Ok(partitions.iter().map(|&tp| (tp, state.offsets.get(&self.pidx(tp)).copied())).collect());
        self.group_reply(b, c, Msg::OffsetFetchResponse { req, group: g, result });
    }

    /// A held OffsetFetch reached `offsets.commit.timeout.ms`.
    pub(crate) fn coordinator_fetch_timeout(&mut self, b: BrokerId, incarnation: u32, g: u32, req: u64) -> bool {
        if !self.timer_is_live(b, incarnation) {
            return false;
        }
        let Some(state) = self.group_mut(b, g) else { return false };
        let Some(i) = state.held_fetches.iter().position(|(_, r, _)| *r == req) else { return false };
        let (consumer, _, _) = state.held_fetches.remove(i);
        self.emit(GroupEffect::OffsetFetchTimedOut { group: g, coordinator: b, consumer });
        self.group_reply(b, consumer, Msg::OffsetFetchResponse { req, group: g, result: Err(KafkaError::CoordinatorNotAvailable) });
        true
    }

    /// Appends records to the group's `__consumer_offsets` partition with acks=all (as the
    /// coordinator does). A commit's response waits for the high watermark.
    fn coordinator_append(&mut self, b: BrokerId, g: u32, records: Vec<InternalRecord>, commit: Option<(u32, u64)>) {
        let pidx = self.groups[g as usize].pidx;
        let tp = self.tp(pidx);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let isr_size = self.replica(b, pidx).map_or(0, |r| r.isr.len() as u32);
        if isr_size < min_isr {
            // GroupMetadataManager maps NOT_ENOUGH_REPLICAS to COORDINATOR_NOT_AVAILABLE.
            if let Some((c, req)) = commit {
                self.coordinator_commit_done(b, g, c, req, Err(KafkaError::NotEnoughReplicas));
            }
            return;
        }
        let now = self.now;
        let ids: Vec<u32> = records
            .into_iter()
            .map(|r| {
                let group = &self.groups[g as usize].name;
                let (key, value) = match &r {
                    InternalRecord::OffsetCommit { tp, offset, .. } => (format!("{group},{}", self.tp_name(*tp)), offset.to_string()),
                    InternalRecord::GroupMetadata { generation, members, .. } => {
                        (group.clone(), format!("generation {generation}, {} member(s)", members.len()))
                    }
                };
                self.ledger.create_internal(tp, r, key, value, now)
            })
            .collect();
        let base = self.leader_append(b, pidx, &ids, (0, 0), -1);
        if let Some((c, req)) = commit {
            self.leader_wait_for_commit(b, pidx, g, c, req, base, base + ids.len() as u64);
        }
    }

    /// The commit's records are replicated (or failed): apply them and answer the member.
    pub(crate) fn coordinator_commit_done(&mut self, b: BrokerId, g: u32, c: u32, req: u64, result: Result<u64, KafkaError>) {
        let pending = self.group_mut(b, g).and_then(|s| s.pending_commits.remove(&req));
        let answered = pending.as_ref().is_some_and(|p| p.answered);
        let error = match result {
            Ok(_) => {
                if let Some(PendingCommit { consumer, offsets, .. }) = pending {
                    for &(tp, offset) in &offsets {
                        let pidx = self.pidx(tp);
                        if let Some(s) = self.group_mut(b, g) {
                            s.offsets.insert(pidx, offset);
                        }
                        self.ledger_commit(g, pidx, offset);
                    }
                    self.emit(GroupEffect::OffsetsCommitted { group: g, coordinator: b, consumer, offsets });
                }
                None
            }
            Err(KafkaError::NotLeaderOrFollower) => Some(KafkaError::NotCoordinator),
            Err(_) => Some(KafkaError::CoordinatorNotAvailable),
        };
        if !answered {
            self.group_reply(b, c, Msg::OffsetCommitResponse { req, group: g, error });
        }
        // Held fetches are answered once nothing written before them is pending.
        let Some(state) = self.group_mut(b, g) else { return };
        if state.pending_commits.is_empty() {
            for (consumer, fetch, partitions) in std::mem::take(&mut state.held_fetches) {
                self.coordinator_answer_fetch(b, g, consumer, fetch, &partitions);
            }
        }
    }
}

impl Sim {
    /// The leader's HW for a data partition (what a consumer could read up to).
    fn end_offset(&self, pidx: u32) -> Option<u64> {
        let leader = self.controller.parts[pidx as usize].leader?;
        self.replica(leader, pidx).map(|r| r.log.high_watermark())
    }

    /// A commit was stored: count the records it newly covers and sample the lag.
    pub(crate) fn ledger_commit(&mut self, g: u32, pidx: u32, offset: u64) {
        let gl = self.ledger.group_mut(g);
        let from = gl.committed.get(&pidx).or(gl.start_offsets.get(&pidx)).copied().unwrap_or(0);
        gl.committed.insert(pidx, offset);
        if offset > from {
            let covered: Vec<u32> = self.controller.parts[pidx as usize]
                .leader
                .and_then(|l| self.replica(l, pidx))
                .map(|r| (from..offset).filter_map(|o| r.log.get(o)).map(|x| x.record).collect())
                .unwrap_or_default();
            let gl = self.ledger.group_mut(g);
            for id in covered {
                gl.records.entry(id as usize).committed += 1;
            }
        }
        self.ledger_sample_lag(pidx);
    }

    /// Records each group's lag on a partition when it changed.
    pub(crate) fn ledger_sample_lag(&mut self, pidx: u32) {
        if self.groups.is_empty() || self.topics[self.tps[pidx as usize].topic as usize].internal {
            return;
        }
        let Some(end) = self.end_offset(pidx) else { return };
        let now = self.now;
        for g in 0..self.groups.len() as u32 {
            let gl = self.ledger.group_mut(g);
            let Some(&base) = gl.committed.get(&pidx).or(gl.start_offsets.get(&pidx)) else { continue };
            let lag = end.saturating_sub(base);
            if gl.last_lag.insert(pidx, lag) != Some(lag) {
                gl.lag.push(crate::sim::ledger::LagSample { at: now, pidx, lag });
            }
        }
    }
}
