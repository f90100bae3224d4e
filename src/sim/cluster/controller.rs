//! The KRaft controller: broker sessions, fencing, leader election and ISR changes.
//!
//! Simplification: the controller quorum is one node that never fails; brokers receive partition
//! changes as messages instead of replaying the metadata log.

use crate::sim::cluster::effect::{ClusterEffect, Election, IsrCause};
use crate::sim::ctx::Ctx;
use crate::sim::msg::Msg;
use crate::sim::timer::Timer;
use crate::sim::types::{BrokerId, KafkaError, NodeId};
use super::Layout;
use serde::Serialize;

/// Kafka's `unclean.leader.election.interval.ms` (an internal broker setting, 5 minutes): how
/// often the controller's `electUnclean` task runs.
pub const UNCLEAN_LEADER_ELECTION_INTERVAL_MS: u64 = 300_000;

/// The controller's record of one partition.
#[derive(Clone, Debug, Serialize)]
pub struct PartitionState {
    /// Assigned replicas in preference order.
    pub replicas: Vec<BrokerId>,
    /// Current leader, none when offline.
    pub leader: Option<BrokerId>,
    /// Leader epoch, bumped at every leader change.
    pub leader_epoch: u32,
    /// In-sync replicas. With eligible leader replicas on it may be empty.
    pub isr: Vec<BrokerId>,
    /// Eligible leader replicas (KIP-966), in ascending order: replicas that left the ISR while it
    /// was below the effective `min.insync.replicas`. The high watermark cannot move then, so each
    /// holds every committed record and may lead cleanly once the ISR is empty.
    pub elr: Vec<BrokerId>,
    /// `lastKnownElr`: the leader the partition had when it last became leaderless, kept until it
    /// has a leader again. It may lead again when the ISR and the ELR are both empty.
    pub last_known_elr: Vec<BrokerId>,
    /// Bumped at every change of the partition.
    pub partition_epoch: u32,
}

/// A broker's session as the controller sees it.
#[derive(Clone, Debug, Serialize)]
pub struct BrokerSession {
    /// Fenced brokers lead nothing and are in no ISR (without eligible leader replicas, except
    /// where they were the last member).
    pub fenced: bool,
    /// Time of the last heartbeat.
    pub last_heartbeat: u64,
    /// Incarnation seen in the last heartbeat.
    pub incarnation: u32,
    /// In CONTROLLED_SHUTDOWN: the broker asked to shut down while it led partitions. It is in
    /// no ISR and may neither lead nor rejoin an ISR, until it registers again.
    pub in_controlled_shutdown: bool,
}

/// The controller.
#[derive(Clone, Debug, Serialize)]
pub struct Controller {
    /// Partitions by global index.
    pub parts: Vec<PartitionState>,
    /// Broker sessions; broker `id` at index `id - 1`.
    pub sessions: Vec<BrokerSession>,
    /// Unclean elections so far, as Kafka's controller counts them (`UncleanLeaderElectionsPerSec`):
    /// an out-of-sync replica elected, and a last known leader brought back with the ISR and ELR
    /// empty (KIP-966 records it as unclean too).
    pub unclean_elections: u32,
}

impl Controller {
    pub(crate) fn new(brokers: u32, assignment: &[Vec<BrokerId>]) -> Controller {
        Controller {
            parts: assignment
                .iter()
                .map(|replicas| PartitionState {
                    replicas: replicas.clone(),
                    leader: replicas.first().copied(),
                    leader_epoch: 0,
                    isr: replicas.clone(),
                    elr: Vec::new(),
                    last_known_elr: Vec::new(),
                    partition_epoch: 0,
                })
                .collect(),
            sessions: (0..brokers).map(|_| BrokerSession { fenced: false, last_heartbeat: 0, incarnation: 1, in_controlled_shutdown: false }).collect(),
            unclean_elections: 0,
        }
    }

    /// `ClusterControlManager.isActive`: unfenced and not in controlled shutdown, so the broker
    /// may lead and join an ISR.
    pub(crate) fn active(&self, b: BrokerId) -> bool {
        let session = &self.sessions[(b - 1) as usize];
        !session.fenced && !session.in_controlled_shutdown
    }

    /// `ReplicationControlManager.createPartitions` for one new partition: its ISR is the replicas
    /// that may join one (unfenced, not shutting down), and the first of them leads. Returns the
    /// new registration.
    ///
    /// Simplification: where none of the replicas is active Kafka refuses the request
    /// (INVALID_REPLICA_ASSIGNMENT, or its placer picks other brokers); here the partition is
    /// created offline and waits for a replica to come back.
    pub(crate) fn create_partition(&mut self, pidx: u32, replicas: &[BrokerId]) -> PartitionState {
        let isr: Vec<BrokerId> = replicas.iter().copied().filter(|&r| self.active(r)).collect();
        let part = PartitionState {
            replicas: replicas.to_vec(),
            leader: isr.first().copied(),
            leader_epoch: 0,
            isr,
            elr: Vec::new(),
            last_known_elr: Vec::new(),
            partition_epoch: 0,
        };
        self.parts[pidx as usize] = part.clone();
        part
    }

    /// `BrokerToIsrs.hasLeaderships`.
    fn has_leaderships(&self, b: BrokerId) -> bool {
        self.parts.iter().any(|p| p.leader == Some(b))
    }
}

