//! What a run starts from and what its timeline does: the cluster, topics and clients to build,
//! the timed actions, and the effects the lecturer's own actions have (narration, pause points).

use super::cluster::effect::ClusterEffect;
use super::config::{BrokerConfig, EffectiveTopicConfig, LinkParams, TopicConfig};
use super::consumer::{AppCall, ConsumerSpec};
use super::coordinator::{self, GroupInfo};
use super::map::VecSet;
use super::narrate::choice_letter;
use super::net::NetEffect;
use super::producer::{ProducerSpec, TxnCall};
use super::timer::Timer;
use super::types::{BrokerId, NodeId, Tp};
use super::topic::partition_for_id;
use super::txn::TxnId;
use super::app::pipeline::PipelineSpec;
use super::{Controller, Sim, Topic, OFFSETS_TOPIC, TRANSACTION_TOPIC};
use serde::Serialize;
use std::fmt::Write;

/// Everything needed to start a run: the cluster, topics, clients and the timeline.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Seed of the one RNG.
    pub seed: u64,
    /// Number of brokers (ids 1..=brokers).
    pub brokers: u32,
    /// Broker settings.
    pub broker_config: BrokerConfig,
    /// Default properties of every link.
    pub network: LinkParams,
    /// Per-link overrides, applied in both directions.
    pub links: Vec<(NodeId, NodeId, LinkParams)>,
    /// Topics.
    pub topics: Vec<TopicSpec>,
    /// Producers.
    pub producers: Vec<ProducerSpec>,
    /// Consumers (their `group.id`s define the groups, in order of first appearance).
    pub consumers: Vec<ConsumerSpec>,
    /// Timed actions.
    pub timeline: Vec<TimedAction>,
    /// Consume-transform-produce applications over the consumers and producers.
    pub pipelines: Vec<PipelineSpec>,
    /// The schema registry, the lesson's schemas and the clients' serializers.
    pub schemas: crate::sim::registry::Schemas,
}

/// A topic: the partitions it has at time 0, and those the timeline creates later.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    /// Name.
    pub name: String,
    /// Replica assignment: for each partition the topic will ever have, its replicas in
    /// preference order.
    pub assignment: Vec<Vec<BrokerId>>,
    /// How many of those partitions exist at time 0: all of them for a `[[topics]]` entry, none
    /// for a topic the timeline creates. The timeline's `create_topics` and `create_partitions`
    /// create the rest, in order.
    pub initial_partitions: u32,
    /// Topic-level configs.
    pub config: TopicConfig,
}

/// An action at a virtual time.
#[derive(Clone, Debug)]
pub struct TimedAction {
    /// When, in virtual ms.
    pub at: u64,
    /// What.
    pub action: Action,
}

