//! Brokers: their state (replicas, leader and follower bookkeeping). What a broker does alone is
//! in `produce.rs` (appends, the high watermark, consumer fetches) and `replication.rs`; its
//! lifecycle (start, crash, controlled shutdown, heartbeats), the dispatch of what it receives,
//! metadata changes and retention join it to other layers and are the root's
//! (`sim::broker_glue`).
use crate::sim::cluster::log::ReplicaLog;
use crate::sim::types::{BrokerId, NodeId};
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
    /// `isolation.level` = read_committed: it waits for the last stable offset to pass it.
    pub read_committed: bool,
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
    /// For a transaction coordinator's own record: the append's id (a waiter whose client is a
    /// broker and that has none is a transaction marker, answered to that coordinator).
    pub txn: Option<u64>,
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

    /// The broker hosts a replica of a partition just created, with an empty log (it learns its
    /// role from the partition's registration, as at start-up).
    pub(crate) fn host(&mut self, pidx: u32, log: ReplicaLog) {
        let replica = Replica { log, leader: None, leader_epoch: 0, partition_epoch: 0, isr: Vec::new(), role: Role::Unknown };
        self.replicas[pidx as usize] = Some(Box::new(replica));
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

