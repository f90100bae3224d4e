//! The pure, deterministic simulation core.
//!
//! No wall clock, no threads, no OS randomness: time is virtual milliseconds and all randomness
//! comes from one ChaCha8 generator seeded by the scenario. Every map iterates in a fixed order.
//! One call to [`Sim::step`] handles exactly one event (a message arriving or a timer firing) and
//! returns a [`Step`] describing what happened and why.
//!
//! The layers, from the bottom: `cluster` (brokers, the controller, logs), `group` (the group
//! coordinator and the assignors), `client` (producer and consumer); the capabilities to come
//! (`txn`, `streams`, `connect`, `registry`, external systems) get folders of their own beside
//! them. Each may use the layers below it and the foundation modules here (`types`, `config`,
//! `topic`, `map`, `shared`, `ledger`, `murmur2`, `msg`, `timer`, `narrate`, `ctx`, `net`), never
//! a layer above nor this root; `tests/layers.rs` checks it. Each defines the effects it produces
//! and their narration in its `effect.rs`, and its handlers are methods of its own state taking a
//! context ([`ctx::Ctx`]): the clock, request ids, the RNG for a client that draws, and an outbox
//! for messages, timers and effects.
//!
//! The root (this module, `setup`, `step`, `describe`, `view`, `invariants`, and the glue that
//! joins two layers: `broker_glue` for a broker's lifecycle and dispatch, `produce_glue` for the
//! produce path and what a moved high watermark sets off, `coordinator_glue` for the group
//! coordinator's appends and the ledger) runs the event loop, owns the clock, the queue, the RNG,
//! the network ([`ctx::Io`]) and the timeline, runs each handler with a context and drains its
//! outbox in order, and gathers the layers' effects into [`Effect`].

pub mod app;
pub mod avro;
mod broker_glue;
pub mod client;
pub mod cluster;
pub mod config;
mod coordinator_glue;
pub mod ctx;
pub mod describe;
pub mod group;
pub mod invariants;
pub mod ledger;
pub mod map;
pub mod msg;
pub mod murmur2;
pub mod narrate;
pub mod net;
pub mod pipeline_glue;
mod produce_glue;
pub mod registry;
pub mod registry_glue;
pub mod serdes;
pub mod setup;
pub mod shared;
pub mod size;
pub mod step;
pub mod timer;
pub mod topic;
pub mod txn;
mod txn_glue;
mod txn_offsets_glue;
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
pub use client::effect::{CommitKind, ConsumerEffect, Partitioning, ProducerEffect, Revocation};
pub use cluster::effect::{ClusterEffect, Election, IsrCause};
pub use consumer::{AppBehaviour, AppCall, CommitPolicy, Consumer, ConsumerSpec};
pub use controller::{Controller, PartitionState};
pub use coordinator::GroupInfo;
pub use group::effect::{GroupEffect, RebalanceReason, RemoveReason};
pub use msg::Msg;
pub use net::{InFlight, NetEffect};
pub use producer::{Producer, ProducerSpec, TxnCall, TxnClientState};
pub use setup::{default_assignment, Action, ProduceAction, ScenarioEffect, Setup, TimedAction, TopicSpec};
pub use step::{Effect, Step, StepEvent};
pub use timer::Timer;
pub use topic::Topic;
pub use types::{BrokerId, KafkaError, NodeId, RecordId, Tp};

use client::ClientEnv;
use config::BrokerConfig;
use ctx::{Ctx, Io, Out};
use ledger::Ledger;
use msg::DropReason;
use net::{Fate, Network};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use setup::offsets_topic;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::rc::Rc;

/// The name of the coordinator's topic.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// The name of the transaction coordinator's topic.
pub const TRANSACTION_TOPIC: &str = "__transaction_state";

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
const REPLICA_BYTES: usize = 304;

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