/// Something the scenario (or, later, a person at the page) does to the running cluster.
#[derive(Clone, Debug)]
pub enum Action {
    /// The application calls `send()` `count` times.
    Produce(ProduceAction),
    /// Hard-stop a broker.
    Crash(BrokerId),
    /// Shut a broker down cleanly (SIGTERM): a controlled shutdown moves its leaderships away
    /// before it stops.
    ControlledShutdown(BrokerId),
    /// A broker's machine loses power: a crash that also loses what the logs had not flushed.
    PowerLoss(BrokerId),
    /// Start a crashed or shut-down broker again.
    Restart(BrokerId),
    /// Cut a link.
    Cut {
        /// One end.
        from: NodeId,
        /// The other end.
        to: NodeId,
        /// Both directions, or only from → to.
        both: bool,
    },
    /// Heal a cut link.
    Heal {
        /// One end.
        from: NodeId,
        /// The other end.
        to: NodeId,
        /// Both directions, or only from → to.
        both: bool,
    },
    /// Change a link's latency, jitter or loss.
    SetLink {
        /// One end.
        from: NodeId,
        /// The other end.
        to: NodeId,
        /// Both directions, or only from → to.
        both: bool,
        /// New properties.
        params: LinkParams,
    },
    /// Lecturer narration.
    Say(String),
    /// An operator's call to the schema registry, its crash or restart, or an application's
    /// redeployment with another schema.
    Registry(crate::sim::registry_glue::RegistryAction),
    /// A pause point with a question.
    Pause {
        /// The question.
        question: String,
        /// The answer revealed after it.
        answer: Option<String>,
        /// Answers the class picks from (none: an open question).
        choices: Vec<String>,
        /// The right choice's index, if one is right.
        correct: Option<u32>,
    },
    /// Start a consumer (or restart a crashed or closed one, with empty memory).
    StartConsumer(u32),
    /// Add a new consumer with another one's group, subscription and settings (as a dynamic
    /// member, even if that one is static; running the poll loop, even if that one is scripted),
    /// and start it.
    AddConsumer {
        /// The consumer whose settings it copies.
        like: u32,
        /// The new consumer's name.
        name: String,
    },
    /// Hard-stop a consumer: no commit, no LeaveGroup.
    CrashConsumer(u32),
    /// `close()` a consumer.
    CloseConsumer(u32),
    /// `Admin.incrementalAlterConfigs` SETs topic settings.
    IncrementalAlterConfigs {
        /// Topic index.
        topic: u32,
        /// The settings to set (the others keep their values).
        set: TopicConfig,
    },
    /// `Admin.createTopics`: the topic's first `partitions` partitions come into existence.
    CreateTopics {
        /// Topic index (the topic had no partitions until now).
        topic: u32,
        /// Its partition count.
        partitions: u32,
    },
    /// `Admin.createPartitions` with `NewPartitions.increaseTo(count)`.
    CreatePartitions {
        /// Topic index.
        topic: u32,
        /// The topic's new partition count.
        count: u32,
    },
    /// Block a consumer's application thread for `ms`.
    StallConsumer {
        /// Consumer.
        consumer: u32,
        /// How long.
        ms: u64,
    },
    /// A transactional producer's application calls `initTransactions()`,
    /// `beginTransaction()`, `commitTransaction()` or `abortTransaction()`.
    Transaction {
        /// Producer.
        producer: u32,
        /// The call.
        call: TxnCall,
    },
    /// `KafkaConsumer.subscribe(topics)`: the subscription changes at once and the next `poll()`
    /// rejoins the group.
    Subscribe {
        /// Consumer.
        consumer: u32,
        /// The new subscription (topic indices, sorted).
        topics: Vec<u32>,
    },
    /// A transactional producer's application calls `sendOffsetsToTransaction(offsets,
    /// groupMetadata)`.
    SendOffsetsToTransaction {
        /// Producer.
        producer: u32,
        /// The offsets and the group metadata.
        offsets: OffsetsToSend,
    },
    /// A scripted application calls `poll()`, `commitSync()` or `commitAsync()`.
    AppCall {
        /// Consumer.
        consumer: u32,
        /// The call.
        call: AppCall,
    },
}

/// What a `sendOffsetsToTransaction` call sends.
#[derive(Clone, Debug)]
pub enum OffsetsToSend {
    /// Offsets the scenario gives, for the group with this `group.id`, with
    /// `new ConsumerGroupMetadata(groupId)` (generation −1 and no member id), or with the member
    /// id of a consumer and a generation the scenario gives (a stale one is fenced).
    Given {
        /// The `group.id`.
        group: String,
        /// (partition, offset).
        offsets: Vec<(Tp, u64)>,
        /// (consumer whose member id is sent, generation).
        member: Option<(u32, i32)>,
    },
    /// A consumer's current positions (the next offset to read on each partition it owns) and its
    /// `groupMetadata()`: its group, generation and member id, as a consume-transform-produce
    /// application passes them.
    Consumer(u32),
}

/// Records to produce.
#[derive(Clone, Debug)]
pub struct ProduceAction {
    /// Producer index.
    pub producer: u32,
    /// Topic index.
    pub topic: u32,
    /// Explicit partition, if any.
    pub partition: Option<u32>,
    /// Key template (`{n}` becomes the record's 1-based number in this action); none = null key.
    pub key: Option<String>,
    /// Value template.
    pub value: String,
    /// A structured value (`value = { id = "{n}" }`), its strings templates; `value` is then its
    /// JSON text.
    pub value_json: Option<serde_json::Value>,
    /// The value's length in bytes when the scenario pads it (`value_bytes`): the record keeps its
    /// text and this length, never the padding itself.
    pub value_bytes: Option<u32>,
    /// How many records.
    pub count: u32,
    /// Records per second; none = all at once.
    pub rate: Option<f64>,
    /// Key and value are literal text (typed at the page), not `{n}` templates.
    pub literal: bool,
}

