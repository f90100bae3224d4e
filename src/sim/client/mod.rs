//! The client layer, the top one: the producer (partitioning, batching, the Sender, retries,
//! idempotence, connections) and the consumer (its lifecycle in `consumer`, the poll loop and the
//! fetcher in `consumer::poll`, group membership and offset commits in `consumer::membership`),
//! after the Java clients. `effect` defines the effects both produce and narrates them.
//!
//! It may use the foundation modules of `sim`, the cluster layer's metadata (the producer starts
//! from the controller's leaders) and the group layer's assignors (the group leader runs them, as
//! the Java consumer does); it speaks to brokers and coordinators only through messages. Its
//! handlers are methods of `Producer` and `Consumer` taking a context (`Ctx`) and a
//! [`ClientEnv`]; the simulation root runs them.

pub mod consumer;
pub mod effect;
pub mod producer;

use super::group::coordinator::GroupInfo;
use super::ledger::Ledger;
use super::serdes::Payload;
use super::topic::Topic;
use super::types::Tp;

/// `reconnect.backoff.ms` and `reconnect.backoff.max.ms` (the Java client's defaults, not settable).
pub(crate) const RECONNECT_BACKOFF_MS: (u64, u64) = (50, 1_000);

/// Kafka's `ExponentialBackoff` with jitter 0.2: `initial · 2^n`, times a factor drawn in
/// [0.8, 1.2], at most `max`.
pub(crate) fn exponential_backoff(rng: &mut rand_chacha::ChaCha8Rng, (initial, max): (u64, u64), n: u32) -> u64 {
    use rand::RngExt;
    let exp = initial.saturating_mul(1u64 << n.min(20));
    let jitter: f64 = rng.random_range(0.8..=1.2);
    ((exp as f64 * jitter) as u64).min(max).max(1)
}

/// What a client's handler reads of the cluster's layout and writes to the ledger. A client knows
/// the topics as its metadata names them; the ledger is the observer's record of every record's
/// fate, which the clients keep as they act (a real client keeps no such book).
pub struct ClientEnv<'a> {
    /// Every partition by global index.
    pub tps: &'a [Tp],
    /// Topics in declaration order.
    pub topics: &'a [Topic],
    /// The consumer groups.
    pub groups: &'a [GroupInfo],
    /// The per-record ledger.
    pub ledger: &'a mut Ledger,
    /// The true log start offset of a partition's leader, for the ledger only: no client learns
    /// it this way.
    pub log_start: &'a dyn Fn(u32) -> Option<u64>,
    /// A consumer's value deserializer, when the scenario gives any consumer one that can fail
    /// (`poll()` then asks it of each record): consumer, the record's text and bytes → the value
    /// it reads when that differs from the text (another reader schema), or why it cannot.
    pub deserialize: Option<&'a mut Deserialize<'a>>,
}

/// What `poll()` asks of a consumer's deserializer: consumer, a record's text and bytes → the
/// value as read when it differs from the text, or why it cannot be read.
pub type Deserialize<'a> = dyn FnMut(u32, &str, Option<&Payload>) -> Result<Option<String>, String> + 'a;

impl ClientEnv<'_> {
    /// The topic-partition with global index `pidx`.
    pub fn tp(&self, pidx: u32) -> Tp {
        self.tps[pidx as usize]
    }

    /// Global index of a topic-partition.
    pub fn pidx(&self, tp: Tp) -> u32 {
        self.topics[tp.topic as usize].base + tp.partition
    }

    /// The ledger's account of a reset past records that retention deleted before the group read
    /// them: they are gone from every log, so the group view could not count them as lost. The
    /// ledger reads the leader's true log start here; the client never learns it.
    pub fn note_deleted_unread(&mut self, group: u32, pidx: u32, from: u64, to: u64) {
        let Some(start) = (self.log_start)(pidx) else { return };
        let deleted = to.min(start).saturating_sub(from);
        if deleted > 0 {
            *self.ledger.group_mut(group).deleted_unread.entry(pidx).or_insert(0) += deleted;
        }
    }
}
