//! The topics: the `[[topics]]` tables, and the ones the timeline creates or grows
//! (`create_topics`, `create_partitions`), read before the clients so that every name resolves.

use super::*;

/// What the timeline does to the topics, worked out before the clients are read.
#[derive(Default)]
pub(super) struct Growth {
    /// The create action of each timeline entry that holds one, by entry index.
    pub(super) actions: VecMap<usize, Action>,
    /// Per topic, its partition count from each time on: `(at, count)` in time order, starting
    /// with `(0, n)` for a `[[topics]]` entry.
    pub(super) history: Vec<Vec<(u64, u32)>>,
}

impl Growth {
    /// The topic's partition count once every create action at or before `at` has run.
    pub(super) fn count_at(&self, topic: u32, at: u64) -> u32 {
        self.history[topic as usize].iter().take_while(|(when, _)| *when <= at).last().map_or(0, |&(_, n)| n)
    }

    /// When the topic's partition `partition` comes into existence, if it ever does.
    pub(super) fn created_at(&self, topic: u32, partition: u32) -> Option<u64> {
        self.history[topic as usize].iter().find(|(_, n)| *n > partition).map(|&(at, _)| at)
    }
}

/// A topic table (`[[topics]]` or a `create_topics` action) checked and placed: its name,
/// partitions, replication factor, settings and replica assignment. `total` counts the
/// partitions of the cluster so far, against its limit.
pub(super) fn topic_spec(cx: &mut Ctx<'_>, at: usize, t: &TopicDef, topics: &[TopicSpec], brokers: u32, broker_config: &BrokerConfig, total: &mut u32) -> Option<TopicSpec> {
    let name = t.name.get_ref().clone();
    check_topic_name(cx, &t.name, topics);
    if topics.iter().any(|x: &TopicSpec| x.name == name) {
        cx.err(t.name.span().start, format!("topic {name:?} is declared twice"), None);
    }
    let partitions = *t.partitions.get_ref();
    if partitions == 0 || partitions > limits::PARTITIONS_PER_TOPIC {
        cx.err(t.partitions.span().start, format!("partitions = {partitions}, expected 1 to {}", limits::PARTITIONS_PER_TOPIC), None);
        return None;
    }
    *total += partitions;
    if *total > limits::PARTITIONS_TOTAL {
        cx.err(at, format!("more than {} partitions in the cluster", limits::PARTITIONS_TOTAL), None);
        return None;
    }
    let rf = *t.replication_factor.get_ref();
    if rf == 0 || rf > brokers {
        cx.err(
            t.replication_factor.span().start,
            format!("replication.factor = {rf}, but the cluster has {brokers} broker(s)"),
            Some("replication.factor must be between 1 and the number of brokers".into()),
        );
        return None;
    }
    let config = t.config.as_ref().map(|c| c.get_ref().clone()).unwrap_or_default();
    let effective = config.resolve(broker_config);
    if effective.min_insync_replicas == 0 || effective.min_insync_replicas > rf {
        let offset = t.config.as_ref().map_or(at, |c| c.span().start);
        cx.err(
            offset,
            format!("min.insync.replicas = {} for a topic with replication.factor = {rf}", effective.min_insync_replicas),
            Some("min.insync.replicas must be between 1 and replication.factor, or acks=all writes can never succeed".into()),
        );
    }
    let assignment = match &t.assignment {
        Some(a) => {
            check_assignment(cx, a, partitions, rf, brokers);
            a.get_ref().clone()
        }
        None => default_assignment(partitions, rf, brokers),
    };
    Some(TopicSpec { name, assignment, initial_partitions: partitions, config })
}

/// A `replica.assignment` must give `partitions` lists of `rf` distinct brokers of the cluster.
fn check_assignment(cx: &mut Ctx<'_>, a: &Spanned<Vec<Vec<u32>>>, partitions: u32, rf: u32, brokers: u32) {
    let list = a.get_ref();
    let ok = list.len() == partitions as usize
        && list.iter().all(|r| r.len() == rf as usize && r.iter().all(|&b| (1..=brokers).contains(&b)) && r.iter().enumerate().all(|(i, b)| !r[..i].contains(b)));
    if !ok {
        cx.err(a.span().start, "replica.assignment does not fit the topic", Some(format!("give {partitions} list(s), each of {rf} distinct broker ids between 1 and {brokers}")));
    }
}

