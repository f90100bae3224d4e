//! The glue between the registry's clients and the producers and consumers: a producer's
//! serializer runs in `send()` before the record exists (a `SerializationException` means no record
//! at all), an operator's REST calls and the registry's crash come from the timeline, and a
//! consumer's deserializer is asked from `poll()` through the client environment.

use super::avro::Level;
use super::registry::effect::{Caller, RegistryEffect};
use super::registry::RegistryError;
use super::serdes::Payload;
use super::Sim;
use crate::sim::avro::verdict::{direction, explain};

/// A timeline action about schemas.
#[derive(Clone, Debug, PartialEq)]
pub enum RegistryAction {
    /// `POST /subjects/{subject}/versions` with a `[[schemas]]` entry (by index).
    Register(u32),
    /// `PUT /config/{subject}` (or `PUT /config` for none).
    SetCompatibility {
        /// The subject, or none for the global level.
        subject: Option<String>,
        /// The level.
        level: Level,
    },
    /// The registry process stops.
    Crash,
    /// The registry starts again.
    Restart,
    /// A producer is redeployed writing with another `[[schemas]]` entry.
    SwitchProducer {
        /// Producer.
        producer: u32,
        /// The entry.
        schema: u32,
    },
    /// A consumer is redeployed reading with another `[[schemas]]` entry.
    SwitchConsumer {
        /// Consumer.
        consumer: u32,
        /// The entry.
        schema: u32,
    },
}

/// The registry's explanation of a refusal, one line per incompatibility.
fn details(error: &RegistryError) -> Vec<String> {
    match error {
        RegistryError::Incompatible { failures, .. } => failures
            .iter()
            .flat_map(|f| std::iter::once(direction(f)).chain(f.incompatibilities.iter().map(|i| format!("  {}", explain(i)))))
            .collect(),
        _ => Vec::new(),
    }
}

impl Sim {
    /// Runs a producer's value serializer on one record's value: the text, the byte length and
    /// the bytes to send, or `None` after narrating the `SerializationException`.
    pub(super) fn serialize(&mut self, producer: u32, value: &serde_json::Value) -> Option<(String, u32, Option<Box<Payload>>)> {
        let schemas = &mut self.schemas;
        let writer = &mut schemas.writers[producer as usize];
        match writer.serialize(&mut schemas.registry, &schemas.specs, value) {
            Ok(done) => {
                if let Some((subject, r)) = done.registered {
                    let name = writer.schema.map(|i| schemas.specs[i as usize].name.clone()).unwrap_or_default();
                    self.emit(RegistryEffect::Registered { by: Caller::Producer(producer), subject, schema: name, version: r.version, id: r.id, new_version: r.new_version });
                }
                let len = done.payload.as_ref().map_or(done.text.len(), |p| p.bytes.len()) as u32;
                Some((done.text, len, done.payload))
            }
            Err(failure) => {
                if let (Some(error @ RegistryError::Incompatible { .. }), Some(index)) = (&failure.registry, writer.schema) {
                    let spec = &schemas.specs[index as usize];
                    let refused = RegistryEffect::Refused {
                        by: Caller::Producer(producer),
                        subject: spec.subject.clone(),
                        schema: spec.name.clone(),
                        message: error.message(&spec.subject),
                        details: details(error),
                    };
                    self.emit(refused);
                }
                self.emit(RegistryEffect::SerializationFailed { producer, message: failure.message });
                None
            }
        }
    }

    pub(super) fn registry_action(&mut self, action: RegistryAction) {
        let schemas = &mut self.schemas;
        let effect = match action {
            RegistryAction::Register(index) => {
                let spec = &schemas.specs[index as usize];
                match schemas.registry.register(&spec.subject, &spec.json, &spec.schema) {
                    Ok(r) => RegistryEffect::Registered { by: Caller::Operator, subject: spec.subject.clone(), schema: spec.name.clone(), version: r.version, id: r.id, new_version: r.new_version },
                    Err(e) => RegistryEffect::Refused { by: Caller::Operator, subject: spec.subject.clone(), schema: spec.name.clone(), message: e.message(&spec.subject), details: details(&e) },
                }
            }
            RegistryAction::SetCompatibility { subject, level } => {
                let applied = schemas.registry.set_level(subject.as_deref(), level).is_ok();
                RegistryEffect::LevelSet { subject, level, applied }
            }
            RegistryAction::Crash => {
                schemas.registry.up = false;
                RegistryEffect::Up { up: false }
            }
            RegistryAction::Restart => {
                schemas.registry.up = true;
                RegistryEffect::Up { up: true }
            }
            RegistryAction::SwitchProducer { producer, schema } => {
                schemas.writers[producer as usize].switch(schema);
                RegistryEffect::SchemaSwitched { producer: true, client: producer, schema: schemas.specs[schema as usize].name.clone() }
            }
            RegistryAction::SwitchConsumer { consumer, schema } => {
                schemas.readers[consumer as usize].switch(schema);
                RegistryEffect::SchemaSwitched { producer: false, client: consumer, schema: schemas.specs[schema as usize].name.clone() }
            }
        };
        self.emit(effect);
    }
}
