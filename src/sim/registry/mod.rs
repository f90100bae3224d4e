//! Schema Registry: subjects, versions, global schema ids and compatibility levels, with the
//! registry's answers and error codes (Confluent Schema Registry 7.x's REST API, whose
//! incompatible-schema error code is 409).
//!
//! Simplification (docs/model.md): the registry is one node whose REST calls take no virtual time,
//! and its store survives a crash as its `_schemas` topic would; while it is down every call fails
//! as a refused connection does.

pub mod clients;
pub mod effect;

use super::avro::{registry_level, Level, LevelFailure, Schema};
use super::map::VecMap;
use super::serdes::{Deserializer, Payload, Serializer};
use clients::{Reader, SchemaSpec, Writer};
use serde::Serialize;
use serde_json::Value as Json;

/// Everything about schemas in one run: the registry, the lesson's named schemas, and each
/// producer's serializer and consumer's deserializer.
#[derive(Clone, Debug, Default)]
pub struct Schemas {
    /// The registry.
    pub registry: Registry,
    /// The `[[schemas]]` entries.
    pub specs: Vec<SchemaSpec>,
    /// Each producer's value serializer, by producer index (missing = `StringSerializer`).
    pub writers: Vec<Writer>,
    /// Each consumer's value deserializer, by consumer index (missing = `StringDeserializer`).
    pub readers: Vec<Reader>,
}

impl Schemas {
    /// Whether a producer's values go through a serializer other than `StringSerializer`.
    pub fn writes(&self, producer: u32) -> bool {
        self.writers.get(producer as usize).is_some_and(|w| w.serializer != Serializer::String)
    }

    /// Whether any consumer's deserializer can fail (`StringDeserializer` reads any bytes).
    pub fn reads(&self) -> bool {
        self.readers.iter().any(|r| r.deserializer != Deserializer::String)
    }

    /// What a consumer's deserializer makes of a record: the value it reads when that is not the
    /// value as written (schema resolution filled or dropped fields), or why it fails.
    pub fn check(&mut self, consumer: u32, text: &str, payload: Option<&Payload>) -> Result<Option<String>, String> {
        let Some(reader) = self.readers.get_mut(consumer as usize) else { return Ok(None) };
        let read = reader.deserialize(&self.registry, &self.specs, text, payload).map_err(|e| e.0)?;
        Ok((reader.deserializer == Deserializer::Avro && read != text).then_some(read))
    }
}

/// One subject: its versions' schema ids (version n is `versions[n - 1]`) and its own level.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Subject {
    /// Schema id of each version, oldest first.
    pub versions: Vec<u32>,
    /// `PUT /config/{subject}`; none = the global level.
    pub compatibility: Option<Level>,
}

/// A registered schema: its text's JSON (what the registry compares to find an existing id), and
/// the parsed schema.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The schema's JSON as registered.
    pub json: Json,
    /// The parsed schema.
    pub schema: Schema,
}

/// The registry's state.
#[derive(Clone, Debug)]
pub struct Registry {
    /// Whether it answers.
    pub up: bool,
    /// The global level (`PUT /config`), BACKWARD by default.
    pub global: Level,
    /// Schemas by id (id n is `schemas[n - 1]`).
    pub schemas: Vec<Stored>,
    /// Subjects by name, in the order they were made.
    pub subjects: VecMap<String, Subject>,
}

/// An error the registry answers, or a call that never reached it.
#[derive(Clone, Debug, PartialEq)]
pub enum RegistryError {
    /// The registry is down: the connection is refused.
    Unreachable,
    /// 409: the schema breaks the subject's compatibility level.
    Incompatible {
        /// The level it broke.
        level: Level,
        /// What failed, against which versions.
        failures: Vec<LevelFailure>,
    },
    /// 40401: no such subject.
    SubjectNotFound,
    /// 40403: no such schema (an id, or a schema never registered under the subject).
    SchemaNotFound,
}

impl RegistryError {
    /// The registry's `error_code` (0 for a call that never reached it).
    pub fn code(&self) -> u32 {
        match self {
            RegistryError::Unreachable => 0,
            RegistryError::Incompatible { .. } => 409,
            RegistryError::SubjectNotFound => 40401,
            RegistryError::SchemaNotFound => 40403,
        }
    }

    /// The answer in words, as the registry's `message` (or the client's exception) says it.
    pub fn message(&self, subject: &str) -> String {
        match self {
            RegistryError::Unreachable => "java.net.ConnectException: Connection refused (the registry is down)".into(),
            RegistryError::Incompatible { level, .. } => {
                format!("Schema being registered is incompatible with an earlier schema for subject \"{subject}\" (compatibility {}); error code: {}", level.name(), self.code())
            }
            RegistryError::SubjectNotFound => format!("Subject '{subject}' not found.; error code: {}", self.code()),
            RegistryError::SchemaNotFound => format!("Schema not found; error code: {}", self.code()),
        }
    }
}

/// What a registration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The schema's global id.
    pub id: u32,
    /// Its version under the subject.
    pub version: u32,
    /// False when the subject already had this schema (the registry answers its id again).
    pub new_version: bool,
}

impl Default for Registry {
    fn default() -> Self {
        Registry { up: true, global: Level::Backward, schemas: Vec::new(), subjects: VecMap::new() }
    }
}

impl Registry {
    /// The level that applies to a subject.
    pub fn level(&self, subject: &str) -> Level {
        self.subjects.get(&subject.to_string()).and_then(|s| s.compatibility).unwrap_or(self.global)
    }

