//! The consumer's coordinator client: finding the coordinator, JoinGroup and SyncGroup (eager and
//! cooperative, the leader running the assignor), errors that send it back to rejoin, and offset
//! commits and their responses.

use super::{AppState, ClientState, MemberState, Owned, Request, SyncCommit, DEFAULT_API_TIMEOUT_MS, RETRY_BACKOFF_MAX_MS};
use crate::sim::group::assignor::{self, Strategy};
use crate::sim::map::VecMap;
use crate::sim::client::effect::{CommitKind, ConsumerEffect, Revocation};
use crate::sim::msg::{JoinMember, JoinResult, Msg};
use crate::sim::timer::Timer;
use crate::sim::types::{KafkaError, NodeId, Tp};
use super::{Consumer, Cx};
use crate::sim::client::ClientEnv;

impl Consumer {
    pub(super) fn request_metadata(&mut self, cx: &mut Cx<'_>) {
        let c = self.index;
        if !self.metadata_in_flight {
            self.metadata_in_flight = true;
            cx.send(NodeId::Consumer(c), NodeId::Controller, Msg::MetadataRequest);
        }
    }

    /// `ConsumerCoordinator.rejoinNeededOrPending`: the leader whose metadata now shows another
    /// partition count for a topic of the group than when it assigned rejoins, so that the group
    /// rebalances over the new partitions.
    pub(super) fn check_assignment_snapshot(&mut self, cx: &mut Cx<'_>) {
        let Some(snapshot) = &self.assignment_snapshot else { return };
        let changed: Vec<(u32, u32, u32)> =
            snapshot.iter().filter(|&&(t, n)| self.partitions[t as usize] != n).map(|&(t, n)| (t, n, self.partitions[t as usize])).collect();
        if changed.is_empty() {
            return;
        }
        self.assignment_snapshot = None;
        self.rejoin_needed = true;
        cx.emit(ConsumerEffect::MetadataChanged { consumer: self.index, changed });
    }

    pub(super) fn find_coordinator(&mut self, cx: &mut Cx<'_>) {
        let c = self.index;
        if !self.find_in_flight {
            let group = self.group;
            self.find_in_flight = true;
            cx.send(NodeId::Consumer(c), NodeId::Controller, Msg::FindCoordinator { group });
        }
    }

    pub(super) fn lost_coordinator(&mut self, cx: &mut Cx<'_>) {
        self.coordinator = None;
        self.heartbeat_sent = None;
        if matches!(self.member, MemberState::Joining | MemberState::Syncing) {
            self.member = MemberState::Unjoined;
            self.rejoin_needed = true;
        }
        self.find_coordinator(cx);
    }

    /// Sends an OffsetCommit of the current positions (what `poll()` has returned so far).
    pub(super) fn commit(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, kind: CommitKind) {
        let c = self.index;
        let offsets: Vec<(Tp, u64)> = self.positions().map(|(p, o)| (env.tps[p as usize], o)).collect();
        let blocking = matches!(self.app, AppState::Committing { .. }) && kind != CommitKind::Auto;
        let preparing = self.member == MemberState::PreparingJoin;
        let Some(coord) = self.coordinator.filter(|_| !offsets.is_empty()) else {
            if blocking {
                self.commit_done(cx, env);
            }
            if preparing {
                self.send_join(cx, env);
            }
            return;
        };
        if self.generation < 0 {
            // Java's ConsumerCoordinator refuses to send a commit without a generation: the
            // member was thrown out, so it throws CommitFailedException instead.
            self.saw(KafkaError::CommitFailed);
            cx.emit(ConsumerEffect::CommitFailed { consumer: c, error: KafkaError::CommitFailed, offsets });
            if blocking {
                self.commit_done(cx, env);
            }
            if preparing {
                self.send_join(cx, env);
            }
            return;
        }
        let (group, generation, member_id, timeout) =
            (self.group, self.generation, self.member_id.clone(), self.config.request_timeout_ms);
        if matches!(kind, CommitKind::SyncBeforeProcessing | CommitKind::SyncAfterProcessing | CommitKind::SyncCall) && self.sync_commit.is_none() {
            self.sync_commit = Some(SyncCommit { kind, deadline: cx.now() + DEFAULT_API_TIMEOUT_MS, failed_attempts: 0 });
        }
        cx.emit(ConsumerEffect::CommitSent { consumer: c, offsets: offsets.clone(), kind });
        let request = Request::Commit { offsets: offsets.clone(), kind };
        self.request(cx, coord, request, timeout, |req| Msg::OffsetCommit { req, group, generation, member_id, offsets });
    }