/// The settings one partition change is computed under.
#[derive(Clone, Copy, Debug)]
struct Rules {
    /// `min(min.insync.replicas, replica count)`, as `ReplicationControlManager.getTopicEffectiveMinIsr`.
    min_isr: usize,
    /// `eligible.leader.replicas.version` ≥ 1.
    elr: bool,
    /// The topic's `unclean.leader.election.enable`.
    unclean_allowed: bool,
}

/// What one partition change record holds: the partition's fields after it.
#[derive(Clone, Debug, PartialEq)]
struct Change {
    isr: Vec<BrokerId>,
    elr: Vec<BrokerId>,
    last_known_elr: Vec<BrokerId>,
    leader: Option<BrokerId>,
    /// How the new leader was chosen, when the leader changes to a broker.
    election: Option<Election>,
}

/// `PartitionChangeBuilder.build()` for a change that sets `target_isr`, without reassignments:
/// the ELR bookkeeping, then the election (`electAnyLeader`), then the ISR and the last known
/// leader. `unclean_shutdown` is the broker that re-registered after an unclean shutdown, which
/// also leaves the ELR; `acceptable` says who may lead (`isAcceptableLeader`).
fn build(part: &PartitionState, mut target_isr: Vec<BrokerId>, unclean_shutdown: Option<BrokerId>, acceptable: impl Fn(BrokerId) -> bool, rules: Rules) -> Change {
    // maybePopulateTargetElr: replicas that leave an ISR that is (or becomes) too small join the ELR.
    let mut elr = part.elr.clone();
    if rules.elr {
        if target_isr.len() >= rules.min_isr {
            elr.clear();
        } else {
            elr.extend(part.isr.iter().copied());
            elr.retain(|r| !target_isr.contains(r) && Some(*r) != unclean_shutdown);
            // Java collects into a HashSet<Integer>, which iterates small broker ids in ascending order.
            elr.sort_unstable();
            elr.dedup();
        }
    }

    // electAnyLeader: keep a valid leader, else the first valid replica in assignment order, else
    // the last known leader (checked before the unclean test, so it needs no unclean election),
    // else, if the topic allows it, the first acceptable replica.
    let valid = |r: BrokerId| (target_isr.contains(&r) || (target_isr.is_empty() && elr.contains(&r))) && acceptable(r);
    let last_known = match part.last_known_elr[..] {
        [only] if rules.elr && target_isr.is_empty() && elr.is_empty() && acceptable(only) => Some(only),
        _ => None,
    };
    let (leader, unclean) = if part.leader.is_some_and(valid) {
        (part.leader, None)
    } else if let Some(r) = part.replicas.iter().copied().find(|&r| valid(r)) {
        (Some(r), None)
    } else if let Some(r) = last_known {
        (Some(r), Some(Election::LastKnownLeader))
    } else if let Some(r) = part.replicas.iter().copied().find(|&r| rules.unclean_allowed && acceptable(r)) {
        (Some(r), Some(Election::Unclean))
    } else {
        (None, None)
    };

    // tryElection: a leader taken from the ELR becomes the whole ISR and leaves the ELR; an unclean
    // election (the last known leader's included) forces the ISR to the new leader.
    let mut election = None;
    if leader != part.leader {
        if let Some(l) = leader {
            election = Some(if elr.contains(&l) {
                target_isr = vec![l];
                elr.retain(|&r| r != l);
                unclean.unwrap_or(Election::Elr)
            } else {
                unclean.unwrap_or(Election::Isr)
            });
        }
    }
    let reset = unclean.is_some() && leader != part.leader;
    let isr = match leader {
        Some(l) if reset => vec![l],
        _ if (!target_isr.is_empty() || rules.elr) && target_isr != part.isr => target_isr,
        // Without eligible leader replicas the controller never writes an empty ISR: the last
        // member stays, so it can lead again cleanly when it returns.
        _ => part.isr.clone(),
    };
    // maybeUpdateRecordElr: an unclean election, or the feature being off, clears the ELR.
    if !rules.elr || reset {
        elr.clear();
    }

    // maybeUpdateLastKnownLeader: remembered when the partition first becomes leaderless, forgotten
    // once it has a leader again.
    let mut last_known_elr = part.last_known_elr.clone();
    if rules.elr && leader != part.leader {
        match (leader, part.leader) {
            (None, Some(previous)) if last_known_elr.is_empty() => last_known_elr = vec![previous],
            (Some(_), _) => last_known_elr.clear(),
            _ => {}
        }
    }
    Change { isr, elr, last_known_elr, leader, election }
}

