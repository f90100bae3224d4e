//! The group coordinator's effects: rebalances, generations, members removed and offsets stored,
//! each next to the sentence that narrates it.

use crate::sim::group::assignor::Strategy;
use crate::sim::narrate::{ms, offsets, Names};
use crate::sim::types::{BrokerId, Tp};
use serde::Serialize;

/// A consequence of a step at a group coordinator.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum GroupEffect {
    /// The coordinator started a rebalance.
    RebalanceStarted {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Why.
        reason: RebalanceReason,
        /// When the join phase ends at the latest.
        deadline: u64,
    },
    /// The coordinator removed a member.
    MemberRemoved {
        /// Group index.
        group: u32,
        /// Member id.
        member_id: String,
        /// Consumer.
        consumer: u32,
        /// Why.
        reason: RemoveReason,
    },
    /// The join phase ended: a new generation with these members.
    GenerationStarted {
        /// Group index.
        group: u32,
        /// Generation.
        generation: i32,
        /// Leader's member id.
        leader: String,
        /// Members (consumer index, member id).
        members: Vec<(u32, String)>,
        /// The assignor.
        strategy: Strategy,
    },
    /// The coordinator stored the assignment: the group is stable.
    GroupStable {
        /// Group index.
        group: u32,
        /// Generation.
        generation: i32,
    },
    /// A static member came back under the same `group.instance.id`: no rebalance.
    StaticMemberReplaced {
        /// Group index.
        group: u32,
        /// Consumer.
        consumer: u32,
        /// The old member id (now fenced).
        old_member: String,
        /// The new member id.
        new_member: String,
    },
    /// The coordinator stored committed offsets (replicated to `min.insync.replicas`).
    OffsetsCommitted {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Consumer that committed.
        consumer: u32,
        /// (partition, offset).
        offsets: Vec<(Tp, u64)>,
    },
    /// A commit's records were not replicated within `offsets.commit.timeout.ms`: the coordinator
    /// answers COORDINATOR_NOT_AVAILABLE (its REQUEST_TIMED_OUT, mapped as Kafka 4.x maps it); the
    /// records stay in the log and count once the high watermark passes them.
    CommitTimedOut {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Consumer that committed.
        consumer: u32,
        /// `offsets.commit.timeout.ms`.
        timeout_ms: u64,
    },
    /// An OffsetFetch (the consumer asks with `require_stable`) waits until the group's pending
    /// commits are replicated, so that it answers with every offset written so far.
    OffsetFetchHeld {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Consumer that asked.
        consumer: u32,
        /// Commits it waits for.
        pending: u32,
    },
    /// A held OffsetFetch reached `offsets.commit.timeout.ms`: COORDINATOR_NOT_AVAILABLE.
    OffsetFetchTimedOut {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Consumer that asked.
        consumer: u32,
    },
    /// An OffsetFetch asked for a partition whose offset an open transaction has written:
    /// UNSTABLE_OFFSET_COMMIT, and the consumer asks again after `retry.backoff.ms`.
    OffsetFetchUnstable {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Consumer that asked.
        consumer: u32,
        /// The producer ids whose open transactions hold those offsets.
        pids: Vec<u32>,
    },
    /// A transactional producer's offsets (TxnOffsetCommit) were written to `__consumer_offsets`
    /// in its transaction: pending until the transaction's marker reaches that partition.
    TxnOffsetsPending {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// The transaction's producer id.
        pid: u32,
        /// (partition, offset).
        offsets: Vec<(Tp, u64)>,
    },
    /// The marker of a transaction reached the group's `__consumer_offsets` partition: a COMMIT
    /// makes its pending offsets the committed ones, an ABORT drops them.
    TxnOffsetsCompleted {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// The transaction's producer id.
        pid: u32,
        /// COMMIT (else ABORT).
        commit: bool,
        /// The offsets it committed or dropped.
        offsets: Vec<(Tp, u64)>,
    },
    /// A broker became coordinator of a group and loaded it from `__consumer_offsets`.
    GroupLoaded {
        /// Group index.
        group: u32,
        /// Coordinator.
        coordinator: BrokerId,
        /// Generation found.
        generation: i32,
        /// Committed offsets found.
        offsets: Vec<(Tp, u64)>,
    },
}

/// Why a rebalance started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RebalanceReason {
    /// A new member joined (consumer index).
    MemberJoined {
        /// Consumer.
        consumer: u32,
    },
    /// A known member rejoined (e.g. after its partitions were revoked, cooperative second round).
    MemberRejoined {
        /// Consumer.
        consumer: u32,
    },
    /// A member was removed.
    MemberRemoved {
        /// Consumer.
        consumer: u32,
    },
}

/// Why the coordinator removed a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoveReason {
    /// No heartbeat for `session.timeout.ms`.
    SessionTimeout,
    /// It sent LeaveGroup.
    LeftGroup,
    /// It did not rejoin before the rebalance timeout (`max.poll.interval.ms`).
    RebalanceTimeout,
}

