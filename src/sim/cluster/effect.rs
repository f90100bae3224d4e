//! The cluster layer's effects: what a broker or the controller did in a step, each next to the
//! sentence that narrates it.

use crate::sim::narrate::{brokers, ms, records, Names};
use crate::sim::types::{BrokerId, KafkaError, RecordId, Tp};
use serde::Serialize;

/// A consequence of a step inside the cluster: appends, replication, the ISR, elections, broker
/// lifecycles.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum ClusterEffect {
    /// A leader appended a batch.
    LeaderAppended {
        /// Partition.
        tp: Tp,
        /// Leader.
        broker: BrokerId,
        /// First offset.
        first_offset: u64,
        /// Records.
        records: Vec<RecordId>,
        /// Leader epoch.
        epoch: u32,
    },
    /// A follower appended fetched records.
    FollowerAppended {
        /// Partition.
        tp: Tp,
        /// Follower.
        broker: BrokerId,
        /// First offset.
        first_offset: u64,
        /// Count.
        count: u32,
        /// Its new LEO.
        leo: u64,
    },
    /// An idempotent batch was recognised as a retry of one already in the log.
    DuplicateIgnored {
        /// Partition.
        tp: Tp,
        /// Leader.
        broker: BrokerId,
        /// Producer id.
        pid: u32,
        /// First sequence number.
        first_seq: i32,
        /// Offset where the original sits.
        offset: u64,
    },
    /// A leader refused a produce request.
    ProduceRejected {
        /// Partition.
        tp: Tp,
        /// Broker.
        broker: BrokerId,
        /// Error sent back.
        error: KafkaError,
        /// ISR size at the time (for NOT_ENOUGH_REPLICAS).
        isr_size: u32,
        /// `min.insync.replicas`.
        min_isr: u32,
        /// For OUT_OF_ORDER_SEQUENCE_NUMBER: the expected sequence.
        expected_seq: Option<i32>,
    },
    /// A leader refused a batch larger than the topic's `max.message.bytes` with MESSAGE_TOO_LARGE
    /// (`UnifiedLog.analyzeAndValidateRecords`); with acks=0 nobody hears of it.
    BatchTooLarge {
        /// Partition.
        tp: Tp,
        /// Broker.
        broker: BrokerId,
        /// The batch's size in bytes.
        bytes: u32,
        /// `max.message.bytes`.
        max_message_bytes: u32,
        /// Whether the producer asked for no answer (acks=0).
        acks0: bool,
    },
    /// acks=all: the leader parked the response until the HW passes `required_offset`.
    AwaitingReplication {
        /// Partition.
        tp: Tp,
        /// Leader.
        broker: BrokerId,
        /// HW needed.
        required_offset: u64,
    },
    /// A replica's high watermark moved.
    HighWatermark {
        /// Partition.
        tp: Tp,
        /// Replica.
        broker: BrokerId,
        /// Old HW.
        from: u64,
        /// New HW.
        to: u64,
        /// True on the leader (computed from ISR LEOs), false on a follower (learned by fetch).
        leader: bool,
    },
    /// The leader's high watermark would have moved, but the ISR is below the effective
    /// `min.insync.replicas`, so it stays (Kafka 3.7+, KAFKA-15583).
    HighWatermarkHeld {
        /// Partition.
        tp: Tp,
        /// Leader.
        broker: BrokerId,
        /// The HW that stays.
        hw: u64,
        /// Where it would have moved with the rule of Kafka before 3.7.
        would_be: u64,
        /// Committed ISR size.
        isr_size: u32,
        /// `min.insync.replicas`, at most the replica count.
        min_isr: u32,
    },
    /// A leader asked the controller to remove lagging followers from the ISR.
    IsrShrinkRequested {
        /// Partition.
        tp: Tp,
        /// Leader.
        leader: BrokerId,
        /// Removed followers.
        removed: Vec<BrokerId>,
        /// How long since each was last caught up, in ms.
        lag_ms: u64,
        /// `replica.lag.time.max.ms`.
        max_lag_ms: u64,
    },
    /// A leader asked the controller to add a caught-up follower to the ISR.
    IsrExpandRequested {
        /// Partition.
        tp: Tp,
        /// Leader.
        leader: BrokerId,
        /// The follower.
        added: BrokerId,
        /// Its LEO.
        follower_leo: u64,
    },
    /// The controller committed a new ISR.
    IsrChanged {
        /// Partition.
        tp: Tp,
        /// Before.
        from: Vec<BrokerId>,
        /// After.
        to: Vec<BrokerId>,
        /// Eligible leader replicas before (always empty without them).
        elr_from: Vec<BrokerId>,
        /// Eligible leader replicas after.
        elr_to: Vec<BrokerId>,
        /// New partition epoch.
        partition_epoch: u32,
        /// What caused it.
        cause: IsrCause,
    },
    /// The controller rejected an AlterPartition that was based on stale state.
    AlterPartitionRejected {
        /// Partition.
        tp: Tp,
        /// Requester.
        leader: BrokerId,
        /// Why.
        error: KafkaError,
    },
    /// The controller fenced a broker that stopped heartbeating.
    BrokerFenced {
        /// Broker.
        broker: BrokerId,
        /// ms since its last heartbeat.
        silent_ms: u64,
        /// `broker.session.timeout.ms`.
        timeout_ms: u64,
    },
    /// The controller put a broker that wants to shut down and still leads partitions in
    /// CONTROLLED_SHUTDOWN: it leaves every ISR and may not lead.
    BrokerInControlledShutdown {
        /// Broker.
        broker: BrokerId,
    },
    /// The controller granted a shutdown (SHUTDOWN_NOW): the broker leads nothing, so it is
    /// fenced and told it may stop.
    ShutdownGranted {
        /// Broker.
        broker: BrokerId,
    },
    /// The controller unfenced a broker that heartbeats again.
    BrokerUnfenced {
        /// Broker.
        broker: BrokerId,
    },
    /// The controller chose a new leader.
    LeaderElected {
        /// Partition.
        tp: Tp,
        /// New leader.
        leader: BrokerId,
        /// Previous leader.
        previous: Option<BrokerId>,
        /// New leader epoch.
        epoch: u32,
        /// Where the leader came from.
        election: Election,
    },
    /// No replica can lead: the partition is offline.
    PartitionOffline {
        /// Partition.
        tp: Tp,
        /// The ISR, none of which is alive (empty with eligible leader replicas).
        isr: Vec<BrokerId>,
        /// The eligible leader replicas, none of which is alive.
        elr: Vec<BrokerId>,
        /// The leader it had, which may lead again when it returns (eligible leader replicas only).
        last_known_leader: Option<BrokerId>,
        /// Whether unclean election is allowed (and no live replica exists at all).
        unclean_allowed: bool,
    },
    /// A broker learned it leads a partition.
    BecameLeader {
        /// Partition.
        tp: Tp,
        /// Broker.
        broker: BrokerId,
        /// Epoch.
        epoch: u32,
        /// Its LEO (the epoch starts here).
        leo: u64,
    },
    /// A broker learned it follows a partition.
    BecameFollower {
        /// Partition.
        tp: Tp,
        /// Broker.
        broker: BrokerId,
        /// The leader to fetch from.
        leader: Option<BrokerId>,
        /// Epoch.
        epoch: u32,
    },
    /// A follower truncated its divergent tail.
    Truncated {
        /// Partition.
        tp: Tp,
        /// Follower.
        broker: BrokerId,
        /// LEO before.
        from: u64,
        /// LEO after.
        to: u64,
        /// Removed records.
        removed: Vec<RecordId>,
        /// The leader's (epoch, end offset) that showed the divergence.
        leader_epoch_end: (u32, u64),
    },
    /// A follower's fetch timed out or failed; it will fetch again later.
    FetchFailed {
        /// Partition.
        tp: Tp,
        /// Follower.
        broker: BrokerId,
        /// Why.
        error: KafkaError,
        /// When it fetches again.
        retry_at: u64,
    },
    /// Retention deleted old records.
    RetentionDeleted {
        /// Partition.
        tp: Tp,
        /// Broker.
        broker: BrokerId,
        /// Records deleted.
        records: Vec<RecordId>,
        /// New log start offset.
        log_start: u64,
    },
    /// A broker crashed (hard stop).
    BrokerCrashed {
        /// Broker.
        broker: BrokerId,
    },
    /// A broker's machine lost power: the process died as in a crash, and the operating system's
    /// page cache with it, so each log kept only what had been flushed.
    BrokerPowerLost {
        /// Broker.
        broker: BrokerId,
        /// Each partition that lost records: its log end before, and the recovery point it fell
        /// back to.
        lost: Vec<(Tp, u64, u64)>,
    },
    /// A broker began a controlled shutdown (the operator's SIGTERM): it asks the controller to
    /// move its leaderships away before it stops.
    ControlledShutdownBegan {
        /// Broker.
        broker: BrokerId,
    },
    /// The controller answered the broker's shutdown heartbeat with `shouldShutDown = true`, and
    /// the broker stopped cleanly, leaving a clean-shutdown file.
    BrokerShutDown {
        /// Broker.
        broker: BrokerId,
    },
    /// A broker restarted with its log intact.
    BrokerRestarted {
        /// Broker.
        broker: BrokerId,
    },
    /// `incrementalAlterConfigs` SET topic settings; the brokers and the controller use them from
    /// now on.
    TopicConfigAltered {
        /// Topic name.
        topic: String,
        /// The settings set, as `name=value`.
        set: Vec<String>,
    },
    /// `createTopics` or `createPartitions`: the controller registered partitions `from..to`.
    PartitionsCreated {
        /// Topic name.
        topic: String,
        /// The first new partition (the old count).
        from: u32,
        /// The new partition count.
        to: u32,
        /// Whether the topic itself is new.
        new_topic: bool,
    },
}

