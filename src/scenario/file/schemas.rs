//! `[schema_registry]`, `[[schemas]]`, the clients' serializer settings and structured values read
//! into the run's [`Schemas`].

use super::*;
use crate::sim::avro::{Level, Schema};
use crate::sim::registry::clients::{Reader, SchemaSpec, Writer};
use crate::sim::registry::{Registry, Schemas};
use crate::sim::serdes::{avro_value, Class, Deserializer, Serializer};
use serde_json::Value as Json;

/// A record's value as a scenario writes it: text (a template), or a table or list whose strings
/// are templates.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) enum ValueDef {
    /// `value = "v{n}"`.
    #[default]
    Empty,
    /// Text.
    Text(String),
    /// `value = { id = "{n}", amount = 12.5 }`.
    Structured(Json),
}

impl FromToml for ValueDef {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        match v.get_ref() {
            DeValue::String(s) => Some(ValueDef::Text(s.to_string())),
            DeValue::Table(_) | DeValue::Array(_) => json_of(v, cx).map(ValueDef::Structured),
            _ => {
                cx.err(v.span().start, "a value is text in \"quotes\" or a table of fields", Some("e.g. value = \"v{n}\" or value = { id = \"{n}\", amount = 12.5 }".into()));
                None
            }
        }
    }
}

