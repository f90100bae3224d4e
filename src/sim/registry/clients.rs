//! The registry's clients: a producer's value serializer and a consumer's value deserializer, with
//! the caches `KafkaAvroSerializer` and `KafkaAvroDeserializer` keep (a schema's id once known, a
//! writer schema once fetched), which let them work on while the registry is down.

use super::{Registered, Registry, RegistryError};
use crate::sim::avro::Schema;
use crate::sim::map::VecMap;
use crate::sim::serdes::{avro_text, avro_value, avro_wire, deserialize, number_bytes, wire_id, DeserializeError, Deserializer, Payload, Serializer};
use serde_json::Value as Json;

/// One `[[schemas]]` entry: a schema a lesson names, and the subject it belongs to.
#[derive(Clone, Debug)]
pub struct SchemaSpec {
    /// The lesson's name for it (`order-v2`).
    pub name: String,
    /// Its subject (`orders-value`).
    pub subject: String,
    /// Its JSON, as the registry compares it.
    pub json: Json,
    /// The parsed schema.
    pub schema: Schema,
    /// Registered before the run starts.
    pub registered: bool,
}

/// A producer's value serializer and the schema its application writes with.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    /// `value.serializer`.
    pub serializer: Serializer,
    /// The `[[schemas]]` entry its records are written with (Avro).
    pub schema: Option<u32>,
    /// `auto.register.schemas` (true by default): register the schema on first use.
    pub auto_register: bool,
    /// `use.latest.version`: write with the subject's latest version instead of its own schema.
    pub use_latest: bool,
    /// Ids known per `[[schemas]]` entry.
    cache: VecMap<u32, u32>,
}

/// A consumer's value deserializer and the schema its application reads with.
#[derive(Clone, Debug, Default)]
pub struct Reader {
    /// `value.deserializer`.
    pub deserializer: Deserializer,
    /// The `[[schemas]]` entry it reads as (a compiled record class, `specific.avro.reader`); none
    /// reads each record with the schema it was written with.
    pub schema: Option<u32>,
    /// The application catches `RecordDeserializationException` and seeks past the record,
    /// instead of letting it stop the poll loop.
    pub skip_errors: bool,
    /// Writer schemas fetched, by id.
    cache: VecMap<u32, Schema>,
}

/// A value serialized: the text the ledger shows and the bytes, with what the serializer asked the
/// registry, if anything.
#[derive(Clone, Debug)]
pub struct Serialized {
    /// The value as text (JSON for a structured value).
    pub text: String,
    /// The bytes, for every serializer but `StringSerializer`.
    pub payload: Option<Box<Payload>>,
    /// A registration the serializer made (`auto.register.schemas`).
    pub registered: Option<(String, Registered)>,
}

/// Why `send()` threw `SerializationException`.
#[derive(Clone, Debug, PartialEq)]
pub struct SerializationFailure {
    /// The exception's message.
    pub message: String,
    /// The registry's refusal behind it, if there was one.
    pub registry: Option<RegistryError>,
}

impl Writer {
    /// A writer of these settings.
    pub fn new(serializer: Serializer, schema: Option<u32>, auto_register: bool, use_latest: bool) -> Writer {
        Writer { serializer, schema, auto_register, use_latest, cache: VecMap::new() }
    }