/// Why the ISR changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IsrCause {
    /// The leader asked (AlterPartition).
    AlterPartition,
    /// The controller removed a fenced broker.
    BrokerFenced,
    /// A broker was unfenced and the controller tried an election again.
    BrokerUnfenced,
    /// A broker entered controlled shutdown: it leaves the ISR, and leadership moves away.
    ControlledShutdown,
    /// A broker re-registered after an unclean shutdown: it leaves the ISR and the ELR.
    UncleanShutdown,
    /// A leader was elected from the ELR and is now the whole ISR.
    ElrElection,
    /// The last known leader was elected and is now the whole ISR.
    LastKnownLeaderElection,
    /// An unclean election reset the ISR to the new leader.
    UncleanElection,
    /// The topic's `min.insync.replicas` was altered: the controller clears its ELRs, which
    /// were kept against the old value (`ClearElrRecord`).
    MinIsrAltered,
}

/// How the controller chose a leader (`PartitionChangeBuilder.electAnyLeader`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Election {
    /// The first live ISR member in assignment order.
    Isr,
    /// The ISR was empty: the first live eligible leader replica (KIP-966). Clean: it has every
    /// committed record.
    Elr,
    /// The ISR and the ELR were empty: the partition's last leader came back and leads again,
    /// with the ISR reset to it (leader recovery state RECOVERING). Kafka allows this even with
    /// `unclean.leader.election.enable=false`.
    LastKnownLeader,
    /// No ISR or ELR member was alive and `unclean.leader.election.enable` let an out-of-sync
    /// replica lead.
    Unclean,
}

