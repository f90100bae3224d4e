//! The pure, deterministic simulation core.
//!
//! No wall clock, no threads, no OS randomness: time is virtual milliseconds and all randomness
//! comes from one ChaCha8 generator seeded by the scenario. Every map iterates in a fixed order.
//! One call to [`Sim::step`] handles exactly one event (a message arriving or a timer firing) and
//! returns a [`Step`] describing what happened and why.

pub mod client;
pub mod cluster;
pub mod config;
pub mod describe;
pub mod group;
pub mod invariants;
pub mod ledger;
pub mod map;
pub mod murmur2;
pub mod shared;
pub mod step;
pub mod types;
pub mod view;

// The layers' modules under their short paths (`sim::log`, `sim::consumer`…), which the scenario
// reader, the session, the page and the tests use.
use client::producer;
use cluster::{broker, controller};
pub use client::consumer;
pub use cluster::log;
pub use group::{assignor, coordinator};

pub use broker::{Broker, Replica, Role};
pub use consumer::{AppBehaviour, CommitPolicy, Consumer, ConsumerSpec};
pub use controller::{Controller, PartitionState};
pub use coordinator::GroupInfo;
pub use producer::Producer;
pub use step::{Effect, Msg, Step, StepEvent, Timer};
pub use types::{BrokerId, KafkaError, NodeId, RecordId, Tp};

use config::{BrokerConfig, EffectiveTopicConfig, LinkParams, ProducerConfig, TopicConfig};
use ledger::Ledger;
use map::{VecMap, VecSet};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::rc::Rc;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use step::DropReason;

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
}

/// A topic to create at time 0.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    /// Name.
    pub name: String,
    /// Replica assignment: for each partition, its replicas in preference order.
    pub assignment: Vec<Vec<BrokerId>>,
    /// Topic-level configs.
    pub config: TopicConfig,
}

/// A producer client.
#[derive(Clone, Debug)]
pub struct ProducerSpec {
    /// Name used in scenarios and traces.
    pub name: String,
    /// Settings in force.
    pub config: ProducerConfig,
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
    /// member, even if that one is static), and start it.
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
    /// Block a consumer's application thread for `ms`.
    StallConsumer {
        /// Consumer.
        consumer: u32,
        /// How long.
        ms: u64,
    },
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

/// A topic as the simulation knows it.
#[derive(Clone, Debug)]
pub struct Topic {
    /// Name.
    pub name: String,
    /// Global index of partition 0.
    pub base: u32,
    /// Number of partitions.
    pub partitions: u32,
    /// Settings in force.
    pub config: EffectiveTopicConfig,
    /// True for `__consumer_offsets`.
    pub internal: bool,
    /// Real partition numbers when only some partitions are modelled (`__consumer_offsets`).
    pub partition_ids: Option<Vec<u32>>,
}

/// The name of the coordinator's topic.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

#[derive(Clone, Debug)]
enum Event {
    // Behind a pointer so that heap entries stay small (the queue moves them on every push and
    // pop), and shared so that a snapshot of the queue does not copy the records messages carry.
    Deliver { id: u64, from: NodeId, to: NodeId, from_incarnation: u32, sent_at: u64, msg: Rc<Msg> },
    Timer(Timer),
}

/// `size_of::<Scheduled>()` in a 64-bit build (a test holds them equal there).
const SCHEDULED_BYTES: usize = 64;
/// `size_of::<Replica>()` in a 64-bit build (a test holds them equal there).
const REPLICA_BYTES: usize = 272;

#[derive(Clone, Debug)]
struct Scheduled {
    time: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    // BinaryHeap is a max-heap; reversing gives the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

#[derive(Clone, Debug, Default)]
struct Network {
    default: LinkParams,
    overrides: VecMap<(NodeId, NodeId), LinkParams>,
    cut: VecSet<(NodeId, NodeId)>,
    /// Latest arrival per directed link: links are TCP connections, so they deliver in order.
    last_arrival: VecMap<(NodeId, NodeId), u64>,
    /// Producer connections (both directions) broken by a lost message. A TCP connection cannot
    /// lose one request and deliver the next, so everything after a loss is dropped too until the
    /// producer opens a new connection (its ApiVersions), as the Java client does after the
    /// request timeout closes the old one. The value is the id of the lost message: messages sent
    /// before it are still delivered.
    broken: VecMap<(NodeId, NodeId), u64>,
}

impl Network {
    /// Whether messages between these nodes travel on a producer's connection to a broker.
    fn producer_connection(from: NodeId, to: NodeId) -> bool {
        matches!((from, to), (NodeId::Producer(_), NodeId::Broker(_)) | (NodeId::Broker(_), NodeId::Producer(_)))
    }

