//! What a layer's handler may use of the simulation root: the clock, the request ids, and one
//! outbox for the messages it sends, the timers it sets and the effects it reports. The root owns
//! the network, the event queue and the RNG, and drains the outbox once the handler returns.
//!
//! The outbox is one list rather than one per kind because the order across kinds is part of the
//! trace: sending a message reports its `Sent` effect among the handler's own effects, and
//! messages and timers take their places in the event queue (which breaks ties by insertion) in
//! the order they were made. Draining the list in order replays exactly what calling the root
//! directly did, as long as the handler neither draws from the RNG nor reads what sending
//! changes (the network, the queue); a handler that needs either must not use a deferred outbox.

use super::msg::Msg;
use super::timer::Timer;
use super::types::NodeId;

/// One thing a handler asked the root to do, in the order it asked.
#[derive(Debug)]
pub enum Out<E> {
    /// Put a message on the link from → to.
    Send {
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

/// A handler's narrow view of the simulation: the time of the event it handles, the counter of
/// request ids (one for all clients and brokers, so that ids are unique in the trace), and its
/// outbox. `E` is the handler's layer's effect type, which the root gathers into its `Effect`.
pub struct Ctx<'a, E> {
    now: u64,
    last_request_id: &'a mut u64,
    out: &'a mut Vec<Out<E>>,
}

impl<'a, E> Ctx<'a, E> {
    /// A context at virtual time `now` that takes request ids after `last_request_id` and whose
    /// requests go to `out`.
    pub fn new(now: u64, last_request_id: &'a mut u64, out: &'a mut Vec<Out<E>>) -> Ctx<'a, E> {
        Ctx { now, last_request_id, out }
    }

    /// Current virtual time in ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// A request id not used before.
    pub fn next_request_id(&mut self) -> u64 {
        *self.last_request_id += 1;
        *self.last_request_id
    }

    /// Sends a message; the root draws its loss and jitter when it drains the outbox.
    pub fn send(&mut self, from: NodeId, to: NodeId, msg: Msg) {
        self.out.push(Out::Send { from, to, msg });
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