impl ProduceAction {
    fn fill(&self, template: &str, n: u32) -> String {
        if self.literal {
            return template.to_string();
        }
        // Found by its brace and written by `itoa`, rather than by `str::replace` and `format!`:
        // in the page, filling templates that way was 5% of a run's time.
        let mut out = String::with_capacity(template.len() + 8);
        let mut number = itoa::Buffer::new();
        let mut rest = template;
        while let Some(i) = rest.bytes().position(|b| b == b'{') {
            out.push_str(&rest[..i]);
            if let Some(after) = rest[i..].strip_prefix("{n}") {
                out.push_str(number.format(n + 1));
                rest = after;
            } else {
                out.push('{');
                rest = &rest[i + 1..];
            }
        }
        out.push_str(rest);
        out
    }

    /// The structured value of the `n`-th record: every string in it filled as a template, and a
    /// string that is `{n}` alone the record's number itself.
    fn fill_json(&self, json: &serde_json::Value, n: u32) -> serde_json::Value {
        use serde_json::Value as Json;
        match json {
            Json::String(s) if s == "{n}" => Json::from(n + 1),
            Json::String(s) => Json::String(self.fill(s, n)),
            Json::Array(items) => items.iter().map(|v| self.fill_json(v, n)).collect(),
            Json::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), self.fill_json(v, n))).collect()),
            other => other.clone(),
        }
    }

    /// Virtual time offset of the `n`-th record from the action's start.
    fn offset_ms(&self, n: u32) -> u64 {
        match self.rate {
            Some(rate) if rate > 0.0 => (n as f64 * 1000.0 / rate).floor() as u64,
            _ => 0,
        }
    }
}

/// Kafka's rack-unaware replica placement (`AdminUtils.assignReplicasToBrokers`) with the random
/// start index and shift fixed at 0, so that placement is predictable for a class:
/// partition 0 on brokers 1,2,3, partition 1 on 2,3,1, and so on.
pub fn default_assignment(partitions: u32, replication_factor: u32, brokers: u32) -> Vec<Vec<BrokerId>> {
    let n = brokers;
    let mut shift = 0u32;
    (0..partitions)
        .map(|p| {
            if p > 0 && p % n == 0 {
                shift += 1;
            }
            let first = p % n;
            let mut replicas = vec![first + 1];
            for j in 0..replication_factor.saturating_sub(1) {
                let s = 1 + (shift + j) % (n - 1).max(1);
                replicas.push((first + s) % n + 1);
            }
            replicas
        })
        .collect()
}

/// What the lecturer put on the timeline: narration and pause points.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum ScenarioEffect {
    /// Lecturer narration.
    Say {
        /// Text.
        text: String,
    },
    /// A pause point with a question for the class.
    Pause {
        /// Question.
        question: String,
        /// Answer revealed on continue.
        answer: Option<String>,
        /// Answers the class picks from (none: an open question).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        choices: Vec<String>,
        /// The right choice's index (from 0), if one is right.
        #[serde(skip_serializing_if = "Option::is_none")]
        correct: Option<u32>,
    },
}

impl ScenarioEffect {
    /// The effect as a sentence: the lecturer's words as they are.
    pub fn describe(&self) -> String {
        match self {
            ScenarioEffect::Say { text } => format!("💬 {text}"),
            ScenarioEffect::Pause { question, answer, choices, correct } => {
                let mut s = format!("⏸ QUESTION: {question}");
                for (i, choice) in choices.iter().enumerate() {
                    let mark = if *correct == Some(i as u32) { " ✓" } else { "" };
                    let _ = write!(s, "\n      {}) {choice}{mark}", choice_letter(i));
                }
                if let Some(a) = answer {
                    let _ = write!(s, "\n      ANSWER: {a}");
                }
                s
            }
        }
    }
}

