//! The KRaft controller: broker sessions, fencing, leader election and ISR changes.
//!
//! Simplification: the controller quorum is one node that never fails; brokers receive partition
//! changes as messages instead of replaying the metadata log.

use super::step::{Effect, IsrCause, Msg, Timer};
use super::types::{BrokerId, KafkaError, NodeId};
use super::Sim;
use serde::Serialize;

/// The controller's record of one partition.
#[derive(Clone, Debug, Serialize)]
pub struct PartitionState {
    /// Assigned replicas in preference order.
    pub replicas: Vec<BrokerId>,
    /// Current leader, none when offline.
    pub leader: Option<BrokerId>,
    /// Leader epoch, bumped at every leader change.
    pub leader_epoch: u32,
    /// In-sync replicas.
    pub isr: Vec<BrokerId>,
    /// Bumped at every change of the partition.
    pub partition_epoch: u32,
}

/// A broker's session as the controller sees it.
#[derive(Clone, Debug, Serialize)]
pub struct BrokerSession {
    /// Fenced brokers lead nothing and are in no ISR (but the last member).
    pub fenced: bool,
    /// Time of the last heartbeat.
    pub last_heartbeat: u64,
    /// Incarnation seen in the last heartbeat.
    pub incarnation: u32,
}

/// The controller.
#[derive(Clone, Debug, Serialize)]
pub struct Controller {
    /// Partitions by global index.
    pub parts: Vec<PartitionState>,
    /// Broker sessions; broker `id` at index `id - 1`.
    pub sessions: Vec<BrokerSession>,
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
                    partition_epoch: 0,
                })
                .collect(),
            sessions: (0..brokers).map(|_| BrokerSession { fenced: false, last_heartbeat: 0, incarnation: 1 }).collect(),
        }
    }

    fn fenced(&self, b: BrokerId) -> bool {
        self.sessions[(b - 1) as usize].fenced
    }
}

impl Sim {
    pub(crate) fn controller_receive(&mut self, from: NodeId, msg: &Msg) {
        match msg {
            Msg::Heartbeat { broker, incarnation } => self.controller_heartbeat(*broker, *incarnation),
            Msg::AlterPartition { tp, leader, leader_epoch, partition_epoch, new_isr } => {
                let pidx = self.pidx(*tp);
                self.controller_alter_partition(pidx, *leader, *leader_epoch, *partition_epoch, new_isr);
            }
            Msg::FindCoordinator { group } => {
                // Simplification: answered from the metadata the controller holds, instead of by
                // any broker from its metadata cache.
                let pidx = self.groups[*group as usize].pidx;
                let coordinator = self.controller.parts[pidx as usize].leader;
                self.send(NodeId::Controller, from, Msg::FindCoordinatorResponse { group: *group, coordinator });
            }
            Msg::MetadataRequest => {
                let leaders = self.controller.parts.iter().map(|p| p.leader).collect();
                self.send(NodeId::Controller, from, Msg::MetadataResponse { leaders });
            }
            _ => {}
        }
    }

    fn controller_heartbeat(&mut self, b: BrokerId, incarnation: u32) {
        let now = self.now;
        let timeout = self.broker_config.broker_session_timeout_ms;
        let session = &self.controller.sessions[(b - 1) as usize];
        if !session.fenced && session.incarnation != incarnation {
            // A new incarnation re-registers: the old one's in-memory state is gone, so it is
            // fenced first (losing leadership and ISR membership) and then admitted again.
            let silent = now - session.last_heartbeat;
            self.controller_fence(b, silent);
        }
        let session = &mut self.controller.sessions[(b - 1) as usize];
        session.last_heartbeat = now;
        session.incarnation = incarnation;
        if session.fenced {
            session.fenced = false;
            self.emit(Effect::BrokerUnfenced { broker: b });
            self.controller_elect_offline();
            for pidx in 0..self.controller.parts.len() as u32 {
                if self.controller.parts[pidx as usize].replicas.contains(&b) {
                    self.controller_notify(pidx, b);
                }
            }
        }
        self.schedule_timer(now + timeout, Timer::SessionCheck { broker: b });
    }

    pub(crate) fn controller_session_check(&mut self, b: BrokerId) -> bool {
        let timeout = self.broker_config.broker_session_timeout_ms;
        let session = &self.controller.sessions[(b - 1) as usize];
        let silent = self.now - session.last_heartbeat;
        if session.fenced || silent < timeout {
            return false;
        }
        self.controller_fence(b, silent);
        true
    }