/// The simulation.
#[derive(Clone, Debug)]
pub struct Sim {
    /// The clock, the id counters, the network and the RNG, which handlers use through their
    /// context.
    io: Io,
    seq: u64,
    steps: u64,
    queue: BinaryHeap<Scheduled>,
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
    /// The consumer groups each broker coordinates, by broker index (`id - 1`). They live in the
    /// coordinator's memory, are lost when it stops and are rebuilt from `__consumer_offsets` by
    /// the next one; the group layer owns them, so they are kept here rather than in [`Broker`].
    group_states: Vec<coordinator::Coordinator>,
    /// The scenario's transactional ids and their `__transaction_state` partitions.
    pub txn_ids: Vec<txn::TxnId>,
    /// The transactions each broker coordinates, by broker index, in its memory (like
    /// `group_states`).
    txn_states: Vec<txn::TxnCoordinator>,
    /// The last producer id given out (Kafka's controller hands them out in blocks).
    next_producer_id: u32,
    /// Transactional produce requests held by leaders while the coordinator adds their partition.
    verifying: Vec<txn_glue::Verifying>,
    /// The consume-transform-produce applications.
    pub pipelines: Vec<app::pipeline::Pipeline>,
    /// The schema registry and the clients' serializers.
    pub schemas: registry::Schemas,
    timeline: Vec<TimedAction>,
    /// The replicas of each partition the timeline creates later, by global index (empty for
    /// one that exists).
    planned: Vec<Vec<BrokerId>>,
}