impl Sim {
    pub(super) fn run_action(&mut self, index: usize) {
        let action = self.timeline[index].action.clone();
        match action {
            Action::Produce(_) => self.produce_one(index, 0),
            Action::Crash(b) => self.crash_broker(b),
            Action::PowerLoss(b) => self.power_loss(b),
            Action::ControlledShutdown(b) => self.begin_controlled_shutdown(b),
            Action::Restart(b) => {
                if !self.broker(b).up {
                    self.emit(ClusterEffect::BrokerRestarted { broker: b });
                    self.start_broker(b);
                }
            }
            Action::Cut { from, to, both } => {
                self.io.net.cut.insert((from, to));
                if both {
                    self.io.net.cut.insert((to, from));
                }
                self.emit(NetEffect::LinkCut { from, to, both });
            }
            Action::Heal { from, to, both } => {
                self.io.net.cut.remove(&(from, to));
                if both {
                    self.io.net.cut.remove(&(to, from));
                }
                self.emit(NetEffect::LinkHealed { from, to, both });
            }
            Action::SetLink { from, to, both, params } => {
                self.io.net.overrides.insert((from, to), params);
                if both {
                    self.io.net.overrides.insert((to, from), params);
                }
                self.emit(NetEffect::LinkChanged {
                    from,
                    to,
                    latency_ms: params.latency_ms,
                    jitter_ms: params.jitter_ms,
                    loss: params.loss,
                });
            }
            Action::Say(text) => self.emit(ScenarioEffect::Say { text }),
            Action::Registry(action) => self.registry_action(action),
            Action::Pause { question, answer, choices, correct } => self.emit(ScenarioEffect::Pause { question, answer, choices, correct }),
            Action::StartConsumer(c) => self.with_consumer(c, |cons, cx, env| cons.start(cx, env)),
            Action::AddConsumer { like, name } => self.add_consumer(like, name),
            Action::CrashConsumer(c) => self.with_consumer(c, |cons, cx, _| cons.crash(cx)),
            Action::CloseConsumer(c) => self.with_consumer(c, |cons, cx, env| cons.close(cx, env)),
            Action::StallConsumer { consumer, ms } => self.with_consumer(consumer, |cons, cx, _| cons.stall(cx, ms)),
            Action::CreateTopics { topic, partitions } => self.create_partitions(topic, partitions, true),
            Action::CreatePartitions { topic, count } => self.create_partitions(topic, count, false),
            Action::Subscribe { consumer, topics } => self.with_consumer(consumer, |cons, cx, env| cons.subscribe(cx, env, topics)),
            Action::Transaction { producer, call } => self.with_producer(producer, |prod, cx, env| prod.txn_call(cx, env, call)),
            Action::SendOffsetsToTransaction { producer, offsets } => {
                let offsets = self.txn_offsets(&offsets);
                self.with_producer(producer, |prod, cx, env| prod.send_offsets_to_transaction(cx, env, offsets));
            }
            Action::AppCall { consumer, call } => self.with_consumer(consumer, |cons, cx, env| cons.app_call(cx, env, call)),
            Action::IncrementalAlterConfigs { topic, set } => self.alter_topic_config(topic, &set),
        }
    }

    /// `Admin.createTopics` (`new_topic`) or `createPartitions`: the topic's partitions up to
    /// `count` come into existence with the replicas the scenario planned for them. The brokers
    /// take up their roles at once (a simplification: Kafka's brokers learn the new partitions
    /// from the metadata log a few milliseconds later); the clients learn them only from their
    /// next metadata refresh.
    fn create_partitions(&mut self, topic: u32, count: u32, new_topic: bool) {
        let (base, from) = (self.topics[topic as usize].base, self.topics[topic as usize].partitions);
        if count <= from {
            return;
        }
        for pidx in base + from..base + count {
            let replicas = std::mem::take(&mut self.planned[pidx as usize]);
            let part = self.controller.create_partition(pidx, &replicas);
            // One log for all replicas, as at start-up: their copies share its buffer.
            let log = super::log::ReplicaLog::default();
            for &b in &replicas {
                self.broker_mut(b).host(pidx, log.clone());
            }
            for &b in &replicas {
                if self.broker(b).up {
                    self.apply_partition_change(b, pidx, part.leader, part.leader_epoch, &part.isr, part.partition_epoch);
                }
            }
        }
        self.topics[topic as usize].partitions = count;
        // Every record of a new partition is for the groups already reading the topic to read,
        // whatever offset they first take there: one that starts past some (auto.offset.reset =
        // latest) has lost them.
        for c in &self.consumers {
            let reading = self.ledger.groups.get(c.group as usize).is_some_and(|g| !g.start_offsets.is_empty());
            if reading && c.topics.contains(&topic) {
                for pidx in base + from..base + count {
                    self.ledger.note_start(c.group, pidx, 0);
                }
            }
        }
        let name = self.topics[topic as usize].name.clone();
        self.emit(ClusterEffect::PartitionsCreated { topic: name, from, to: count, new_topic });
    }