    /// Marks the connection broken by the loss of message `lost`. Not for an acks=0 produce: no
    /// response is awaited, so no request timeout would ever reopen the connection, and the model
    /// keeps such a producer's losses to the records that were on the wire.
    fn break_connection(&mut self, from: NodeId, to: NodeId, lost: u64, msg: &Msg) {
        if matches!(msg, Msg::Produce { acks: config::Acks::None, .. }) {
            return;
        }
        if Network::producer_connection(from, to) {
            self.broken.entry((from, to)).or_insert(lost);
            self.broken.entry((to, from)).or_insert(lost);
        }
    }

    /// Whether message `id` travels on a connection that broke before it was sent.
    fn broken_before(&self, from: NodeId, to: NodeId, id: u64) -> bool {
        self.broken.get(&(from, to)).is_some_and(|&lost| id > lost)
    }
}

/// A message on its way from one node to another.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InFlight {
    /// Message id.
    pub id: u64,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// Message kind (`Produce`, `FetchResponse`…).
    pub kind: &'static str,
    /// When it left, in virtual ms.
    pub sent_at: u64,
    /// When it arrives (or reaches the end of a cut link), in virtual ms.
    pub arrives_at: u64,
}

/// The simulation.
#[derive(Clone, Debug)]
pub struct Sim {
    now: u64,
    seq: u64,
    steps: u64,
    next_msg: u64,
    next_req: u64,
    queue: BinaryHeap<Scheduled>,
    pub(crate) rng: ChaCha8Rng,
    effects: Vec<Effect>,
    /// Broker settings.
    pub broker_config: BrokerConfig,
    /// Topics in declaration order.
    pub topics: Vec<Topic>,
    /// Every partition by global index.
    pub tps: Vec<Tp>,
    /// Brokers; broker `id` is at index `id - 1`.
    pub brokers: Vec<Broker>,
    /// The controller.
    pub controller: Controller,
    /// Producers.
    pub producers: Vec<Producer>,
    /// Consumers.
    pub consumers: Vec<Consumer>,
    /// Consumer groups.
    pub groups: Vec<GroupInfo>,
    /// The per-record ledger.
    pub ledger: Ledger,
    net: Network,
    timeline: Vec<TimedAction>,
}

impl Sim {
    /// Builds the cluster at time 0: topics created, leaders elected, followers about to fetch.
    pub fn new(setup: Setup) -> Sim {
        let mut topics = Vec::new();
        let mut tps = Vec::new();
        let mut assignment = Vec::new();
        for (t, spec) in setup.topics.iter().enumerate() {
            topics.push(Topic {
                name: spec.name.clone(),
                base: tps.len() as u32,
                partitions: spec.assignment.len() as u32,
                config: spec.config.resolve(&setup.broker_config),
                internal: false,
                partition_ids: None,
            });
            for (p, replicas) in spec.assignment.iter().enumerate() {
                tps.push(Tp { topic: t as u32, partition: p as u32 });
                assignment.push(replicas.clone());
            }
        }
        let groups = offsets_topic(&setup, &mut topics, &mut tps, &mut assignment);
        let controller = Controller::new(setup.brokers, &assignment);
        // The replicas of a partition start from one log, so their copies of the same records
        // share one buffer: the followers' appends only widen their view of what the leader wrote.
        let logs: Vec<log::ReplicaLog> = assignment.iter().map(|_| log::ReplicaLog::default()).collect();
        let brokers = (1..=setup.brokers).map(|id| Broker::new(id, &assignment, &logs)).collect();
        let producers = setup
            .producers
            .iter()
            .enumerate()
            .map(|(i, spec)| Producer::new(i as u32, spec, topics.len(), &controller))
            .collect();
        let consumers = setup
            .consumers
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let g = groups.iter().position(|g| g.name == spec.config.group_id).expect("every group.id has a group");
                Consumer::new(i as u32, spec, g as u32, tps.len())
            })
            .collect();
        let mut net = Network { default: setup.network, ..Network::default() };
        for (a, b, params) in &setup.links {
            net.overrides.insert((*a, *b), *params);
            net.overrides.insert((*b, *a), *params);
        }
        let mut sim = Sim {
            now: 0,
            seq: 0,
            steps: 0,
            next_msg: 0,
            next_req: 0,
            queue: BinaryHeap::new(),
            rng: ChaCha8Rng::seed_from_u64(setup.seed),
            effects: Vec::new(),
            broker_config: setup.broker_config,
            topics,
            tps,
            brokers,
            controller,
            producers,
            consumers,
            groups,
            ledger: Ledger::default(),
            net,
            timeline: setup.timeline,
        };
        for i in 0..sim.timeline.len() {
            let at = sim.timeline[i].at;
            sim.schedule(at, Event::Timer(Timer::Action { index: i }));
        }
        let session_timeout = sim.broker_config.broker_session_timeout_ms;
        for id in 1..=setup.brokers {
            sim.start_broker(id);
            sim.apply_initial_metadata(id);
            sim.schedule_timer(session_timeout, Timer::SessionCheck { broker: id });
        }
        if let Some(last) = sim.groups.len().checked_sub(1) {
            sim.ledger.group_mut(last as u32);
        }
        for (c, spec) in setup.consumers.iter().enumerate() {
            if spec.autostart {
                sim.consumer_start(c as u32);
            }
        }
        sim.effects.clear();
        sim
    }

    /// Current virtual time in ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// How many steps have run.
    pub fn steps_taken(&self) -> u64 {
        self.steps
    }

    /// Time of the next pending event, if any.
    pub fn next_event_time(&self) -> Option<u64> {
        self.queue.peek().map(|s| s.time)
    }

    /// Replicas across all brokers (a partition with replication factor 3 counts three times).
    pub fn replica_count(&self) -> usize {
        self.brokers.iter().map(|b| b.replicas.iter().flatten().count()).sum()
    }

    /// Roughly how many bytes a clone allocates that it does not share with this simulation: the
    /// event queue, the per-partition and per-client state, and the ledger's list of chunks. Logs
    /// and most of the ledger are shared. The page uses it to keep its snapshots within a budget.
    /// It counts the sizes of a 64-bit build on every platform, so that the page (32-bit wasm)
    /// spaces its snapshots exactly as the native tests and benches see them.
    pub fn clone_bytes_estimate(&self) -> usize {
        self.queue.len() * SCHEDULED_BYTES + self.replica_count() * (REPLICA_BYTES + 512) + (self.producers.len() + self.consumers.len()) * 4096 + self.ledger.records.len() / 4
    }

    /// The scenario timeline.
    pub fn timeline(&self) -> &[TimedAction] {
        &self.timeline
    }

    /// Adds an action to the timeline (for interactive use); it runs at `at` (not before now).
    pub fn add_action(&mut self, at: u64, action: Action) {
        let at = at.max(self.now);
        self.timeline.push(TimedAction { at, action });
        let index = self.timeline.len() - 1;
        self.schedule(at, Event::Timer(Timer::Action { index }));
    }

    /// Messages on their way (sent, not yet arrived), oldest first: what the page animates.
    pub fn in_flight(&self) -> Vec<InFlight> {
        let mut list: Vec<InFlight> = self
            .queue
            .iter()
            .filter_map(|s| match &s.event {
                Event::Deliver { id, from, to, sent_at, msg, .. } => {
                    Some(InFlight { id: *id, from: *from, to: *to, kind: msg.kind(), sent_at: *sent_at, arrives_at: s.time })
                }
                Event::Timer(_) => None,
            })
            .collect();
        list.sort_by_key(|m| m.id);
        list
    }

    /// Runs exactly one event and describes it. `None` when nothing is left to happen.
    pub fn step(&mut self) -> Option<Step> {
        loop {
            let next = self.queue.pop()?;
            self.now = next.time;
            self.effects.clear();
            if let Some(event) = self.handle(next.event) {
                let step = Step {
                    index: self.steps,
                    time: self.now,
                    event,
                    effects: std::mem::take(&mut self.effects),
                };
                self.steps += 1;
                return Some(step);
            }
        }
    }

    /// Runs every event up to and including time `until`, handing each step to `on_step`.
    pub fn run_until(&mut self, until: u64, mut on_step: impl FnMut(&Sim, Step)) {
        while self.next_event_time().is_some_and(|t| t <= until) {
            match self.step() {
                Some(step) => on_step(self, step),
                None => break,
            }
        }
    }

    /// The topic-partition with global index `pidx`.
    pub fn tp(&self, pidx: u32) -> Tp {
        self.tps[pidx as usize]
    }

    /// Global index of a topic-partition.
    pub fn pidx(&self, tp: Tp) -> u32 {
        self.topics[tp.topic as usize].base + tp.partition
    }

    /// `orders-0` style name (with the real partition number for `__consumer_offsets`).
    pub fn tp_name(&self, tp: Tp) -> String {
        let topic = &self.topics[tp.topic as usize];
        let number = topic.partition_ids.as_ref().map_or(tp.partition, |ids| ids[tp.partition as usize]);
        format!("{}-{number}", topic.name)
    }

    /// Looks a partition up by its `topic-N` name.
    pub fn find_tp(&self, name: &str) -> Option<Tp> {
        let (topic, number) = name.rsplit_once('-')?;
        let number: u32 = number.parse().ok()?;
        let t = self.topics.iter().position(|t| t.name == topic)?;
        let partition = match &self.topics[t].partition_ids {
            Some(ids) => ids.iter().position(|&n| n == number)? as u32,
            None => number,
        };
        (partition < self.topics[t].partitions).then_some(Tp { topic: t as u32, partition })
    }

    /// The consumer group with this `group.id`.
    pub fn find_group(&self, name: &str) -> Option<u32> {
        self.groups.iter().position(|g| g.name == name).map(|g| g as u32)
    }

    /// The broker with this id.
    pub fn broker(&self, id: BrokerId) -> &Broker {
        &self.brokers[(id - 1) as usize]
    }

    fn broker_mut(&mut self, id: BrokerId) -> &mut Broker {
        &mut self.brokers[(id - 1) as usize]
    }

    fn schedule(&mut self, time: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Scheduled { time, seq: self.seq, event });
    }

    fn schedule_timer(&mut self, time: u64, timer: Timer) {
        self.schedule(time, Event::Timer(timer));
    }

    fn emit(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    fn incarnation(&self, node: NodeId) -> u32 {
        match node {
            NodeId::Broker(b) => self.broker(b).incarnation,
            NodeId::Consumer(c) => self.consumers[c as usize].incarnation,
            _ => 0,
        }
    }

    /// Whether a node's process is alive. A closed consumer's last messages (its final commit and
    /// LeaveGroup) still arrive: close() flushes them.
    pub fn is_up(&self, node: NodeId) -> bool {
        match node {
            NodeId::Broker(b) => self.broker(b).up,
            NodeId::Consumer(c) => self.consumers[c as usize].state != consumer::ClientState::Crashed,
            _ => true,
        }
    }

    fn link(&self, from: NodeId, to: NodeId) -> LinkParams {
        *self.net.overrides.get(&(from, to)).unwrap_or(&self.net.default)
    }

    /// Puts a message on the link from → to. Loss and jitter are drawn from the simulation's RNG.
    fn send(&mut self, from: NodeId, to: NodeId, msg: Msg) {
        self.next_msg += 1;
        let id = self.next_msg;
        let kind = msg.kind();
        let params = self.link(from, to);
        if matches!(msg, Msg::ApiVersions) {
            self.net.broken.remove(&(from, to));
            self.net.broken.remove(&(to, from));
        }
        let dropped = if self.net.cut.contains(&(from, to)) {
            Some(DropReason::LinkCut)
        } else if self.net.broken_before(from, to, id) {
            Some(DropReason::ConnectionBroken)
        } else if params.loss > 0.0 && self.rng.random::<f64>() < params.loss {
            Some(DropReason::Loss)
        } else {
            None
        };
        if let Some(reason) = dropped {
            self.net.break_connection(from, to, id, &msg);
            self.emit(Effect::Sent { id, from, to, msg: kind, arrives_at: None, dropped: Some(reason) });
            return;
        }
        let jitter = if params.jitter_ms > 0 { self.rng.random_range(0..=params.jitter_ms) } else { 0 };
        let earliest = self.now + params.latency_ms + jitter;
        let last = self.net.last_arrival.entry((from, to)).or_insert(0);
        let arrives = earliest.max(*last);
        *last = arrives;
        self.emit(Effect::Sent { id, from, to, msg: kind, arrives_at: Some(arrives), dropped: None });
        let from_incarnation = self.incarnation(from);
        self.schedule(arrives, Event::Deliver { id, from, to, from_incarnation, sent_at: self.now, msg: Rc::new(msg) });
    }

    fn handle(&mut self, event: Event) -> Option<StepEvent> {
        match event {
            Event::Deliver { id, from, to, from_incarnation, sent_at, msg } => {
                let reason = if !self.is_up(from) || self.incarnation(from) != from_incarnation {
                    Some(DropReason::SenderCrashed)
                } else if self.net.cut.contains(&(from, to)) {
                    self.net.break_connection(from, to, id, &msg);
                    Some(DropReason::LinkCut)
                } else if self.net.broken_before(from, to, id) {
                    Some(DropReason::ConnectionBroken)
                } else if !self.is_up(to) {
                    Some(DropReason::ReceiverDown)
                } else {
                    None
                };
                if let Some(reason) = reason {
                    if let (DropReason::ReceiverDown, NodeId::Broker(to)) = (reason, to) {
                        self.connection_refused(from, to, &msg);
                    }
                    return Some(StepEvent::Dropped { id, from, to, msg: msg.kind(), reason });
                }
                self.deliver(from, to, &msg);
                Some(StepEvent::Deliver { id, from, to, sent_at, msg: Rc::unwrap_or_clone(msg) })
            }
            Event::Timer(timer) => self.fire(&timer).then_some(StepEvent::Timer { timer }),
        }
    }

    /// A crashed process's OS resets its connections, so a sender learns at once that its request
    /// failed (a cut link, by contrast, stays silent until a timeout).
    fn connection_refused(&mut self, from: NodeId, to: BrokerId, msg: &Msg) {
        match (from, msg) {
            (NodeId::Producer(p), msg) => self.producer_refused(p, to, msg),
            (NodeId::Consumer(c), msg) => self.consumer_connection_failed(c, to, msg),
            (NodeId::Broker(b), Msg::Fetch { id, tp, .. }) => {
                let pidx = self.pidx(*tp);
                self.follower_connection_failed(b, pidx, *id);
            }
            _ => {}
        }
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, msg: &Msg) {
        match to {
            NodeId::Broker(b) => self.broker_receive(b, from, msg),
            NodeId::Controller => self.controller_receive(from, msg),
            NodeId::Producer(p) => self.producer_receive(p, msg),
            NodeId::Consumer(c) => self.consumer_receive(c, msg),
        }
    }

    /// Handles a timer; false means it was stale (superseded) and is not a step.
    fn fire(&mut self, timer: &Timer) -> bool {
        match *timer {
            Timer::Action { index } => {
                self.run_action(index);
                true
            }
            Timer::ProduceTick { index, n } => {
                self.produce_one(index, n);
                true
            }
            Timer::Heartbeat { broker, incarnation } => self.broker_heartbeat(broker, incarnation),
            Timer::ShutdownHeartbeat { broker, incarnation, seq } => self.broker_shutdown_heartbeat(broker, incarnation, seq),
            Timer::SessionCheck { broker } => self.controller_session_check(broker),
            Timer::FetchWait { broker, incarnation, pidx, fetch } => {
                self.leader_fetch_wait_expired(broker, incarnation, pidx, fetch)
            }
            Timer::FetchBackoff { broker, incarnation, pidx } => self.follower_backoff_done(broker, incarnation, pidx),
            Timer::FetchWatchdog { broker, incarnation, pidx } => self.follower_watchdog(broker, incarnation, pidx),
            Timer::IsrCheck { broker, incarnation } => self.leader_isr_check(broker, incarnation),
            Timer::RetentionCheck { broker, incarnation } => self.broker_retention(broker, incarnation),
            Timer::ProducerDeadline { producer } => self.producer_deadline(producer),
            Timer::ProducerWake { producer } => self.producer_wake(producer),
            Timer::ProducerConnectTimeout { producer, broker, attempt } => self.producer_connect_timeout(producer, broker, attempt),
            Timer::ConsumerTick { consumer, incarnation } => self.consumer_tick(consumer, incarnation),
            Timer::ConsumerProcessed { consumer, incarnation } => self.consumer_processed(consumer, incarnation),
            Timer::ConsumerPoll { consumer, incarnation } => self.consumer_poll_timer(consumer, incarnation),
            Timer::ConsumerFetchWait { broker, incarnation, pidx, fetch } => {
                self.leader_consumer_fetch_expired(broker, incarnation, pidx, fetch)
            }
            Timer::GroupJoinDeadline { broker, incarnation, group, round } => {
                self.coordinator_join_deadline(broker, incarnation, group, round)
            }
            Timer::MemberSessionCheck { broker, incarnation, group, ref member_id } => {
                let member_id = member_id.clone();
                self.coordinator_session_check(broker, incarnation, group, &member_id)
            }
        }
    }

    fn run_action(&mut self, index: usize) {
        let action = self.timeline[index].action.clone();
        match action {
            Action::Produce(_) => self.produce_one(index, 0),
            Action::Crash(b) => self.crash_broker(b),
            Action::ControlledShutdown(b) => self.begin_controlled_shutdown(b),
            Action::Restart(b) => {
                if !self.broker(b).up {
                    self.emit(Effect::BrokerRestarted { broker: b });
                    self.start_broker(b);
                }
            }
            Action::Cut { from, to, both } => {
                self.net.cut.insert((from, to));
                if both {
                    self.net.cut.insert((to, from));
                }
                self.emit(Effect::LinkCut { from, to, both });
            }
            Action::Heal { from, to, both } => {
                self.net.cut.remove(&(from, to));
                if both {
                    self.net.cut.remove(&(to, from));
                }
                self.emit(Effect::LinkHealed { from, to, both });
            }
            Action::SetLink { from, to, both, params } => {
                self.net.overrides.insert((from, to), params);
                if both {
                    self.net.overrides.insert((to, from), params);
                }
                self.emit(Effect::LinkChanged {
                    from,
                    to,
                    latency_ms: params.latency_ms,
                    jitter_ms: params.jitter_ms,
                    loss: params.loss,
                });
            }
            Action::Say(text) => self.emit(Effect::Say { text }),
            Action::Pause { question, answer, choices, correct } => self.emit(Effect::Pause { question, answer, choices, correct }),
            Action::StartConsumer(c) => self.consumer_start(c),
            Action::AddConsumer { like, name } => self.consumer_add(like, name),
            Action::CrashConsumer(c) => self.consumer_crash(c),
            Action::CloseConsumer(c) => self.consumer_close(c),
            Action::StallConsumer { consumer, ms } => self.consumer_stall(consumer, ms),
        }
    }

    fn produce_one(&mut self, index: usize, n: u32) {
        let Action::Produce(p) = &self.timeline[index].action else { return };
        // Records due at the same virtual time go out in one step, as one send() loop would.
        let start = self.timeline[index].at;
        let (producer, topic, partition) = (p.producer, p.topic, p.partition);
        let mut due = Vec::new();
        let mut next = n;
        while next < p.count && start + p.offset_ms(next) <= self.now {
            due.push((p.key.as_deref().map(|k| p.fill(k, next)), p.fill(&p.value, next)));
            next += 1;
        }
        let later = (next < p.count).then(|| start + p.offset_ms(next));
        for (key, value) in due {
            self.producer_send(producer, topic, partition, key, value);
        }
        self.producer_drain(producer);
        if let Some(at) = later {
            self.schedule_timer(at, Timer::ProduceTick { index, n: next });
        }
    }

    fn random_index(&mut self, len: usize) -> usize {
        self.rng.random_range(0..len)
    }

    fn next_request_id(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }
}

