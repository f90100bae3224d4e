//! What a scenario will cost to run, estimated from the file before anything runs.
//!
//! A lesson file or a share link comes from anyone, and every limit of the format can be within
//! bounds while their product is not (a million records of 20,000 bytes each, or 4,096 partitions
//! replicated 64 times for a day of virtual time). The estimate adds up where the steps and the
//! memory of a run come from, so that a file beyond a budget is refused with the setting that
//! drives its cost, before a tab freezes or a process runs out of memory.
//!
//! The figures are upper estimates, calibrated on the shipped scenarios: `tests/scenarios.rs`
//! checks that each estimate is at least the steps the run really takes and not wildly more.

use crate::sim::map::VecSet;
use crate::sim::{ConsumerSpec, Setup};

/// What drives one part of the cost, so that an error can point at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// The records the timeline and the challenge's solution produce.
    Records,
    /// Followers fetching from leaders for the whole run: partitions, replication factors,
    /// `replica.fetch.wait.max.ms` and `duration_ms`.
    FollowerFetches,
    /// Consumers polling for the whole run: `fetch.max.wait.ms`, `heartbeat.interval.ms`.
    ConsumerFetches,
    /// Broker heartbeats to the controller: `broker.heartbeat.interval.ms`.
    BrokerHeartbeats,
    /// Crashes, shutdowns and cut links, after which clients retry until the cluster recovers.
    Faults,
}

/// One part of the estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// What drives it.
    pub driver: Driver,
    /// Steps it adds.
    pub steps: u64,
    /// Bytes of memory it adds to one simulation's state.
    pub bytes: u64,
    /// What it is, in words, for the error.
    pub what: String,
}

/// The estimate of a whole run.
#[derive(Clone, Debug, PartialEq)]
pub struct Cost {
    /// Its parts, largest first by steps.
    pub parts: Vec<Part>,
}

impl Cost {
    /// Steps of the whole run.
    pub fn steps(&self) -> u64 {
        self.parts.iter().fold(0u64, |a, p| a.saturating_add(p.steps))
    }

    /// Bytes of one simulation's state at the end of the run.
    pub fn bytes(&self) -> u64 {
        self.parts.iter().fold(BASE_BYTES, |a, p| a.saturating_add(p.bytes))
    }

    /// The part with the most steps.
    pub fn most_steps(&self) -> Option<&Part> {
        self.parts.iter().max_by_key(|p| p.steps)
    }

    /// The part with the most bytes.
    pub fn most_bytes(&self) -> Option<&Part> {
        self.parts.iter().max_by_key(|p| p.bytes)
    }
}

/// What a run may cost where it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Where, in words ("natively", "in the page").
    pub place: &'static str,
    /// Most steps.
    pub steps: u64,
    /// Most bytes of one simulation's state.
    pub bytes: u64,
}

/// The command line's budget: a run must end in under a minute and 2 GB. The slowest steps are
/// those of large clusters (64 brokers, 64 partitions: about 0.6 million steps per second on the
/// project's 2-core machine), so 30 million steps take under a minute; the process holds one
/// simulation and its trace. The step limit (`limits::STEPS`) stays as the last stop.
pub const NATIVE: Budget = Budget { place: "natively", steps: 30_000_000, bytes: 1_500 << 20 };

/// The page's budget, which fits a phone's browser tab: the page plays at most its step limit, and
/// it holds about four copies of a run's state (the current one, the look-ahead, a checkpoint and
/// its snapshots), which must stay within 256 MB together.
pub const PAGE: Budget = Budget { place: "in the page", steps: 2_000_000, bytes: 64 << 20 };