    /// The controller applies the new settings at once and the brokers read them from the next
    /// request on (a simplification: Kafka's brokers learn them from the metadata log a few
    /// milliseconds later). A new `min.insync.replicas` clears the topic's ELRs, as Kafka's
    /// controller does when the eligible leader replicas are on.
    fn alter_topic_config(&mut self, topic: u32, set: &TopicConfig) {
        let t = &mut self.topics[topic as usize];
        t.config = t.config.altered(set);
        let name = t.name.clone();
        self.emit(ClusterEffect::TopicConfigAltered { topic: name, set: set.set_entries() });
        // Without eligible leader replicas every ELR is empty, and there is nothing to clear.
        if set.min_insync_replicas.is_some() {
            self.with_controller(|controller, cx, layout| controller.clear_topic_elrs(cx, layout, topic));
        }
        // A partition not created yet has no replicas, and nothing to elect.
        let leaderless = self.controller.parts.iter().zip(&self.tps).any(|(p, tp)| p.leader.is_none() && !p.replicas.is_empty() && tp.topic == topic);
        if set.unclean_leader_election_enable == Some(true) && leaderless {
            let at = Controller::next_unclean_check(self.io.now);
            self.schedule_timer(at, Timer::ElectUnclean);
        }
    }

    pub(super) fn produce_one(&mut self, index: usize, n: u32) {
        let Action::Produce(p) = &self.timeline[index].action else { return };
        // Records due at the same virtual time go out in one step, as one send() loop would.
        let start = self.timeline[index].at;
        let (producer, topic, partition, value_bytes) = (p.producer, p.topic, p.partition, p.value_bytes);
        let serialized = self.schemas.writes(producer);
        let mut due = Vec::new();
        let mut next = n;
        while next < p.count && start + p.offset_ms(next) <= self.io.now {
            // A producer with `StringSerializer` sends the text; any other serializer gets the value.
            let value = serialized.then(|| match &p.value_json {
                Some(json) => p.fill_json(json, next),
                None => serde_json::Value::String(p.fill(&p.value, next)),
            });
            due.push((p.key.as_deref().map(|k| p.fill(k, next)), p.fill(&p.value, next), value));
            next += 1;
        }
        let later = (next < p.count).then(|| start + p.offset_ms(next));
        let mut sends = Vec::with_capacity(due.len());
        for (key, text, value) in due {
            match value {
                None => sends.push((key, text, value_bytes, None)),
                Some(value) => {
                    if let Some((text, len, payload)) = self.serialize(producer, &value) {
                        sends.push((key, text, Some(len), payload));
                    }
                }
            }
        }
        self.with_producer(producer, |prod, cx, env| {
            for (key, value, value_bytes, payload) in sends {
                prod.send(cx, env, topic, partition, key, value, value_bytes, payload);
            }
            prod.drain(cx, env);
        });
        if let Some(at) = later {
            self.schedule_timer(at, Timer::ProduceTick { index, n: next });
        }
    }
}

/// Creates the `__consumer_offsets` partitions that hold the scenario's groups, and the groups.
///
/// Simplification: Kafka creates all `offsets.topic.num.partitions` partitions; the simulation
/// models only the ones a group maps to (with their real numbers and replica placement), because
/// the others hold nothing and would only add background replication.
pub(super) fn offsets_topic(setup: &Setup, topics: &mut Vec<Topic>, tps: &mut Vec<Tp>, assignment: &mut Vec<Vec<BrokerId>>) -> Vec<GroupInfo> {
    let mut names: Vec<String> = Vec::new();
    let given = setup.timeline.iter().filter_map(|t| match &t.action {
        Action::SendOffsetsToTransaction { offsets: OffsetsToSend::Given { group, .. }, .. } => Some(group),
        _ => None,
    });
    // A group whose offsets only a transaction commits exists too (a "simple" group, without
    // members), after the consumers' groups.
    for name in setup.consumers.iter().map(|c| &c.config.group_id).chain(given) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    if names.is_empty() {
        return Vec::new();
    }
    let cfg = &setup.broker_config;
    let total = cfg.offsets_topic_num_partitions.max(1);
    let rf = cfg.offsets_topic_replication_factor.clamp(1, setup.brokers);
    let numbers: VecSet<u32> = names.iter().map(|n| coordinator::offsets_partition_for(n, total)).collect();
    let numbers: Vec<u32> = numbers.into_iter().collect();
    let placement = default_assignment(total, rf, setup.brokers);
    let config = TopicConfig { retention_ms: Some(-1), retention_bytes: Some(-1), ..TopicConfig::default() };
    let base = push_internal_topic(OFFSETS_TOPIC, &numbers, &placement, config.resolve(cfg), (topics, tps, assignment));
    names
        .into_iter()
        .map(|name| {
            let offsets_partition = coordinator::offsets_partition_for(&name, total);
            let i = numbers.iter().position(|&n| n == offsets_partition).expect("listed") as u32;
            GroupInfo { name, offsets_partition, pidx: base + i }
        })
        .collect()
}