    /// `POST /subjects/{subject}/versions`: the same schema again answers its id; a new one is
    /// checked against the subject's level and becomes the next version; one schema has one id
    /// across subjects, and ids count from 1.
    pub fn register(&mut self, subject: &str, json: &Json, schema: &Schema) -> Result<Registered, RegistryError> {
        if !self.up {
            return Err(RegistryError::Unreachable);
        }
        let existing = self.schemas.iter().position(|s| s.json == *json).map(|i| i as u32 + 1);
        let versions = self.subjects.get(&subject.to_string()).map(|s| s.versions.clone()).unwrap_or_default();
        if let Some(id) = existing {
            if let Some(v) = versions.iter().position(|&x| x == id) {
                return Ok(Registered { id, version: v as u32 + 1, new_version: false });
            }
        }
        let level = self.level(subject);
        let olds: Vec<Schema> = versions.iter().map(|&id| self.schemas[id as usize - 1].schema.clone()).collect();
        let failures = registry_level(level, schema, &olds);
        if !failures.is_empty() {
            return Err(RegistryError::Incompatible { level, failures });
        }
        let id = existing.unwrap_or_else(|| {
            self.schemas.push(Stored { json: json.clone(), schema: schema.clone() });
            self.schemas.len() as u32
        });
        let entry = match self.subjects.get_mut(&subject.to_string()) {
            Some(s) => s,
            None => {
                self.subjects.insert(subject.to_string(), Subject::default());
                self.subjects.get_mut(&subject.to_string()).expect("just inserted")
            }
        };
        entry.versions.push(id);
        Ok(Registered { id, version: entry.versions.len() as u32, new_version: true })
    }

    /// `POST /subjects/{subject}` (the serializer's lookup when it may not register): the id of
    /// this schema under the subject.
    pub fn lookup(&self, subject: &str, json: &Json) -> Result<Registered, RegistryError> {
        if !self.up {
            return Err(RegistryError::Unreachable);
        }
        let s = self.subjects.get(&subject.to_string()).ok_or(RegistryError::SubjectNotFound)?;
        s.versions
            .iter()
            .position(|&id| self.schemas[id as usize - 1].json == *json)
            .map(|v| Registered { id: s.versions[v], version: v as u32 + 1, new_version: false })
            .ok_or(RegistryError::SchemaNotFound)
    }

    /// `GET /subjects/{subject}/versions/latest`.
    pub fn latest(&self, subject: &str) -> Result<(Registered, &Schema), RegistryError> {
        if !self.up {
            return Err(RegistryError::Unreachable);
        }
        let s = self.subjects.get(&subject.to_string()).ok_or(RegistryError::SubjectNotFound)?;
        let id = *s.versions.last().ok_or(RegistryError::SubjectNotFound)?;
        Ok((Registered { id, version: s.versions.len() as u32, new_version: false }, &self.schemas[id as usize - 1].schema))
    }

    /// `GET /schemas/ids/{id}`.
    pub fn by_id(&self, id: u32) -> Result<&Schema, RegistryError> {
        if !self.up {
            return Err(RegistryError::Unreachable);
        }
        id.checked_sub(1).and_then(|i| self.schemas.get(i as usize)).map(|s| &s.schema).ok_or(RegistryError::SchemaNotFound)
    }

    /// `PUT /config/{subject}` (or `PUT /config` for none).
    pub fn set_level(&mut self, subject: Option<&str>, level: Level) -> Result<(), RegistryError> {
        if !self.up {
            return Err(RegistryError::Unreachable);
        }
        match subject {
            None => self.global = level,
            Some(name) => match self.subjects.get_mut(&name.to_string()) {
                Some(s) => s.compatibility = Some(level),
                None => {
                    self.subjects.insert(name.to_string(), Subject { versions: Vec::new(), compatibility: Some(level) });
                }
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(text: &str) -> (Json, Schema) {
        (serde_json::from_str(text).unwrap(), Schema::parse_str(text).unwrap())
    }

    #[test]
    fn versions_ids_and_a_refused_registration() {
        let mut r = Registry::default();
        let (j1, s1) = schema(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"int"}]}"#);
        let (j2, s2) = schema(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"int"},{"name":"c","type":"string","default":"EUR"}]}"#);
        let (j3, s3) = schema(r#"{"type":"record","name":"Order","fields":[{"name":"c","type":"string"}]}"#);
        assert_eq!(r.register("orders-value", &j1, &s1), Ok(Registered { id: 1, version: 1, new_version: true }));
        assert_eq!(r.register("orders-value", &j1, &s1), Ok(Registered { id: 1, version: 1, new_version: false }));
        assert_eq!(r.register("orders-value", &j2, &s2), Ok(Registered { id: 2, version: 2, new_version: true }));
        // The same schema in another subject keeps its id.
        assert_eq!(r.register("audit-value", &j2, &s2), Ok(Registered { id: 2, version: 1, new_version: true }));
        // BACKWARD against v2 passes (c is in v2); BACKWARD_TRANSITIVE fails against v1.
        r.set_level(Some("orders-value"), Level::BackwardTransitive).unwrap();
        let err = r.register("orders-value", &j3, &s3).unwrap_err();
        assert_eq!(err.code(), 409);
        assert!(err.message("orders-value").contains("BACKWARD_TRANSITIVE"));
        assert_eq!(r.lookup("orders-value", &j3), Err(RegistryError::SchemaNotFound));
        assert_eq!(r.latest("orders-value").unwrap().0.version, 2);
        r.up = false;
        assert_eq!(r.by_id(1).unwrap_err(), RegistryError::Unreachable);
        r.up = true;
        assert!(r.by_id(3).is_err());
        assert_eq!(r.lookup("nope", &j1), Err(RegistryError::SubjectNotFound));
    }
}
