//! The sticky assignors' general case: Kafka's `AbstractStickyAssignor.GeneralAssignmentBuilder`
//! (4.1.2, without racks), used when group members subscribe to different topics.
//!
//! The Java code walks `HashMap`s and `HashSet`s in several places. Where that order can change the
//! result (the previous-generation owner of a partition, and which earlier move is undone first), this
//! port reproduces Java's iteration order; everywhere else it uses ordered maps, because the Java
//! result does not depend on the order there.

use super::{java_cmp, java_hash, AssignError, Member, TopicPartition};
use crate::sim::map::{VecMap, VecSet};

/// Kafka's `DEFAULT_GENERATION` for members that report none.
const DEFAULT_GENERATION: i32 = -1;

/// Java's `TopicPartition.hashCode`.
fn tp_hash(tp: &TopicPartition) -> i32 {
    31i32.wrapping_add(tp.1 as i32).wrapping_mul(31).wrapping_add(java_hash(&tp.0))
}

/// A `java.util.HashSet<TopicPartition>` reduced to what the assignor asks of it: membership and the
/// first element its iterator returns. Java iterates by bucket of the spread hash, and within a bucket
/// in insertion order; the table doubles when it holds more than three quarters of its capacity and
/// never shrinks. (Java turns a bucket of 8 or more entries into a tree; that needs 8 partitions of one
/// topic in one bucket of one move set and is not modelled.)
#[derive(Clone, Default)]
struct JavaHashSet {
    capacity: usize,
    inserted: u64,
    items: Vec<(TopicPartition, u64)>,
}

impl JavaHashSet {
    fn insert(&mut self, tp: TopicPartition) {
        if self.items.iter().any(|(t, _)| *t == tp) {
            return;
        }
        self.capacity = self.capacity.max(16);
        self.inserted += 1;
        self.items.push((tp, self.inserted));
        if self.items.len() * 4 > self.capacity * 3 {
            self.capacity *= 2;
        }
    }

    fn remove(&mut self, tp: &TopicPartition) {
        self.items.retain(|(t, _)| t != tp);
    }

    fn first(&self) -> Option<&TopicPartition> {
        let bucket = |tp: &TopicPartition| {
            let h = tp_hash(tp) as u32;
            ((h ^ (h >> 16)) as usize) & (self.capacity - 1)
        };
        self.items.iter().min_by_key(|(tp, seq)| (bucket(tp), *seq)).map(|(tp, _)| tp)
    }
}

/// Kafka's `PartitionMovements`: the moves made so far, so that a later move in the opposite direction
/// between the same two members undoes an earlier one instead of moving a fresh partition.
#[derive(Default)]
struct Movements {
    /// Partition → (source, destination) member index.
    of_partition: VecMap<TopicPartition, (usize, usize)>,
    /// Topic → (source, destination) → the partitions moved that way.
    by_topic: VecMap<String, VecMap<(usize, usize), JavaHashSet>>,
}

impl Movements {
    fn remove_record(&mut self, tp: &TopicPartition) -> (usize, usize) {
        let pair = self.of_partition.remove(tp).expect("a recorded move");
        let topic = self.by_topic.get_mut(&tp.0).expect("recorded topic");
        let set = topic.get_mut(&pair).expect("recorded pair");
        set.remove(tp);
        if set.items.is_empty() {
            topic.remove(&pair);
        }
        if topic.is_empty() {
            self.by_topic.remove(&tp.0);
        }
        pair
    }

    fn add_record(&mut self, tp: TopicPartition, pair: (usize, usize)) {
        self.of_partition.insert(tp.clone(), pair);
        self.by_topic.entry(tp.0.clone()).or_default().entry(pair).or_default().insert(tp);
    }

    fn record_move(&mut self, tp: &TopicPartition, old: usize, new: usize) {
        if self.of_partition.contains_key(tp) {
            let (src, _) = self.remove_record(tp);
            if src != new {
                self.add_record(tp.clone(), (src, new));
            }
        } else {
            self.add_record(tp.clone(), (old, new));
        }
    }

    /// `getTheActualPartitionToBeMoved`.
    fn actual_partition_to_move(&self, tp: &TopicPartition, old: usize, new: usize) -> TopicPartition {
        let Some(topic) = self.by_topic.get(&tp.0) else { return tp.clone() };
        let old = self.of_partition.get(tp).map_or(old, |&(src, _)| src);
        topic.get(&(new, old)).and_then(JavaHashSet::first).cloned().unwrap_or_else(|| tp.clone())
    }
}

struct Builder<'a> {
    members: &'a [Member],
    /// Existing subscribed topics and their partition counts.
    partitions: VecMap<&'a str, u32>,
    /// Topic → the members that subscribe to it.
    topic_consumers: VecMap<&'a str, Vec<usize>>,
    /// Member → the existing topics it subscribes to.
    consumer_topics: Vec<VecSet<&'a str>>,
    /// The members still open to reassignment (Java's `currentAssignment` keys) and their partitions.
    current: VecMap<usize, Vec<TopicPartition>>,
    owner: VecMap<TopicPartition, usize>,
    movements: Movements,
}