impl GroupEffect {
    /// The effect as a sentence that says why.
    pub fn describe(&self, names: &dyn Names) -> String {
        match self {
            GroupEffect::RebalanceStarted { group: g, coordinator, reason, deadline } => {
                let why = match reason {
                    RebalanceReason::MemberJoined { consumer: c } => format!("{} joined", names.consumer_name(*c)),
                    RebalanceReason::MemberRejoined { consumer: c } => format!("{} rejoined with new metadata", names.consumer_name(*c)),
                    RebalanceReason::MemberRemoved { consumer: c } => format!("{} left the group", names.consumer_name(*c)),
                };
                format!(
                    "REBALANCE of group {} on broker-{coordinator}: {why}; members must rejoin by {}",
                    names.group_name(*g),
                    ms(*deadline)
                )
            }
            GroupEffect::MemberRemoved { group: g, member_id, consumer: c, reason } => {
                let why = match reason {
                    RemoveReason::SessionTimeout => "no heartbeat within session.timeout.ms",
                    RemoveReason::LeftGroup => "it sent LeaveGroup",
                    RemoveReason::RebalanceTimeout => "it did not rejoin within the rebalance timeout (max.poll.interval.ms)",
                };
                format!("group {} removes {member_id} ({}): {why}", names.group_name(*g), names.consumer_name(*c))
            }
            GroupEffect::GenerationStarted { group: g, generation, leader, members, strategy } => {
                let member_names: Vec<&str> = members.iter().map(|(c, _)| names.consumer_name(*c)).collect();
                format!(
                    "group {} generation {generation}: members [{}], leader {leader}, assignor {}",
                    names.group_name(*g),
                    member_names.join(", "),
                    strategy.name()
                )
            }
            GroupEffect::GroupStable { group: g, generation } => format!("group {} is Stable in generation {generation}", names.group_name(*g)),
            GroupEffect::StaticMemberReplaced { group: g, consumer: c, old_member, new_member } => format!(
                "static member {} is back ({old_member} → {new_member}) within session.timeout.ms: group {} keeps its assignment, no rebalance",
                names.consumer_name(*c),
                names.group_name(*g)
            ),
            GroupEffect::OffsetsCommitted { group: g, coordinator, consumer: c, offsets: o } => format!(
                "broker-{coordinator} stored {}'s commit for group {}: {}",
                names.consumer_name(*c),
                names.group_name(*g),
                offsets(names, o)
            ),
            GroupEffect::CommitTimedOut { group: g, coordinator, consumer: c, timeout_ms } => format!(
                "broker-{coordinator}: {}'s commit for group {} is not replicated after offsets.commit.timeout.ms ({timeout_ms} ms): it answers COORDINATOR_NOT_AVAILABLE (REQUEST_TIMED_OUT); the records stay in the log and count once the high watermark passes them",
                names.consumer_name(*c),
                names.group_name(*g)
            ),
            GroupEffect::OffsetFetchHeld { group: g, coordinator, consumer: c, pending } => format!(
                "broker-{coordinator} holds {}'s OffsetFetch for group {} until its {pending} pending commit(s) are replicated (require_stable: it answers with every offset written)",
                names.consumer_name(*c),
                names.group_name(*g)
            ),
            GroupEffect::OffsetFetchTimedOut { group: g, coordinator, consumer: c } => format!(
                "broker-{coordinator}: {}'s OffsetFetch for group {} waited offsets.commit.timeout.ms for pending commits: COORDINATOR_NOT_AVAILABLE (REQUEST_TIMED_OUT)",
                names.consumer_name(*c),
                names.group_name(*g)
            ),
            GroupEffect::OffsetFetchUnstable { group: g, coordinator, consumer: c, pids } => {
                let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
                format!(
                    "broker-{coordinator} answers {}'s OffsetFetch for group {} with UNSTABLE_OFFSET_COMMIT: the open transaction of producer id {} has written an offset for a partition it asks for; it asks again after retry.backoff.ms",
                    names.consumer_name(*c),
                    names.group_name(*g),
                    pids.join(", ")
                )
            }
            GroupEffect::TxnOffsetsPending { group: g, coordinator, pid, offsets: o } => format!(
                "broker-{coordinator} writes group {}'s offsets {} into the transaction of producer id {pid}: they stay pending (not yet committed) until the transaction's marker reaches __consumer_offsets",
                names.group_name(*g),
                offsets(names, o)
            ),
            GroupEffect::TxnOffsetsCompleted { group: g, coordinator, pid, commit: true, offsets: o } => format!(
                "broker-{coordinator}: the COMMIT marker of producer id {pid} reached __consumer_offsets, so group {}'s pending offsets are committed: {}",
                names.group_name(*g),
                offsets(names, o)
            ),
            GroupEffect::TxnOffsetsCompleted { group: g, coordinator, pid, commit: false, offsets: o } => format!(
                "broker-{coordinator}: the ABORT marker of producer id {pid} reached __consumer_offsets, so group {}'s pending offsets {} are dropped and the committed ones stay",
                names.group_name(*g),
                offsets(names, o)
            ),
            GroupEffect::GroupLoaded { group: g, coordinator, generation, offsets: o } => format!(
                "broker-{coordinator} becomes coordinator of group {} and loads it from __consumer_offsets: generation {generation}, committed {}",
                names.group_name(*g),
                if o.is_empty() { "nothing".to_string() } else { offsets(names, o) }
            ),
        }
    }
}
