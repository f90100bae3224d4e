//! Plain data describing one step: the event that happened and every consequence, with its reason.
//! Each layer defines and narrates its own effects; [`Effect`] only gathers them.

use super::client::effect::{ConsumerEffect, ProducerEffect};
use super::cluster::effect::ClusterEffect;
use super::group::effect::GroupEffect;
use super::msg::{DropReason, Msg};
use super::narrate::Names;
use super::net::NetEffect;
use super::app::effect::AppEffect;
use super::registry::effect::RegistryEffect;
use super::setup::ScenarioEffect;
use super::timer::Timer;
use super::txn::TxnEffect;
use super::types::NodeId;
use serde::Serialize;

/// What one step was: a message arrived (or was dropped on arrival), or a timer fired.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepEvent {
    /// A message arrived.
    Deliver {
        /// Message id.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// When it was sent.
        sent_at: u64,
        /// The message.
        msg: Msg,
    },
    /// A message reached the end of its link but was not received.
    Dropped {
        /// Message id.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Message kind.
        msg: &'static str,
        /// Why.
        reason: DropReason,
    },
    /// A timer fired.
    Timer {
        /// Which.
        timer: Timer,
    },
}

/// One consequence of a step, with the reason in its fields. It serializes as the layer's effect
/// itself (`{"effect": "leader_appended", …}`), so the JSON trace does not show the layers.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Effect {
    /// On the network.
    Net(NetEffect),
    /// In the cluster: brokers and the controller.
    Cluster(ClusterEffect),
    /// At a producer.
    Producer(ProducerEffect),
    /// At a consumer.
    Consumer(ConsumerEffect),
    /// At a group coordinator.
    Group(GroupEffect),
    /// At a transaction coordinator.
    Txn(TxnEffect),
    /// At an application built on the clients.
    App(AppEffect),
    /// At the schema registry or a client's serializer.
    Registry(RegistryEffect),
    /// On the scenario's timeline.
    Scenario(ScenarioEffect),
}

impl Effect {
    /// The effect as a sentence that says why, or `None` for effects shown only by animation.
    pub fn describe(&self, names: &dyn Names) -> Option<String> {
        match self {
            Effect::Net(e) => e.describe(names),
            Effect::Cluster(e) => Some(e.describe(names)),
            Effect::Producer(e) => Some(e.describe(names)),
            Effect::Consumer(e) => Some(e.describe(names)),
            Effect::Group(e) => Some(e.describe(names)),
            Effect::Txn(e) => Some(e.describe(names)),
            Effect::App(e) => Some(e.describe(names)),
            Effect::Registry(e) => Some(e.describe(names)),
            Effect::Scenario(e) => Some(e.describe()),
        }
    }
}

macro_rules! effect_from {
    ($($variant:ident($layer:ty)),*) => {
        $(impl From<$layer> for Effect {
            fn from(effect: $layer) -> Effect {
                Effect::$variant(effect)
            }
        })*
    };
}

effect_from!(Net(NetEffect), Cluster(ClusterEffect), Producer(ProducerEffect), Consumer(ConsumerEffect), Group(GroupEffect), Txn(TxnEffect), App(AppEffect), Registry(RegistryEffect), Scenario(ScenarioEffect));

/// One step of the simulation: exactly one event and what followed from it.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// 0-based step number.
    pub index: u64,
    /// Virtual time in ms.
    pub time: u64,
    /// The event.
    pub event: StepEvent,
    /// Its consequences, in order.
    pub effects: Vec<Effect>,
}