/// Reads the timeline's `create_topics` and `create_partitions` entries, in the order they run
/// (by `at`, then as written): each new topic joins `topics` with no partitions at time 0, and
/// each new partition gets its replicas.
pub(super) fn timeline_topics(cx: &mut Ctx<'_>, entries: &[Spanned<StepDef>], topics: &mut Vec<TopicSpec>, brokers: u32, broker_config: &BrokerConfig, total: &mut u32) -> Growth {
    let mut growth = Growth { actions: VecMap::new(), history: topics.iter().map(|t| vec![(0, t.initial_partitions)]).collect() };
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| *entries[i].get_ref().at.get_ref());
    for i in order {
        let e = entries[i].get_ref();
        let at = *e.at.get_ref();
        if let Some(def) = &e.create_topics {
            let Some(mut spec) = topic_spec(cx, def.span().start, def.get_ref(), topics, brokers, broker_config, total) else { continue };
            let partitions = spec.initial_partitions;
            spec.initial_partitions = 0;
            let topic = topics.len() as u32;
            topics.push(spec);
            growth.history.push(vec![(at, partitions)]);
            growth.actions.insert(i, Action::CreateTopics { topic, partitions });
        } else if let Some(def) = &e.create_partitions {
            if let Some(action) = create_partitions(cx, def, at, topics, &mut growth, brokers, total) {
                growth.actions.insert(i, action);
            }
        }
    }
    growth
}

/// `create_partitions = { topic, count, "replica.assignment" }`: the topic must exist by then and
/// the count must grow, as `Admin.createPartitions` requires (INVALID_PARTITIONS otherwise).
fn create_partitions(cx: &mut Ctx<'_>, def: &Spanned<CreatePartitionsDef>, at: u64, topics: &mut [TopicSpec], growth: &mut Growth, brokers: u32, total: &mut u32) -> Option<Action> {
    let d = def.get_ref();
    let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    let topic = lookup(cx, "topic", Some(&d.topic), def.span().start, &names)?;
    let current = growth.count_at(topic, at);
    let count = *d.count.get_ref();
    if current == 0 {
        let when = growth.history[topic as usize].first().map_or(0, |&(t, _)| t);
        cx.err(d.topic.span().start, format!("topic {:?} does not exist yet at {at} ms: its create_topics runs at {when} ms", d.topic.get_ref()), Some("move create_partitions after the topic's creation".into()));
        return None;
    }
    if count <= current {
        cx.err(
            d.count.span().start,
            format!("count = {count}, but topic {:?} already has {current} partitions then", d.topic.get_ref()),
            Some("Kafka refuses it with INVALID_PARTITIONS: partitions can be added, never removed; give a larger count".into()),
        );
        return None;
    }
    if count > limits::PARTITIONS_PER_TOPIC {
        cx.err(d.count.span().start, format!("count = {count}, expected at most {}", limits::PARTITIONS_PER_TOPIC), None);
        return None;
    }
    *total += count - current;
    if *total > limits::PARTITIONS_TOTAL {
        cx.err(d.count.span().start, format!("more than {} partitions in the cluster", limits::PARTITIONS_TOTAL), None);
        return None;
    }
    let spec = &mut topics[topic as usize];
    let rf = spec.assignment.first().map_or(1, Vec::len) as u32;
    match &d.assignment {
        Some(a) => {
            check_assignment(cx, a, count - current, rf, brokers);
            spec.assignment.extend(a.get_ref().iter().cloned());
        }
        None => spec.assignment.extend(default_assignment(count, rf, brokers).into_iter().skip(current as usize)),
    }
    growth.history[topic as usize].push((at, count));
    Some(Action::CreatePartitions { topic, count })
}
