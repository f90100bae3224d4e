//! What a person can do at the page, named as in the scenario file, and how each action becomes
//! one of the simulation's timeline actions.

use crate::scenario::limits;
use crate::sim::describe;
use crate::sim::{Action, NodeId, ProduceAction, Sim};

/// Something a person did at the page. Clients and links are named as in the scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserAction {
    /// Crash a broker.
    CrashBroker {
        /// `node.id`.
        broker: u32,
    },
    /// Restart a crashed broker.
    RestartBroker {
        /// `node.id`.
        broker: u32,
    },
    /// Cut the link between two nodes (both directions).
    Cut {
        /// One end (`broker-1`, `controller`, or a client's name).
        a: String,
        /// The other end.
        b: String,
    },
    /// Heal a cut link.
    Heal {
        /// One end.
        a: String,
        /// The other end.
        b: String,
    },
    /// Crash a consumer (no commit, no LeaveGroup).
    CrashConsumer {
        /// Its name.
        consumer: String,
    },
    /// `close()` a consumer.
    CloseConsumer {
        /// Its name.
        consumer: String,
    },
    /// Block a consumer's application thread for [`crate::scenario::STALL_MS`] (a long GC pause, a slow call):
    /// it stops polling, and a pipeline over it stops in the middle of its batch.
    StallConsumer {
        /// Its name.
        consumer: String,
    },
    /// Start (or restart) a consumer.
    StartConsumer {
        /// Its name.
        consumer: String,
    },
    /// Add a consumer with the group, subscription and settings of `like`.
    AddConsumer {
        /// The consumer whose settings it copies.
        like: String,
        /// The new consumer's name.
        name: String,
    },
    /// The application calls `send()` once.
    Produce {
        /// Producer name.
        producer: String,
        /// Topic name.
        topic: String,
        /// Record key; none is a null key.
        key: Option<String>,
        /// Record value.
        value: String,
    },
}

/// A user action and the step count at which it was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedUserAction {
    /// Steps taken when the person acted; the action runs before step number `step` + 1.
    pub step: u64,
    /// What they did.
    pub action: UserAction,
}

/// Finds a node by name. `added` are consumers that earlier actions add but `sim` does not hold
/// yet; they take the next consumer indices, in order.
fn node_by_name(sim: &Sim, added: &[String], name: &str) -> Option<NodeId> {
    describe::node_by_name(
        name,
        sim.brokers.len() as u32,
        sim.producers.iter().map(|p| p.name.as_str()),
        sim.consumers.iter().map(|c| c.name.as_str()).chain(added.iter().map(String::as_str)),
    )
}

/// The consumers that `actions` add and that `sim` does not hold yet.
pub(super) fn pending_additions<'a>(sim: &Sim, actions: impl IntoIterator<Item = &'a UserAction>) -> Vec<String> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            UserAction::AddConsumer { name, .. } if !sim.consumers.iter().any(|c| c.name == *name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

impl UserAction {
    /// The action's name in a challenge's `actions` list.
    pub fn kind(&self) -> &'static str {
        match self {
            UserAction::CrashBroker { .. } => "crash",
            UserAction::RestartBroker { .. } => "restart",
            UserAction::Cut { .. } => "cut",
            UserAction::Heal { .. } => "heal",
            UserAction::CrashConsumer { .. } => "crash_consumer",
            UserAction::CloseConsumer { .. } => "close_consumer",
            UserAction::StallConsumer { .. } => "stall_consumer",
            UserAction::StartConsumer { .. } => "start_consumer",
            UserAction::AddConsumer { .. } => "add_consumer",
            UserAction::Produce { .. } => "produce",
        }
    }

    /// Translates the action into the core's terms, or says what is wrong with it. `added` are the
    /// consumers that earlier actions add and `sim` does not hold yet.
    pub fn resolve(&self, sim: &Sim, added: &[String]) -> Result<Action, String> {
        let broker = |id: u32| {
            if (1..=sim.brokers.len() as u32).contains(&id) {
                Ok(id)
            } else {
                Err(format!("there is no broker-{id} (the cluster has {})", sim.brokers.len()))
            }
        };
        let node = |name: &str| node_by_name(sim, added, name).ok_or_else(|| format!("there is no node named {name:?}"));
        let consumer = |name: &str| match node_by_name(sim, added, name) {
            Some(NodeId::Consumer(c)) => Ok(c),
            _ => Err(format!("there is no consumer named {name:?}")),
        };
        let text = |s: &str| {
            if s.chars().count() > limits::TEXT {
                Err(format!("a text of more than {} characters", limits::TEXT))
            } else {
                Ok(())
            }
        };
        Ok(match self {
            UserAction::CrashBroker { broker: b } => Action::Crash(broker(*b)?),
            UserAction::RestartBroker { broker: b } => Action::Restart(broker(*b)?),
            UserAction::Cut { a, b } => Action::Cut { from: node(a)?, to: node(b)?, both: true },
            UserAction::Heal { a, b } => Action::Heal { from: node(a)?, to: node(b)?, both: true },
            UserAction::CrashConsumer { consumer: c } => Action::CrashConsumer(consumer(c)?),
            UserAction::CloseConsumer { consumer: c } => Action::CloseConsumer(consumer(c)?),
            UserAction::StallConsumer { consumer: c } => Action::StallConsumer { consumer: consumer(c)?, ms: crate::scenario::STALL_MS },
            UserAction::StartConsumer { consumer: c } => Action::StartConsumer(consumer(c)?),
            UserAction::AddConsumer { like, name } => {
                let like = consumer(like)?;
                if sim.consumers.len() + added.len() >= limits::CONSUMERS {
                    return Err(format!("the limit of {} consumers is reached", limits::CONSUMERS));
                }
                let legal = !name.is_empty() && name.chars().count() <= 64 && !name.chars().any(|c| c.is_whitespace() || c.is_control());
                if !legal || name.starts_with("broker-") || node_by_name(sim, added, name).is_some() {
                    return Err(format!("{name:?} cannot name a new consumer (it must be new, at most 64 characters, without spaces)"));
                }
                Action::AddConsumer { like, name: name.clone() }
            }
            UserAction::Produce { producer, topic, key, value } => {
                let Some(NodeId::Producer(p)) = node_by_name(sim, added, producer) else {
                    return Err(format!("there is no producer named {producer:?}"));
                };
                let t = sim
                    .topics
                    .iter()
                    .position(|t| t.name == *topic && !t.internal)
                    .ok_or_else(|| format!("there is no topic named {topic:?}"))?;
                text(value)?;
                if let Some(k) = key {
                    text(k)?;
                }
                Action::Produce(ProduceAction {
                    producer: p,
                    topic: t as u32,
                    partition: None,
                    key: key.clone(),
                    value: value.clone(),
                    value_json: None,
                    value_bytes: None,
                    count: 1,
                    rate: None,
                    literal: true,
                })
            }
        })
    }
}