/// A TOML value as JSON (what serializers and schemas speak).
fn json_of(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Json> {
    Some(match v.get_ref() {
        DeValue::String(s) => Json::String(s.to_string()),
        DeValue::Boolean(b) => Json::Bool(*b),
        DeValue::Integer(_) => Json::from(i64::from_toml(v, cx)?),
        DeValue::Float(_) => serde_json::Number::from_f64(f64::from_toml(v, cx)?).map(Json::Number)?,
        DeValue::Array(items) => Json::Array(items.iter().map(|i| json_of(i, cx)).collect::<Option<_>>()?),
        DeValue::Table(t) => Json::Object(t.iter().map(|(k, v)| Some((k.get_ref().to_string(), json_of(v, cx)?))).collect::<Option<_>>()?),
        DeValue::Datetime(_) => {
            cx.err(v.span().start, "a date in a value", Some("write it as text or as a number of milliseconds".into()));
            return None;
        }
    })
}

pub(super) fn schema_level(cx: &mut Ctx<'_>, s: &Spanned<String>) -> Option<Level> {
    let found = Level::from_name(s.get_ref());
    if found.is_none() {
        let names: Vec<&str> = Level::ALL.iter().map(|l| l.name()).collect();
        let hint = closest(s.get_ref(), names.iter().copied()).map_or_else(|| format!("one of {}", names.join(", ")), |b| format!("did you mean `{b}`?"));
        cx.err(s.span().start, format!("unknown compatibility level {:?}", s.get_ref()), Some(hint));
    }
    found
}

/// A `value.serializer` or `value.deserializer` class name (the String one when none is given).
fn class_setting<T: Class>(cx: &mut Ctx<'_>, given: Option<&String>, at: usize, key: &str) -> T {
    let Some(class) = given else { return T::default() };
    T::from_class(class).unwrap_or_else(|| {
        cx.err(at, format!("unknown {key} {class:?}"), Some(format!("one of {}", T::classes().join(", "))));
        T::default()
    })
}

/// Schema Registry's serializers refuse to start without `schema.registry.url`.
fn needs_registry_url(cx: &mut Ctx<'_>, at: usize, url: Option<&String>, class: &str) {
    if url.is_none() {
        cx.err(at, format!("{class} needs schema.registry.url"), Some("add \"schema.registry.url\" = \"http://schema-registry:8081\" to its config".into()));
    }
}

/// A name among the `[[schemas]]` entries.
pub(super) fn schema_ref(cx: &mut Ctx<'_>, name: &Spanned<String>, specs: &[SchemaSpec]) -> Option<u32> {
    let found = specs.iter().position(|s| &s.name == name.get_ref());
    if found.is_none() {
        let hint = closest(name.get_ref(), specs.iter().map(|s| s.name.as_str())).map_or_else(|| "declare it in a [[schemas]] table".to_string(), |b| format!("did you mean `{b}`?"));
        cx.err(name.span().start, format!("unknown schema {:?}", name.get_ref()), Some(hint));
    }
    found.map(|i| i as u32)
}

/// Reads the registry's settings, the schemas, and each producer's and consumer's serializer.
pub(super) fn schemas(cx: &mut Ctx<'_>, def: &FileDef) -> Schemas {
    let mut registry = Registry::default();
    if let Some(r) = &def.schema_registry {
        if let Some(l) = &r.get_ref().compatibility {
            registry.global = schema_level(cx, l).unwrap_or(Level::Backward);
        }
    }
    let mut specs: Vec<SchemaSpec> = Vec::new();
    if let Some(first) = def.schemas.get(limits::SCHEMAS) {
        cx.err(first.span().start, format!("more than {} [[schemas]] entries", limits::SCHEMAS), Some("a lesson needs a few versions of each schema".into()));
        return Schemas { registry, specs, writers: Vec::new(), readers: Vec::new() };
    }
    for d in &def.schemas {
        let d = d.get_ref();
        let text = d.schema.get_ref();
        let at = d.schema.span().start;
        if specs.iter().any(|s| &s.name == d.name.get_ref()) {
            cx.err(d.name.span().start, format!("schema name {:?} is already used", d.name.get_ref()), Some("every [[schemas]] entry needs its own name".into()));
            continue;
        }
        let parsed = serde_json::from_str::<Json>(text).map_err(|e| format!("not JSON (line {} column {} of the schema): {e}", e.line(), e.column())).and_then(|json| {
            Schema::parse(&json).map(|s| (json, s)).map_err(|e| format!("{} at {} ({})", e.message, e.at.unwrap_or_else(|| "/".into()), e.class.java()))
        });
        match parsed {
            Ok((json, schema)) => specs.push(SchemaSpec { name: d.name.get_ref().clone(), subject: d.subject.get_ref().clone(), json, schema, registered: d.registered.unwrap_or(false) }),
            Err(message) => cx.err(at, format!("schema {:?} is not a valid Avro schema: {message}", d.name.get_ref()), Some("an Avro schema is JSON: {\"type\": \"record\", \"name\": \"Order\", \"fields\": [{\"name\": \"id\", \"type\": \"long\"}]}".into())),
        }
    }
    // The schemas registered before the run must pass the registry's checks themselves.
    let mut check = Registry { global: registry.global, ..Registry::default() };
    for (spec, d) in specs.iter().zip(&def.schemas).filter(|(s, _)| s.registered) {
        if let Err(e) = check.register(&spec.subject, &spec.json, &spec.schema) {
            cx.err(d.get_ref().name.span().start, format!("{} cannot be registered at the start: {}", spec.name, e.message(&spec.subject)), Some("register it on the timeline (register_schema) to show the refusal, or change its level".into()));
        }
    }
    let mut writers = Vec::new();
    for p in &def.producers {
        let p = p.get_ref();
        let config = p.config.as_ref().map(|c| c.get_ref());
        let at = p.config.as_ref().map_or(p.name.span().start, |c| c.span().start);
        let serializer: Serializer = class_setting(cx, config.and_then(|c| c.value_serializer.as_ref()), at, "value.serializer");
        let schema = p.value_schema.as_ref().and_then(|s| schema_ref(cx, s, &specs));
        let at = p.name.span().start;
        let avro = serializer == Serializer::Avro;
        if avro && schema.is_none() {
            cx.err(at, "a producer with KafkaAvroSerializer needs value_schema", Some("name the [[schemas]] entry its application writes with, e.g. value_schema = \"order-v1\"".into()));
        }
        if schema.is_some() && !avro {
            cx.err(at, "value_schema without KafkaAvroSerializer", Some("set value.serializer = \"io.confluent.kafka.serializers.KafkaAvroSerializer\"".into()));
        }
        if avro {
            needs_registry_url(cx, at, config.and_then(|c| c.schema_registry_url.as_ref()), Serializer::Avro.short());
        }
        let auto_register = config.and_then(|c| c.auto_register_schemas).unwrap_or(true);
        let use_latest = config.and_then(|c| c.use_latest_version).unwrap_or(false);
        if use_latest && auto_register {
            cx.err(at, "use.latest.version = true with auto.register.schemas = true", Some("the serializer writes with the subject's latest version only when it may not register: set auto.register.schemas = false".into()));
        }
        writers.push(Writer::new(serializer, schema, auto_register, use_latest));
    }
    let mut readers = Vec::new();
    for c in &def.consumers {
        let c = c.get_ref();
        let config = c.config.as_ref().map(|c| c.get_ref());
        let at = c.config.as_ref().map_or(c.name.span().start, |c| c.span().start);
        let deserializer: Deserializer = class_setting(cx, config.and_then(|c| c.value_deserializer.as_ref()), at, "value.deserializer");
        let schema = c.value_schema.as_ref().and_then(|s| schema_ref(cx, s, &specs));
        let avro = deserializer == Deserializer::Avro;
        if schema.is_some() && !avro {
            cx.err(c.name.span().start, "value_schema without KafkaAvroDeserializer", Some("set value.deserializer = \"io.confluent.kafka.serializers.KafkaAvroDeserializer\"".into()));
        }
        if avro {
            needs_registry_url(cx, c.name.span().start, config.and_then(|c| c.schema_registry_url.as_ref()), Deserializer::Avro.short());
        }
        let skip = match c.on_deserialization_error.as_ref().map(|s| (s.get_ref().as_str(), s.span().start)) {
            None | Some(("stop", _)) => false,
            Some(("skip", _)) => true,
            Some((other, at)) => {
                cx.err(at, format!("on_deserialization_error = {other:?}"), Some("use \"stop\" (the exception ends the poll loop) or \"skip\" (the application seeks past the record)".into()));
                false
            }
        };
        readers.push(Reader::new(deserializer, schema, skip));
    }
    Schemas { registry, specs, writers, readers }
}

/// Checks a produce entry's value against its producer's serializer with the first record's
/// number, so that a value the schema cannot hold is an error in the file, not at run time.
pub(super) fn check_value(cx: &mut Ctx<'_>, at: usize, schemas: &Schemas, producer: u32, value: &Json) {
    let Some(writer) = schemas.writers.get(producer as usize) else { return };
    let fill = |s: &str| s.replace("{n}", "1");
    fn filled(v: &Json, fill: &dyn Fn(&str) -> String) -> Json {
        match v {
            Json::String(s) if s == "{n}" => Json::from(1),
            Json::String(s) => Json::String(fill(s)),
            Json::Array(a) => a.iter().map(|x| filled(x, fill)).collect(),
            Json::Object(m) => Json::Object(m.iter().map(|(k, x)| (k.clone(), filled(x, fill))).collect()),
            other => other.clone(),
        }
    }
    let value = filled(value, &fill);
    match (writer.serializer, writer.schema) {
        (Serializer::Avro, Some(index)) => {
            // The producer may be redeployed with another schema of its subject (use_schema)
            // before this entry runs: a value that fits one of them is the timeline's to order.
            let spec = &schemas.specs[index as usize];
            let fits_one = schemas.specs.iter().filter(|s| s.subject == spec.subject).any(|s| avro_value(&s.schema, &value).is_ok());
            if let (false, Err(e)) = (fits_one, avro_value(&spec.schema, &value)) {
                cx.err(at, format!("this value does not fit {} (nor another schema of {}): {}", spec.name, spec.subject, e.0), Some("give each field of the schema a value of its type (a field with a default may be left out)".into()));
            }
        }
        (Serializer::String, _) if !value.is_string() => {
            cx.err(at, "a structured value with StringSerializer", Some("set the producer's value.serializer to org.apache.kafka.connect.json.JsonSerializer or io.confluent.kafka.serializers.KafkaAvroSerializer".into()));
        }
        _ => {}
    }
}