/// Creates the `__consumer_offsets` partitions that hold the scenario's groups, and the groups.
///
/// Simplification: Kafka creates all `offsets.topic.num.partitions` partitions; the simulation
/// models only the ones a group maps to (with their real numbers and replica placement), because
/// the others hold nothing and would only add background replication.
fn offsets_topic(setup: &Setup, topics: &mut Vec<Topic>, tps: &mut Vec<Tp>, assignment: &mut Vec<Vec<BrokerId>>) -> Vec<GroupInfo> {
    let mut names: Vec<(String, assignor::Strategy)> = Vec::new();
    for c in &setup.consumers {
        if !names.iter().any(|(n, _)| *n == c.config.group_id) {
            names.push((c.config.group_id.clone(), c.config.strategy));
        }
    }
    if names.is_empty() {
        return Vec::new();
    }
    let cfg = &setup.broker_config;
    let total = cfg.offsets_topic_num_partitions.max(1);
    let rf = cfg.offsets_topic_replication_factor.clamp(1, setup.brokers);
    let numbers: VecSet<u32> = names.iter().map(|(n, _)| coordinator::offsets_partition_for(n, total)).collect();
    let numbers: Vec<u32> = numbers.into_iter().collect();
    let placement = default_assignment(total, rf, setup.brokers);
    let topic = topics.len() as u32;
    let base = tps.len() as u32;
    let config = TopicConfig { retention_ms: Some(-1), retention_bytes: Some(-1), ..TopicConfig::default() };
    topics.push(Topic {
        name: OFFSETS_TOPIC.to_string(),
        base,
        partitions: numbers.len() as u32,
        config: config.resolve(cfg),
        internal: true,
        partition_ids: Some(numbers.clone()),
    });
    for (i, &n) in numbers.iter().enumerate() {
        tps.push(Tp { topic, partition: i as u32 });
        assignment.push(placement[n as usize].clone());
    }
    names
        .into_iter()
        .map(|(name, strategy)| {
            let offsets_partition = coordinator::offsets_partition_for(&name, total);
            let i = numbers.iter().position(|&n| n == offsets_partition).expect("listed") as u32;
            GroupInfo { name, strategy, offsets_partition, pidx: base + i }
        })
        .collect()
}

#[cfg(all(test, target_pointer_width = "64"))]
mod estimate_tests {
    /// The clone estimate's sizes are a 64-bit build's, on every platform: they must follow the
    /// types when these change.
    #[test]
    fn estimate_sizes_are_those_of_a_64_bit_build() {
        assert_eq!(std::mem::size_of::<super::Scheduled>(), super::SCHEDULED_BYTES);
        assert_eq!(std::mem::size_of::<super::broker::Replica>(), super::REPLICA_BYTES);
    }
}

#[cfg(test)]
mod fill_tests {
    use super::ProduceAction;

    fn action(literal: bool) -> ProduceAction {
        ProduceAction { producer: 0, topic: 0, partition: None, key: None, value: String::new(), count: 1, rate: None, literal }
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