/// A simulation's fixed state: brokers, controller, queues, the RNG.
const BASE_BYTES: u64 = 64 << 10;
/// State a record keeps besides its key and value: the ledger entry and its fate.
const RECORD_BYTES: u64 = 160;
/// A replica's copy of a record (`LogRecord`), once per replica, plus the fetch that carried it.
const REPLICA_RECORD_BYTES: u64 = 2 * 48;
/// Steps one record takes through the producer, the leader and the followers' fetches.
const RECORD_STEPS: u64 = 4;
/// Steps one record takes per replica that copies it, and per group that reads it.
const COPY_STEPS: u64 = 3;
/// Steps of one idle fetch cycle: the request arrives, the leader's wait expires, the response arrives.
const FETCH_CYCLE_STEPS: u64 = 3;
/// Steps of one transactional call (`initTransactions`, a commit or an abort): the lookup, the
/// request and its answer, the coordinator's replicated records, and its markers with their own
/// replication, for a few partitions. A `beginTransaction` costs a step, within this.
const TXN_CALL_STEPS: u64 = 60;
/// Steps a transactional producer's send adds per partition it may reach: the leader's
/// AddPartitionsToTxn, the coordinator's replicated record, and the retries while the previous
/// transaction completes.
const TXN_ADD_STEPS: u64 = 30;

/// The shortest a pipeline's batch takes, for the cost: a poll, the results' acknowledgements and
/// a commit are several round trips.
const PIPELINE_BATCH_MS: u64 = 50;