/// The controller's handlers. Each reads the clock and sends, sets timers and reports effects
/// through `cx`; what it needs of the rest of the simulation comes in `layout` or as arguments.
impl Controller {
    /// A message for the controller. FindCoordinator is not among them: it names a group, whose
    /// partition only the group layer knows, so the root looks that up and calls
    /// [`Controller::find_coordinator`].
    pub(crate) fn receive(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, from: NodeId, msg: &Msg) {
        match msg {
            Msg::Heartbeat { broker, incarnation, want_shut_down, previous_broker_epoch } => {
                self.heartbeat(cx, layout, *broker, *incarnation, *want_shut_down, *previous_broker_epoch);
            }
            Msg::AlterPartition { tp, leader, leader_epoch, partition_epoch, new_isr } => {
                let pidx = layout.pidx(*tp);
                self.alter_partition(cx, layout, pidx, *leader, *leader_epoch, *partition_epoch, new_isr);
            }
            Msg::MetadataRequest => {
                let leaders = self.parts.iter().map(|p| p.leader).collect();
                let epochs = self.parts.iter().map(|p| p.leader_epoch).collect();
                let partitions = layout.topics.iter().map(|t| t.partitions).collect();
                cx.send(NodeId::Controller, from, Msg::MetadataResponse { leaders, epochs, partitions });
            }
            _ => {}
        }
    }

    /// Answers a FindCoordinator for `group`, whose offsets live in partition `pidx` (the group
    /// layer knows which; the root looks it up).
    ///
    /// Simplification: answered from the metadata the controller holds, instead of by any broker
    /// from its metadata cache.
    pub(crate) fn find_coordinator(&self, cx: &mut Ctx<'_, ClusterEffect>, from: NodeId, group: u32, pidx: u32) {
        let coordinator = self.parts[pidx as usize].leader;
        cx.send(NodeId::Controller, from, Msg::FindCoordinatorResponse { group, coordinator });
    }

    /// Answers a FindCoordinator for transactional id `txn`, whose transactions live in
    /// `__transaction_state` partition `pidx` (the same simplification as for groups).
    pub(crate) fn find_txn_coordinator(&self, cx: &mut Ctx<'_, ClusterEffect>, from: NodeId, txn: u32, pidx: u32) {
        let coordinator = self.parts[pidx as usize].leader;
        cx.send(NodeId::Controller, from, Msg::FindTxnCoordinatorResponse { txn, coordinator });
    }

    fn heartbeat(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, b: BrokerId, incarnation: u32, want_shut_down: bool, previous_broker_epoch: Option<u32>) {
        let now = cx.now();
        let timeout = layout.config.broker_session_timeout_ms;
        if self.sessions[(b - 1) as usize].incarnation != incarnation {
            self.register(cx, layout, b, previous_broker_epoch);
        }
        let session = &mut self.sessions[(b - 1) as usize];
        session.last_heartbeat = now;
        session.incarnation = incarnation;
        let fenced = session.fenced;
        if want_shut_down {
            let should_shut_down = self.shutdown_request(cx, layout, b);
            cx.send(NodeId::Controller, NodeId::Broker(b), Msg::HeartbeatResponse { should_shut_down });
        } else if fenced {
            self.sessions[(b - 1) as usize].fenced = false;
            cx.emit(ClusterEffect::BrokerUnfenced { broker: b });
            self.elect_offline(cx, layout);
            for pidx in 0..self.parts.len() as u32 {
                if self.parts[pidx as usize].replicas.contains(&b) {
                    self.notify(cx, layout, pidx, b);
                }
            }
        }
        cx.set_timer(now + timeout, Timer::SessionCheck { broker: b });
    }

    /// `BrokerHeartbeatManager.calculateNextBrokerState` for a heartbeat with `wantShutDown`;
    /// true is SHUTDOWN_NOW. A broker that leads partitions goes to CONTROLLED_SHUTDOWN first:
    /// in one step it leaves every ISR it is in, and the partitions it led elect other leaders
    /// (`handleBrokerInControlledShutdown`). Later heartbeats only check that it leads nothing
    /// any more; then it is fenced and may stop.
    ///
    /// Simplification: Kafka also waits until every active broker has replayed the metadata up to
    /// those changes (`controlledShutdownOffset <= lowestActiveOffset`); here the changes are
    /// messages already on their way, and the shutdown is granted at the next heartbeat.
    fn shutdown_request(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, b: BrokerId) -> bool {
        let session = &self.sessions[(b - 1) as usize];
        if session.fenced {
            return true;
        }
        if !self.has_leaderships(b) {
            self.sessions[(b - 1) as usize].fenced = true;
            cx.emit(ClusterEffect::ShutdownGranted { broker: b });
            self.leave_isrs(cx, layout, b, IsrCause::BrokerFenced);
            return true;
        }
        if !session.in_controlled_shutdown {
            self.sessions[(b - 1) as usize].in_controlled_shutdown = true;
            cx.emit(ClusterEffect::BrokerInControlledShutdown { broker: b });
            self.leave_isrs(cx, layout, b, IsrCause::ControlledShutdown);
        }
        false
    }