    /// A blocking commit returned (or failed): the application goes on.
    pub(super) fn commit_done(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        self.sync_commit = None;
        match self.app {
            AppState::Committing { then_process: true } => {
                self.app = AppState::Processing;
                self.schedule_processing(cx);
            }
            AppState::Committing { then_process: false } => self.back_to_poll(cx, env),
            _ => {}
        }
    }

    /// `onJoinPrepare`: with auto-commit, commit and wait before (re)joining.
    pub(super) fn prepare_join(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        let commit_first = !self.join_prepared && self.config.enable_auto_commit && self.member == MemberState::Stable && !self.owned.is_empty();
        if commit_first {
            self.member = MemberState::PreparingJoin;
            self.commit(cx, env, CommitKind::BeforeRebalance);
        } else {
            self.send_join(cx, env);
        }
    }

    pub(super) fn send_join(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>) {
        let c = self.index;
        let Some(coord) = self.coordinator else {
            self.member = MemberState::Unjoined;
            return self.find_coordinator(cx);
        };
        let cooperative = self.config.cooperative();
        // Eager: everything is revoked before joining. A member that lost its generation (removed
        // by the coordinator) has lost its partitions under either protocol.
        let lose_all = !cooperative || self.generation < 0;
        // The eager StickyAssignor still reports what it owned (in its subscription userData),
        // which is what makes it sticky; range and round-robin report nothing after revoking.
        // Simplification: the subscription carries one list of owned partitions for all the
        // assignors listed, so a consumer that lists the StickyAssignor reports its previous
        // partitions to whichever assignor the group picks.
        let previous: Vec<Tp> = if self.config.strategies.contains(&Strategy::Sticky) {
            self.assigned().map(|p| env.tps[p as usize]).collect()
        } else {
            Vec::new()
        };
        // As `ConsumerCoordinator.onJoinPrepare`: the lost path calls onPartitionsLost only for a
        // non-empty set, while the eager path calls onPartitionsRevoked even when the member owns
        // nothing (a member that was in a generation and got no partitions still hears of it).
        let lost = self.generation < 0;
        // `AbstractCoordinator.needsJoinPrepare`: `onJoinPrepare` runs once per join; a retry of a
        // join that failed (its SyncGroup met REBALANCE_IN_PROGRESS, say) goes straight to JoinGroup.
        let prepare = !self.join_prepared;
        self.join_prepared = true;
        if prepare && lose_all && (!lost || !self.owned.is_empty()) {
            let partitions = self.assigned().map(|p| env.tps[p as usize]).collect();
            let how = if lost { Revocation::Lost } else { Revocation::Eager };
            cx.emit(ConsumerEffect::PartitionsRevoked { consumer: c, partitions, how });
            self.owned.clear();
        }
        // Cooperative `onJoinPrepare`: only the owned partitions of topics no longer subscribed
        // (after a `subscribe()`) are revoked before joining; the rebalance hands out the rest.
        if prepare && !lose_all {
            let topics = &self.topics;
            let gone: Vec<u32> = self.assigned().filter(|&p| !topics.contains(&env.tps[p as usize].topic)).collect();
            if !gone.is_empty() {
                let partitions = gone.iter().map(|&p| env.tps[p as usize]).collect();
                cx.emit(ConsumerEffect::PartitionsRevoked { consumer: c, partitions, how: Revocation::Unsubscribed });
                self.owned.retain(|o| !gone.contains(&o.pidx));
            }
        }
        let mut owned: Vec<Tp> = self.assigned().map(|p| env.tps[p as usize]).collect();
        if !cooperative {
            owned = previous;
        }
        let (group, member_id, instance_id, topics, generation) =
            (self.group, self.member_id.clone(), self.config.group_instance_id.clone(), self.topics.clone(), self.generation);
        let timeout = self.config.max_poll_interval_ms + 5_000;
        self.member = MemberState::Joining;
        self.rejoin_needed = false;
        self.joined_topics = Some(topics.clone());
        self.heartbeat_sent = None;
        self.request(cx, coord, Request::Join, timeout, |req| Msg::JoinGroup {
            req,
            group,
            member_id,
            instance_id,
            topics,
            owned,
            generation,
        });
    }

    pub(super) fn join_response(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, result: &Result<JoinResult, KafkaError>) {
        let r = match result {
            Ok(r) => r,
            Err(e) => return self.group_error(cx, env, "JoinGroup", *e),
        };
        self.member_id = r.member_id.clone();
        self.generation = r.generation;
        self.member = MemberState::Syncing;
        let (group, coord, timeout) = (self.group, self.coordinator, self.config.request_timeout_ms);
        let Some(coord) = coord else { return };
        let mut assignments = Vec::new();
        if r.leader != r.member_id {
            self.assignment_snapshot = None;
        }
        if r.leader == r.member_id && !r.members.is_empty() {
            match self.compute_assignment(cx, env, r.strategy, &r.members) {
                Ok(a) => assignments = a,
                Err(reason) => {
                    cx.emit(ConsumerEffect::AssignmentFailed { group, reason });
                    return;
                }
            }
        }
        let (generation, member_id) = (r.generation, r.member_id.clone());
        self.request(cx, coord, Request::Sync, timeout, |req| Msg::SyncGroup { req, group, generation, member_id, assignments });
    }

