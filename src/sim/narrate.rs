//! What every layer's narration needs: the names of things, and the formats the sentences share.
//! The layers format their own effects against [`Names`], so they need not know the simulation
//! that answers it.

use super::msg::DropReason;
use super::types::{BrokerId, NodeId, RecordId, Tp};

/// The names narration refers to, answered by the simulation.
pub trait Names {
    /// `orders-0` style name of a partition.
    fn tp_name(&self, tp: Tp) -> String;
    /// `broker-2`, `controller` or a client's name.
    fn node_name(&self, node: NodeId) -> String;
    /// A producer's name.
    fn producer_name(&self, producer: u32) -> &str;
    /// A consumer's name.
    fn consumer_name(&self, consumer: u32) -> &str;
    /// A group's `group.id`.
    fn group_name(&self, group: u32) -> &str;
    /// The group a consumer belongs to.
    fn consumer_group(&self, consumer: u32) -> u32;
    /// How many partitions a topic has.
    fn topic_partitions(&self, topic: u32) -> u32;
    /// A topic's name.
    fn topic_name(&self, topic: u32) -> &str;
    /// `k1=v1` (or just the value when there is no key).
    fn record_label(&self, id: RecordId) -> String;
    /// A `transactional.id`.
    fn txn_name(&self, txn: u32) -> &str;
    /// A pipeline's name.
    fn pipeline_name(&self, pipeline: u32) -> &str;
}

/// `[orders-0, orders-1]`.
pub fn partitions(names: &dyn Names, list: &[Tp]) -> String {
    let labels: Vec<String> = list.iter().map(|tp| names.tp_name(*tp)).collect();
    format!("[{}]", labels.join(", "))
}

/// `orders-0=3, orders-1=5`.
pub fn offsets(names: &dyn Names, list: &[(Tp, u64)]) -> String {
    let labels: Vec<String> = list.iter().map(|(tp, o)| format!("{}={o}", names.tp_name(*tp))).collect();
    labels.join(", ")
}

/// `[1,2,3]`.
pub fn brokers(list: &[BrokerId]) -> String {
    let ids: Vec<String> = list.iter().map(|b| b.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// `30,000 ms`.
pub fn ms(v: u64) -> String {
    // Thousands separators make long timeouts readable in class (30,000 ms).
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out} ms")
}

/// The first few records' labels, and how many more there are.
pub fn records(names: &dyn Names, ids: &[RecordId]) -> String {
    const SHOWN: usize = 4;
    let mut labels: Vec<String> = ids.iter().take(SHOWN).map(|&id| names.record_label(id)).collect();
    if ids.len() > SHOWN {
        labels.push(format!("… {} more", ids.len() - SHOWN));
    }
    labels.join(", ")
}

/// Why a message never arrived, as the end of a sentence.
pub fn drop_reason(reason: DropReason) -> &'static str {
    match reason {
        DropReason::LinkCut => "the link is cut",
        DropReason::Loss => "lost on the link",
        DropReason::ReceiverDown => "the receiver is down",
        DropReason::SenderCrashed => "the sender crashed while it was in flight",
        DropReason::ConnectionBroken => "its connection broke when an earlier message was lost; nothing gets through until the producer reconnects",
    }
}

/// The letter a pause point's choice is known by: A, B, C…
pub fn choice_letter(index: usize) -> char {
    (b'A' + (index % 26) as u8) as char
}