impl Builder<'_> {
    fn size(&self, c: usize) -> usize {
        self.current[&c].len()
    }

    /// Java's `sortedCurrentSubscriptions`: by number of partitions, then member id.
    fn sorted(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.current.keys().copied().collect();
        v.sort_by(|&a, &b| self.size(a).cmp(&self.size(b)).then_with(|| java_cmp(&self.members[a].id, &self.members[b].id)));
        v
    }

    fn max_assignment_size(&self, c: usize) -> usize {
        self.consumer_topics[c].iter().map(|t| self.partitions[t] as usize).sum()
    }

    fn topic_is_reassignable(&self, topic: &str) -> bool {
        self.topic_consumers[topic].len() >= 2
    }

    fn consumer_is_reassignable(&self, c: usize) -> bool {
        self.size(c) < self.max_assignment_size(c) || self.current[&c].iter().any(|tp| self.topic_is_reassignable(&tp.0))
    }

    fn is_balanced(&self) -> bool {
        let sorted = self.sorted();
        let (Some(&first), Some(&last)) = (sorted.first(), sorted.last()) else { return true };
        if self.size(first) + 1 >= self.size(last) {
            return true;
        }
        for &c in &sorted {
            let count = self.size(c);
            if count == self.max_assignment_size(c) {
                continue;
            }
            for &topic in &self.consumer_topics[c] {
                for p in 0..self.partitions[topic] {
                    let tp = (topic.to_string(), p);
                    if self.current[&c].contains(&tp) {
                        continue;
                    }
                    if let Some(&other) = self.owner.get(&tp) {
                        if self.current.get(&other).is_some_and(|list| count + 1 < list.len()) {
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    /// `maybeAssignPartition`: the least-loaded subscriber takes the partition.
    fn assign_to_least_loaded(&mut self, tp: &TopicPartition) {
        if let Some(c) = self.sorted().into_iter().find(|&c| self.consumer_topics[c].contains(tp.0.as_str())) {
            self.current.get_mut(&c).expect("active").push(tp.clone());
            self.owner.insert(tp.clone(), c);
        }
    }

    fn reassign_to_least_loaded(&mut self, tp: &TopicPartition) {
        let new = self.sorted().into_iter().find(|&c| self.consumer_topics[c].contains(tp.0.as_str())).expect("the topic has a subscriber");
        self.reassign(tp, new);
    }

    fn reassign(&mut self, tp: &TopicPartition, new: usize) {
        let old = self.owner[tp];
        let actual = self.movements.actual_partition_to_move(tp, old, new);
        let from = self.owner[&actual];
        self.movements.record_move(&actual, from, new);
        self.current.get_mut(&from).expect("active").retain(|p| *p != actual);
        self.current.get_mut(&new).expect("active").push(actual.clone());
        self.owner.insert(actual, new);
    }

    /// `performReassignments`: move partitions off overloaded members until the assignment is balanced
    /// or a full pass changes nothing.
    ///
    /// Fails where Kafka 4.1.2 throws a `NullPointerException`: a partition's previous owner is a member
    /// that was set aside as not reassignable, so Java's `currentAssignment.get(prevConsumer)` is null.
    fn perform_reassignments(
        &mut self,
        partitions: &[TopicPartition],
        previous: &VecMap<TopicPartition, (usize, i32)>,
    ) -> Result<bool, AssignError> {
        let mut performed = false;
        loop {
            let mut modified = false;
            for tp in partitions {
                if self.is_balanced() {
                    break;
                }
                let consumer = self.owner[tp];
                if let Some(&(prev, _)) = previous.get(tp) {
                    if !self.current.contains_key(&prev) {
                        return Err(AssignError::PreviousOwnerNotReassignable(tp.clone()));
                    }
                    if self.size(consumer) > self.size(prev) + 1 {
                        self.reassign(tp, prev);
                        performed = true;
                        modified = true;
                        continue;
                    }
                }
                let overloaded = self.topic_consumers[tp.0.as_str()]
                    .iter()
                    .any(|other| self.current.get(other).is_some_and(|list| self.size(consumer) > list.len() + 1));
                if overloaded {
                    self.reassign_to_least_loaded(tp);
                    performed = true;
                    modified = true;
                }
            }
            if !modified {
                return Ok(performed);
            }
        }
    }
}

/// Balance score: the sum over all pairs of members of the difference in their partition counts.
fn balance_score(assignment: &VecMap<usize, Vec<TopicPartition>>) -> usize {
    let sizes: Vec<usize> = assignment.values().map(Vec::len).collect();
    let mut score = 0;
    for (i, a) in sizes.iter().enumerate() {
        for b in &sizes[i + 1..] {
            score += a.abs_diff(*b);
        }
    }
    score
}

/// Runs the general builder. `topics` are the subscribed topics that exist, `order` is the Java
/// `HashMap` iteration order of the members, and `owned` each member's still-valid owned partitions
/// (as `allSubscriptionsEqual` left them). Returns each member's partitions, indexed like `members`.
pub(super) fn build(
    topics: &[(&str, u32)],
    members: &[Member],
    order: &[usize],
    owned: &[Vec<TopicPartition>],
) -> Result<Vec<Vec<TopicPartition>>, AssignError> {
    let partitions: VecMap<&str, u32> = topics.iter().copied().collect();
    let mut topic_consumers: VecMap<&str, Vec<usize>> = topics.iter().map(|t| (t.0, Vec::new())).collect();
    let mut consumer_topics = vec![VecSet::new(); members.len()];
    for &i in order {
        for t in &members[i].subscriptions {
            if let Some(list) = topic_consumers.get_mut(t.as_str()) {
                list.push(i);
                consumer_topics[i].insert(partitions.get_key_value(t.as_str()).expect("exists").0 as &str);
            }
        }
    }

    // prepopulateCurrentAssignments: the owner of each partition in the latest generation before the
    // newest one, in the members' HashMap order so that equal generations resolve as in Java.
    let max_generation = members.iter().map(|m| m.generation.unwrap_or(DEFAULT_GENERATION)).max().unwrap_or(DEFAULT_GENERATION);
    let mut previous: VecMap<TopicPartition, (usize, i32)> = VecMap::new();
    for &i in order {
        let generation = match members[i].generation {
            Some(g) if g < max_generation => g,
            None if max_generation > DEFAULT_GENERATION => DEFAULT_GENERATION,
            _ => continue,
        };
        for tp in &members[i].owned_partitions {
            if previous.get(tp).is_none_or(|&(_, g)| generation > g) {
                previous.insert(tp.clone(), (i, generation));
            }
        }
    }

    let mut b = Builder {
        members,
        partitions,
        topic_consumers,
        consumer_topics,
        current: VecMap::new(),
        owner: VecMap::new(),
        movements: Movements::default(),
    };

    // assignOwnedPartitions: keep what each member owned of the topics it still subscribes to.
    let mut revocation_required = false;
    for (i, mine) in owned.iter().enumerate() {
        let mut kept = Vec::new();
        for tp in mine {
            if !b.partitions.contains_key(tp.0.as_str()) {
                continue;
            }
            if b.consumer_topics[i].contains(tp.0.as_str()) {
                b.owner.insert(tp.clone(), i);
                kept.push(tp.clone());
            } else {
                revocation_required = true;
            }
        }
        b.current.insert(i, kept);
    }

    let mut sorted_topics: Vec<&str> = topics.iter().map(|t| t.0).collect();
    sorted_topics.sort_by(|a, b2| b.topic_consumers[a].len().cmp(&b.topic_consumers[b2].len()).then_with(|| java_cmp(a, b2)));
    let mut all: Vec<TopicPartition> = sorted_topics.iter().flat_map(|&t| (0..b.partitions[t]).map(move |p| (t.to_string(), p))).collect();
    let mut unassigned: Vec<TopicPartition> = all.iter().filter(|tp| !b.owner.contains_key(*tp)).cloned().collect();

    // balance()
    let initializing = b.sorted().last().is_none_or(|&c| b.size(c) == 0);
    for tp in &unassigned {
        b.assign_to_least_loaded(tp);
    }
    all.retain(|tp| b.topic_is_reassignable(&tp.0));
    unassigned.retain(|tp| b.topic_is_reassignable(&tp.0));
    let fixed: Vec<usize> = b.current.keys().copied().filter(|&c| !b.consumer_is_reassignable(c)).collect();
    let fixed: Vec<(usize, Vec<TopicPartition>)> = fixed.into_iter().map(|c| (c, b.current.remove(&c).expect("active"))).collect();

    let before = (b.current.clone(), b.owner.clone());
    if !revocation_required {
        b.perform_reassignments(&unassigned, &previous)?;
    }
    let performed = b.perform_reassignments(&all, &previous)?;
    if !initializing && performed && balance_score(&b.current) >= balance_score(&before.0) {
        (b.current, b.owner) = before;
    }
    b.current.extend(fixed);
    Ok((0..members.len()).map(|i| b.current.remove(&i).unwrap_or_default()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_partition_hash_matches_java() {
        // new TopicPartition("t", 0).hashCode() == 31 * 31 + "t".hashCode() == 961 + 116.
        assert_eq!(tp_hash(&("t".into(), 0)), 1077);
        assert_eq!(tp_hash(&("topic".into(), 3)), 31 * 34 + 110_546_223);
    }

    #[test]
    fn java_hash_set_iterates_by_bucket_then_insertion() {
        let mut set = JavaHashSet::default();
        // "t"-1 hashes to 1108 (bucket 4 of 16), "t"-0 to 1077 (bucket 5): bucket order wins.
        set.insert(("t".into(), 0));
        set.insert(("t".into(), 1));
        assert_eq!(set.first(), Some(&("t".to_string(), 1)));
        set.remove(&("t".into(), 1));
        assert_eq!(set.first(), Some(&("t".to_string(), 0)));
    }
}