    /// A new incarnation registers (`ClusterControlManager.registerBroker`). The old one's
    /// in-memory state is gone, so it is fenced (losing leadership and ISR membership) before it
    /// is admitted again. The shutdown was clean if the broker's `previousBrokerEpoch` (from its
    /// clean-shutdown file) is the incarnation the controller knew. After an unclean one, with
    /// eligible leader replicas, the broker also leaves every ELR (`handleBrokerShutdown` with
    /// `isCleanShutdown = false`): it may have lost records it had not flushed, so it must not
    /// lead cleanly. A clean one is handled like a fence, so the broker stays in the ELRs.
    fn register(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, b: BrokerId, previous_broker_epoch: Option<u32>) {
        let session = &mut self.sessions[(b - 1) as usize];
        session.in_controlled_shutdown = false;
        let clean = previous_broker_epoch == Some(session.incarnation);
        let (was_fenced, silent) = (session.fenced, cx.now() - session.last_heartbeat);
        if !layout.elr_enabled() || clean {
            if !was_fenced {
                self.fence(cx, layout, b, silent);
            }
            return;
        }
        if !was_fenced {
            self.sessions[(b - 1) as usize].fenced = true;
            let timeout_ms = layout.config.broker_session_timeout_ms;
            cx.emit(ClusterEffect::BrokerFenced { broker: b, silent_ms: silent, timeout_ms });
        }
        for pidx in 0..self.parts.len() as u32 {
            let part = &self.parts[pidx as usize];
            if part.isr.contains(&b) || part.elr.contains(&b) {
                let target: Vec<BrokerId> = part.isr.iter().copied().filter(|&m| m != b).collect();
                if self.change(cx, layout, pidx, target, Some(b), IsrCause::UncleanShutdown) {
                    self.broadcast(cx, layout, pidx);
                }
            }
        }
    }

    /// The session timer of broker `b` fired: it is fenced if it has not heartbeaten within
    /// `broker.session.timeout.ms`. False when the timer is stale (not a step).
    pub(crate) fn session_check(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, b: BrokerId) -> bool {
        let timeout = layout.config.broker_session_timeout_ms;
        let session = &self.sessions[(b - 1) as usize];
        let silent = cx.now() - session.last_heartbeat;
        if session.fenced || silent < timeout {
            return false;
        }
        self.fence(cx, layout, b, silent);
        true
    }

    /// `handleBrokerFenced`: the broker leaves the ISR of every partition that has it, and a
    /// partition it led elects another leader.
    fn fence(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, b: BrokerId, silent_ms: u64) {
        let timeout = layout.config.broker_session_timeout_ms;
        self.sessions[(b - 1) as usize].fenced = true;
        cx.emit(ClusterEffect::BrokerFenced { broker: b, silent_ms, timeout_ms: timeout });
        self.leave_isrs(cx, layout, b, IsrCause::BrokerFenced);
    }

    /// `generateLeaderAndIsrUpdates` over `partitionsWithBrokerInIsr`: the broker, no longer an
    /// acceptable leader, leaves the ISR of every partition that has it, and a partition it led
    /// elects another leader.
    fn leave_isrs(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, b: BrokerId, cause: IsrCause) {
        for pidx in 0..self.parts.len() as u32 {
            let part = &self.parts[pidx as usize];
            if part.isr.contains(&b) {
                let target: Vec<BrokerId> = part.isr.iter().copied().filter(|&m| m != b).collect();
                if self.change(cx, layout, pidx, target, None, cause) {
                    self.broadcast(cx, layout, pidx);
                }
            }
        }
    }

    /// The periodic `electUnclean` task (`maybeElectUncleanLeaders`, every
    /// `unclean.leader.election.interval.ms` from the controller's start): a leaderless partition
    /// whose topic allows unclean election now elects any live replica. Elections made when a
    /// broker is fenced or unfenced already allow it, so the task finds work only after
    /// `unclean.leader.election.enable` was turned on for a partition that was already offline;
    /// the simulator runs it only then (a run of idle checks every five minutes would keep a
    /// stopped cluster's event queue from ever emptying). False when it elected nothing.
    pub(crate) fn elect_unclean(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout) -> bool {
        let mut elected = false;
        for pidx in 0..self.parts.len() as u32 {
            let tp = layout.tps[pidx as usize];
            let part = &self.parts[pidx as usize];
            if part.leader.is_none() && layout.topics[tp.topic as usize].config.unclean_leader_election_enable {
                let target = part.isr.clone();
                if self.change(cx, layout, pidx, target, None, IsrCause::UncleanElection) {
                    self.broadcast(cx, layout, pidx);
                    elected = true;
                }
            }
        }
        elected
    }

    /// When the `electUnclean` task next runs after `now`.
    pub(crate) fn next_unclean_check(now: u64) -> u64 {
        (now / UNCLEAN_LEADER_ELECTION_INTERVAL_MS + 1) * UNCLEAN_LEADER_ELECTION_INTERVAL_MS
    }

    /// `ClearElrRecord` for one topic, written when its `min.insync.replicas` is altered: every
    /// partition's ELR and last known ELR are emptied (the partition epoch moves, the leader
    /// epoch does not).
    pub(crate) fn clear_topic_elrs(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, topic: u32) {
        for pidx in 0..self.parts.len() as u32 {
            let tp = layout.tps[pidx as usize];
            let part = &mut self.parts[pidx as usize];
            if tp.topic != topic || (part.elr.is_empty() && part.last_known_elr.is_empty()) {
                continue;
            }
            let elr_from = std::mem::take(&mut part.elr);
            part.last_known_elr.clear();
            part.partition_epoch += 1;
            let (isr, partition_epoch) = (part.isr.clone(), part.partition_epoch);
            cx.emit(ClusterEffect::IsrChanged { tp, from: isr.clone(), to: isr, elr_from, elr_to: Vec::new(), partition_epoch, cause: IsrCause::MinIsrAltered });
            self.broadcast(cx, layout, pidx);
        }
    }