impl Sim {
    /// Builds the cluster at time 0: topics created, leaders elected, followers about to fetch.
    pub fn new(setup: Setup) -> Sim {
        let mut topics = Vec::new();
        let mut tps = Vec::new();
        let mut assignment = Vec::new();
        let mut planned = Vec::new();
        for (t, spec) in setup.topics.iter().enumerate() {
            topics.push(Topic {
                name: spec.name.clone(),
                base: tps.len() as u32,
                partitions: spec.initial_partitions,
                capacity: spec.assignment.len() as u32,
                config: spec.config.resolve(&setup.broker_config),
                internal: false,
                partition_ids: None,
            });
            for (p, replicas) in spec.assignment.iter().enumerate() {
                tps.push(Tp { topic: t as u32, partition: p as u32 });
                // A partition the timeline creates later has no replicas until then.
                let exists = (p as u32) < spec.initial_partitions;
                assignment.push(if exists { replicas.clone() } else { Vec::new() });
                planned.push(if exists { Vec::new() } else { replicas.clone() });
            }
        }
        let groups = offsets_topic(&setup, &mut topics, &mut tps, &mut assignment);
        let txn_ids = setup::transaction_topic(&setup, &mut topics, &mut tps, &mut assignment);
        planned.resize(tps.len(), Vec::new());
        let controller = Controller::new(setup.brokers, &assignment);
        // The replicas of a partition start from one log, so their copies of the same records
        // share one buffer: the followers' appends only widen their view of what the leader wrote.
        let logs: Vec<log::ReplicaLog> = assignment.iter().map(|_| log::ReplicaLog::default()).collect();
        let brokers = (1..=setup.brokers).map(|id| Broker::new(id, &assignment, &logs)).collect();
        let producers = setup
            .producers
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let txn = spec.config.transactional_id.as_ref().and_then(|id| txn_ids.iter().position(|t| &t.name == id)).map(|t| t as u32);
                Producer::new(i as u32, spec, txn, &topics, &controller)
            })
            .collect();
        let consumers = setup
            .consumers
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let g = groups.iter().position(|g| g.name == spec.config.group_id).expect("every group.id has a group");
                Consumer::new(i as u32, spec, g as u32, &topics)
            })
            .collect();
        let mut net = Network { default: setup.network, ..Network::default() };
        for (a, b, params) in &setup.links {
            net.overrides.insert((*a, *b), *params);
            net.overrides.insert((*b, *a), *params);
        }
        let mut sim = Sim {
            io: Io::new(net, ChaCha8Rng::seed_from_u64(setup.seed)),
            seq: 0,
            steps: 0,
            queue: BinaryHeap::new(),
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
            group_states: (0..setup.brokers).map(|_| coordinator::Coordinator::default()).collect(),
            txn_ids,
            txn_states: (0..setup.brokers).map(|_| txn::TxnCoordinator::default()).collect(),
            next_producer_id: 0,
            verifying: Vec::new(),
            pipelines: setup.pipelines.into_iter().map(app::pipeline::Pipeline::new).collect(),
            schemas: setup.schemas,
            timeline: setup.timeline,
            planned,
        };
        // The schemas a lesson registers before it starts, in file order (their ids count from 1).
        let schemas = &mut sim.schemas;
        for spec in schemas.specs.iter().filter(|s| s.registered) {
            schemas.registry.register(&spec.subject, &spec.json, &spec.schema).expect("the scenario reader checked the schemas registered at the start");
        }
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
        // The producers start with the cluster's metadata, as if fetched at time 0, and an
        // idempotent one asks for its producer id at once, as the Java client's Sender does when
        // the producer is made.
        for p in 0..sim.producers.len() as u32 {
            sim.with_producer(p, |prod, cx, _| {
                let at = prod.config.metadata_max_age_ms;
                prod.schedule_refresh(cx, at);
                prod.start_sender(cx);
            });
        }
        for (c, spec) in setup.consumers.iter().enumerate() {
            if spec.autostart {
                sim.with_consumer(c as u32, |cons, cx, env| cons.start(cx, env));
            }
        }
        sim.effects.clear();
        sim
    }

    /// Current virtual time in ms.
    pub fn now(&self) -> u64 {
        self.io.now
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
        let at = at.max(self.io.now);
        self.timeline.push(TimedAction { at, action });
        let index = self.timeline.len() - 1;
        self.schedule(at, Event::Timer(Timer::Action { index }));
    }

    /// Runs exactly one event and describes it. `None` when nothing is left to happen.
    pub fn step(&mut self) -> Option<Step> {
        self.step_until(u64::MAX)
    }

    /// Runs exactly one event due at or before `limit` and describes it; `None` when none is.
    /// Events that turn out to change nothing (a stale timer) are skipped, but never past
    /// `limit`.
    pub fn step_until(&mut self, limit: u64) -> Option<Step> {
        loop {
            if self.queue.peek()?.time > limit {
                return None;
            }
            let next = self.queue.pop()?;
            self.io.now = next.time;
            self.effects.clear();
            if let Some(event) = self.handle(next.event) {
                self.pipelines_react();
                let step = Step {
                    index: self.steps,
                    time: self.io.now,
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
            match self.step_until(until) {
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
        (partition < self.topics[t].capacity).then_some(Tp { topic: t as u32, partition })
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

    fn emit(&mut self, effect: impl Into<Effect>) {
        let effect = effect.into();
        if let Effect::Consumer(e) = &effect {
            self.note_consumer_effect(e);
        }
        self.effects.push(effect);
    }

    /// Keeps what expectations ask of a consumer's application after the fact: the rebalance
    /// listener calls it saw and the exception that stopped it.
    fn note_consumer_effect(&mut self, effect: &ConsumerEffect) {
        let now = self.io.now;
        match effect {
            ConsumerEffect::PartitionsRevoked { consumer, partitions, how } => {
                let method = if *how == Revocation::Lost { ledger::ListenerMethod::Lost } else { ledger::ListenerMethod::Revoked };
                self.ledger.record_listener_call(now, *consumer, method, partitions);
            }
            ConsumerEffect::PartitionsAssigned { consumer, partitions, .. } => {
                self.ledger.record_listener_call(now, *consumer, ledger::ListenerMethod::Assigned, partitions);
            }
            ConsumerEffect::ConsumerFailed { consumer, error, .. } => self.ledger.record_stopped(*consumer, *error),
            ConsumerEffect::RecordDeserializationFailed { consumer, skipped: false, .. } => self.ledger.record_stopped(*consumer, KafkaError::RecordDeserialization),
            _ => {}
        }
    }

    /// Does what a handler asked through its context, in the order it asked, so that the messages
    /// draw from the RNG and the queue in that order and their `Sent` effects fall among the
    /// handler's own effects where they were sent.
    fn drain<E: Into<Effect>>(&mut self, out: Vec<Out<E>>) {
        for request in out {
            match request {
                Out::Send { routed: Some((id, fate)), from, to, msg } => self.enqueue(id, fate, from, to, msg),
                Out::Send { routed: None, from, to, msg } => self.send(from, to, msg),
                Out::Timer { at, timer } => self.schedule_timer(at, timer),
                Out::Effect(effect) => self.emit(effect),
            }
        }
    }

    /// Runs a controller handler with a context at the current time and the layout it reads,
    /// then does what it asked. Deferring is exact here: the controller draws nothing from the
    /// RNG and reads nothing that sending changes.
    fn with_controller<R>(&mut self, handler: impl FnOnce(&mut Controller, &mut Ctx<'_, ClusterEffect>, &cluster::Layout) -> R) -> R {
        let mut out = Vec::new();
        let layout = cluster::Layout { tps: &self.tps, topics: &self.topics, config: &self.broker_config };
        let result = handler(&mut self.controller, &mut Ctx::new(&mut self.io, &mut out), &layout);
        self.drain(out);
        result
    }

    /// Runs a handler of broker `b` as [`Sim::with_controller`] runs the controller's. The
    /// handlers given a context so far (replication's, the high watermark's, the consumers'
    /// fetches and the appends) draw nothing from the RNG either.
    fn with_broker<R>(&mut self, b: BrokerId, handler: impl FnOnce(&mut Broker, &mut Ctx<'_, ClusterEffect>, &cluster::Layout) -> R) -> R {
        self.with_broker_ledger(b, |broker, cx, layout, _| handler(broker, cx, layout))
    }

    /// [`Sim::with_broker`] for a handler that also writes to the ledger (an append records
    /// where each record went).
    fn with_broker_ledger<R>(
        &mut self,
        b: BrokerId,
        handler: impl FnOnce(&mut Broker, &mut Ctx<'_, ClusterEffect>, &cluster::Layout, &mut Ledger) -> R,
    ) -> R {
        let mut out = Vec::new();
        let layout = cluster::Layout { tps: &self.tps, topics: &self.topics, config: &self.broker_config };
        let broker = &mut self.brokers[(b - 1) as usize];
        let result = handler(broker, &mut Ctx::new(&mut self.io, &mut out), &layout, &mut self.ledger);
        self.drain(out);
        result
    }

    /// Runs a handler of producer `p` with a context that routes messages as they are sent (the
    /// producer draws its partitions and backoffs from the RNG between its sends), the layout and
    /// the ledger, then does what it asked.
    fn with_producer<R>(&mut self, p: u32, handler: impl FnOnce(&mut Producer, &mut Ctx<'_, ProducerEffect>, &mut ClientEnv<'_>) -> R) -> R {
        self.with_client(true, |producers, _| &mut producers[p as usize], handler)
    }

    /// Runs a handler of consumer `c` as [`Sim::with_producer`] runs a producer's: the consumer
    /// draws its reconnect backoffs from the RNG between its sends.
    pub(crate) fn with_consumer<R>(&mut self, c: u32, handler: impl FnOnce(&mut Consumer, &mut Ctx<'_, ConsumerEffect>, &mut ClientEnv<'_>) -> R) -> R {
        self.with_client(true, |_, consumers| &mut consumers[c as usize], handler)
    }

    /// Runs a client's handler: `pick` chooses the client, `drawing` the kind of context.
    fn with_client<C, E: Into<Effect>, R>(
        &mut self,
        drawing: bool,
        pick: impl for<'s> FnOnce(&'s mut [Producer], &'s mut [Consumer]) -> &'s mut C,
        handler: impl FnOnce(&mut C, &mut Ctx<'_, E>, &mut ClientEnv<'_>) -> R,
    ) -> R {
        let mut out = Vec::new();
        let result = {
            let Sim { io, controller, brokers, tps, topics, groups, ledger, producers, consumers, schemas, .. } = self;
            let log_start = |pidx: u32| leader_log_start(controller, brokers, pidx);
            let reads = schemas.reads();
            let mut check = |c: u32, text: &str, payload: Option<&serdes::Payload>| schemas.check(c, text, payload);
            let deserialize: Option<&mut client::Deserialize<'_>> = if reads { Some(&mut check) } else { None };
            let mut env = ClientEnv { tps, topics, groups, ledger, log_start: &log_start, deserialize };
            let mut cx = if drawing { Ctx::drawing(io, &mut out) } else { Ctx::new(io, &mut out) };
            handler(pick(producers, consumers), &mut cx, &mut env)
        };
        self.drain(out);
        result
    }

    /// Adds a consumer with `like`'s group, subscription and settings, and starts it. It joins as a
    /// dynamic member: two members with one `group.instance.id` would fence each other.
    pub(crate) fn add_consumer(&mut self, like: u32, name: String) {
        let model = &self.consumers[like as usize];
        let mut config = model.config.clone();
        config.group_instance_id = None;
        // A scripted application only does what the timeline tells it, and the timeline names no
        // added consumer: the copy runs the poll loop, committing as the model's settings allow.
        let mut app = model.app_behaviour.clone();
        if app.scripted {
            app.scripted = false;
            app.commit = if config.enable_auto_commit { CommitPolicy::Auto } else { CommitPolicy::AfterProcessing };
        }
        let spec = ConsumerSpec { name, config, topics: model.topics.clone(), app, autostart: true };
        let index = self.consumers.len() as u32;
        let consumer = Consumer::new(index, &spec, model.group, &self.topics);
        self.consumers.push(consumer);
        // The copy reads with the model's deserializer and schema, from an empty cache.
        if let Some(reader) = self.schemas.readers.get(like as usize) {
            let copy = registry::clients::Reader::new(reader.deserializer, reader.schema, reader.skip_errors);
            self.schemas.readers.resize(index as usize, registry::clients::Reader::default());
            self.schemas.readers.push(copy);
        }
        self.emit(ConsumerEffect::ConsumerAdded { consumer: index, like });
        self.with_consumer(index, |cons, cx, env| cons.start(cx, env));
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

    fn handle(&mut self, event: Event) -> Option<StepEvent> {
        match event {
            Event::Deliver { id, from, to, from_incarnation, sent_at, msg } => {
                let reason = if !self.is_up(from) || self.incarnation(from) != from_incarnation {
                    Some(DropReason::SenderCrashed)
                } else if self.io.net.cut.contains(&(from, to)) {
                    self.io.net.break_connection(from, to, id, &msg);
                    Some(DropReason::LinkCut)
                } else if self.io.net.broken_before(from, to, id) {
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
            (NodeId::Producer(p), msg) => self.with_producer(p, |prod, cx, env| prod.refused(cx, env, to, msg)),
            (NodeId::Consumer(c), msg) => self.with_consumer(c, |cons, cx, env| cons.connection_failed(cx, env, to, msg)),
            (NodeId::Broker(b), Msg::Fetch { id, tp, .. }) => {
                let pidx = self.pidx(*tp);
                self.with_broker(b, |broker, cx, layout| broker.follower_connection_failed(cx, layout, pidx, *id));
            }
            _ => {}
        }
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, msg: &Msg) {
        match to {
            NodeId::Broker(b) => self.broker_receive(b, from, msg),
            NodeId::Controller => match *msg {
                Msg::FindCoordinator { group } => {
                    let pidx = self.groups[group as usize].pidx;
                    self.with_controller(|controller, cx, _| controller.find_coordinator(cx, from, group, pidx));
                }
                Msg::FindTxnCoordinator { txn } => {
                    let pidx = self.txn_ids[txn as usize].pidx;
                    self.with_controller(|controller, cx, _| controller.find_txn_coordinator(cx, from, txn, pidx));
                }
                _ => self.with_controller(|controller, cx, layout| controller.receive(cx, layout, from, msg)),
            },
            NodeId::Producer(p) => self.with_producer(p, |prod, cx, env| prod.receive(cx, env, msg)),
            NodeId::Consumer(c) => self.with_consumer(c, |cons, cx, env| {
                if let NodeId::Broker(b) = from {
                    cons.heard_from(b);
                }
                cons.receive(cx, env, msg)
            }),
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
            Timer::SessionCheck { broker } => self.with_controller(|controller, cx, layout| controller.session_check(cx, layout, broker)),
            Timer::ElectUnclean => self.with_controller(|controller, cx, layout| controller.elect_unclean(cx, layout)),
            Timer::FetchWait { broker, incarnation, pidx, fetch } => {
                self.with_broker(broker, |b, cx, layout| b.leader_fetch_wait_expired(cx, layout, incarnation, pidx, fetch))
            }
            Timer::FetchBackoff { broker, incarnation, pidx } => {
                self.with_broker(broker, |b, cx, layout| b.follower_backoff_done(cx, layout, incarnation, pidx))
            }
            Timer::FetchWatchdog { broker, incarnation, pidx } => {
                self.with_broker(broker, |b, cx, layout| b.follower_watchdog(cx, layout, incarnation, pidx))
            }
            Timer::IsrCheck { broker, incarnation } => self.with_broker(broker, |b, cx, layout| b.leader_isr_check(cx, layout, incarnation)),
            Timer::RetentionCheck { broker, incarnation } => self.broker_retention(broker, incarnation),
            Timer::ProducerDeadline { producer } => self.with_producer(producer, |prod, cx, env| prod.deadline(cx, env)),
            Timer::ProducerWake { producer } => self.with_producer(producer, |prod, cx, env| prod.wake(cx, env)),
            Timer::ProducerMetadataRefresh { producer } => self.with_producer(producer, |prod, cx, _| prod.refresh_due(cx)),
            Timer::ProducerConnectTimeout { producer, broker, attempt } => {
                self.with_producer(producer, |prod, cx, env| prod.connect_timeout(cx, env, broker, attempt))
            }
            Timer::ConsumerTick { consumer, incarnation } => self.with_consumer(consumer, |cons, cx, env| cons.tick(cx, env, incarnation)),
            Timer::ConsumerProcessed { consumer, incarnation } => {
                self.with_consumer(consumer, |cons, cx, env| cons.processed(cx, env, incarnation))
            }
            Timer::ConsumerReconnect { consumer, incarnation, broker } => {
                self.with_consumer(consumer, |cons, cx, env| cons.reconnect_due(cx, env, incarnation, broker))
            }
            Timer::ConsumerPoll { consumer, incarnation } => self.with_consumer(consumer, |cons, cx, env| cons.poll_timer(cx, env, incarnation)),
            Timer::ConsumerPollTimeout { consumer, incarnation } => self.with_consumer(consumer, |cons, cx, env| cons.poll_timeout(cx, env, incarnation)),
            Timer::ConsumerOffsetFetchRetry { consumer, incarnation } => {
                self.with_consumer(consumer, |cons, cx, env| cons.offset_fetch_retry(cx, env, incarnation))
            }
            Timer::ConsumerCommitRetry { consumer, incarnation } => {
                self.with_consumer(consumer, |cons, cx, env| cons.commit_retry(cx, env, incarnation))
            }
            Timer::ConsumerFetchWait { broker, incarnation, pidx, fetch } => {
                self.with_broker(broker, |b, cx, layout| b.leader_consumer_fetch_expired(cx, layout, incarnation, pidx, fetch))
            }
            Timer::GroupJoinDeadline { broker, incarnation, group, round } => {
                self.timer_is_live(broker, incarnation)
                    && self.with_coordinator(broker, |co, cx, layout, _| co.join_deadline(cx, layout, group, round))
            }
            Timer::CommitTimeout { broker, incarnation, group, req } => {
                self.timer_is_live(broker, incarnation) && self.with_coordinator(broker, |co, cx, layout, _| co.commit_timeout(cx, layout, group, req))
            }
            Timer::OffsetFetchTimeout { broker, incarnation, group, req } => {
                self.timer_is_live(broker, incarnation) && self.with_coordinator(broker, |co, cx, layout, _| co.fetch_timeout(cx, layout, group, req))
            }
            Timer::TxnSweep { broker, incarnation } => {
                self.timer_is_live(broker, incarnation) && self.with_txn_coordinator(broker, |co, cx, layout, _| co.sweep(cx, layout))
            }
            Timer::TxnMarkerRetry { broker, incarnation, txn } => {
                self.timer_is_live(broker, incarnation) && self.with_txn_coordinator(broker, |co, cx, layout, _| co.retry_markers(cx, layout, txn))
            }
            Timer::TxnMarkerTimeout { broker, incarnation, txn, req } => {
                self.timer_is_live(broker, incarnation) && self.with_txn_coordinator(broker, |co, cx, layout, _| co.marker_timeout(cx, layout, txn, req))
            }
            Timer::ProducerTxnRetry { producer } => self.with_producer(producer, |prod, cx, env| prod.txn_retry(cx, env)),
            Timer::MemberSessionCheck { broker, incarnation, group, ref member_id } => {
                self.timer_is_live(broker, incarnation)
                    && self.with_coordinator(broker, |co, cx, layout, ledger| co.session_check(cx, layout, ledger, group, member_id))
            }
        }
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

    /// Puts a message on the link from → to. Loss and jitter are drawn from the simulation's RNG.
    fn send(&mut self, from: NodeId, to: NodeId, msg: Msg) {
        let (id, fate) = self.io.route(from, to, &msg);
        self.enqueue(id, fate, from, to, msg);
    }

    /// Reports a message sent and, unless the network dropped it, schedules its arrival.
    fn enqueue(&mut self, id: u64, fate: Fate, from: NodeId, to: NodeId, msg: Msg) {
        let kind = msg.kind();
        match fate {
            Fate::Dropped(reason) => self.emit(NetEffect::Sent { id, from, to, msg: kind, arrives_at: None, dropped: Some(reason) }),
            Fate::Arrives(arrives) => {
                self.emit(NetEffect::Sent { id, from, to, msg: kind, arrives_at: Some(arrives), dropped: None });
                let from_incarnation = self.incarnation(from);
                self.schedule(arrives, Event::Deliver { id, from, to, from_incarnation, sent_at: self.io.now, msg: Rc::new(msg) });
            }
        }
    }
}

/// The log start offset of a partition's current leader's replica.
fn leader_log_start(controller: &Controller, brokers: &[Broker], pidx: u32) -> Option<u64> {
    let leader = controller.parts[pidx as usize].leader?;
    brokers[(leader - 1) as usize].replicas[pidx as usize].as_ref().map(|r| r.log.log_start())
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