    /// The group leader runs the assignor on every member's subscription.
    pub(super) fn compute_assignment(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, strategy: Strategy,
        members: &[JoinMember]) -> Result<Vec<(String, Vec<Tp>)>, String> {
        let c = self.index;
        let topic_name = |t: u32| env.topics[t as usize].name.clone();
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
        // The leader assigns the partitions its own metadata knows of.
        let partitions: VecMap<String, u32> =
            env.topics.iter().zip(&self.partitions).filter(|(t, _)| !t.internal).map(|(t, &n)| (t.name.clone(), n)).collect();
        let mut subscribed: Vec<u32> = members.iter().flat_map(|m| m.topics.iter().copied()).collect();
        subscribed.sort_unstable();
        subscribed.dedup();
        self.assignment_snapshot = Some(subscribed.iter().map(|&t| (t, self.partitions[t as usize])).collect());
        let result = assignor::assign(strategy, &partitions, &list).map_err(|e| e.to_string())?;
        let to_tp = |(name, p): &(String, u32)| {
            let t = env.topics.iter().position(|x| &x.name == name).expect("assigned topics exist");
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
        let group = self.group;
        let by_consumer: Vec<(u32, Vec<Tp>)> = assignments
            .iter()
            .filter_map(|(id, tps)| members.iter().find(|m| &m.member_id == id).map(|m| (m.consumer, tps.clone())))
            .collect();
        cx.emit(ConsumerEffect::AssignmentComputed { group, consumer: c, assignment: by_consumer, withheld });
        Ok(assignments)
    }

    pub(super) fn sync_response(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, result: &Result<Vec<Tp>, KafkaError>) {
        let c = self.index;
        let assignment = match result {
            Ok(a) => a,
            Err(e) => return self.group_error(cx, env, "SyncGroup", *e),
        };
        // A scripted application's assignment applied at its next poll: the member was in the
        // generation meanwhile, and a rejoin its heartbeats were asked for still stands.
        let rejoin_asked = self.member == MemberState::Stable && self.rejoin_needed;
        let mut new: Vec<u32> = assignment.iter().map(|&tp| env.pidx(tp)).collect();
        new.sort_unstable();
        new.dedup();
        let revoked: Vec<u32> = self.assigned().filter(|p| new.binary_search(p).is_err()).collect();
        let added: Vec<u32> = new.iter().copied().filter(|&p| !self.owns(p)).collect();
        let generation = self.generation;
        if !revoked.is_empty() {
            let partitions = revoked.iter().map(|&p| env.tps[p as usize]).collect();
            cx.emit(ConsumerEffect::PartitionsRevoked { consumer: c, partitions, how: Revocation::Cooperative });
        }
        let partitions: Vec<Tp> = added.iter().map(|&p| env.tps[p as usize]).collect();
        cx.emit(ConsumerEffect::PartitionsAssigned { consumer: c, partitions, generation });
        self.owned.retain(|o| new.binary_search(&o.pidx).is_ok());
        for &pidx in &added {
            let at = self.owned.partition_point(|o| o.pidx < pidx);
            self.owned.insert(at, Owned::new(pidx));
        }
        self.member = MemberState::Stable;
        // The join completed (`onJoinComplete`): the next one runs `onJoinPrepare` again.
        self.join_prepared = false;
        // KIP-429: a member that gave partitions up rejoins at once so they can be handed out.
        self.rejoin_needed = rejoin_asked || !revoked.is_empty();
        self.heartbeat_sent = None;
        self.poll(cx, env);
    }

    /// Errors from the group protocol, handled as `AbstractCoordinator` does.
    pub(super) fn group_error(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, request: &'static str, error: KafkaError) {
        let c = self.index;
        self.saw(error);
        cx.emit(ConsumerEffect::ConsumerRequestFailed { consumer: c, request, error });
        match error {
            KafkaError::NotCoordinator | KafkaError::CoordinatorNotAvailable | KafkaError::NetworkException | KafkaError::RequestTimedOut => {
                self.lost_coordinator(cx);
            }
            KafkaError::FencedInstanceId => {
                // Not retriable: the heartbeat thread records it (or the join or sync fails with
                // it) and the application's next poll() throws FencedInstanceIdException. Another
                // process with this group.instance.id owns the membership now, so this one stops
                // rather than rejoin and fence that one in turn.
                self.state = ClientState::Failed;
                cx.emit(ConsumerEffect::ConsumerFailed { consumer: c, error, tp: None });
                return;
            }
            KafkaError::UnknownMemberId => {
                self.member_id.clear();
                self.generation = -1;
                self.member = MemberState::Unjoined;
                self.rejoin_needed = true;
            }
            KafkaError::IllegalGeneration => {
                self.generation = -1;
                self.member = MemberState::Unjoined;
                self.rejoin_needed = true;
            }
            _ => {
                // REBALANCE_IN_PROGRESS and the rest: join again.
                if self.member != MemberState::Stable {
                    self.member = MemberState::Unjoined;
                }
                self.rejoin_needed = true;
            }
        }
        self.poll(cx, env);
    }

    pub(super) fn commit_response(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, offsets: Vec<(Tp, u64)>, kind: CommitKind, error: Option<KafkaError>) {
        let c = self.index;
        let coordinator_error =
            |e: KafkaError| matches!(e, KafkaError::NotCoordinator | KafkaError::CoordinatorNotAvailable | KafkaError::RequestTimedOut | KafkaError::NetworkException);
        // `ConsumerCoordinator.commitOffsetsSync`: a retriable failure (these, after which the
        // coordinator is marked unknown) is retried after a backoff until `default.api.timeout.ms`
        // has passed since the call; then commitSync() throws a TimeoutException.
        let mut error = error;
        if let (Some(e), Some(sync)) = (error, self.sync_commit.filter(|s| s.kind == kind)) {
            if coordinator_error(e) {
                self.saw(e);
                self.lost_coordinator(cx);
                if cx.now() < sync.deadline {
                    let backoff = self.config.retry_backoff_ms.saturating_mul(1 << sync.failed_attempts.min(20)).min(RETRY_BACKOFF_MAX_MS.max(self.config.retry_backoff_ms));
                    let retry_at = (cx.now() + backoff).min(sync.deadline);
                    self.sync_commit = Some(SyncCommit { failed_attempts: sync.failed_attempts + 1, ..sync });
                    cx.emit(ConsumerEffect::CommitRetrying { consumer: c, error: e, retry_at, deadline: sync.deadline });
                    cx.set_timer(retry_at, Timer::ConsumerCommitRetry { consumer: c, incarnation: self.incarnation });
                    return;
                }
                error = Some(KafkaError::CommitTimeout);
            }
        }
        if let Some(error) = error {
            self.saw(error);
            cx.emit(ConsumerEffect::CommitFailed { consumer: c, error, offsets });
            match error {
                KafkaError::NotCoordinator | KafkaError::CoordinatorNotAvailable | KafkaError::RequestTimedOut | KafkaError::NetworkException => {
                    self.lost_coordinator(cx)
                }
                // `OffsetCommitResponseHandler` raises FENCED_INSTANCE_ID to the caller and leaves the
                // membership alone: the heartbeat's fencing is what stops the consumer.
                KafkaError::FencedInstanceId => {}
                KafkaError::UnknownMemberId | KafkaError::IllegalGeneration => {
                    if error != KafkaError::IllegalGeneration {
                        self.member_id.clear();
                    }
                    self.generation = -1;
                    self.rejoin_needed = true;
                }
                _ => self.rejoin_needed = true,
            }
        }
        if kind == CommitKind::BeforeRebalance && self.member == MemberState::PreparingJoin {
            self.send_join(cx, env);
        }
        if matches!(kind, CommitKind::SyncBeforeProcessing | CommitKind::SyncAfterProcessing | CommitKind::SyncCall) {
            self.commit_done(cx, env);
        }
    }

    /// A `commitSync()` tries again after its backoff: it sends the commit once the coordinator is
    /// known again, and throws a TimeoutException once `default.api.timeout.ms` has passed.
    pub(crate) fn commit_retry(&mut self, cx: &mut Cx<'_>, env: &mut ClientEnv<'_>, incarnation: u32) -> bool {
        let Some(sync) = self.sync_commit.filter(|_| self.live(incarnation)) else { return false };
        let c = self.index;
        if cx.now() >= sync.deadline {
            let offsets = self.positions().map(|(p, o)| (env.tps[p as usize], o)).collect();
            self.saw(KafkaError::CommitTimeout);
            cx.emit(ConsumerEffect::CommitFailed { consumer: c, error: KafkaError::CommitTimeout, offsets });
            self.commit_done(cx, env);
        } else if self.coordinator.is_none() {
            // `coordinatorUnknownAndUnreadySync`: wait for FindCoordinator, asking again if needed.
            self.find_coordinator(cx);
            let retry_at = (cx.now() + self.config.retry_backoff_ms).min(sync.deadline);
            cx.set_timer(retry_at, Timer::ConsumerCommitRetry { consumer: c, incarnation });
        } else {
            self.commit(cx, env, sync.kind);
        }
        true
    }
}