    fn controller_fence(&mut self, b: BrokerId, silent_ms: u64) {
        let timeout = self.broker_config.broker_session_timeout_ms;
        self.controller.sessions[(b - 1) as usize].fenced = true;
        self.emit(Effect::BrokerFenced { broker: b, silent_ms, timeout_ms: timeout });
        for pidx in 0..self.controller.parts.len() as u32 {
            let tp = self.tp(pidx);
            let part = &mut self.controller.parts[pidx as usize];
            if !part.replicas.contains(&b) {
                continue;
            }
            let mut changed = false;
            // KRaft never empties the ISR: the last member stays, so it can lead again cleanly.
            if part.isr.contains(&b) && part.isr.len() > 1 {
                let from = part.isr.clone();
                part.isr.retain(|&m| m != b);
                part.partition_epoch += 1;
                let (to, partition_epoch) = (part.isr.clone(), part.partition_epoch);
                self.emit(Effect::IsrChanged { tp, from, to, partition_epoch, cause: IsrCause::BrokerFenced });
                changed = true;
            }
            if self.controller.parts[pidx as usize].leader == Some(b) {
                self.controller_elect(pidx);
                changed = true;
            }
            if changed {
                self.controller_broadcast(pidx);
            }
        }
    }

    /// Chooses a leader: the first replica in assignment order that is in the ISR and unfenced;
    /// failing that, with `unclean.leader.election.enable`, the first unfenced replica.
    fn controller_elect(&mut self, pidx: u32) -> bool {
        let tp = self.tp(pidx);
        let unclean_allowed = self.topics[tp.topic as usize].config.unclean_leader_election_enable;
        let part = &self.controller.parts[pidx as usize];
        let clean = part.replicas.iter().copied().find(|&r| part.isr.contains(&r) && !self.controller.fenced(r));
        let unclean = || part.replicas.iter().copied().find(|&r| !self.controller.fenced(r));
        let (leader, was_unclean) = match clean {
            Some(l) => (Some(l), false),
            None if unclean_allowed => (unclean(), true),
            None => (None, false),
        };
        let previous = part.leader;
        if leader.is_none() && previous.is_none() {
            return false;
        }
        let part = &mut self.controller.parts[pidx as usize];
        part.leader = leader;
        part.leader_epoch += 1;
        part.partition_epoch += 1;
        let epoch = part.leader_epoch;
        match leader {
            Some(l) => {
                if was_unclean {
                    let from = std::mem::replace(&mut part.isr, vec![l]);
                    let partition_epoch = part.partition_epoch;
                    self.emit(Effect::IsrChanged { tp, from, to: vec![l], partition_epoch, cause: IsrCause::UncleanElection });
                }
                self.emit(Effect::LeaderElected { tp, leader: l, previous, epoch, unclean: was_unclean });
            }
            None => {
                let isr = part.isr.clone();
                self.emit(Effect::PartitionOffline { tp, isr, unclean_allowed });
            }
        }
        true
    }

    fn controller_elect_offline(&mut self) {
        for pidx in 0..self.controller.parts.len() as u32 {
            if self.controller.parts[pidx as usize].leader.is_none() && self.controller_elect(pidx) {
                self.controller_broadcast(pidx);
            }
        }
    }

    fn controller_alter_partition(
        &mut self,
        pidx: u32,
        leader: BrokerId,
        leader_epoch: u32,
        partition_epoch: u32,
        new_isr: &[BrokerId],
    ) {
        let tp = self.tp(pidx);
        let part = &self.controller.parts[pidx as usize];
        let error = if part.leader != Some(leader) || part.leader_epoch != leader_epoch {
            Some(KafkaError::FencedLeaderEpoch)
        } else if part.partition_epoch != partition_epoch {
            Some(KafkaError::InvalidUpdateVersion)
        } else if new_isr.iter().any(|&m| !part.isr.contains(&m) && self.controller.fenced(m)) {
            Some(KafkaError::IneligibleReplica)
        } else {
            None
        };
        if let Some(error) = error {
            self.emit(Effect::AlterPartitionRejected { tp, leader, error });
            return self.controller_notify(pidx, leader);
        }
        let part = &mut self.controller.parts[pidx as usize];
        let from = std::mem::replace(&mut part.isr, new_isr.to_vec());
        part.partition_epoch += 1;
        let partition_epoch = part.partition_epoch;
        self.emit(Effect::IsrChanged { tp, from, to: new_isr.to_vec(), partition_epoch, cause: IsrCause::AlterPartition });
        self.controller_broadcast(pidx);
    }

    /// Sends the partition's current state to every replica host.
    fn controller_broadcast(&mut self, pidx: u32) {
        let replicas = self.controller.parts[pidx as usize].replicas.clone();
        for b in replicas {
            self.controller_notify(pidx, b);
        }
    }

    fn controller_notify(&mut self, pidx: u32, b: BrokerId) {
        let tp = self.tp(pidx);
        let part = &self.controller.parts[pidx as usize];
        let msg = Msg::PartitionChange {
            tp,
            leader: part.leader,
            leader_epoch: part.leader_epoch,
            isr: part.isr.clone(),
            partition_epoch: part.partition_epoch,
        };
        self.send(NodeId::Controller, NodeId::Broker(b), msg);
    }
}
