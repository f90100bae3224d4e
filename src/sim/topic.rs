//! The topics as the simulation knows them, below the layers: the cluster reads their settings and
//! every layer names partitions by them.

use super::config::EffectiveTopicConfig;

/// A topic as the simulation knows it.
#[derive(Clone, Debug)]
pub struct Topic {
    /// Name.
    pub name: String,
    /// Global index of partition 0.
    pub base: u32,
    /// Number of partitions that exist now.
    pub partitions: u32,
    /// Number of partitions with a global index: those that exist and those the timeline
    /// creates later (global indices `base..base + capacity`).
    pub capacity: u32,
    /// Settings in force.
    pub config: EffectiveTopicConfig,
    /// True for `__consumer_offsets` and `__transaction_state`.
    pub internal: bool,
    /// Real partition numbers when only some partitions are modelled (the internal topics).
    pub partition_ids: Option<Vec<u32>>,
}

/// Kafka's `Utils.abs(id.hashCode()) % partitions`: the partition of an internal topic that a
/// group id (`__consumer_offsets`) or a transactional id (`__transaction_state`) maps to, with
/// Java's `String.hashCode`.
pub fn partition_for_id(id: &str, partitions: u32) -> u32 {
    let h = id.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32));
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() };
    abs % partitions.max(1)
}