/// Estimates the steps and memory of running `setup` for `duration_ms`.
pub fn estimate(setup: &Setup, duration_ms: u64) -> Cost {
    let seconds = duration_ms as f64 / 1000.0;
    let latency = setup.network.latency_ms as f64 + setup.network.jitter_ms as f64 / 2.0;
    let mut parts = Vec::new();

    // Records: their bytes once (the ledger), a copy per replica, and steps per copy and per reader.
    let mut steps = 0u64;
    let mut bytes = 0u64;
    let mut records = 0u64;
    for action in &setup.timeline {
        let crate::sim::Action::Produce(p) = &action.action else { continue };
        let topic = &setup.topics[p.topic as usize];
        let replicas = topic.assignment.first().map_or(1, Vec::len) as u64;
        let groups = groups_reading(setup, p.topic);
        let n = u64::from(p.count);
        // A `{n}` template grows by the record's number: at most 7 digits.
        let size = p.key.as_ref().map_or(0, |k| k.len() as u64 + 7) + p.value.len() as u64 + 7;
        records += n;
        // The text is held once by the ledger, and half as much again by the batches and requests
        // that carry it (measured: 100,000 records of 10,000-byte values take 1.06 GB).
        bytes = bytes.saturating_add(n.saturating_mul(size * 3 / 2 + RECORD_BYTES + replicas * REPLICA_RECORD_BYTES));
        steps = steps.saturating_add(n.saturating_mul(RECORD_STEPS + COPY_STEPS * (replicas - 1 + groups)));
    }
    if records > 0 {
        parts.push(Part { driver: Driver::Records, steps, bytes, what: format!("{records} records") });
    }

    // Transactions: each call's requests, coordinator records and markers, and each
    // transactional send's partitions added to the transaction.
    let mut txn_steps = 0u64;
    for action in &setup.timeline {
        match &action.action {
            crate::sim::Action::Transaction { .. } => txn_steps = txn_steps.saturating_add(TXN_CALL_STEPS),
            crate::sim::Action::Produce(p) if setup.producers[p.producer as usize].config.transactional_id.is_some() => {
                let partitions = setup.topics[p.topic as usize].assignment.len() as u64;
                txn_steps = txn_steps.saturating_add(TXN_ADD_STEPS * partitions.min(u64::from(p.count)));
            }
            _ => {}
        }
    }
    if txn_steps > 0 {
        parts.push(Part { driver: Driver::Records, steps: txn_steps, bytes: 0, what: "transactional calls and sends".to_string() });
    }

    // Pipelines: a result per input record (its group reads each input once, shared among the
    // pipelines of the group), and per batch a commit (with its markers and, exactly-once, the
    // offsets added to the transaction). A batch takes at least a few round trips, so there are
    // at most as many as inputs and one per PIPELINE_BATCH_MS.
    let mut pipeline_steps = 0u64;
    let mut pipeline_bytes = 0u64;
    for p in &setup.pipelines {
        let consumer = &setup.consumers[p.consumer as usize];
        let sharing = setup.pipelines.iter().filter(|q| setup.consumers[q.consumer as usize].config.group_id == consumer.config.group_id).count().max(1) as u64;
        let inputs: u64 = setup
            .timeline
            .iter()
            .filter_map(|a| match &a.action {
                crate::sim::Action::Produce(pa) if consumer.topics.contains(&pa.topic) => Some(u64::from(pa.count)),
                _ => None,
            })
            .sum::<u64>()
            / sharing;
        let output = &setup.topics[p.output as usize];
        let replicas = output.assignment.first().map_or(1, Vec::len) as u64;
        let batches = inputs.min((duration_ms / PIPELINE_BATCH_MS).max(1));
        let per_batch = TXN_CALL_STEPS + TXN_ADD_STEPS * (1 + (output.assignment.len() as u64).min((inputs / batches.max(1)).max(1)));
        pipeline_steps = pipeline_steps.saturating_add(inputs.saturating_mul(RECORD_STEPS + COPY_STEPS * (replicas - 1 + groups_reading(setup, p.output))));
        pipeline_steps = pipeline_steps.saturating_add(batches.saturating_mul(per_batch));
        pipeline_bytes = pipeline_bytes.saturating_add(inputs.saturating_mul(RECORD_BYTES + replicas * REPLICA_RECORD_BYTES));
    }
    if pipeline_steps > 0 {
        parts.push(Part { driver: Driver::Records, steps: pipeline_steps, bytes: pipeline_bytes, what: format!("{} pipelines' results and batches", setup.pipelines.len()) });
    }

    // Followers fetch all the time: one cycle per `replica.fetch.wait.max.ms` plus a round trip.
    let followers: u64 = setup
        .topics
        .iter()
        .map(|t| t.assignment.iter().map(|r| r.len().saturating_sub(1) as u64).sum::<u64>())
        .sum::<u64>()
        + offsets_followers(setup)
        + transaction_state_followers(setup);
    let cycle = setup.broker_config.replica_fetch_wait_max_ms as f64 + 2.0 * latency;
    parts.push(Part {
        driver: Driver::FollowerFetches,
        steps: per_cycle(followers as f64 * FETCH_CYCLE_STEPS as f64, cycle, seconds),
        bytes: followers * 256,
        what: format!(
            "{followers} follower replicas each fetching every {} ms (replica.fetch.wait.max.ms plus a round trip) for {} s",
            cycle.round(),
            seconds.round()
        ),
    });

    // Consumers poll and heartbeat all the time.
    let mut consumer_steps = 0.0;
    for c in &setup.consumers {
        let brokers = f64::from(setup.brokers);
        let fetch_cycle = c.config.fetch_max_wait_ms as f64 + 2.0 * latency;
        consumer_steps += rate(brokers * FETCH_CYCLE_STEPS as f64, fetch_cycle);
        consumer_steps += rate(4.0, c.config.heartbeat_interval_ms as f64 + 2.0 * latency);
    }
    if !setup.consumers.is_empty() {
        parts.push(Part {
            driver: Driver::ConsumerFetches,
            steps: saturating_steps(consumer_steps * seconds),
            bytes: setup.consumers.len() as u64 * 4096,
            what: format!("{} consumers polling every fetch.max.wait.ms plus a round trip for {} s", setup.consumers.len(), seconds.round()),
        });
    }

    let heartbeat = setup.broker_config.broker_heartbeat_interval_ms as f64 + 2.0 * latency;
    parts.push(Part {
        driver: Driver::BrokerHeartbeats,
        steps: per_cycle(f64::from(setup.brokers) * 4.0, heartbeat, seconds),
        bytes: 0,
        what: format!("{} brokers heartbeating every {} ms for {} s", setup.brokers, heartbeat.round(), seconds.round()),
    });

    // After a fault, every client retries (every `retry.backoff.ms`) until the controller fences
    // the broker (`broker.session.timeout.ms`), and the brokers re-elect and re-replicate.
    let faults = setup
        .timeline
        .iter()
        .filter(|a| {
            use crate::sim::Action::*;
            matches!(a.action, Crash(_) | ControlledShutdown(_) | Restart(_) | Cut { .. } | Heal { .. } | SetLink { .. } | CrashConsumer(_) | AddConsumer { .. })
        })
        .count() as u64;
    if faults > 0 {
        // Clients retry until the broker is fenced, or at most until the run ends.
        let session = setup.broker_config.broker_session_timeout_ms.min(duration_ms);
        let consumer_retries: u64 = setup.consumers.iter().map(|c| 6 * (session / c.config.retry_backoff_ms.max(1)).max(1)).sum();
        // A producer reconnects with `reconnect.backoff.ms` growing to its maximum, 1000 ms.
        let producer_retries = setup.producers.len() as u64 * 4 * (session / 1000).max(1);
        let per_fault = consumer_retries + producer_retries + u64::from(setup.brokers) * 20;
        parts.push(Part { driver: Driver::Faults, steps: faults.saturating_mul(per_fault), bytes: 0, what: format!("{faults} faults and the retries after them") });
    }
    parts.sort_by_key(|p| std::cmp::Reverse(p.steps));
    Cost { parts }
}