/// Adds an internal topic holding only the partitions numbered `numbers` (of a topic placed as
/// `placement`), and returns the global index of its first partition.
fn push_internal_topic(
    name: &str,
    numbers: &[u32],
    placement: &[Vec<BrokerId>],
    config: EffectiveTopicConfig,
    (topics, tps, assignment): (&mut Vec<Topic>, &mut Vec<Tp>, &mut Vec<Vec<BrokerId>>),
) -> u32 {
    let topic = topics.len() as u32;
    let base = tps.len() as u32;
    topics.push(Topic {
        name: name.to_string(),
        base,
        partitions: numbers.len() as u32,
        capacity: numbers.len() as u32,
        config,
        internal: true,
        partition_ids: Some(numbers.to_vec()),
    });
    for (i, &n) in numbers.iter().enumerate() {
        tps.push(Tp { topic, partition: i as u32 });
        assignment.push(placement[n as usize].clone());
    }
    base
}

/// `__transaction_state` with only the partitions the scenario's transactional ids map to, placed
/// as Kafka places it, with `transaction.state.log.min.isr` as its `min.insync.replicas` and
/// unclean elections off (`TransactionStateManager.transactionTopicConfigs`); and each
/// transactional id with its partition.
pub(super) fn transaction_topic(setup: &Setup, topics: &mut Vec<Topic>, tps: &mut Vec<Tp>, assignment: &mut Vec<Vec<BrokerId>>) -> Vec<TxnId> {
    let mut names: Vec<String> = Vec::new();
    for p in &setup.producers {
        if let Some(id) = &p.config.transactional_id {
            if !names.contains(id) {
                names.push(id.clone());
            }
        }
    }
    if names.is_empty() {
        return Vec::new();
    }
    let cfg = &setup.broker_config;
    let total = cfg.transaction_state_log_num_partitions.max(1);
    let rf = cfg.transaction_state_log_replication_factor.clamp(1, setup.brokers);
    let numbers: VecSet<u32> = names.iter().map(|n| partition_for_id(n, total)).collect();
    let numbers: Vec<u32> = numbers.into_iter().collect();
    let placement = default_assignment(total, rf, setup.brokers);
    let config = TopicConfig {
        retention_ms: Some(-1),
        retention_bytes: Some(-1),
        min_insync_replicas: Some(cfg.transaction_state_log_min_isr),
        unclean_leader_election_enable: Some(false),
        ..TopicConfig::default()
    };
    let base = push_internal_topic(TRANSACTION_TOPIC, &numbers, &placement, config.resolve(cfg), (topics, tps, assignment));
    names
        .into_iter()
        .map(|name| {
            let i = numbers.iter().position(|&n| n == partition_for_id(&name, total)).expect("listed") as u32;
            TxnId { name, pidx: base + i }
        })
        .collect()
}

#[cfg(test)]
mod fill_tests {
    use super::ProduceAction;

    fn action(literal: bool) -> ProduceAction {
        ProduceAction { producer: 0, topic: 0, partition: None, key: None, value: String::new(), value_json: None, value_bytes: None, count: 1, rate: None, literal }
    }

    #[test]
    fn every_n_placeholder_becomes_the_one_based_number_and_other_braces_stay() {
        let p = action(false);
        assert_eq!(p.fill("order-{n}", 0), "order-1");
        assert_eq!(p.fill("{n}:{n}", 41), "42:42");
        assert_eq!(p.fill("{x} {n", 4), "{x} {n");
        assert_eq!(p.fill("{{n}}", 9), "{10}");
        assert_eq!(p.fill("plain", 3), "plain");
        assert_eq!(p.fill("é{n}ü{", 0), "é1ü{");
    }

    #[test]
    fn literal_text_is_kept_as_typed() {
        assert_eq!(action(true).fill("order-{n}", 0), "order-{n}");
    }
}

