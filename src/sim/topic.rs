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
    /// True for `__consumer_offsets`.
    pub internal: bool,
    /// Real partition numbers when only some partitions are modelled (`__consumer_offsets`).
    pub partition_ids: Option<Vec<u32>>,
}