/// Steps of `per_cycle` steps repeated every `cycle_ms` for `seconds`; a cycle of zero repeats
/// without end (the file is refused first, by [`zero_delay_loop`]).
fn per_cycle(per_cycle: f64, cycle_ms: f64, seconds: f64) -> u64 {
    saturating_steps(rate(per_cycle, cycle_ms) * seconds)
}

/// Steps per second of `per_cycle` steps every `cycle_ms`.
fn rate(per_cycle: f64, cycle_ms: f64) -> f64 {
    if per_cycle == 0.0 {
        0.0
    } else if cycle_ms <= 0.0 {
        f64::INFINITY
    } else {
        per_cycle * 1000.0 / cycle_ms
    }
}

fn saturating_steps(x: f64) -> u64 {
    if x.is_nan() || x >= u64::MAX as f64 {
        u64::MAX
    } else {
        x.ceil() as u64
    }
}

/// How many groups subscribe to topic `topic`.
fn groups_reading(setup: &Setup, topic: u32) -> u64 {
    distinct_groups(setup.consumers.iter().filter(|c| c.topics.contains(&topic)))
}

/// Followers of the `__consumer_offsets` partitions the scenario's groups use.
fn offsets_followers(setup: &Setup) -> u64 {
    let rf = setup.broker_config.offsets_topic_replication_factor.clamp(1, setup.brokers);
    distinct_groups(setup.consumers.iter()) * u64::from(rf - 1)
}

/// Followers of the `__transaction_state` partitions the scenario's transactional ids use.
fn transaction_state_followers(setup: &Setup) -> u64 {
    let rf = setup.broker_config.transaction_state_log_replication_factor.clamp(1, setup.brokers);
    let ids: VecSet<&str> = setup.producers.iter().filter_map(|p| p.config.transactional_id.as_deref()).collect();
    ids.iter().len() as u64 * u64::from(rf - 1)
}

/// How many different `group.id`s these consumers have.
fn distinct_groups<'a>(consumers: impl Iterator<Item = &'a ConsumerSpec>) -> u64 {
    let groups: VecSet<&str> = consumers.map(|c| c.config.group_id.as_str()).collect();
    groups.iter().len() as u64
}

/// Whether a setting makes a loop that never advances virtual time: a fetch answered at once
/// (a wait of 0 ms) over links that take no time, sent again as soon as it is answered.
pub fn zero_delay_loop(setup: &Setup) -> Option<&'static str> {
    let instant = (setup.network.latency_ms == 0 && setup.network.jitter_ms == 0)
        || setup.links.iter().any(|(_, _, l)| l.latency_ms == 0 && l.jitter_ms == 0);
    let replicated = setup.topics.iter().any(|t| t.assignment.iter().any(|r| r.len() > 1)) || offsets_followers(setup) > 0 || transaction_state_followers(setup) > 0;
    if instant && replicated && setup.broker_config.replica_fetch_wait_max_ms == 0 {
        return Some("replica.fetch.wait.max.ms");
    }
    if instant && setup.consumers.iter().any(|c| c.config.fetch_max_wait_ms == 0) {
        return Some("fetch.max.wait.ms");
    }
    None
}
