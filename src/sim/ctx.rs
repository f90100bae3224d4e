//! What a layer's handler may use of the simulation: the clock, the id counters, the network and
//! the RNG ([`Io`]), and one outbox for the messages it sends, the timers it sets and the effects
//! it reports. The root owns both, and drains the outbox into its event queue and its list of
//! effects once the handler returns.
//!
//! The outbox is one list rather than one per kind because the order across kinds is part of the
//! trace: sending a message reports its `Sent` effect among the handler's own effects, and
//! messages and timers take their places in the event queue (which breaks ties by insertion) in
//! the order they were made. Draining the list in order replays exactly what calling the root
//! directly did, as long as the handler reads nothing that sending changes (the network, the
//! queue: it cannot reach them) and, if it draws from the RNG, the messages draw in order with it.
//! So a context comes in two kinds:
//! - [`Ctx::new`] defers a message whole: the root numbers it and draws its fate (lost at once, or
//!   when it arrives) when it drains the outbox. Handlers that draw nothing themselves use it, and
//!   must: the group coordinator's appends run at drain time, and the messages they send there
//!   come before the ones the coordinator sent after asking for the append;
//! - [`Ctx::drawing`] numbers a message and draws its fate when the handler sends it, so that a
//!   client that also draws for itself (a backoff's jitter, a sticky partition) draws in the order
//!   it acts. Such a handler's outbox holds nothing that runs code at drain time.

use super::msg::Msg;
use super::net::{Fate, Network};
use super::timer::Timer;
use super::types::NodeId;
use rand_chacha::ChaCha8Rng;

/// The part of the simulation's state that handlers use directly: the clock, the counters of
/// request and message ids (one each for the whole cluster, so that ids are unique in the trace),
/// the network, and the one RNG.
#[derive(Clone, Debug)]
pub struct Io {
    /// Current virtual time in ms.
    pub now: u64,
    pub(crate) last_request_id: u64,
    pub(crate) last_message_id: u64,
    /// The links and their state.
    pub(crate) net: Network,
    pub(crate) rng: ChaCha8Rng,
}

impl Io {
    /// The state at time 0.
    pub fn new(net: Network, rng: ChaCha8Rng) -> Io {
        Io { now: 0, last_request_id: 0, last_message_id: 0, net, rng }
    }

    /// A request id not used before.
    pub fn next_request_id(&mut self) -> u64 {
        self.last_request_id += 1;
        self.last_request_id
    }

    /// Numbers a message and draws its fate on the link from → to.
    pub(crate) fn route(&mut self, from: NodeId, to: NodeId, msg: &Msg) -> (u64, Fate) {
        self.last_message_id += 1;
        let id = self.last_message_id;
        (id, self.net.route(&mut self.rng, self.now, id, from, to, msg))
    }
}

/// One thing a handler asked the root to do, in the order it asked.
#[derive(Debug)]
pub enum Out<E> {
    /// Put a message on the link from → to.
    Send {
        /// Its id and what the network does with it, when drawn at sending.
        routed: Option<(u64, Fate)>,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The message.
        msg: Msg,
    },
    /// Fire a timer at virtual time `at`.
    Timer {
        /// When, in virtual ms.
        at: u64,
        /// Which.
        timer: Timer,
    },
    /// Report a consequence of the step, in the layer's own effect type.
    Effect(E),
}

/// A handler's narrow view of the simulation: the clock, the ids, the network and the RNG, and its
/// outbox. `E` is the handler's layer's effect type, which the root gathers into its `Effect`.
pub struct Ctx<'a, E> {
    io: &'a mut Io,
    out: &'a mut Vec<Out<E>>,
    route_at_send: bool,
}

impl<'a, E> Ctx<'a, E> {
    /// A context over `io` whose requests go to `out`; the root routes its messages at drain time.
    pub fn new(io: &'a mut Io, out: &'a mut Vec<Out<E>>) -> Ctx<'a, E> {
        Ctx { io, out, route_at_send: false }
    }

    /// A context over `io` that routes each message as it is sent, for a handler that draws from
    /// the RNG itself.
    pub fn drawing(io: &'a mut Io, out: &'a mut Vec<Out<E>>) -> Ctx<'a, E> {
        Ctx { io, out, route_at_send: true }
    }

    /// Current virtual time in ms.
    pub fn now(&self) -> u64 {
        self.io.now
    }

    /// A request id not used before.
    pub fn next_request_id(&mut self) -> u64 {
        self.io.next_request_id()
    }

    /// The simulation's one RNG, for a client's own draws (jitter, a sticky partition). Only a
    /// context made by [`Ctx::drawing`] lends it.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        assert!(self.route_at_send, "a handler that draws from the RNG needs Ctx::drawing");
        &mut self.io.rng
    }

    /// Sends a message; it enters the queue when the root drains the outbox.
    pub fn send(&mut self, from: NodeId, to: NodeId, msg: Msg) {
        let routed = self.route_at_send.then(|| self.io.route(from, to, &msg));
        self.out.push(Out::Send { routed, from, to, msg });
    }

    /// Sets a timer to fire at virtual time `at`.
    pub fn set_timer(&mut self, at: u64, timer: Timer) {
        self.out.push(Out::Timer { at, timer });
    }

    /// Reports an effect of the step.
    pub fn emit(&mut self, effect: E) {
        self.out.push(Out::Effect(effect));
    }
}
