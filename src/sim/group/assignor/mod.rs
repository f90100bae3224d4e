//! Consumer-group partition assignors with the same output as Kafka's Java assignors (4.1.2):
//! `RangeAssignor`, `RoundRobinAssignor`, `StickyAssignor` and `CooperativeStickyAssignor`.
//!
//! The sticky assignors follow both of Kafka's builders (without racks): `ConstrainedAssignmentBuilder`
//! when every member subscribes to the same topics, and `GeneralAssignmentBuilder` (in [`general`])
//! otherwise.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use crate::sim::map::{VecMap, VecSet};
use std::collections::VecDeque;
use std::fmt;

mod general;

/// A topic name and partition number.
pub type TopicPartition = (String, u32);

/// One group member's subscription, as the group leader sees it in JoinGroup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Member id.
    pub id: String,
    /// Subscribed topics.
    pub subscriptions: Vec<String>,
    /// Partitions it owned in its last generation.
    #[serde(default)]
    pub owned_partitions: Vec<TopicPartition>,
    /// The generation those partitions are from.
    #[serde(default)]
    pub generation: Option<i32>,
    /// `group.instance.id` for static members.
    #[serde(default)]
    pub group_instance_id: Option<String>,
}

pub use crate::sim::types::Strategy;

/// Why an assignment could not be computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssignError {
    /// Two members share an id.
    DuplicateMember(String),
    /// Kafka 4.1.2's sticky assignors throw a `NullPointerException` here (`GeneralAssignmentBuilder`
    /// asks for the current partitions of this partition's previous owner, a member set aside because
    /// it can take no other partition); the group leader's rebalance fails with it.
    PreviousOwnerNotReassignable(TopicPartition),
}

impl fmt::Display for AssignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssignError::DuplicateMember(id) => write!(f, "member id {id:?} appears twice"),
            AssignError::PreviousOwnerNotReassignable((topic, p)) => write!(
                f,
                "the sticky assignor fails (Kafka 4.1.2 throws NullPointerException): the previous owner of {topic}-{p} can take no other partition"
            ),
        }
    }
}

/// Member id → assigned partitions, each list sorted by topic and partition.
pub type Assignment = VecMap<String, Vec<TopicPartition>>;

/// Java's `String.compareTo`: lexicographic over UTF-16 code units.
pub fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Java's `String.hashCode`.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// The order in which a `java.util.HashMap` filled with these keys (in this order, by `put`, from the
/// default capacity) iterates them: by bucket of the spread hash, insertion order within a bucket.
/// Kafka's sticky assignor walks such a map, so ties follow this order.
fn java_hash_map_order(keys: &[&str]) -> Vec<usize> {
    let mut capacity = 16usize;
    while keys.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let bucket = |k: &str| {
        let h = java_hash(k) as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| (bucket(keys[i]), i));
    order
}

/// Kafka's `MemberInfo` order: static members by `group.instance.id` first, then the rest by member id.
fn member_info_cmp(a: &Member, b: &Member) -> Ordering {
    match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => java_cmp(x, y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => java_cmp(&a.id, &b.id),
    }
}

fn tp_cmp(a: &TopicPartition, b: &TopicPartition) -> Ordering {
    java_cmp(&a.0, &b.0).then(a.1.cmp(&b.1))
}

/// Computes the assignment the group leader would send in SyncGroup.
///
/// `partitions_per_topic` may list topics nobody subscribes to; like Kafka's
/// `AbstractPartitionAssignor`, only subscribed topics that exist are assigned.
pub fn assign(strategy: Strategy, partitions_per_topic: &VecMap<String, u32>, members: &[Member]) -> Result<Assignment, AssignError> {
    let mut seen = VecSet::new();
    for m in members {
        if !seen.insert(m.id.as_str()) {
            return Err(AssignError::DuplicateMember(m.id.clone()));
        }
    }
    let subscribed: VecSet<&str> = members.iter().flat_map(|m| m.subscriptions.iter().map(String::as_str)).collect();
    let mut topics: Vec<(&str, u32)> =
        partitions_per_topic.iter().filter(|(t, _)| subscribed.contains(t.as_str())).map(|(t, &n)| (t.as_str(), n)).collect();
    topics.sort_by(|a, b| java_cmp(a.0, b.0));
    let mut result: Assignment = members.iter().map(|m| (m.id.clone(), Vec::new())).collect();
    match strategy {
        Strategy::Range => range(&topics, members, &mut result),
        Strategy::RoundRobin => round_robin(&topics, members, &mut result),
        Strategy::Sticky | Strategy::CooperativeSticky => {
            let transferring = sticky(&topics, members, &mut result)?;
            if strategy.cooperative() {
                // KIP-429: a partition moving to a new owner is withheld until its owner has revoked it.
                for (tp, consumer) in transferring {
                    if let Some(list) = result.get_mut(&consumer) {
                        list.retain(|p| p != &tp);
                    }
                }
            }
        }
    }
    for list in result.values_mut() {
        list.sort_by(tp_cmp);
    }
    Ok(result)
}

