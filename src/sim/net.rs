//! The network between the nodes: links with latency, jitter and loss, cut links, and producer
//! connections that a lost message breaks. The simulation root owns it; a handler's context draws
//! each message's fate on it when the handler sends.

use super::config::{self, LinkParams};
use super::map::VecMap;
use super::map::VecSet;
use super::msg::{DropReason, Msg};
use super::narrate::{drop_reason, Names};
use super::types::NodeId;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

#[derive(Clone, Debug, Default)]
pub struct Network {
    pub(crate) default: LinkParams,
    pub(crate) overrides: VecMap<(NodeId, NodeId), LinkParams>,
    pub(crate) cut: VecSet<(NodeId, NodeId)>,
    /// Latest arrival per directed link: links are TCP connections, so they deliver in order.
    pub(crate) last_arrival: VecMap<(NodeId, NodeId), u64>,
    /// Producer connections (both directions) broken by a lost message. A TCP connection cannot
    /// lose one request and deliver the next, so everything after a loss is dropped too until the
    /// producer opens a new connection (its ApiVersions), as the Java client does after the
    /// request timeout closes the old one. The value is the id of the lost message: messages sent
    /// before it are still delivered.
    pub(crate) broken: VecMap<(NodeId, NodeId), u64>,
}

impl Network {
    /// Whether messages between these nodes travel on a producer's connection to a broker.
    pub(crate) fn producer_connection(from: NodeId, to: NodeId) -> bool {
        matches!((from, to), (NodeId::Producer(_), NodeId::Broker(_)) | (NodeId::Broker(_), NodeId::Producer(_)))
    }

    /// Marks the connection broken by the loss of message `lost`. Not for an acks=0 produce: no
    /// response is awaited, so no request timeout would ever reopen the connection, and the model
    /// keeps such a producer's losses to the records that were on the wire.
    pub(crate) fn break_connection(&mut self, from: NodeId, to: NodeId, lost: u64, msg: &Msg) {
        if matches!(msg, Msg::Produce { acks: config::Acks::None, .. }) {
            return;
        }
        if Network::producer_connection(from, to) {
            self.broken.entry((from, to)).or_insert(lost);
            self.broken.entry((to, from)).or_insert(lost);
        }
    }

    /// Whether message `id` travels on a connection that broke before it was sent.
    pub(crate) fn broken_before(&self, from: NodeId, to: NodeId, id: u64) -> bool {
        self.broken.get(&(from, to)).is_some_and(|&lost| id > lost)
    }

    /// The settings of the link from → to.
    pub(crate) fn link(&self, from: NodeId, to: NodeId) -> LinkParams {
        *self.overrides.get(&(from, to)).unwrap_or(&self.default)
    }

    /// What becomes of message `id`, sent at `now` on the link from → to: dropped at once (a cut
    /// link, a broken connection, or loss drawn from `rng`), or its arrival time, after the link's
    /// latency and a jitter drawn from `rng`, and never before an earlier message on that link.
    pub(crate) fn route(&mut self, rng: &mut ChaCha8Rng, now: u64, id: u64, from: NodeId, to: NodeId, msg: &Msg) -> Fate {
        let params = self.link(from, to);
        if matches!(msg, Msg::ApiVersions) {
            self.broken.remove(&(from, to));
            self.broken.remove(&(to, from));
        }
        let dropped = if self.cut.contains(&(from, to)) {
            Some(DropReason::LinkCut)
        } else if self.broken_before(from, to, id) {
            Some(DropReason::ConnectionBroken)
        } else if params.loss > 0.0 && rng.random::<f64>() < params.loss {
            Some(DropReason::Loss)
        } else {
            None
        };
        if let Some(reason) = dropped {
            self.break_connection(from, to, id, msg);
            return Fate::Dropped(reason);
        }
        let jitter = if params.jitter_ms > 0 { rng.random_range(0..=params.jitter_ms) } else { 0 };
        let earliest = now + params.latency_ms + jitter;
        let last = self.last_arrival.entry((from, to)).or_insert(0);
        let arrives = earliest.max(*last);
        *last = arrives;
        Fate::Arrives(arrives)
    }
}

/// What the network does with a message when it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It never arrives.
    Dropped(DropReason),
    /// It arrives at this virtual time.
    Arrives(u64),
}

/// A message on its way from one node to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

/// A consequence of a step on the network: a message sent (or lost at once), a link cut, healed
/// or changed.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum NetEffect {
    /// A message left a node.
    Sent {
        /// Message id.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Kind.
        msg: &'static str,
        /// Arrival time, or none when it is dropped at once.
        arrives_at: Option<u64>,
        /// Set when the message will never arrive.
        dropped: Option<DropReason>,
    },
    /// A link was cut.
    LinkCut {
        /// One end.
        from: NodeId,
        /// The other end.
        to: NodeId,
        /// Both directions.
        both: bool,
    },
    /// A link was healed.
    LinkHealed {
        /// One end.
        from: NodeId,
        /// The other end.
        to: NodeId,
        /// Both directions.
        both: bool,
    },
    /// A link's latency or loss changed.
    LinkChanged {
        /// One end.
        from: NodeId,
        /// The other end.
        to: NodeId,
        /// New latency.
        latency_ms: u64,
        /// New jitter.
        jitter_ms: u64,
        /// New loss probability.
        loss: f64,
    },
}

impl NetEffect {
    /// The effect as a sentence that says why, or `None` for one shown only by animation.
    pub fn describe(&self, names: &dyn Names) -> Option<String> {
        Some(match self {
            NetEffect::Sent { dropped: None, .. } => return None,
            NetEffect::Sent { from, to, msg, dropped: Some(reason), .. } => format!(
                "{msg} from {} to {} is dropped: {}",
                names.node_name(*from),
                names.node_name(*to),
                drop_reason(*reason)
            ),
            NetEffect::LinkCut { from, to, both } => format!(
                "network partition: {} {} {} cut",
                names.node_name(*from),
                if *both { "⇹" } else { "→" },
                names.node_name(*to)
            ),
            NetEffect::LinkHealed { from, to, both } => format!(
                "network healed: {} {} {}",
                names.node_name(*from),
                if *both { "⇹" } else { "→" },
                names.node_name(*to)
            ),
            NetEffect::LinkChanged { from, to, latency_ms, jitter_ms, loss } => format!(
                "link {} → {} now has latency {latency_ms} ms, jitter {jitter_ms} ms, loss {:.0}%",
                names.node_name(*from),
                names.node_name(*to),
                loss * 100.0
            ),
        })
    }
}