    /// `handleBrokerUnfenced`: every leaderless partition tries an election again.
    fn elect_offline(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout) {
        for pidx in 0..self.parts.len() as u32 {
            let part = &self.parts[pidx as usize];
            if part.leader.is_none() {
                let target = part.isr.clone();
                if self.change(cx, layout, pidx, target, None, IsrCause::BrokerUnfenced) {
                    self.broadcast(cx, layout, pidx);
                }
            }
        }
    }

    /// Applies one partition change (see [`build`]) and narrates it; false when nothing changed.
    /// `cause` explains an ISR or ELR change that no election made.
    ///
    /// Simplification: Kafka writes one record and bumps the partition epoch once; here a
    /// change that both shrinks the ISR and elects a clean leader bumps it twice, once for each.
    fn change(&mut self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, target_isr: Vec<BrokerId>, unclean_shutdown: Option<BrokerId>, cause: IsrCause) -> bool {
        let tp = layout.tps[pidx as usize];
        let topic = &layout.topics[tp.topic as usize].config;
        let part = &self.parts[pidx as usize];
        let rules = Rules {
            min_isr: (topic.min_insync_replicas as usize).min(part.replicas.len()),
            elr: layout.elr_enabled(),
            unclean_allowed: topic.unclean_leader_election_enable,
        };
        // The broker being fenced, re-registered or shut down is already marked so, and cannot lead.
        let change = build(part, target_isr, unclean_shutdown, |r| self.active(r), rules);
        let leader_changes = change.leader != part.leader;
        let membership_changes = change.isr != part.isr || change.elr != part.elr;
        if !leader_changes && !membership_changes {
            return false;
        }
        let part = &mut self.parts[pidx as usize];
        let (isr_before, elr_before) = (part.isr.clone(), part.elr.clone());
        let previous = part.leader;
        part.isr = change.isr.clone();
        part.elr = change.elr.clone();
        part.last_known_elr = change.last_known_elr.clone();
        // An election that picks a leader outside the ISR rewrites the ISR itself, so its ISR
        // change is narrated as the election's; any other ISR change comes first, on its own.
        let election_cause = match change.election {
            Some(Election::Elr) => Some(IsrCause::ElrElection),
            Some(Election::LastKnownLeader) => Some(IsrCause::LastKnownLeaderElection),
            Some(Election::Unclean) => Some(IsrCause::UncleanElection),
            Some(Election::Isr) | None => None,
        };
        if membership_changes && election_cause.is_none() {
            part.partition_epoch += 1;
            let partition_epoch = part.partition_epoch;
            let (to, elr_to) = (change.isr.clone(), change.elr.clone());
            cx.emit(ClusterEffect::IsrChanged { tp, from: isr_before.clone(), to, elr_from: elr_before.clone(), elr_to, partition_epoch, cause });
        }
        if leader_changes {
            part.leader = change.leader;
            part.leader_epoch += 1;
            part.partition_epoch += 1;
            let (epoch, partition_epoch) = (part.leader_epoch, part.partition_epoch);
            if let Some(cause) = election_cause {
                let (to, elr_to) = (change.isr.clone(), change.elr.clone());
                cx.emit(ClusterEffect::IsrChanged { tp, from: isr_before, to, elr_from: elr_before, elr_to, partition_epoch, cause });
            }
            match (change.leader, change.election) {
                (Some(leader), Some(election)) => {
                    if matches!(election, Election::Unclean | Election::LastKnownLeader) {
                        self.unclean_elections += 1;
                    }
                    cx.emit(ClusterEffect::LeaderElected { tp, leader, previous, epoch, election })
                }
                _ => {
                    let last_known_leader = change.last_known_elr.first().copied();
                    cx.emit(ClusterEffect::PartitionOffline {
                        tp,
                        isr: change.isr,
                        elr: change.elr,
                        last_known_leader,
                        unclean_allowed: rules.unclean_allowed,
                    });
                }
            }
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn alter_partition(
        &mut self,
        cx: &mut Ctx<'_, ClusterEffect>,
        layout: &Layout,
        pidx: u32,
        leader: BrokerId,
        leader_epoch: u32,
        partition_epoch: u32,
        new_isr: &[BrokerId],
    ) {
        let tp = layout.tps[pidx as usize];
        let part = &self.parts[pidx as usize];
        let error = if part.leader != Some(leader) || part.leader_epoch != leader_epoch {
            Some(KafkaError::FencedLeaderEpoch)
        } else if part.partition_epoch != partition_epoch {
            Some(KafkaError::InvalidUpdateVersion)
        } else if new_isr.iter().any(|&m| !part.isr.contains(&m) && !self.active(m)) {
            Some(KafkaError::IneligibleReplica)
        } else {
            None
        };
        if let Some(error) = error {
            cx.emit(ClusterEffect::AlterPartitionRejected { tp, leader, error });
            return self.notify(cx, layout, pidx, leader);
        }
        if self.change(cx, layout, pidx, new_isr.to_vec(), None, IsrCause::AlterPartition) {
            self.broadcast(cx, layout, pidx);
        } else {
            // Nothing to write: the answer is the partition as it stands.
            self.notify(cx, layout, pidx, leader);
        }
    }

    /// Sends the partition's current state to every replica host.
    fn broadcast(&self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32) {
        for &b in &self.parts[pidx as usize].replicas {
            self.notify(cx, layout, pidx, b);
        }
    }

    fn notify(&self, cx: &mut Ctx<'_, ClusterEffect>, layout: &Layout, pidx: u32, b: BrokerId) {
        let part = &self.parts[pidx as usize];
        let msg = Msg::PartitionChange {
            tp: layout.tps[pidx as usize],
            leader: part.leader,
            leader_epoch: part.leader_epoch,
            isr: part.isr.clone(),
            partition_epoch: part.partition_epoch,
        };
        cx.send(NodeId::Controller, NodeId::Broker(b), msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // These tests run whole scenarios, so they drive the controller through the simulation.
    use crate::sim::{Effect, Sim};

    /// Three brokers, one partition with replicas [1, 2, 3] and `min.insync.replicas = 2`, and
    /// `timeline` run to `until` ms. A broker cut off from the controller is fenced without
    /// restarting; `crash` and `restart` are the unclean shutdown, `controlled_shutdown` and
    /// `restart` the clean one.
    fn run(cluster_config: &str, topic_config: &str, timeline: &str, until: u64) -> Sim {
        run_with_elections(cluster_config, topic_config, timeline, until).0
    }

    /// [`run`], and every election on the way: the new leader and how it was chosen.
    fn run_with_elections(cluster_config: &str, topic_config: &str, timeline: &str, until: u64) -> (Sim, Vec<(BrokerId, Election)>) {
        let text = format!(
            "title = \"t\"\nsummary = \"s\"\n\n[cluster]\nbrokers = 3\nnetwork = {{ latency_ms = 5 }}\nconfig = {{ {cluster_config} }}\n\n\
             [[topics]]\nname = \"t\"\npartitions = 1\n\"replication.factor\" = 3\nconfig = {{ \"min.insync.replicas\" = 2{topic_config} }}\n\n{timeline}"
        );
        let scenario = crate::scenario::parse("test.toml", &text).unwrap_or_else(|e| panic!("{e:?}"));
        let mut sim = scenario.start(scenario.seed);
        let mut elections = Vec::new();
        sim.run_until(until, |_, step| {
            for effect in step.effects {
                if let Effect::Cluster(ClusterEffect::LeaderElected { leader, election, .. }) = effect {
                    elections.push((leader, election));
                }
            }
        });
        (sim, elections)
    }

    fn state(sim: &Sim) -> (Option<BrokerId>, Vec<BrokerId>, Vec<BrokerId>, Vec<BrokerId>) {
        let p = &sim.controller.parts[0];
        (p.leader, p.isr.clone(), p.elr.clone(), p.last_known_elr.clone())
    }

    /// Fences broker 3, then 2, then 1 (each cut off from the controller), then lets broker 2
    /// heartbeat again at 38 s.
    const FENCE_3_2_1_THEN_HEAL_2: &str = "\
        [[timeline]]\nat = 0\ncut = { from = \"broker-3\", to = \"controller\" }\n\n\
        [[timeline]]\nat = 12000\ncut = { from = \"broker-2\", to = \"controller\" }\n\n\
        [[timeline]]\nat = 24000\ncut = { from = \"broker-1\", to = \"controller\" }\n\n\
        [[timeline]]\nat = 38000\nheal = { from = \"broker-2\", to = \"controller\" }\n";

    #[test]
    fn replicas_leaving_an_isr_below_min_isr_join_the_elr_and_one_leads_cleanly() {
        let at = |ms| state(&run("", "", FENCE_3_2_1_THEN_HEAL_2, ms));
        assert_eq!(at(11_500), (Some(1), vec![1, 2], vec![], vec![]), "an ISR at min ISR keeps the ELR empty");
        assert_eq!(at(23_500), (Some(1), vec![1], vec![2], vec![]), "broker 2 left an ISR that fell below min ISR");
        assert_eq!(at(37_000), (None, vec![], vec![1, 2], vec![1]), "the ISR may be empty; broker 1 was the last leader");
        let sim = run("", "", FENCE_3_2_1_THEN_HEAL_2, 41_000);
        assert_eq!(state(&sim), (Some(2), vec![2], vec![1], vec![]), "broker 2 leads from the ELR and is the whole ISR");
        assert_eq!(sim.controller.parts[0].leader_epoch, 2);
    }

    #[test]
    fn without_elr_the_last_member_stays_in_the_isr_and_nobody_else_may_lead() {
        let off = "\"eligible.leader.replicas.version\" = 0";
        let at = |ms| state(&run(off, "", FENCE_3_2_1_THEN_HEAL_2, ms));
        assert_eq!(at(23_500), (Some(1), vec![1], vec![], vec![]));
        assert_eq!(at(37_000), (None, vec![1], vec![], vec![]));
        assert_eq!(at(41_000), (None, vec![1], vec![], vec![]), "broker 2 is back but outside the ISR");
    }

    #[test]
    fn a_broker_restarting_after_a_crash_leaves_the_elr() {
        let timeline = format!(
            "{FENCE_3_2_1_THEN_HEAL_2}\n[[timeline]]\nat = 36000\ncrash = 2\n\n[[timeline]]\nat = 39000\nrestart = 2\n\n\
             [[timeline]]\nat = 44000\nheal = {{ from = \"broker-1\", to = \"controller\" }}\n"
        );
        let sim = run("", "", &timeline, 43_000);
        assert!(!sim.controller.sessions[1].fenced, "broker 2 is registered and unfenced again");
        assert_eq!(state(&sim), (None, vec![], vec![1], vec![1]), "but it is no longer eligible, so the partition stays offline");
        let (sim, elections) = run_with_elections("", "", &timeline, 50_000);
        assert_eq!(elections, vec![(1, Election::Elr)], "broker 1 returns and leads from the ELR");
        assert_eq!(state(&sim), (Some(1), vec![1, 2], vec![], vec![]), "broker 2 caught up from it and is back in the ISR");
    }

    /// Brokers 3 and then 2 are fenced (ISR [1], ELR [2]), leader broker-1 crashes, then broker 2
    /// crashes and restarts and so leaves the ELR, and broker 1 restarts last.
    const LAST_LEADER_RETURNS: &str = "\
        [[timeline]]\nat = 0\ncut = { from = \"broker-3\", to = \"controller\" }\n\n\
        [[timeline]]\nat = 3000\ncut = { from = \"broker-2\", to = \"controller\" }\n\n\
        [[timeline]]\nat = 14000\ncrash = 1\n\n\
        [[timeline]]\nat = 26000\ncrash = 2\n\n\
        [[timeline]]\nat = 27000\nheal = { from = \"broker-2\", to = \"controller\" }\n\n\
        [[timeline]]\nat = 27000\nrestart = 2\n\n\
        [[timeline]]\nat = 32000\nrestart = 1\n";

    #[test]
    fn the_last_known_leader_leads_again_with_unclean_election_off() {
        let at = |ms| state(&run("", "", LAST_LEADER_RETURNS, ms));
        assert_eq!(at(13_500), (Some(1), vec![1], vec![2], vec![]));
        assert_eq!(at(25_000), (None, vec![], vec![1, 2], vec![1]));
        assert_eq!(at(31_000), (None, vec![], vec![1], vec![1]), "broker 2 restarted uncleanly and left the ELR");
        let (sim, elections) = run_with_elections("", "", LAST_LEADER_RETURNS, 36_000);
        assert_eq!(elections, vec![(1, Election::LastKnownLeader)], "broker 1 left the ELR too, but it was the last leader");
        assert_eq!((sim.controller.parts[0].leader, &sim.controller.parts[0].elr), (Some(1), &vec![]));
        assert!(!sim.topics[0].config.unclean_leader_election_enable);
    }

    #[test]
    fn without_elr_the_restarted_last_member_leads_from_the_isr_it_never_left() {
        let off = "\"eligible.leader.replicas.version\" = 0";
        assert_eq!(state(&run(off, "", LAST_LEADER_RETURNS, 31_000)), (None, vec![1], vec![], vec![]));
        let (_, elections) = run_with_elections(off, "", LAST_LEADER_RETURNS, 36_000);
        assert_eq!(elections, vec![(1, Election::Isr)]);
    }

    /// 40 records sent with acks=all over two seconds; the leader, broker 1, shuts down cleanly
    /// at 1 s and restarts at 5 s.
    const SHUT_DOWN_THE_LEADER: &str = "\
        [[producers]]\nname = \"app\"\nconfig = { acks = \"all\" }\n\n\
        [[timeline]]\nat = 0\nproduce = { key = \"k\", value = \"v{n}\", count = 40, rate = 20 }\n\n\
        [[timeline]]\nat = 1000\ncontrolled_shutdown = 1\n\n\
        [[timeline]]\nat = 5000\nrestart = 1\n";

    #[test]
    fn a_controlled_shutdown_moves_leadership_and_leaves_the_isr_before_the_broker_stops() {
        // The first heartbeat asking to shut down reaches the controller at 1,005 ms; the broker
        // heartbeats again 50 ms after the answer, and that answer lets it stop.
        let sim = run("", "", SHUT_DOWN_THE_LEADER, 1_030);
        assert!(sim.brokers[0].up, "broker 1 still runs");
        assert!(sim.controller.sessions[0].in_controlled_shutdown);
        assert_eq!(state(&sim), (Some(2), vec![2, 3], vec![], vec![]), "it already left the ISR and leads nothing");
        let sim = run("", "", SHUT_DOWN_THE_LEADER, 1_200);
        assert!(!sim.brokers[0].up && sim.controller.sessions[0].fenced, "it stopped once it led nothing, fenced at its request");
        assert_eq!(sim.brokers[0].clean_shutdown_file, Some(1), "it left a clean-shutdown file");
        let (sim, elections) = run_with_elections("", "", SHUT_DOWN_THE_LEADER, 20_000);
        assert_eq!(elections, vec![(2, Election::Isr)], "one clean election, without waiting for broker.session.timeout.ms");
        let totals = sim.ledger_totals();
        assert_eq!((totals.sent, totals.acknowledged, totals.acknowledged_lost), (40, 40, 0));
        assert_eq!(state(&sim), (Some(2), vec![2, 3, 1], vec![], vec![]), "broker 1 restarted, caught up and rejoined the ISR");
    }

    #[test]
    fn a_broker_that_leads_nothing_shuts_down_at_its_first_heartbeat() {
        let timeline = "[[timeline]]\nat = 1000\ncontrolled_shutdown = 3\n";
        let sim = run("", "", timeline, 1_011);
        assert!(!sim.brokers[2].up, "SHUTDOWN_NOW: the first answer lets it stop");
        assert!(!sim.controller.sessions[2].in_controlled_shutdown, "it never needed CONTROLLED_SHUTDOWN");
        assert_eq!(state(&sim), (Some(1), vec![1, 2], vec![], vec![]), "fenced, it left the ISR");
    }

    /// Broker 3 is fenced (ISR [1, 2]); broker 2 stops at 12 s (`stop` is its action) and so
    /// leaves an ISR that falls below min ISR, joining the ELR; leader broker 1 crashes at 14 s;
    /// broker 2 restarts at 30 s.
    fn broker_2_stops_then_returns(stop: &str) -> String {
        format!(
            "[[timeline]]\nat = 0\ncut = {{ from = \"broker-3\", to = \"controller\" }}\n\n\
             [[timeline]]\nat = 12000\n{stop} = 2\n\n\
             [[timeline]]\nat = 14000\ncrash = 1\n\n\
             [[timeline]]\nat = 30000\nrestart = 2\n"
        )
    }

    #[test]
    fn a_clean_restart_keeps_the_elr_membership_a_crash_loses() {
        let clean = broker_2_stops_then_returns("controlled_shutdown");
        let crash = broker_2_stops_then_returns("crash");
        assert_eq!(state(&run("", "", &clean, 12_100)), (Some(1), vec![1], vec![2], vec![]), "fenced at its request, broker 2 joined the ELR");
        assert_eq!(state(&run("", "", &clean, 29_000)), (None, vec![], vec![1, 2], vec![1]));
        assert_eq!(state(&run("", "", &crash, 29_000)), (None, vec![], vec![1, 2], vec![1]), "the same state before the restarts");
        let (sim, elections) = run_with_elections("", "", &clean, 34_000);
        assert_eq!(elections, vec![(2, Election::Elr)], "after a clean shutdown broker 2 is still eligible and leads cleanly");
        assert_eq!(state(&sim), (Some(2), vec![2], vec![1], vec![]));
        let (sim, elections) = run_with_elections("", "", &crash, 34_000);
        assert_eq!(elections, vec![], "after a crash it left the ELR and may not lead");
        assert_eq!(state(&sim), (None, vec![], vec![1], vec![1]));
    }

    fn partition(isr: &[BrokerId], elr: &[BrokerId], last_known_elr: &[BrokerId]) -> PartitionState {
        PartitionState {
            replicas: vec![2, 1, 3],
            leader: None,
            leader_epoch: 3,
            isr: isr.to_vec(),
            elr: elr.to_vec(),
            last_known_elr: last_known_elr.to_vec(),
            partition_epoch: 7,
        }
    }

    const ELR_ON: Rules = Rules { min_isr: 2, elr: true, unclean_allowed: false };

    #[test]
    fn the_last_known_leader_is_tried_before_an_unclean_election() {
        let part = partition(&[], &[], &[1]);
        let rules = Rules { unclean_allowed: true, ..ELR_ON };
        let change = build(&part, vec![], None, |_| true, rules);
        assert_eq!((change.leader, change.election), (Some(1), Some(Election::LastKnownLeader)), "not broker 2, first in assignment order");
        assert_eq!((change.isr, change.elr, change.last_known_elr), (vec![1], vec![], vec![]));
        let unclean = build(&part, vec![], None, |r| r != 1, rules);
        assert_eq!((unclean.leader, unclean.election, unclean.isr), (Some(2), Some(Election::Unclean), vec![2]));
    }

    #[test]
    fn an_elr_member_leads_only_when_the_isr_is_empty() {
        let part = PartitionState { leader: Some(1), ..partition(&[1], &[3], &[]) };
        let kept = build(&part, vec![1], None, |_| true, ELR_ON);
        assert_eq!((kept.leader, kept.election, kept.elr.clone()), (Some(1), None, vec![3]));
        let fenced = build(&part, vec![], None, |r| r != 1, ELR_ON);
        assert_eq!((fenced.leader, fenced.election), (Some(3), Some(Election::Elr)));
        assert_eq!((fenced.isr, fenced.elr), (vec![3], vec![1]), "the old leader joins the ELR, the new one leaves it");
    }

    #[test]
    fn an_unclean_shutdown_removes_the_broker_from_the_elr_but_a_fence_does_not() {
        let part = PartitionState { leader: Some(1), ..partition(&[1, 2], &[], &[]) };
        let fence = build(&part, vec![1], None, |r| r != 2, ELR_ON);
        assert_eq!((fence.isr, fence.elr), (vec![1], vec![2]));
        let crash = build(&part, vec![1], Some(2), |r| r != 2, ELR_ON);
        assert_eq!((crash.isr, crash.elr), (vec![1], vec![]));
    }

    #[test]
    fn an_isr_back_at_min_isr_clears_the_elr() {
        let part = PartitionState { leader: Some(1), ..partition(&[1], &[2, 3], &[]) };
        let change = build(&part, vec![1, 3], None, |_| true, ELR_ON);
        assert_eq!((change.isr, change.elr), (vec![1, 3], vec![]));
    }
}