fn range(topics: &[(&str, u32)], members: &[Member], result: &mut Assignment) {
    for &(topic, partitions) in topics {
        let mut consumers: Vec<&Member> = members.iter().filter(|m| m.subscriptions.iter().any(|t| t == topic)).collect();
        consumers.sort_by(|a, b| member_info_cmp(a, b));
        let n = consumers.len() as u32;
        if n == 0 {
            continue;
        }
        let (per, extra) = (partitions / n, partitions % n);
        for (i, c) in consumers.iter().enumerate() {
            let i = i as u32;
            let start = per * i + i.min(extra);
            let len = per + u32::from(i < extra);
            let list = result.get_mut(&c.id).expect("every member has an entry");
            list.extend((start..start + len).map(|p| (topic.to_string(), p)));
        }
    }
}

fn round_robin(topics: &[(&str, u32)], members: &[Member], result: &mut Assignment) {
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by(|a, b| member_info_cmp(a, b));
    if sorted.is_empty() {
        return;
    }
    // Kafka's CircularIterator: skip members not subscribed to the partition's topic.
    let mut at = 0usize;
    for &(topic, partitions) in topics {
        for p in 0..partitions {
            while !sorted[at].subscriptions.iter().any(|t| t == topic) {
                at = (at + 1) % sorted.len();
            }
            result.get_mut(&sorted[at].id).expect("member").push((topic.to_string(), p));
            at = (at + 1) % sorted.len();
        }
    }
}

/// Kafka's `AbstractStickyAssignor`. Returns the partitions that change owner
/// (`partitionsTransferringOwnership`), which the cooperative variant withholds.
fn sticky(topics: &[(&str, u32)], members: &[Member], result: &mut Assignment) -> Result<Vec<(TopicPartition, String)>, AssignError> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let all_topics: VecSet<&str> = topics.iter().map(|t| t.0).collect();
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let order = java_hash_map_order(&ids);

    // allSubscriptionsEqual: collect owned partitions, settling double claims by generation.
    let mut owned: Vec<Vec<TopicPartition>> = vec![Vec::new(); members.len()];
    let mut owner_of: VecMap<TopicPartition, usize> = VecMap::new();
    let mut multiple_owners: VecSet<TopicPartition> = VecSet::new();
    for &i in &order {
        let generation = members[i].generation.unwrap_or(-1);
        for tp in &members[i].owned_partitions {
            if !all_topics.contains(tp.0.as_str()) {
                continue;
            }
            match owner_of.get(tp).copied() {
                None => {
                    owned[i].push(tp.clone());
                    owner_of.insert(tp.clone(), i);
                }
                Some(other) => {
                    let other_generation = members[other].generation.unwrap_or(-1);
                    if generation == other_generation {
                        multiple_owners.insert(tp.clone());
                        owned[other].retain(|p| p != tp);
                        owner_of.insert(tp.clone(), i);
                    } else if generation > other_generation {
                        owned[i].push(tp.clone());
                        owned[other].retain(|p| p != tp);
                        owner_of.insert(tp.clone(), i);
                    }
                }
            }
        }
    }

    if all_subscriptions_equal(members, &order) {
        Ok(constrained(topics, members, &order, &owned, &multiple_owners, result))
    } else {
        let assigned = general::build(topics, members, &order, &owned)?;
        for (m, list) in members.iter().zip(assigned) {
            result.insert(m.id.clone(), list);
        }
        // CooperativeStickyAssignor.computePartitionsTransferringOwnership: a partition that one member
        // gains while another member reported owning it and loses it.
        let revoked: VecSet<&TopicPartition> =
            members.iter().flat_map(|m| m.owned_partitions.iter().filter(|tp| !result[&m.id].contains(tp))).collect();
        Ok(members
            .iter()
            .flat_map(|m| {
                result[&m.id].iter().filter(|tp| !m.owned_partitions.contains(tp) && revoked.contains(tp)).map(|tp| (tp.clone(), m.id.clone()))
            })
            .collect())
    }
}

/// Kafka's `allSubscriptionsEqual` test, in the members' `HashMap` order. Java takes the first
/// subscription it meets as the reference only while the reference is still empty, so a member with no
/// subscriptions that comes first is not compared at all, and the group still counts as "all equal"
/// (and goes to the constrained builder, which gives that member partitions too).
fn all_subscriptions_equal(members: &[Member], order: &[usize]) -> bool {
    let mut reference: VecSet<&String> = VecSet::new();
    for &i in order {
        let topics: VecSet<&String> = members[i].subscriptions.iter().collect();
        if reference.iter().next().is_none() {
            reference = topics;
        } else if topics != reference {
            return false;
        }
    }
    true
}