    /// What `send()`'s serializer makes of a value (`KafkaAvroSerializer.serialize`: the id from
    /// the cache, else registered or looked up, then the wire format).
    pub fn serialize(&mut self, registry: &mut Registry, schemas: &[SchemaSpec], value: &Json) -> Result<Serialized, SerializationFailure> {
        let fail = |message: String| SerializationFailure { message, registry: None };
        // The text of a value written as itself: a string as it is, anything else as JSON.
        let plain = || match value {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        match self.serializer {
            Serializer::String => Ok(Serialized { text: plain(), payload: None, registered: None }),
            Serializer::Integer | Serializer::Long => {
                let bytes = number_bytes(self.serializer, value).map_err(|e| fail(e.0))?;
                Ok(Serialized { text: plain(), payload: Some(Box::new(Payload { serializer: self.serializer, schema_id: None, bytes })), registered: None })
            }
            Serializer::Json => {
                let text = value.to_string();
                let bytes = text.clone().into_bytes();
                Ok(Serialized { text, payload: Some(Box::new(Payload { serializer: Serializer::Json, schema_id: None, bytes })), registered: None })
            }
            Serializer::Avro => {
                let index = self.schema.ok_or_else(|| fail("no schema to write with".into()))?;
                let spec = &schemas[index as usize];
                let mut registered = None;
                let (id, schema): (u32, &Schema) = if self.use_latest {
                    let (found, schema) = registry.latest(&spec.subject).map_err(|e| SerializationFailure { message: format!("Error retrieving latest version of subject {}: {}", spec.subject, e.message(&spec.subject)), registry: Some(e) })?;
                    (found.id, schema)
                } else if let Some(&id) = self.cache.get(&index) {
                    (id, &spec.schema)
                } else {
                    let answer = if self.auto_register { registry.register(&spec.subject, &spec.json, &spec.schema) } else { registry.lookup(&spec.subject, &spec.json) };
                    let what = if self.auto_register { "registering" } else { "retrieving" };
                    let found = answer.map_err(|e| SerializationFailure { message: format!("Error {what} Avro schema: {}", e.message(&spec.subject)), registry: Some(e) })?;
                    if found.new_version {
                        registered = Some((spec.subject.clone(), found));
                    }
                    self.cache.insert(index, found.id);
                    (found.id, &spec.schema)
                };
                let avro = avro_value(schema, value).map_err(|e| fail(format!("Error serializing Avro message: {}", e.0)))?;
                let bytes = avro_wire(schema, id, &avro).map_err(|e| fail(format!("Error serializing Avro message: {}", e.0)))?;
                Ok(Serialized { text: avro_text(&avro), payload: Some(Box::new(Payload { serializer: Serializer::Avro, schema_id: Some(id), bytes })), registered })
            }
        }
    }

    /// The application is redeployed with another schema (a rolling upgrade).
    pub fn switch(&mut self, schema: u32) {
        self.schema = Some(schema);
    }
}

impl Reader {
    /// A reader of these settings.
    pub fn new(deserializer: Deserializer, schema: Option<u32>, skip_errors: bool) -> Reader {
        Reader { deserializer, schema, skip_errors, cache: VecMap::new() }
    }

    /// What `poll()`'s deserializer makes of a record's value: its text, or the exception. A
    /// value with no payload was written by `StringSerializer`, and its bytes are its text.
    pub fn deserialize(&mut self, registry: &Registry, schemas: &[SchemaSpec], text: &str, payload: Option<&Payload>) -> Result<String, DeserializeError> {
        let bytes = payload.map_or(text.as_bytes(), |p| p.bytes.as_slice());
        // A writer schema is fetched once and kept: the first record with its id fills the cache.
        if let Some(id) = wire_id(bytes).filter(|id| self.deserializer == Deserializer::Avro && self.cache.get(id).is_none()) {
            if let Ok(found) = registry.by_id(id) {
                self.cache.insert(id, found.clone());
            }
        }
        let cache = &self.cache;
        let lookup = |id: u32| -> Result<&Schema, String> {
            cache.get(&id).ok_or_else(|| format!("Error retrieving Avro schema for id {id}: {}", registry.by_id(id).err().map_or_else(String::new, |e| e.message(""))))
        };
        deserialize(self.deserializer, bytes, self.schema.map(|i| &schemas[i as usize].schema), &lookup)
    }

    /// The application is redeployed with another schema (a rolling upgrade).
    pub fn switch(&mut self, schema: u32) {
        self.schema = Some(schema);
    }
}