impl ClusterEffect {
    /// The effect as a sentence that says why.
    pub fn describe(&self, names: &dyn Names) -> String {
        let tpn = |tp: &Tp| names.tp_name(*tp);
        match self {
            ClusterEffect::LeaderAppended { tp, broker, first_offset, records: recs, epoch } => format!(
                "broker-{broker} (leader) appends {} to {} at offset {}{} in epoch {epoch}",
                records(names, recs),
                tpn(tp),
                first_offset,
                if recs.len() > 1 { format!("..{}", first_offset + recs.len() as u64 - 1) } else { String::new() }
            ),
            ClusterEffect::FollowerAppended { tp, broker, first_offset, count, leo } => format!(
                "broker-{broker} (follower) copies {count} record(s) of {} from offset {first_offset}; its LEO is now {leo}",
                tpn(tp)
            ),
            ClusterEffect::DuplicateIgnored { tp, broker, pid, first_seq, offset } => format!(
                "broker-{broker} sees producer id {pid} seq {first_seq} again: a retry of the batch already at offset {offset} of {}; not appended twice (idempotence)",
                tpn(tp)
            ),
            ClusterEffect::ProduceRejected { tp, broker, error, isr_size, min_isr, expected_seq } => {
                let why = match error {
                    KafkaError::NotEnoughReplicas => {
                        format!("ISR has {isr_size} member(s), min.insync.replicas is {min_isr}; nothing appended")
                    }
                    KafkaError::NotEnoughReplicasAfterAppend => format!(
                        "the record is in the log, but the ISR shrank to {isr_size} (< min.insync.replicas {min_isr}) before it was committed"
                    ),
                    KafkaError::OutOfOrderSequenceNumber => {
                        format!("expected sequence {}, a gap means an earlier batch is missing", expected_seq.unwrap_or(0))
                    }
                    KafkaError::InvalidProducerEpoch => "the producer has since moved to a newer epoch on this partition".to_string(),
                    _ => "this broker does not lead the partition".to_string(),
                };
                format!("broker-{broker} rejects the write to {} with {error}: {why}", tpn(tp))
            }
            ClusterEffect::BatchTooLarge { tp, broker, bytes, max_message_bytes, acks0 } => format!(
                "broker-{broker} rejects the write to {} with MESSAGE_TOO_LARGE: the batch is {bytes} bytes, larger than max.message.bytes ({max_message_bytes}); nothing appended{}",
                tpn(tp),
                if *acks0 { ". With acks=0 no response is sent: the producer never learns of it" } else { "" }
            ),
            ClusterEffect::AwaitingReplication { tp, broker, required_offset } => format!(
                "broker-{broker} holds the response (acks=all) until the high watermark of {} reaches {required_offset}",
                tpn(tp)
            ),
            ClusterEffect::HighWatermark { tp, broker, from, to, leader } => {
                if *leader {
                    format!("{} high watermark {from} → {to} on leader broker-{broker}: every ISR member has these records", tpn(tp))
                } else {
                    format!("broker-{broker} learns the high watermark of {} from its fetch: {from} → {to}", tpn(tp))
                }
            }
            ClusterEffect::HighWatermarkHeld { tp, broker, hw, would_be, isr_size, min_isr } => format!(
                "{} high watermark stays at {hw} on leader broker-{broker}, though the ISR holds records up to offset {}: an ISR of {isr_size} is below min.insync.replicas {min_isr}, so they are not committed and consumers cannot read them yet",
                tpn(tp),
                would_be - 1
            ),
            ClusterEffect::IsrShrinkRequested { tp, leader, removed, lag_ms, max_lag_ms } => format!(
                "broker-{leader} asks to remove broker(s) {} from the ISR of {}: not caught up for {} (replica.lag.time.max.ms = {})",
                brokers(removed),
                tpn(tp),
                ms(*lag_ms),
                ms(*max_lag_ms)
            ),
            ClusterEffect::IsrExpandRequested { tp, leader, added, follower_leo } => format!(
                "broker-{leader} asks to add broker-{added} back to the ISR of {}: it caught up to offset {follower_leo}",
                tpn(tp)
            ),
            ClusterEffect::IsrChanged { tp, from, to, elr_from, elr_to, partition_epoch, cause } => {
                let why = match cause {
                    IsrCause::AlterPartition => "at the leader's request",
                    IsrCause::BrokerFenced => "the broker was fenced",
                    IsrCause::BrokerUnfenced => "a broker was unfenced",
                    IsrCause::ControlledShutdown => "the broker is shutting down and may not lead",
                    IsrCause::UncleanShutdown => "the broker restarted after an unclean shutdown and may have lost unflushed records, so it is no longer eligible",
                    IsrCause::ElrElection => "the new leader comes from the ELR and becomes the ISR",
                    IsrCause::MinIsrAltered => "min.insync.replicas was altered, and an ELR kept against the old value no longer means what it did (KIP-966 clears it)",
                    IsrCause::LastKnownLeaderElection => "the last known leader is elected and the ISR resets to it",
                    IsrCause::UncleanElection => "unclean election resets the ISR to the new leader",
                };
                // Clearing the ELRs of a partition whose ELR is already empty clears only its last
                // known leader (KIP-966's lastKnownElr), which the ISR line does not show.
                if *cause == IsrCause::MinIsrAltered && elr_from.is_empty() && from == to {
                    format!(
                        "controller: {} forgets its last known leader, ISR stays {} ({why}; partition epoch {partition_epoch})",
                        tpn(tp),
                        brokers(to)
                    )
                // Without eligible leader replicas the ELR is always empty, and the line stays as it was.
                } else if elr_from.is_empty() && elr_to.is_empty() {
                    format!("controller: ISR of {} {} → {} ({why}; partition epoch {partition_epoch})", tpn(tp), brokers(from), brokers(to))
                } else if from == to {
                    format!(
                        "controller: ELR of {} {} → {}, ISR stays {} ({why}; partition epoch {partition_epoch})",
                        tpn(tp),
                        brokers(elr_from),
                        brokers(elr_to),
                        brokers(to)
                    )
                } else {
                    format!(
                        "controller: ISR of {} {} → {}, ELR {} → {} ({why}; partition epoch {partition_epoch})",
                        tpn(tp),
                        brokers(from),
                        brokers(to),
                        brokers(elr_from),
                        brokers(elr_to)
                    )
                }
            }
            ClusterEffect::AlterPartitionRejected { tp, leader, error } => {
                format!("controller rejects broker-{leader}'s AlterPartition for {} with {error}: it is based on stale state", tpn(tp))
            }
            ClusterEffect::BrokerFenced { broker, silent_ms, timeout_ms } => {
                if silent_ms >= timeout_ms {
                    format!(
                        "controller fences broker-{broker}: no heartbeat for {} (broker.session.timeout.ms = {})",
                        ms(*silent_ms),
                        ms(*timeout_ms)
                    )
                } else {
                    format!("controller fences broker-{broker}: it re-registered after a restart, its old session is void")
                }
            }
            ClusterEffect::BrokerInControlledShutdown { broker } => format!(
                "controller puts broker-{broker} in controlled shutdown: it leaves every ISR, and the partitions it led elect new leaders"
            ),
            ClusterEffect::ShutdownGranted { broker } => {
                format!("controller fences broker-{broker}, which leads nothing now, and lets it shut down (shouldShutDown = true)")
            }
            ClusterEffect::BrokerUnfenced { broker } => format!("controller unfences broker-{broker}: it heartbeats again"),
            ClusterEffect::LeaderElected { tp, leader, previous, epoch, election } => {
                let prev = previous.map_or("none".to_string(), |p| format!("broker-{p}"));
                let head = format!("controller elects broker-{leader} leader of {} in epoch {epoch} (was {prev})", tpn(tp));
                match election {
                    Election::Isr => format!("{head}: first live ISR member in replica order"),
                    Election::Elr => format!(
                        "{head} from the ELR: the ISR is empty, and broker-{leader} left it while it was below min.insync.replicas, so it has every committed record"
                    ),
                    Election::LastKnownLeader => format!(
                        "{head} as its last known leader: the ISR and the ELR are empty and it was the last to lead, so it may lead again even with unclean.leader.election.enable = false"
                    ),
                    Election::Unclean => {
                        format!("{head} UNCLEANLY: no ISR member is alive and unclean.leader.election.enable = true")
                    }
                }
            }
            ClusterEffect::PartitionOffline { tp, isr, elr, last_known_leader, unclean_allowed } => {
                if *unclean_allowed {
                    format!("{} is OFFLINE: no replica is alive", tpn(tp))
                } else if !isr.is_empty() {
                    format!(
                        "{} is OFFLINE: no ISR member of {} is alive and unclean.leader.election.enable = false",
                        tpn(tp),
                        brokers(isr)
                    )
                } else {
                    let elr = if elr.is_empty() { "the ELR is empty too".to_string() } else { format!("no ELR member of {} is alive", brokers(elr)) };
                    let back = last_known_leader.map_or(String::new(), |l| format!("; broker-{l}, its last known leader, may lead again when it returns"));
                    format!("{} is OFFLINE: the ISR is empty, {elr}, and unclean.leader.election.enable = false{back}", tpn(tp))
                }
            }
            ClusterEffect::BecameLeader { tp, broker, epoch, leo } => {
                format!("broker-{broker} becomes leader of {} in epoch {epoch}; the epoch starts at offset {leo}", tpn(tp))
            }
            ClusterEffect::BecameFollower { tp, broker, leader, epoch } => match leader {
                Some(l) => format!("broker-{broker} follows broker-{l} for {} (epoch {epoch})", tpn(tp)),
                None => format!("broker-{broker} learns {} has no leader (epoch {epoch})", tpn(tp)),
            },
            ClusterEffect::Truncated { tp, broker, from, to, removed, leader_epoch_end: (epoch, end) } => format!(
                "broker-{broker} truncates {} from LEO {from} to {to}, removing {}: the leader says epoch {epoch} ends at offset {end} (leader-epoch truncation, KIP-101)",
                tpn(tp),
                if removed.is_empty() { "nothing".to_string() } else { records(names, removed) }
            ),
            ClusterEffect::FetchFailed { tp, broker, error, retry_at } => format!(
                "broker-{broker}'s fetch for {} failed with {error}; it fetches again at {}",
                tpn(tp),
                ms(*retry_at)
            ),
            ClusterEffect::RetentionDeleted { tp, broker, records: recs, log_start } => format!(
                "broker-{broker} deletes {} old record(s) of {} by retention; log start offset is now {log_start}",
                recs.len(),
                tpn(tp)
            ),
            ClusterEffect::BrokerCrashed { broker } => format!("broker-{broker} CRASHES: its in-memory state and in-flight messages are lost; its log stays on disk"),
            ClusterEffect::BrokerPowerLost { broker, lost } => {
                let what = if lost.is_empty() {
                    "every log had been flushed, so nothing is lost".to_string()
                } else {
                    let parts: Vec<String> = lost.iter().map(|(tp, from, to)| format!("{} offsets {to}..{} (recovery point {to})", tpn(tp), from - 1)).collect();
                    format!("records not yet flushed (fsync'd) are gone: {}", parts.join(", "))
                };
                format!("broker-{broker} LOSES POWER: the process dies, and the page cache with it; {what}")
            }
            ClusterEffect::ControlledShutdownBegan { broker } => format!(
                "broker-{broker} begins a controlled shutdown: it asks the controller to move its leaderships away before it stops"
            ),
            ClusterEffect::BrokerShutDown { broker } => format!(
                "broker-{broker} shuts down cleanly: it leads nothing, its log is flushed and a clean-shutdown file is written"
            ),
            ClusterEffect::BrokerRestarted { broker } => format!("broker-{broker} restarts and registers with the controller"),
            ClusterEffect::TopicConfigAltered { topic, set } => {
                format!("incrementalAlterConfigs on topic {}: {} (the controller writes a ConfigRecord; brokers and controller use it from now on)", topic, set.join(", "))
            }
            ClusterEffect::PartitionsCreated { topic, from, to, new_topic } => {
                let which = if to - from == 1 { format!("partition {from}") } else { format!("partitions {from} to {}", to - 1) };
                if *new_topic {
                    format!("createTopics: the controller creates topic {topic} with {to} partition(s); clients learn of it from their next metadata request")
                } else {
                    format!("createPartitions: topic {topic} grows from {from} to {to} partitions ({which}); clients keep the old count until their next metadata refresh (metadata.max.age.ms)")
                }
            }
        }
    }
}
