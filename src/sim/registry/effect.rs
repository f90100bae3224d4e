//! What the registry and its clients did, and how the narration says it.

use crate::sim::avro::Level;
use crate::sim::narrate::Names;
use serde::Serialize;

/// Who called the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Caller {
    /// An operator's REST call on the timeline.
    Operator,
    /// A producer's serializer (`auto.register.schemas`).
    Producer(u32),
}

/// An event at the registry or at a client's (de)serializer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RegistryEffect {
    /// A new version of a subject (or the same schema again, answered with its id).
    Registered {
        /// Who asked.
        by: Caller,
        /// Subject.
        subject: String,
        /// The lesson's name for the schema.
        schema: String,
        /// Version under the subject.
        version: u32,
        /// Global id.
        id: u32,
        /// False when the subject already had it.
        new_version: bool,
    },
    /// The registry refused a registration: 409, or it is down.
    Refused {
        /// Who asked.
        by: Caller,
        /// Subject.
        subject: String,
        /// The lesson's name for the schema.
        schema: String,
        /// The registry's message.
        message: String,
        /// Avro's incompatibilities, explained, one a line.
        details: Vec<String>,
    },
    /// A subject's (or the global) compatibility level was set.
    LevelSet {
        /// None for the global level.
        subject: Option<String>,
        /// The level.
        level: Level,
        /// Whether the registry was up to take it.
        applied: bool,
    },
    /// The registry crashed or came back.
    Up {
        /// True when it came back.
        up: bool,
    },
    /// `send()` threw `SerializationException`: the record was never made.
    SerializationFailed {
        /// Producer.
        producer: u32,
        /// The exception's message.
        message: String,
    },
    /// An application was redeployed with another schema.
    SchemaSwitched {
        /// A producer (or else a consumer).
        producer: bool,
        /// Its index.
        client: u32,
        /// The lesson's name for the schema.
        schema: String,
    },
}

impl RegistryEffect {
    /// The effect as a sentence that says why.
    pub fn describe(&self, names: &dyn Names) -> String {
        let caller = |by: &Caller| match by {
            Caller::Operator => "an operator".to_string(),
            Caller::Producer(p) => format!("{}'s KafkaAvroSerializer", names.producer_name(*p)),
        };
        match self {
            RegistryEffect::Registered { by, subject, schema, version, id, new_version: true } => {
                format!("schema-registry registers {schema} for {by}: subject {subject} version {version}, schema id {id}", by = caller(by))
            }
            RegistryEffect::Registered { by, subject, schema, version, id, new_version: false } => {
                format!("schema-registry already has {schema} as {subject} version {version}: it answers {} with id {id} again", caller(by))
            }
            RegistryEffect::Refused { by, subject, schema, message, details } => {
                let mut s = format!("schema-registry refuses {schema} under {subject} from {}: {message}", caller(by));
                for d in details {
                    s.push_str("\n      ");
                    s.push_str(d);
                }
                s
            }
            RegistryEffect::LevelSet { subject, level, applied: true } => match subject {
                Some(s) => format!("schema-registry: subject {s} now checks new versions {}", level.name()),
                None => format!("schema-registry: the global compatibility level is now {}", level.name()),
            },
            RegistryEffect::LevelSet { level, applied: false, .. } => format!("setting compatibility {} fails: schema-registry is down (connection refused)", level.name()),
            RegistryEffect::Up { up: true } => "schema-registry is back: its schemas come back from its store".into(),
            RegistryEffect::Up { up: false } => "schema-registry crashes: registrations and schema lookups get connection refused; clients keep the ids and schemas they cached".into(),
            RegistryEffect::SerializationFailed { producer, message } => {
                format!("{}'s send() throws SerializationException: {message}; no record is made", names.producer_name(*producer))
            }
            RegistryEffect::SchemaSwitched { producer: true, client, schema } => format!("{} is redeployed writing with {schema}", names.producer_name(*client)),
            RegistryEffect::SchemaSwitched { producer: false, client, schema } => format!("{} is redeployed reading with {schema}", names.consumer_name(*client)),
        }
    }
}