/// Kafka's `ConstrainedAssignmentBuilder`, for a group whose members all subscribe to the same topics.
fn constrained(
    topics: &[(&str, u32)],
    members: &[Member],
    order: &[usize],
    owned: &[Vec<TopicPartition>],
    multiple_owners: &VecSet<TopicPartition>,
    result: &mut Assignment,
) -> Vec<(TopicPartition, String)> {
    let total: u32 = topics.iter().map(|t| t.1).sum();
    let n = members.len() as u32;
    let (min_quota, max_quota) = ((total / n) as usize, total.div_ceil(n) as usize);
    let expected_over = (total % n) as usize;
    let mut current_over = 0usize;
    let mut revoked: VecSet<TopicPartition> = VecSet::new();
    let mut under: Vec<String> = Vec::new();
    let mut exact: VecDeque<String> = VecDeque::new();
    let mut assigned: VecSet<TopicPartition> = VecSet::new();

    // assignOwnedPartitions, in the Java HashMap's iteration order.
    for &i in order {
        let id = members[i].id.as_str();
        let mut mine = owned[i].clone();
        mine.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| java_cmp(&a.0, &b.0)));
        mine.retain(|tp| !multiple_owners.contains(tp));
        let list = result.get_mut(id).expect("member");
        if mine.len() < min_quota {
            list.extend(mine.iter().cloned());
            assigned.extend(mine);
            under.push(id.to_string());
        } else if mine.len() >= max_quota && current_over < expected_over {
            current_over += 1;
            if current_over == expected_over {
                exact.clear();
            }
            list.extend(mine[..max_quota].iter().cloned());
            assigned.extend(mine[..max_quota].iter().cloned());
            revoked.extend(mine[max_quota..].iter().cloned());
        } else {
            list.extend(mine[..min_quota].iter().cloned());
            assigned.extend(mine[..min_quota].iter().cloned());
            revoked.extend(mine[min_quota..].iter().cloned());
            if current_over < expected_over {
                exact.push_back(id.to_string());
            }
        }
    }

    let unassigned: Vec<TopicPartition> = topics
        .iter()
        .flat_map(|&(t, count)| (0..count).map(move |p| (t.to_string(), p)))
        .filter(|tp| !assigned.contains(tp))
        .collect();
    under.sort_by(|a, b| java_cmp(a, b));
    exact.make_contiguous().sort_by(|a, b| java_cmp(a, b));

    // assignRoundRobin, with Java's LinkedList iterator semantics (`at` is the iterator's cursor).
    let mut transferring = Vec::new();
    let mut at = 0usize;
    for tp in unassigned {
        let (consumer, from_iterator) = if at < under.len() {
            at += 1;
            (under[at - 1].clone(), true)
        } else if under.is_empty() {
            match exact.pop_front() {
                Some(c) => (c, false),
                None => break,
            }
        } else {
            at = 1;
            (under[0].clone(), true)
        };
        let list = result.get_mut(&consumer).expect("member");
        list.push(tp.clone());
        if revoked.contains(&tp) || multiple_owners.contains(&tp) {
            transferring.push((tp, consumer.clone()));
        }
        let count = list.len();
        if count == min_quota {
            if from_iterator {
                at -= 1;
                under.remove(at);
            }
            exact.push_back(consumer);
        }
    }
    transferring
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hash_matches_known_values() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("a"), 97);
        assert_eq!(java_hash("hello"), 99_162_322);
        assert_eq!(java_hash("consumer-1"), -166_239_206);
    }

    fn ordered<'a>(keys: &[&'a str]) -> Vec<&'a str> {
        java_hash_map_order(keys).into_iter().map(|i| keys[i]).collect()
    }

    /// Expected orders printed by OpenJDK 17: `new HashMap<>()`, `put` each key in turn, `keySet()`.
    #[test]
    fn hash_map_order_matches_openjdk() {
        assert_eq!(ordered(&["b", "a"]), ["a", "b"]);
        assert_eq!(ordered(&["C0", "C1", "C2"]), ["C0", "C1", "C2"]);
        assert_eq!(
            ordered(&["consumer-2", "consumer-10", "consumer-1", "zeta", "alpha"]),
            ["zeta", "consumer-10", "alpha", "consumer-2", "consumer-1"]
        );
        let many: Vec<String> = (0..15).map(|i| format!("m{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            ordered(&many),
            ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m11", "m10", "m13", "m12", "m14"]
        );
    }

    #[test]
    fn java_compare_uses_utf16_units() {
        // U+FF61 sorts after U+1F600 by code point but before it in UTF-16 (surrogates are 0xD8xx).
        assert_eq!(java_cmp("\u{1F600}", "\u{FF61}"), Ordering::Less);
        assert_eq!(java_cmp("C10", "C2"), Ordering::Less);
    }
}
